pub mod check;
pub mod replay;
