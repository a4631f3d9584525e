pub mod check;
pub mod replay;
pub mod score;
pub mod simulate;
