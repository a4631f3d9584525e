//! Reference strategies: what SREs run today, rebuilt in event time so that `corral score` can
//! set corral beside them on the same stream.
//!
//! - [`alertmanager_style`]: Prometheus Alertmanager's aggregation groups (`group_by` labels,
//!   `group_wait`, `group_interval`, `repeat_interval`), no topology;
//! - [`alec_style`]: OpenNMS ALEC's DBSCAN over time and topology hops, re-clustering on a tick.
//!
//! Both emit SPEC §4 updates: a `trigger` whenever the group's notification would go out with a
//! changed membership, a `resolve` when all its alerts have resolved. Neither knows root causes;
//! both name the earliest alert of the group, which is what an operator reading the page would
//! look at first.

mod alec;
mod alertmanager;

pub use alec::{alec_style, AlecConfig};
pub use alertmanager::{alertmanager_style, AmStyleConfig};
// Shared with the scorer tests; small enough to be public and documented.

use corral_core::incident::{Details, EventAction, IncidentUpdate, Payload, RootCause};
use corral_core::model::{format_event_time, Alert, Millis, Severity, Str};
use std::collections::BTreeSet;

/// What a strategy keeps of one alert (by fingerprint).
#[derive(Clone, Debug)]
pub struct AlertFacts {
    pub fingerprint: String,
    pub name: String,
    pub resource: String,
    pub service: Option<String>,
    pub severity: Severity,
    pub first_seen: Millis,
}

impl AlertFacts {
    pub fn of(a: &Alert) -> AlertFacts {
        AlertFacts {
            fingerprint: a.fingerprint.to_string(),
            name: a.name.to_string(),
            resource: a.resource.to_string(),
            service: a.service.as_ref().map(|s| s.to_string()),
            severity: a.severity,
            first_seen: a.starts_at,
        }
    }
}

/// An incident under construction: its members and the figures SPEC §4 reports.
#[derive(Clone, Debug)]
pub struct IncidentDraft {
    pub id: String,
    pub rule: &'static str,
    pub members: Vec<String>,
    member_set: rustc_hash::FxHashSet<String>,
    resources: BTreeSet<String>,
    services: BTreeSet<String>,
    pub severity: Severity,
    pub events: u64,
    pub first_seen: Millis,
    pub last_seen: Millis,
    /// Earliest member: (first_seen, fingerprint, resource, name).
    root: Option<(Millis, String, String, String)>,
}

impl IncidentDraft {
    pub fn new(id: String, rule: &'static str) -> IncidentDraft {
        IncidentDraft {
            id,
            rule,
            members: Vec::new(),
            member_set: Default::default(),
            resources: BTreeSet::new(),
            services: BTreeSet::new(),
            severity: Severity::Info,
            events: 0,
            first_seen: Millis::MAX,
            last_seen: Millis::MIN,
            root: None,
        }
    }

    pub fn contains(&self, fp: &str) -> bool {
        self.member_set.contains(fp)
    }

    /// Adds an alert; returns whether it is new to the incident.
    pub fn add(&mut self, f: &AlertFacts) -> bool {
        if !self.member_set.insert(f.fingerprint.clone()) {
            return false;
        }
        self.members.push(f.fingerprint.clone());
        self.resources.insert(f.resource.clone());
        if let Some(s) = &f.service {
            self.services.insert(s.clone());
        }
        self.severity = self.severity.max(f.severity);
        self.first_seen = self.first_seen.min(f.first_seen);
        self.last_seen = self.last_seen.max(f.first_seen);
        let candidate = (
            f.first_seen,
            f.fingerprint.clone(),
            f.resource.clone(),
            f.name.clone(),
        );
        if self.root.as_ref().is_none_or(|r| candidate < *r) {
            self.root = Some(candidate);
        }
        true
    }

    pub fn touch(&mut self, at: Millis) {
        self.events += 1;
        self.last_seen = self.last_seen.max(at);
    }

    pub fn update(
        &self,
        action: EventAction,
        at: Millis,
        explanation: Vec<String>,
    ) -> IncidentUpdate {
        let (root_resource, root_fp, root_name) = match &self.root {
            Some((_, fp, res, name)) => (res.clone(), Some(fp.clone()), Some(name.clone())),
            None => (String::new(), None, None),
        };
        let services: Vec<String> = self.services.iter().cloned().collect();
        let class = root_name.clone().unwrap_or_default();
        IncidentUpdate {
            event_action: action,
            dedup_key: self.id.as_str().into(),
            payload: Payload {
                summary: format!(
                    "{}: {} alerts on {} resources",
                    if root_resource.is_empty() {
                        "unknown"
                    } else {
                        &root_resource
                    },
                    self.members.len(),
                    self.resources.len()
                ),
                source: root_resource.as_str().into(),
                severity: self.severity,
                timestamp: format_event_time(at).into(),
                component: root_resource.as_str().into(),
                group: services.first().map(Str::new).unwrap_or_default(),
                class: class.into(),
                custom_details: Details {
                    incident_id: self.id.as_str().into(),
                    alerts: self.members.iter().map(Str::new).collect(),
                    alert_count: self.members.len(),
                    event_count: self.events,
                    resources: self.resources.iter().map(Str::new).collect(),
                    services: services.iter().map(Str::new).collect(),
                    root_cause: RootCause {
                        resource: root_resource.into(),
                        fingerprint: root_fp.map(Str::from),
                        name: root_name.map(Str::from),
                        confidence: 0.0,
                        reason: "earliest alert of the group (no root-cause analysis)".into(),
                    },
                    impacted_services: services.iter().map(Str::new).collect(),
                    anomaly_score: 0.0,
                    rules: [self.rule.to_string().into()].into(),
                    merged_from: Vec::new(),
                    merged_into: None,
                    first_seen: format_event_time(self.first_seen).into(),
                    last_seen: format_event_time(self.last_seen).into(),
                    explanation: explanation.into_iter().map(Into::into).collect(),
                },
            },
        }
    }
}
