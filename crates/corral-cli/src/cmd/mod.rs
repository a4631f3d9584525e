pub mod check;
pub mod nab;
pub mod replay;
pub mod score;
pub mod simulate;
pub mod train;
