//! `nagios`: the JSON written by the notify command shipped in `integrations/nagios/`
//! (`corral-notify`), built from Nagios macros (`$NOTIFICATIONTYPE$`, `$HOSTNAME$`,
//! `$SERVICEDESC$`, `$SERVICESTATE$`, `$TIMET$`, ...). The Icinga 2 notification command sends the
//! same shape with `"monitor": "icinga2"`.

use crate::common::{alert, finish, Problems, Seconds};
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde::Deserialize;

pub const SOURCE: &str = "nagios";

#[derive(Deserialize)]
struct Notification {
    #[serde(default)]
    monitor: Option<Str>,
    notification_type: String,
    host_name: Str,
    #[serde(default)]
    host_alias: Option<String>,
    #[serde(default)]
    host_address: Option<String>,
    #[serde(default)]
    host_state: Option<String>,
    #[serde(default)]
    host_output: Option<String>,
    #[serde(default)]
    service_desc: Option<Str>,
    #[serde(default)]
    service_state: Option<String>,
    #[serde(default)]
    service_output: Option<String>,
    #[serde(default)]
    host_groups: Option<Str>,
    #[serde(default)]
    service_groups: Option<Str>,
    timestamp: Seconds,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match serde_json::from_slice::<Notification>(payload)
        .map_err(|e| e.to_string())
        .and_then(convert)
    {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

/// A Nagios state name onto status and severity.
pub fn state_of(state: &str) -> Option<(Status, Severity)> {
    Some(match state.trim().to_ascii_uppercase().as_str() {
        "OK" | "UP" => (Status::Resolved, Severity::Info),
        "WARNING" => (Status::Firing, Severity::Warning),
        "UNKNOWN" => (Status::Firing, Severity::Warning),
        "CRITICAL" => (Status::Firing, Severity::Critical),
        "DOWN" => (Status::Firing, Severity::Critical),
        "UNREACHABLE" => (Status::Firing, Severity::Error),
        _ => return None,
    })
}

fn convert(n: Notification) -> Result<Alert, String> {
    let service = n.service_desc.clone().filter(|s| !s.is_empty());
    let (state_field, state) = match &service {
        Some(_) => ("service_state", n.service_state.as_deref()),
        None => ("host_state", n.host_state.as_deref()),
    };
    let state = state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{state_field} is missing"))?;
    let (mut status, severity) =
        state_of(state).ok_or_else(|| format!("{state_field} {state:?} is not a Nagios state"))?;
    if n.notification_type.eq_ignore_ascii_case("RECOVERY") {
        status = Status::Resolved;
    }
    let source = n.monitor.clone().filter(|m| !m.is_empty());
    let name: Str = service.clone().unwrap_or_else(|| "host".into());
    let mut a = alert(
        source.as_deref().unwrap_or(SOURCE),
        name,
        status,
        severity,
        n.host_name.clone(),
    );
    a.starts_at = n.timestamp.0;
    if status == Status::Resolved {
        a.ends_at = Some(n.timestamp.0);
    }
    let mut labels: Labels = vec![("host".into(), n.host_name)];
    if let Some(s) = service {
        labels.push(("service".into(), s));
    }
    for (k, v) in [
        ("hostgroups", n.host_groups),
        ("servicegroups", n.service_groups),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            labels.push((k.into(), v));
        }
    }
    a.labels = labels;
    let mut notes: Labels = vec![("notification_type".into(), n.notification_type.into())];
    for (k, v) in [
        ("host_alias", n.host_alias),
        ("host_address", n.host_address),
        ("author", n.author),
        ("comment", n.comment),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            notes.push((k.into(), v.into()));
        }
    }
    a.annotations = notes;
    a.summary = n
        .service_output
        .filter(|o| !o.is_empty())
        .or(n.host_output)
        .filter(|o| !o.is_empty());
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    #[test]
    fn service_and_host_notifications() {
        let svc = r#"{"monitor":"nagios","notification_type":"PROBLEM","host_name":"db-1","host_alias":"Payroll DB",
          "host_address":"10.0.4.17","host_state":"UP","host_output":"PING OK","service_desc":"PostgreSQL",
          "service_state":"CRITICAL","service_output":"connection refused","host_groups":"databases",
          "service_groups":"","timestamp":"1795572667","author":"","comment":""}"#;
        let host = r#"{"notification_type":"PROBLEM","host_name":"sw-7","host_state":"UNREACHABLE",
          "host_output":"CRITICAL - Host Unreachable","service_desc":"","timestamp":1795572667}"#;
        let icinga_recovery = r#"{"monitor":"icinga2","notification_type":"RECOVERY","host_name":"db-1",
          "service_desc":"PostgreSQL","service_state":"OK","service_output":"OK","timestamp":1795573000}"#;
        let mut out = Vec::new();
        for r in [svc, host, icinga_recovery] {
            parse_record(&Format::Nagios, r.as_bytes(), &mut out).unwrap();
        }
        assert_eq!(out[0].source, "nagios");
        assert_eq!(out[0].name, "PostgreSQL");
        assert_eq!(out[0].resource, "db-1");
        assert_eq!(out[0].severity, Severity::Critical);
        assert_eq!(out[0].summary.as_deref(), Some("connection refused"));
        assert_eq!(out[0].label("hostgroups"), Some("databases"));
        assert_eq!(out[0].label("servicegroups"), None);
        assert_eq!(out[1].name, "host");
        assert_eq!(out[1].severity, Severity::Error);
        assert_eq!(out[2].source, "icinga2");
        assert_eq!(out[2].status, Status::Resolved);
        assert_eq!(out[2].ends_at, Some(1_795_573_000_000));
    }

    #[test]
    fn unknown_states_are_refused() {
        let mut out = Vec::new();
        let e = parse_record(&Format::Nagios, br#"{"notification_type":"PROBLEM","host_name":"h","service_desc":"s","service_state":"ON FIRE","timestamp":1}"#, &mut out).unwrap_err();
        assert!(e.contains("\"ON FIRE\" is not a Nagios state"), "{e}");
        let e = parse_record(
            &Format::Nagios,
            br#"{"notification_type":"PROBLEM","host_name":"h","timestamp":1}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("host_state is missing"), "{e}");
    }
}
