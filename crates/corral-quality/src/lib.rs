//! corral-quality: measuring alert reduction.
//!
//! - [`sim`]: storm generator with ground truth (`corral simulate`);
//! - [`score`](mod@score): the SPEC §5 figures (`corral score`), with [`clustering`] for ARI
//!   and AMI and [`truth`] for the ground-truth formats;
//! - [`strategies`]: reference correlators to compare corral with (Alertmanager-style grouping,
//!   ALEC-style DBSCAN);
//! - [`plot`]: alerts in vs incidents out over event time, as SVG.

pub mod clustering;
pub mod io;
pub mod plot;
pub mod score;
pub mod sim;
pub mod strategies;
pub mod truth;

pub use score::{missed_targets, score, score_with_topology, Score};
pub use truth::{Truth, TruthRecord};
