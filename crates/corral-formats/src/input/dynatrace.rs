//! `dynatrace`: problem notification from a Dynatrace custom webhook integration using the
//! documented placeholders (`{PID}`, `{ProblemID}`, `{ProblemTitle}`, `{State}`,
//! `{ProblemSeverity}`, `{ImpactedEntities}`, `{Tags}`) plus `{ProblemDetailsJSON}` under
//! `ProblemDetailsJSON`, which carries the event times (`startTime`, `endTime`, epoch ms).
//!
//! Severity by problem category: AVAILABILITY critical, ERROR error, PERFORMANCE,
//! RESOURCE_CONTENTION, CUSTOM_ALERT and MONITORING_UNAVAILABLE warning, INFO info.
//! `{PID}` (shared by the OPEN and RESOLVED notifications) is the fingerprint.

use crate::common::{alert, finish, Problems, Time};
use crate::json_path::{self, need, text};
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde_json::Value;

pub const SOURCE: &str = "dynatrace";

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match json_path::parse(payload).and_then(|v| convert(&v)) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

pub fn severity_of(category: &str) -> Option<Severity> {
    Some(match category {
        "AVAILABILITY" => Severity::Critical,
        "ERROR" => Severity::Error,
        "PERFORMANCE" | "RESOURCE_CONTENTION" | "CUSTOM_ALERT" | "MONITORING_UNAVAILABLE" => {
            Severity::Warning
        }
        "INFO" => Severity::Info,
        _ => return None,
    })
}

fn time(v: &Value, path: &str) -> Result<Option<i64>, String> {
    match json_path::get(v, path) {
        None | Some(Value::Null) => Ok(None),
        // Dynatrace writes -1 for "not ended yet".
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n < 0) => Ok(None),
        Some(x) => serde_json::from_value::<Time>(x.clone())
            .map(|t| Some(t.0))
            .map_err(|e| format!("{path}: {e}")),
    }
}

fn convert(v: &Value) -> Result<Alert, String> {
    let name: Str = need(v, "ProblemTitle")?.into();
    let status = match need(v, "State")?.as_str() {
        "OPEN" => Status::Firing,
        "RESOLVED" | "CLOSED" | "MERGED" => Status::Resolved,
        other => return Err(format!("State {other:?} is none of OPEN, RESOLVED, MERGED")),
    };
    let category = need(v, "ProblemSeverity")?;
    let severity = severity_of(&category).ok_or_else(|| {
        format!("ProblemSeverity {category:?} is not a Dynatrace problem category")
    })?;
    let resource: Str = text(v, "ImpactedEntities.0.name")
        .or_else(|| text(v, "ImpactedEntity"))
        .ok_or("no resource: ImpactedEntities and ImpactedEntity are empty")?
        .into();
    let details = match v.get("ProblemDetailsJSON") {
        Some(Value::String(s)) => Some(
            serde_json::from_str::<Value>(s)
                .map_err(|e| format!("ProblemDetailsJSON is not JSON: {e}"))?,
        ),
        Some(Value::Object(_)) => v.get("ProblemDetailsJSON").cloned(),
        _ => None,
    };
    let d = details.as_ref().unwrap_or(&Value::Null);
    let starts_at = match time(d, "startTime")? {
        Some(t) => t,
        None => time(v, "StartTime")?.ok_or(
            "no event time: add {ProblemDetailsJSON} (or StartTime) to the webhook payload",
        )?,
    };
    let mut a = alert(SOURCE, name, status, severity, resource);
    a.starts_at = starts_at;
    if status == Status::Resolved {
        a.ends_at = time(d, "endTime")?;
    }
    a.fingerprint = text(v, "PID").map(Str::from).unwrap_or_default();
    let mut labels: Labels = Vec::new();
    if let Some(x) = text(v, "ImpactedEntities.0.entity") {
        labels.push(("entity_id".into(), x.into()));
    }
    if let Some(x) = text(v, "ImpactedEntities.0.type") {
        labels.push(("entity_type".into(), x.into()));
    }
    labels.push(("category".into(), category.into()));
    a.labels = labels;
    let mut notes: Labels = Vec::new();
    for (k, path) in [
        ("problem_id", "ProblemID"),
        ("impact", "ProblemImpact"),
        ("url", "ProblemURL"),
        ("tags", "Tags"),
    ] {
        if let Some(x) = text(v, path) {
            notes.push((k.into(), x.into()));
        }
    }
    a.annotations = notes;
    a.summary = text(v, "ProblemDetailsText").map(|s| s.lines().next().unwrap_or("").to_string());
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    pub const OPEN: &str = r#"{"ImpactedEntity": "Host payroll-db-04", "ImpactedEntities": [{"type": "HOST", "name": "payroll-db-04", "entity": "HOST-4A1B2C3D4E5F6A7B"}],
      "PID": "-2409218376373741234_1795572667000V2", "ProblemDetailsText": "Connectivity problem\nHost unreachable",
      "ProblemID": "P-2611250042", "ProblemImpact": "INFRASTRUCTURE", "ProblemSeverity": "AVAILABILITY",
      "ProblemTitle": "Host or monitoring unavailable", "ProblemURL": "https://abc123.live.dynatrace.com/#problems/problemdetails;pid=-2409218376373741234_1795572667000V2",
      "State": "OPEN", "Tags": "env:prod, payroll",
      "ProblemDetailsJSON": {"id": "-2409218376373741234_1795572667000V2", "startTime": 1795572667000, "endTime": -1, "displayName": "P-2611250042", "status": "OPEN"}}"#;

    #[test]
    fn open_and_resolved_problem() {
        let mut out = Vec::new();
        parse_record(&Format::Dynatrace, OPEN.as_bytes(), &mut out).unwrap();
        let resolved = OPEN
            .replace(r#""State": "OPEN""#, r#""State": "RESOLVED""#)
            .replace(r#""endTime": -1"#, r#""endTime": 1795573000000"#);
        parse_record(&Format::Dynatrace, resolved.as_bytes(), &mut out).unwrap();
        let (o, r) = (&out[0], &out[1]);
        assert_eq!(o.name, "Host or monitoring unavailable");
        assert_eq!(o.resource, "payroll-db-04");
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.status, Status::Firing);
        assert_eq!(o.starts_at, 1_795_572_667_000);
        assert_eq!(o.ends_at, None);
        assert_eq!(o.summary.as_deref(), Some("Connectivity problem"));
        assert_eq!(o.label("entity_id"), Some("HOST-4A1B2C3D4E5F6A7B"));
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.ends_at, Some(1_795_573_000_000));
        assert_eq!(o.fingerprint, r.fingerprint);
    }

    #[test]
    fn missing_time_is_explained() {
        let mut out = Vec::new();
        let e = parse_record(&Format::Dynatrace, br#"{"ProblemTitle":"t","State":"OPEN","ProblemSeverity":"ERROR","ImpactedEntity":"h"}"#, &mut out).unwrap_err();
        assert!(e.contains("add {ProblemDetailsJSON}"), "{e}");
        let e = parse_record(
            &Format::Dynatrace,
            br#"{"ProblemTitle":"t","State":"OPEN","ProblemSeverity":"LOUD","ImpactedEntity":"h"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("\"LOUD\""), "{e}");
    }
}
