//! Incident updates as they leave corral (SPEC §4), shaped as PagerDuty Events API v2 so that any
//! ticketing bridge that speaks it can take them. Both directions derive serde: the scorer and
//! the rule tests read the same structs back.

use crate::model::Severity;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventAction {
    Trigger,
    Resolve,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentUpdate {
    pub event_action: EventAction,
    pub dedup_key: String,
    pub payload: Payload,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub summary: String,
    pub source: String,
    pub severity: Severity,
    /// RFC 3339 event time of the change this update reports.
    pub timestamp: String,
    pub component: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub class: String,
    pub custom_details: Details,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Details {
    pub incident_id: String,
    /// Every member fingerprint, always complete (consumers rely on the last update alone).
    pub alerts: Vec<String>,
    pub alert_count: usize,
    pub event_count: u64,
    pub resources: Vec<String>,
    pub services: Vec<String>,
    pub root_cause: RootCause,
    pub impacted_services: Vec<String>,
    pub anomaly_score: f64,
    pub rules: Vec<String>,
    pub merged_from: Vec<String>,
    /// Set on the closing update of an incident that was merged into another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub explanation: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    pub resource: String,
    /// Fingerprint of the alert on the root-cause resource; absent when that resource is silent
    /// (a gap in monitoring inferred from the topology).
    #[serde(default)]
    pub fingerprint: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub confidence: f64,
    pub reason: String,
}

impl IncidentUpdate {
    pub fn incident_id(&self) -> &str {
        &self.payload.custom_details.incident_id
    }
}
