//! Learned baselines for corral: an online per-series detector for metric samples, alert-rate
//! baselines per resource and service, chronic-noise statistics, the versioned model format
//! written by `corral train`, and the NAB benchmark harness.

pub mod detector;
pub mod nab;

pub use detector::{DetectorConfig, SeriesDetector};
