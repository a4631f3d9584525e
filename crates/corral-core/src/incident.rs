//! Incident updates as they leave corral (SPEC §4), shaped as PagerDuty Events API v2 so that any
//! ticketing bridge that speaks it can take them. Both directions derive serde: the scorer and
//! the rule tests read the same structs back.
//!
//! Names, fingerprints, keys and times are `Str` (`CompactString`, serialized as a plain string):
//! nearly all fit its 24 inline bytes, so the engine copies them into each update without an
//! allocation, and dropping an encoded update frees only its lists and sentences.

use crate::model::{Severity, Str};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventAction {
    Trigger,
    Resolve,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentUpdate {
    pub event_action: EventAction,
    pub dedup_key: Str,
    pub payload: Payload,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub summary: String,
    pub source: Str,
    pub severity: Severity,
    /// RFC 3339 event time of the change this update reports.
    pub timestamp: Str,
    pub component: Str,
    #[serde(default)]
    pub group: Str,
    #[serde(default)]
    pub class: Str,
    pub custom_details: Details,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Details {
    pub incident_id: Str,
    /// Every member fingerprint, always complete (consumers rely on the last update alone).
    pub alerts: Vec<Str>,
    pub alert_count: usize,
    pub event_count: u64,
    /// The lists an unchanged membership reports again and again: shared (`Arc`) between the
    /// engine's root-cause view and every update made from it.
    pub resources: Arc<[Str]>,
    pub services: Arc<[Str]>,
    pub root_cause: RootCause,
    pub impacted_services: Arc<[Str]>,
    pub anomaly_score: f64,
    /// Shared (`Arc`) by the updates of incidents of one grouping rule, most of them.
    pub rules: Arc<[Str]>,
    pub merged_from: Vec<Str>,
    /// Set on the closing update of an incident that was merged into another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<Str>,
    pub first_seen: Str,
    pub last_seen: Str,
    /// Sentences the engine keeps per incident: shared (`Arc`) with every update that reports
    /// them rather than copied.
    pub explanation: Vec<Arc<str>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    pub resource: Str,
    /// Fingerprint of the alert on the root-cause resource; absent when that resource is silent
    /// (a gap in monitoring inferred from the topology).
    #[serde(default)]
    pub fingerprint: Option<Str>,
    #[serde(default)]
    pub name: Option<Str>,
    pub confidence: f64,
    /// Shared (`Arc`) between the engine's root-cause view and every update made from it.
    pub reason: Arc<str>,
}

impl IncidentUpdate {
    pub fn incident_id(&self) -> &str {
        &self.payload.custom_details.incident_id
    }
}
