//! Learned baselines for corral (SPEC §6): an online per-series detector for metric samples,
//! alert-rate baselines per resource and per service, chronic-noise statistics per alert, the
//! versioned model format written by `corral train` and read with `--models`, and the NAB
//! benchmark harness.
//!
//! [`BaselineModel`] implements the core's [`corral_core::anomaly::AnomalyModel`]; the engine
//! feeds it every alert and metric sample and asks it for incident scores and chronic noise.

pub mod cooccur;
pub mod detector;
pub mod model;
pub mod nab;
pub mod noise;
pub mod rate;
pub mod train;

pub use cooccur::{Cooccurrence, CooccurrenceConfig};
pub use detector::{DetectorConfig, SeriesDetector};
pub use model::{load_models, BaselineModel, ModelConfig, ModelError, FORMAT_VERSION, MODEL_FILE};
pub use train::{TrainError, Trainer};
