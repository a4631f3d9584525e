//! corral-kafka: the `corral run` service. Kafka source and sink around the pure correlation
//! core, with offsets committed only after the work they cover is acknowledged, dead letters,
//! correlation state checkpointed to a compacted topic, topology-domain repartitioning, and the
//! HTTP side (metrics, health, reload).

pub mod config;
pub mod decode;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod repartition;
pub mod runner;
pub mod service;
pub mod state;

pub use config::ServiceConfig;
pub use service::{Control, LatencySample, Loaded, Loader, RunOptions};
