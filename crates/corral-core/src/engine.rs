//! The correlation engine (work in progress).
use crate::incident::IncidentUpdate;
use crate::model::{Alert, Millis};
use crate::rules::RuleSet;
use crate::topology::TopologyIndex;
use std::sync::Arc;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EngineStats {
    pub events: u64,
    pub late_events: u64,
}

pub struct Engine {
    #[allow(dead_code)]
    rules: Arc<RuleSet>,
    #[allow(dead_code)]
    topology: Arc<TopologyIndex>,
    stats: EngineStats,
}

impl Engine {
    pub fn new(rules: Arc<RuleSet>, topology: Arc<TopologyIndex>) -> Engine {
        Engine { rules, topology, stats: EngineStats::default() }
    }
    pub fn ingest(&mut self, _alert: Alert, _out: &mut Vec<IncidentUpdate>) {
        self.stats.events += 1;
    }
    pub fn advance_to(&mut self, _event_time: Millis, _out: &mut Vec<IncidentUpdate>) {}
    pub fn finish(&mut self, _out: &mut Vec<IncidentUpdate>) {}
    pub fn stats(&self) -> &EngineStats { &self.stats }
}
