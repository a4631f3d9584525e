//! `icinga2`: events of the Icinga 2 API event stream (`/v1/events`, types `StateChange`,
//! `Notification` and `CheckResult`), one JSON object per line as the stream delivers them.
//!
//! Service states: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Host states: 0 UP, 1 DOWN.
//! A host event (no `service`) is named `host`, so that a host's problem and its recovery share
//! one fingerprint.

use crate::common::{alert, finish, Problems, Seconds};
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde::Deserialize;

pub const SOURCE: &str = "icinga2";

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    timestamp: Seconds,
    host: Str,
    #[serde(default)]
    service: Option<Str>,
    #[serde(default)]
    state: Option<f64>,
    #[serde(default)]
    state_type: Option<f64>,
    #[serde(default)]
    check_result: Option<CheckResult>,
    /// Notifications: PROBLEM, RECOVERY, ACKNOWLEDGEMENT, ...
    #[serde(default)]
    notification_type: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct CheckResult {
    #[serde(default)]
    state: Option<f64>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    execution_end: Option<Seconds>,
}

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match serde_json::from_slice::<Event>(payload)
        .map_err(|e| e.to_string())
        .and_then(convert)
    {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

/// Icinga service (or host) state onto status and severity.
pub fn state_of(state: u8, is_host: bool) -> Option<(Status, Severity)> {
    Some(match (is_host, state) {
        (_, 0) => (Status::Resolved, Severity::Info),
        (true, 1) => (Status::Firing, Severity::Critical),
        (false, 1) => (Status::Firing, Severity::Warning),
        (false, 2) => (Status::Firing, Severity::Critical),
        (false, 3) => (Status::Firing, Severity::Warning),
        _ => return None,
    })
}

fn convert(e: Event) -> Result<Alert, String> {
    if !matches!(
        e.kind.as_str(),
        "StateChange" | "Notification" | "CheckResult"
    ) {
        return Err(format!(
            "Icinga 2 event type {:?} carries no state; subscribe to StateChange, \
             Notification or CheckResult",
            e.kind
        ));
    }
    let is_host = e.service.as_deref().is_none_or(str::is_empty);
    let state = e
        .state
        .or_else(|| e.check_result.as_ref().and_then(|c| c.state))
        .map(|s| s as i64);
    let (status, severity) = match (state, e.notification_type.as_deref()) {
        (Some(s), _) => u8::try_from(s)
            .ok()
            .and_then(|s| state_of(s, is_host))
            .ok_or_else(|| {
                format!(
                    "state {s} is not a {} state",
                    if is_host {
                        "host (0-1)"
                    } else {
                        "service (0-3)"
                    }
                )
            })?,
        (None, Some("RECOVERY")) => (Status::Resolved, Severity::Info),
        (None, Some("PROBLEM")) => (Status::Firing, Severity::Critical),
        (None, other) => {
            return Err(format!(
                "no state: neither `state` nor `check_result.state`, and notification_type \
                 {other:?} tells none"
            ))
        }
    };
    let name: Str = if is_host {
        "host".into()
    } else {
        e.service.clone().unwrap_or_default()
    };
    let mut a = alert(SOURCE, name, status, severity, e.host.clone());
    a.starts_at = e.timestamp.0;
    let mut labels: Labels = vec![("host".into(), e.host)];
    if let Some(s) = e.service.filter(|s| !s.is_empty()) {
        labels.push(("service".into(), s));
    }
    a.labels = labels;
    let mut notes: Labels = vec![("event_type".into(), e.kind.into())];
    if let Some(t) = e.state_type {
        notes.push((
            "state_type".into(),
            if t >= 1.0 { "hard" } else { "soft" }.into(),
        ));
    }
    if let Some(n) = e.notification_type {
        notes.push(("notification_type".into(), n.into()));
    }
    for (k, v) in [("author", e.author), ("comment", e.text)] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            notes.push((k.into(), v.into()));
        }
    }
    if let Some(c) = e.check_result {
        if status == Status::Resolved {
            a.ends_at = c.execution_end.map(|t| t.0).or(Some(a.starts_at));
        }
        a.summary = c.output.filter(|o| !o.is_empty());
    }
    a.annotations = notes;
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    #[test]
    fn state_change_and_notification() {
        let sc = r#"{"type":"StateChange","timestamp":1795572667.254,"host":"web-07","service":"http",
          "state":2.0,"state_type":1.0,"check_result":{"type":"CheckResult","state":2.0,"exit_status":2.0,
          "output":"HTTP CRITICAL: HTTP/1.1 503","execution_start":1795572667.1,"execution_end":1795572667.2,
          "performance_data":["time=0.1s"],"command":["check_http"]},"downtime_depth":0.0,"acknowledgement":false}"#;
        let note = r#"{"type":"Notification","timestamp":1795573000.0,"host":"web-07","service":"http",
          "command":"mail-service-notification","users":["icingaadmin"],"notification_type":"RECOVERY",
          "author":"","text":"","check_result":{"state":0.0,"output":"HTTP OK","execution_end":1795572999.5}}"#;
        let host_down = r#"{"type":"StateChange","timestamp":1795572600,"host":"db-1","state":1,"state_type":0,
          "check_result":{"state":1,"output":"PING CRITICAL - Packet loss = 100%"}}"#;
        let mut out = Vec::new();
        for rec in [sc, note, host_down] {
            parse_record(&Format::Icinga2, rec.as_bytes(), &mut out).unwrap();
        }
        let (p, r, h) = (&out[0], &out[1], &out[2]);
        assert_eq!(p.name, "http");
        assert_eq!(p.resource, "web-07");
        assert_eq!(p.severity, Severity::Critical);
        assert_eq!(p.status, Status::Firing);
        assert_eq!(p.starts_at, 1_795_572_667_254);
        assert_eq!(p.summary.as_deref(), Some("HTTP CRITICAL: HTTP/1.1 503"));
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.ends_at, Some(1_795_572_999_500));
        assert_eq!(p.fingerprint, r.fingerprint);
        assert_eq!(h.name, "host");
        assert_eq!(h.severity, Severity::Critical);
        assert!(h
            .annotations
            .iter()
            .any(|(k, v)| k == "state_type" && v == "soft"));
    }

    #[test]
    fn refuses_stateless_and_out_of_range() {
        let mut out = Vec::new();
        let e = parse_record(
            &Format::Icinga2,
            br#"{"type":"AcknowledgementSet","timestamp":1,"host":"h"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("AcknowledgementSet"), "{e}");
        let e = parse_record(
            &Format::Icinga2,
            br#"{"type":"StateChange","timestamp":1,"host":"h","service":"s","state":7}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("not a service (0-3) state"), "{e}");
        let e = parse_record(
            &Format::Icinga2,
            br#"{"type":"StateChange","timestamp":"x","host":"h","state":0}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("invalid timestamp"), "{e}");
    }
}
