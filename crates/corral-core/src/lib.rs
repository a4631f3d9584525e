//! corral's correlation core. Pure and deterministic: no I/O, no wall clock. Event time arrives
//! with the data and drives every window; the same input always yields the same incidents.
//!
//! Data flows one way: normalized [`model::Alert`] → [`dedup`] → [`engine`] (suppression,
//! inhibition, maintenance, time × topology × rule correlation, root cause) →
//! [`incident::IncidentUpdate`].

pub mod anomaly;
pub mod causality;
pub mod dedup;
pub mod duration;
pub mod engine;
pub mod incident;
pub mod lint;
pub mod matcher;
pub mod model;
pub mod rootcause;
pub mod rules;
pub mod timer_heap;
pub mod topology;
mod topology_yaml;
mod yaml_events;
pub mod yaml_pos;

pub use engine::{Engine, EngineSnapshot, EngineStats};
pub use incident::IncidentUpdate;
pub use model::{Alert, AlertHead, Millis, Severity, Status};
pub use rules::RuleSet;
pub use topology::{TopologyFile, TopologyIndex};
pub use yaml_pos::ConfigError;
