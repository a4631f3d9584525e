pub mod check;
pub mod nab;
pub mod replay;
