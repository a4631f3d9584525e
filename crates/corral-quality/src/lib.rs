//! corral-quality: measuring alert reduction.
//!
//! - [`sim`]: storm generator with ground truth (`corral simulate`);
//! - [`score`]: the SPEC §5 figures (`corral score`), with [`clustering`] for ARI and AMI;
//! - [`strategies`]: reference correlators to compare corral with (Alertmanager-style grouping,
//!   ALEC-style DBSCAN);
//! - [`plot`]: alerts in vs incidents out over event time, as SVG.

pub mod clustering;
pub mod score;
pub mod truth;

pub use score::{score, Score};
pub use truth::{Truth, TruthRecord};
pub mod sim;
pub mod strategies;
