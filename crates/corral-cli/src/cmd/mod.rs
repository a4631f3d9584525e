pub mod check;
pub mod replay;
pub mod topology;
