//! Output encoders: incident updates (SPEC §4, PagerDuty Events v2 shape) re-encoded for the
//! tools that open tickets.
//!
//! * [`OutputFormat::PagerDuty`]: the update as it is.
//! * [`OutputFormat::ServiceNow`]: one Event Management `em_event` record (POST it inside
//!   `{"records": [...]}` to `/api/global/em/jsonv2`). `message_key` is the dedup key, so
//!   ServiceNow folds every update of an incident into one alert; severity 1 critical, 2 major,
//!   4 warning, 5 info, and 0 (clear) when the incident resolves.
//! * [`OutputFormat::Opsgenie`]: the request to make against the Alert API:
//!   `{"action": "create"|"close", "method": "POST", "path": ..., "body": ...}`. Creates carry
//!   `alias` = dedup key (Opsgenie dedups on it, so updates refresh one alert) and priority
//!   P1 critical, P2 error, P3 warning, P5 info; a resolve closes the alert by alias.

use corral_core::incident::{EventAction, IncidentUpdate};
use corral_core::Severity;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    PagerDuty,
    ServiceNow,
    Opsgenie,
}

impl OutputFormat {
    pub const NAMES: &'static [&'static str] = &["pagerduty", "servicenow", "opsgenie"];

    pub fn from_name(name: &str) -> Result<OutputFormat, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "pagerduty" | "native" | "" => Ok(OutputFormat::PagerDuty),
            "servicenow" | "snow" | "em_event" => Ok(OutputFormat::ServiceNow),
            "opsgenie" => Ok(OutputFormat::Opsgenie),
            other => Err(format!(
                "unknown output format {other:?}; expected {}",
                OutputFormat::NAMES.join(", ")
            )),
        }
    }
}

/// Encodes one incident update for `kind`.
pub fn encode(kind: OutputFormat, update: &IncidentUpdate) -> Value {
    match kind {
        OutputFormat::PagerDuty => serde_json::to_value(update).unwrap_or(Value::Null),
        OutputFormat::ServiceNow => servicenow(update),
        OutputFormat::Opsgenie => opsgenie(update),
    }
}

/// ServiceNow's 0-5 scale (1 critical ... 5 info; 0 clears).
pub fn servicenow_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1",
        Severity::Error => "2",
        Severity::Warning => "4",
        Severity::Info => "5",
    }
}

pub fn opsgenie_priority(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "P1",
        Severity::Error => "P2",
        Severity::Warning => "P3",
        Severity::Info => "P5",
    }
}

/// `2026-11-25T02:11:07Z` → `2026-11-25 02:11:07`, the form `time_of_event` takes (UTC).
fn servicenow_time(rfc3339: &str) -> String {
    match corral_core::model::parse_event_time(rfc3339)
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => rfc3339.to_string(),
    }
}

/// At most `max_chars` characters; a cut text ends with `…` so readers know.
fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn details(update: &IncidentUpdate) -> Map<String, Value> {
    let d = &update.payload.custom_details;
    let mut m = Map::new();
    m.insert("incident_id".into(), json!(d.incident_id));
    m.insert("alert_count".into(), json!(d.alert_count));
    m.insert("event_count".into(), json!(d.event_count));
    m.insert("root_cause".into(), json!(d.root_cause.resource));
    m.insert("root_cause_reason".into(), json!(d.root_cause.reason));
    m.insert(
        "root_cause_confidence".into(),
        json!(d.root_cause.confidence),
    );
    m.insert("resources".into(), json!(d.resources));
    m.insert("services".into(), json!(d.services));
    m.insert("impacted_services".into(), json!(d.impacted_services));
    m.insert("rules".into(), json!(d.rules));
    m.insert("first_seen".into(), json!(d.first_seen));
    m.insert("last_seen".into(), json!(d.last_seen));
    if !d.merged_from.is_empty() {
        m.insert("merged_from".into(), json!(d.merged_from));
    }
    if let Some(into) = &d.merged_into {
        m.insert("merged_into".into(), json!(into));
    }
    m
}

fn servicenow(update: &IncidentUpdate) -> Value {
    let p = &update.payload;
    let resolved = update.event_action == EventAction::Resolve;
    let mut description = p.summary.clone();
    for line in &p.custom_details.explanation {
        description.push('\n');
        description.push_str(line);
    }
    json!({
        "source": "corral",
        "event_class": "corral",
        "message_key": update.dedup_key,
        "node": p.component,
        "type": p.class,
        "resource": p.custom_details.root_cause.resource,
        "metric_name": p.custom_details.root_cause.name.clone().unwrap_or_default(),
        "severity": if resolved { "0" } else { servicenow_severity(p.severity) },
        "resolution_state": if resolved { "Closing" } else { "New" },
        "time_of_event": servicenow_time(&p.timestamp),
        "description": description,
        // ServiceNow wants additional_info as a JSON *string*.
        "additional_info": Value::Object(details(update)).to_string(),
    })
}

fn opsgenie(update: &IncidentUpdate) -> Value {
    let p = &update.payload;
    let alias = truncate(&update.dedup_key, 512);
    if update.event_action == EventAction::Resolve {
        return json!({
            "action": "close",
            "method": "POST",
            "path": format!("/v2/alerts/{}/close?identifierType=alias", percent_encode(&alias)),
            "body": {"source": "corral", "user": "corral", "note": truncate(&p.summary, 25_000)},
        });
    }
    let mut tags: Vec<String> = p
        .custom_details
        .services
        .iter()
        .map(|s| s.to_string())
        .collect();
    tags.extend(p.custom_details.rules.iter().map(|r| format!("rule:{r}")));
    tags.sort();
    tags.dedup();
    tags.truncate(20);
    // Opsgenie details are a string → string map.
    let strings: Map<String, Value> = details(update)
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            (k, Value::String(truncate(&s, 8000)))
        })
        .collect();
    json!({
        "action": "create",
        "method": "POST",
        "path": "/v2/alerts",
        "body": {
            "message": truncate(&p.summary, 130),
            "alias": alias,
            "description": truncate(&p.custom_details.explanation.join("\n"), 15_000),
            "entity": truncate(&p.component, 512),
            "source": "corral",
            "priority": opsgenie_priority(p.severity),
            "tags": tags,
            "details": strings,
        },
    })
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::incident::{Details, Payload, RootCause};

    fn update(action: EventAction, severity: Severity) -> IncidentUpdate {
        IncidentUpdate {
            event_action: action,
            dedup_key: "inc-2026-11-25-000042".into(),
            payload: Payload {
                summary: "payroll-db-04 down: 37 alerts on 9 resources".into(),
                source: "payroll-db-04".into(),
                severity,
                timestamp: "2026-11-25T02:11:07Z".into(),
                component: "payroll-db-04".into(),
                group: "payroll".into(),
                class: "DatabaseDown".into(),
                custom_details: Details {
                    incident_id: "inc-2026-11-25-000042".into(),
                    alerts: vec!["fp1".into(), "fp2".into()],
                    alert_count: 37,
                    event_count: 412,
                    resources: ["payroll-db-04".into(), "payroll-api".into()].into(),
                    services: ["payroll".into(), "hr-portal".into()].into(),
                    root_cause: RootCause {
                        resource: "payroll-db-04".into(),
                        fingerprint: Some("fp1".into()),
                        name: Some("DatabaseDown".into()),
                        confidence: 0.87,
                        reason: "upstream of 8 alerting resources; earliest".into(),
                    },
                    impacted_services: ["payroll".into(), "hr-portal".into()].into(),
                    anomaly_score: 0.93,
                    rules: ["topology".into()].into(),
                    merged_from: vec![],
                    merged_into: None,
                    first_seen: "2026-11-25T02:10:00Z".into(),
                    last_seen: "2026-11-25T02:11:07Z".into(),
                    explanation: vec!["payroll-api depends on payroll-db-04".into()],
                },
            },
        }
    }

    #[test]
    fn servicenow_em_event_trigger_and_clear() {
        let v = encode(
            OutputFormat::ServiceNow,
            &update(EventAction::Trigger, Severity::Critical),
        );
        assert_eq!(v["message_key"], "inc-2026-11-25-000042");
        assert_eq!(v["severity"], "1");
        assert_eq!(v["node"], "payroll-db-04");
        assert_eq!(v["type"], "DatabaseDown");
        assert_eq!(v["resource"], "payroll-db-04");
        assert_eq!(v["time_of_event"], "2026-11-25 02:11:07");
        assert_eq!(v["resolution_state"], "New");
        assert!(v["description"].as_str().unwrap().contains("depends on"));
        let info: Value = serde_json::from_str(v["additional_info"].as_str().unwrap()).unwrap();
        assert_eq!(info["alert_count"], 37);
        assert_eq!(info["root_cause"], "payroll-db-04");
        let scale: Vec<&str> = Severity::ALL
            .iter()
            .map(|s| servicenow_severity(*s))
            .collect();
        assert_eq!(scale, ["5", "4", "2", "1"]);
        let clear = encode(
            OutputFormat::ServiceNow,
            &update(EventAction::Resolve, Severity::Critical),
        );
        assert_eq!(clear["severity"], "0");
        assert_eq!(clear["resolution_state"], "Closing");
        assert_eq!(clear["message_key"], v["message_key"]);
    }

    #[test]
    fn opsgenie_create_and_close() {
        let v = encode(
            OutputFormat::Opsgenie,
            &update(EventAction::Trigger, Severity::Error),
        );
        assert_eq!(v["action"], "create");
        assert_eq!(v["path"], "/v2/alerts");
        let b = &v["body"];
        assert_eq!(b["alias"], "inc-2026-11-25-000042");
        assert_eq!(b["priority"], "P2");
        assert_eq!(b["entity"], "payroll-db-04");
        assert_eq!(b["details"]["alert_count"], "37");
        assert_eq!(b["details"]["services"], "payroll, hr-portal");
        assert_eq!(b["tags"], json!(["hr-portal", "payroll", "rule:topology"]));
        let close = encode(
            OutputFormat::Opsgenie,
            &update(EventAction::Resolve, Severity::Error),
        );
        assert_eq!(close["action"], "close");
        assert_eq!(
            close["path"],
            "/v2/alerts/inc-2026-11-25-000042/close?identifierType=alias"
        );
        let p: Vec<&str> = Severity::ALL
            .iter()
            .map(|s| opsgenie_priority(*s))
            .collect();
        assert_eq!(p, ["P5", "P3", "P2", "P1"]);
    }

    #[test]
    fn opsgenie_message_is_cut_to_130_characters() {
        let mut u = update(EventAction::Trigger, Severity::Info);
        u.payload.summary = "é".repeat(300);
        let v = encode(OutputFormat::Opsgenie, &u);
        assert_eq!(v["body"]["message"].as_str().unwrap().chars().count(), 130);
    }

    #[test]
    fn pagerduty_is_the_update_itself() {
        let u = update(EventAction::Trigger, Severity::Warning);
        let v = encode(OutputFormat::PagerDuty, &u);
        let back: IncidentUpdate = serde_json::from_value(v).unwrap();
        assert_eq!(back, u);
        assert!(OutputFormat::from_name("jira")
            .unwrap_err()
            .contains("servicenow"));
    }
}
