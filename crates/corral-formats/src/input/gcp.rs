//! `gcp`: Google Cloud Monitoring webhook notification (schema version 1.2, `incident` object).
//! `state: open` fires, `closed` resolves; `incident_id` (shared by both) is the fingerprint.

use crate::common::{alert, finish, Problems, Seconds};
use crate::json_path::{self, need, text};
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde_json::Value;

pub const SOURCE: &str = "gcp";

/// Resource labels that name the affected thing, most specific first.
const RESOURCE_LABELS: &[&str] = &[
    "instance_id",
    "pod_name",
    "container_name",
    "database_id",
    "service_name",
    "function_name",
    "cluster_name",
    "host",
    "bucket_name",
    "topic_id",
    "subscription_id",
];

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match json_path::parse(payload).and_then(|v| convert(&v)) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

fn seconds(v: &Value, path: &str) -> Result<Option<i64>, String> {
    match json_path::get(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => serde_json::from_value::<Seconds>(x.clone())
            .map(|s| Some(s.0))
            .map_err(|e| format!("{path}: {e}")),
    }
}

fn convert(v: &Value) -> Result<Alert, String> {
    let i = v.get("incident").ok_or("missing field `incident`")?;
    let name: Str = text(i, "policy_name")
        .or_else(|| text(i, "condition_name"))
        .ok_or("missing field `incident.policy_name`")?
        .into();
    let status = match need(i, "state")?.to_ascii_lowercase().as_str() {
        "open" => Status::Firing,
        "closed" => Status::Resolved,
        other => {
            return Err(format!(
                "incident.state {other:?} is neither open nor closed"
            ))
        }
    };
    let severity = text(i, "severity")
        .and_then(|s| Severity::parse_loose(&s))
        .unwrap_or(Severity::Warning);
    let resource: Str = text(i, "resource_display_name")
        .or_else(|| {
            RESOURCE_LABELS
                .iter()
                .find_map(|k| text(i, &format!("resource.labels.{k}")))
        })
        .or_else(|| text(i, "resource_name"))
        .or_else(|| text(i, "resource_id"))
        .ok_or("no resource: resource_display_name, resource.labels and resource_name are empty")?
        .into();
    let started = seconds(i, "started_at")?.ok_or("missing field `incident.started_at`")?;
    let mut a = alert(SOURCE, name, status, severity, resource);
    a.starts_at = started;
    a.ends_at = seconds(i, "ended_at")?;
    a.fingerprint = text(i, "incident_id").map(Str::from).unwrap_or_default();
    let mut labels: Labels = Vec::new();
    for (k, path) in [
        ("project", "scoping_project_id"),
        ("resource_type", "resource.type"),
        ("metric_type", "metric.type"),
        ("condition", "condition_name"),
    ] {
        if let Some(x) = text(i, path) {
            labels.push((k.into(), x.into()));
        }
    }
    for path in ["resource.labels", "metric.labels", "policy_user_labels"] {
        if let Some(Value::Object(m)) = json_path::get(i, path) {
            for (k, val) in m {
                if let Some(t) = json_path::scalar_text(val) {
                    labels.push((k.as_str().into(), t.into()));
                }
            }
        }
    }
    a.service = json_path::get(i, "policy_user_labels.service")
        .and_then(json_path::scalar_text)
        .map(Str::from);
    a.labels = labels;
    let mut notes: Labels = Vec::new();
    for (k, path) in [
        ("url", "url"),
        ("observed_value", "observed_value"),
        ("threshold_value", "threshold_value"),
        ("documentation", "documentation.content"),
    ] {
        if let Some(x) = text(i, path) {
            notes.push((k.into(), x.into()));
        }
    }
    a.annotations = notes;
    a.summary = text(i, "summary");
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    /// Shaped after Google's documented webhook schema, version 1.2.
    pub const OPEN: &str = r#"{"version": "1.2", "incident": {
      "incident_id": "0.opqiw61fsv7p", "scoping_project_id": "internal-project", "scoping_project_number": 12345,
      "url": "https://console.cloud.google.com/monitoring/alerting/incidents/0.lxfiw61fsv7p?project=internal-project",
      "started_at": 1795572667, "ended_at": null, "state": "OPEN",
      "summary": "CPU utilization for payroll-db-04 is above the threshold of 0.9 with a value of 0.97.",
      "apigee_url": "", "observed_value": "0.97",
      "resource": {"type": "gce_instance", "labels": {"instance_id": "1234567890123456789", "project_id": "internal-project", "zone": "europe-west1-b"}},
      "resource_type_display_name": "VM Instance", "resource_id": "1234567890123456789",
      "resource_display_name": "payroll-db-04", "resource_name": "internal-project payroll-db-04",
      "metric": {"type": "compute.googleapis.com/instance/cpu/utilization", "displayName": "CPU utilization", "labels": {"instance_name": "payroll-db-04"}},
      "metadata": {"system_labels": {}, "user_labels": {}},
      "policy_name": "High CPU", "policy_user_labels": {"team": "dba", "service": "payroll"},
      "documentation": {"content": "Check the slow query log", "mime_type": "text/markdown", "subject": "High CPU"},
      "condition": {"name": "projects/internal-project/alertPolicies/1/conditions/2", "displayName": "CPU above 90%"},
      "condition_name": "CPU above 90%", "threshold_value": "0.9", "severity": "Critical"}}"#;

    #[test]
    fn open_and_closed_incident() {
        let mut out = Vec::new();
        parse_record(&Format::Gcp, OPEN.as_bytes(), &mut out).unwrap();
        let closed = OPEN
            .replace(r#""state": "OPEN""#, r#""state": "CLOSED""#)
            .replace(r#""ended_at": null"#, r#""ended_at": 1795573000"#);
        parse_record(&Format::Gcp, closed.as_bytes(), &mut out).unwrap();
        let (o, c) = (&out[0], &out[1]);
        assert_eq!(o.name, "High CPU");
        assert_eq!(o.resource, "payroll-db-04");
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.service.as_deref(), Some("payroll"));
        assert_eq!(o.fingerprint, "0.opqiw61fsv7p");
        assert_eq!(o.starts_at, 1_795_572_667_000);
        assert_eq!(o.ends_at, None);
        assert_eq!(o.label("zone"), Some("europe-west1-b"));
        assert_eq!(o.label("resource_type"), Some("gce_instance"));
        assert_eq!(c.status, Status::Resolved);
        assert_eq!(c.ends_at, Some(1_795_573_000_000));
    }

    #[test]
    fn bad_incidents() {
        let mut out = Vec::new();
        let e = parse_record(
            &Format::Gcp,
            OPEN.replace("\"OPEN\"", "\"ACKED\"").as_bytes(),
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("\"acked\" is neither open nor closed"), "{e}");
        let e = parse_record(
            &Format::Gcp,
            OPEN.replace("\"started_at\": 1795572667", "\"started_at\": [1]")
                .as_bytes(),
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("started_at: invalid type"), "{e}");
        let e = parse_record(&Format::Gcp, br#"{"version":"1.2"}"#, &mut out).unwrap_err();
        assert!(e.contains("missing field `incident`"), "{e}");
    }
}
