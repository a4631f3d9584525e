//! `datadog`: the webhook payload template shipped in `integrations/datadog/`, whose fields carry
//! Datadog's webhook variables (`$ALERT_ID`, `$ALERT_TITLE`, `$ALERT_TYPE`, `$ALERT_TRANSITION`,
//! `$ALERT_PRIORITY`, `$HOSTNAME`, `$DATE`, `$TAGS`, ...).
//!
//! Alert types: `error` → error, `warning` → warning, `info` → info, `success` → resolved.
//! Priority P1 raises the severity to critical; P4 and P5 lower it to info.

use crate::common::{alert, finish, Problems, Time};
use crate::json_path::{self, need, text};
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde_json::Value;

pub const SOURCE: &str = "datadog";

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match json_path::parse(payload).and_then(|v| convert(&v)) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

fn convert(v: &Value) -> Result<Alert, String> {
    let alert_type = need(v, "alert_type")?.to_ascii_lowercase();
    let transition = text(v, "alert_transition").unwrap_or_default();
    let recovered = alert_type == "success"
        || transition.eq_ignore_ascii_case("Recovered")
        || transition.eq_ignore_ascii_case("Warn Recovered");
    let status = if recovered {
        Status::Resolved
    } else {
        Status::Firing
    };
    let mut severity = match alert_type.as_str() {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "info" | "success" => Severity::Info,
        other => {
            return Err(format!(
                "alert_type {other:?} is none of error, warning, info, success"
            ))
        }
    };
    match text(v, "alert_priority")
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("P1") => severity = Severity::Critical,
        Some("P4" | "P5") => severity = Severity::Info,
        _ => {}
    }
    let name: Str = match text(v, "alert_title") {
        Some(t) => t.into(),
        // $EVENT_TITLE is "[Triggered on {host:web-1}] Title": drop the bracketed prefix.
        None => {
            let t = need(v, "title")?;
            let stripped = match (t.starts_with('['), t.find("] ")) {
                (true, Some(i)) => t[i + 2..].to_string(),
                _ => t,
            };
            stripped.into()
        }
    };
    let tags = parse_tags(text(v, "tags").as_deref().unwrap_or(""));
    let tag = |k: &str| {
        tags.iter()
            .find(|(tk, _)| tk == k)
            .map(|(_, tv)| tv.clone())
    };
    let scope = text(v, "alert_scope");
    let resource: Str = text(v, "hostname")
        .map(Str::from)
        .or_else(|| {
            scope
                .as_deref()
                .and_then(|s| parse_tags(s).into_iter().find(|(k, _)| k == "host"))
                .map(|(_, h)| h)
        })
        .or_else(|| tag("host"))
        .or_else(|| scope.clone().map(Str::from))
        .unwrap_or_else(|| name.clone());
    let time = match (v.get("last_updated"), v.get("date")) {
        (Some(t), _) | (None, Some(t)) if !t.is_null() => {
            serde_json::from_value::<Time>(t.clone()).map_err(|e| format!("date: {e}"))?
        }
        _ => return Err("missing field `date`".into()),
    };
    let mut a = alert(SOURCE, name, status, severity, resource);
    a.starts_at = time.0;
    if status == Status::Resolved {
        a.ends_at = Some(time.0);
    }
    a.service = tag("service");
    let mut labels: Labels = Vec::new();
    if let Some(id) = text(v, "alert_id") {
        labels.push(("monitor_id".into(), id.into()));
    }
    if let Some(s) = scope {
        labels.push(("scope".into(), s.into()));
    }
    labels.extend(tags);
    a.labels = labels;
    let mut notes: Labels = Vec::new();
    for (k, path) in [
        ("event_id", "id"),
        ("transition", "alert_transition"),
        ("priority", "alert_priority"),
        ("metric", "alert_metric"),
        ("query", "alert_query"),
        ("cycle_key", "alert_cycle_key"),
        ("link", "link"),
        ("org", "org.name"),
    ] {
        if let Some(x) = text(v, path) {
            notes.push((k.into(), x.into()));
        }
    }
    a.annotations = notes;
    a.summary = text(v, "body").or_else(|| text(v, "title"));
    finish(a, false)
}

/// `env:prod,team:web,flag` → [(env, prod), (team, web), (flag, "")].
fn parse_tags(s: &str) -> Labels {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once(':') {
            Some((k, v)) => (k.trim().into(), v.trim().into()),
            None => (t.into(), Str::default()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    const TRIGGERED: &str = r#"{"id": "7338915217034112345", "title": "[Triggered on {host:web-07}] CPU high on web",
      "body": "CPU above 90% on web-07", "alert_id": "1234567", "alert_title": "CPU high on web",
      "alert_type": "error", "alert_transition": "Triggered", "alert_status": "system.cpu.user over host:web-07 was > 90.0",
      "alert_metric": "system.cpu.user", "alert_scope": "host:web-07", "alert_query": "avg(last_5m):avg:system.cpu.user{*} by {host} > 90",
      "alert_priority": "P1", "alert_cycle_key": "6612345", "aggreg_key": "a1b2c3", "hostname": "web-07",
      "date": "1795572667000", "last_updated": "1795572667000", "tags": "env:prod,service:checkout,team:web",
      "org": {"id": "12345", "name": "Example"}, "link": "https://app.datadoghq.com/event/event?id=1"}"#;

    #[test]
    fn triggered_and_recovered() {
        let mut out = Vec::new();
        parse_record(&Format::Datadog, TRIGGERED.as_bytes(), &mut out).unwrap();
        let rec = TRIGGERED
            .replace(r#""alert_type": "error""#, r#""alert_type": "success""#)
            .replace("\"Triggered\"", "\"Recovered\"")
            .replace(
                r#""last_updated": "1795572667000""#,
                r#""last_updated": 1795573000000"#,
            );
        parse_record(&Format::Datadog, rec.as_bytes(), &mut out).unwrap();
        let (t, r) = (&out[0], &out[1]);
        assert_eq!(t.name, "CPU high on web");
        assert_eq!(t.resource, "web-07");
        assert_eq!(
            t.severity,
            Severity::Critical,
            "P1 raises error to critical"
        );
        assert_eq!(t.status, Status::Firing);
        assert_eq!(t.service.as_deref(), Some("checkout"));
        assert_eq!(t.label("monitor_id"), Some("1234567"));
        assert_eq!(t.label("env"), Some("prod"));
        assert_eq!(t.starts_at, 1_795_572_667_000);
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.ends_at, Some(1_795_573_000_000));
        assert_eq!(t.fingerprint, r.fingerprint);
    }

    #[test]
    fn title_prefix_scope_and_errors() {
        let v = r#"{"title":"[Warn on {host:db-2}] Disk filling","alert_type":"warning","alert_scope":"host:db-2,device:/dev/sda","date":1795572667000}"#;
        let mut out = Vec::new();
        parse_record(&Format::Datadog, v.as_bytes(), &mut out).unwrap();
        assert_eq!(out[0].name, "Disk filling");
        assert_eq!(out[0].resource, "db-2");
        assert_eq!(out[0].severity, Severity::Warning);
        let e = parse_record(
            &Format::Datadog,
            br#"{"title":"x","alert_type":"meh","date":1}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("alert_type \"meh\""), "{e}");
        let e = parse_record(
            &Format::Datadog,
            br#"{"title":"x","alert_type":"error"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("missing field `date`"), "{e}");
        let e = parse_record(
            &Format::Datadog,
            br#"{"title":"x","alert_type":"error","date":"later"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("date: invalid timestamp"), "{e}");
    }
}
