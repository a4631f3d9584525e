//! `zabbix`: the JSON body sent by the webhook media type shipped in
//! `integrations/zabbix/corral_webhook.yaml`. Field names follow the Zabbix macros they carry
//! (`{EVENT.ID}` → `event_id`, `{EVENT.NSEVERITY}` → `event_nseverity`, ...).
//!
//! Identity: Zabbix opens a new problem event (new `event_id`) each time a trigger fires, so the
//! fingerprint is computed from the trigger and host, which stay the same across repeats.

use crate::common::{alert, finish, Problems, Seconds, Text};
use crate::time::parse_time;
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Millis, Severity, Status};
use serde::Deserialize;

pub const SOURCE: &str = "zabbix";

#[derive(Deserialize)]
struct Event {
    event_id: Text,
    event_name: Str,
    /// `{EVENT.VALUE}`: 1 problem, 0 recovery.
    event_value: Text,
    /// `{EVENT.NSEVERITY}`: 0 not classified ... 5 disaster.
    #[serde(default)]
    event_nseverity: Option<Text>,
    /// `{EVENT.SEVERITY}`: the severity name, used when the number is absent.
    #[serde(default)]
    event_severity: Option<Str>,
    /// Epoch seconds of the problem (`{EVENT.TIMESTAMP}`).
    #[serde(default)]
    event_clock: Option<Seconds>,
    /// Epoch seconds of the recovery (`{EVENT.RECOVERY.TIMESTAMP}`).
    #[serde(default)]
    recovery_clock: Option<Seconds>,
    /// `{EVENT.DATE}` and `{EVENT.TIME}` (`2026.11.25`, `02:11:07`), read as UTC when no clock.
    #[serde(default)]
    event_date: Option<String>,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    host_host: Option<Str>,
    #[serde(default)]
    host_name: Option<Str>,
    #[serde(default)]
    host_ip: Option<Str>,
    #[serde(default)]
    trigger_id: Option<Text>,
    #[serde(default)]
    trigger_description: Option<String>,
    #[serde(default)]
    item_value: Option<String>,
    #[serde(default)]
    event_opdata: Option<String>,
    /// `{EVENT.TAGSJSON}`: `[{"tag": "service", "value": "payroll"}, ...]`.
    #[serde(default)]
    event_tags: Option<Vec<Tag>>,
    #[serde(default)]
    zabbix_url: Option<String>,
}

#[derive(Deserialize)]
struct Tag {
    tag: Str,
    #[serde(default)]
    value: Text,
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

/// Zabbix 0-5 onto SPEC §1, as PagerDuty's Zabbix integration does.
pub fn severity_of(n: u8) -> Severity {
    match n {
        0 | 1 => Severity::Info,
        2 => Severity::Warning,
        3 | 4 => Severity::Error,
        _ => Severity::Critical,
    }
}

fn date_time(date: &str, time: &str) -> Option<Millis> {
    parse_time(&format!(
        "{}T{}Z",
        date.trim().replace('.', "-"),
        time.trim()
    ))
}

fn convert(e: Event) -> Result<Alert, String> {
    let status = match e.event_value.0.as_str() {
        "1" => Status::Firing,
        "0" => Status::Resolved,
        other => {
            return Err(format!(
                "event_value {other:?} is neither 1 (problem) nor 0 (recovery)"
            ))
        }
    };
    let severity = match (&e.event_nseverity, &e.event_severity) {
        (Some(n), _) => match n.0.parse::<u8>() {
            Ok(n) if n <= 5 => severity_of(n),
            _ => return Err(format!("event_nseverity {:?} is not 0-5", n.0)),
        },
        (None, Some(name)) => Severity::parse_loose(name)
            .or(match name.to_ascii_lowercase().as_str() {
                "not classified" => Some(Severity::Info),
                _ => None,
            })
            .ok_or_else(|| format!("unknown Zabbix severity {name:?}"))?,
        (None, None) => Severity::Warning,
    };
    let resource = [&e.host_host, &e.host_name, &e.host_ip]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .cloned()
        .ok_or("no host: host_host, host_name and host_ip are all missing")?;
    let fallback_time = match (&e.event_date, &e.event_time) {
        (Some(d), Some(t)) => Some(
            date_time(d, t)
                .ok_or_else(|| format!("event_date/event_time {d:?} {t:?} are not a time"))?,
        ),
        _ => None,
    };
    let starts_at = e
        .event_clock
        .map(|s| s.0)
        .or(fallback_time)
        .ok_or("no event time: event_clock (or event_date and event_time) is missing")?;
    let mut a = alert(SOURCE, e.event_name, status, severity, resource);
    a.starts_at = starts_at;
    if status == Status::Resolved {
        a.ends_at = e.recovery_clock.map(|s| s.0);
    }
    let mut labels: Labels = Vec::new();
    if let Some(t) = e.trigger_id {
        labels.push(("trigger_id".into(), t.0));
    }
    if let Some(h) = e.host_name.filter(|h| !h.is_empty()) {
        labels.push(("host_name".into(), h));
    }
    for t in e.event_tags.unwrap_or_default() {
        if t.tag == "service" && !t.value.0.is_empty() {
            a.service = Some(t.value.0.clone());
        }
        labels.push((t.tag, t.value.0));
    }
    a.labels = labels;
    let mut notes: Labels = vec![("event_id".into(), e.event_id.0)];
    for (k, v) in [
        ("host_ip", e.host_ip.map(String::from)),
        ("item_value", e.item_value),
        ("operational_data", e.event_opdata),
        ("url", e.zabbix_url),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            notes.push((k.into(), v.into()));
        }
    }
    a.annotations = notes;
    a.summary = e.trigger_description.filter(|d| !d.is_empty());
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    const PROBLEM: &str = r#"{"event_id": "4711", "event_name": "High CPU utilization (over 90% for 5m)",
      "event_value": "1", "event_nseverity": "4", "event_severity": "High",
      "event_clock": "1795572667", "event_date": "2026.11.25", "event_time": "02:11:07",
      "host_host": "web-07", "host_name": "Web 07 (checkout)", "host_ip": "10.0.3.7",
      "trigger_id": "23881", "trigger_description": "CPU has been above 90% for 5 minutes",
      "item_value": "97.3 %", "event_opdata": "Current utilization: 97.3 %",
      "event_tags": [{"tag": "service", "value": "checkout"}, {"tag": "scope", "value": "performance"}],
      "zabbix_url": "https://zabbix.example.com"}"#;

    #[test]
    fn maps_a_problem_and_its_recovery() {
        let mut out = Vec::new();
        parse_record(&Format::Zabbix, PROBLEM.as_bytes(), &mut out).unwrap();
        let recovery = PROBLEM
            .replace(r#""event_value": "1""#, r#""event_value": "0""#)
            .replace(
                r#""event_clock""#,
                r#""recovery_clock": 1795573000, "event_clock""#,
            );
        parse_record(&Format::Zabbix, recovery.as_bytes(), &mut out).unwrap();
        let (p, r) = (&out[0], &out[1]);
        assert_eq!(p.source, "zabbix");
        assert_eq!(p.name, "High CPU utilization (over 90% for 5m)");
        assert_eq!(p.status, Status::Firing);
        assert_eq!(p.severity, Severity::Error);
        assert_eq!(p.resource, "web-07");
        assert_eq!(p.service.as_deref(), Some("checkout"));
        assert_eq!(p.starts_at, 1_795_572_667_000);
        assert_eq!(p.label("trigger_id"), Some("23881"));
        assert_eq!(p.label("scope"), Some("performance"));
        assert_eq!(
            p.summary.as_deref(),
            Some("CPU has been above 90% for 5 minutes")
        );
        assert!(p
            .annotations
            .iter()
            .any(|(k, v)| k == "event_id" && v == "4711"));
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.ends_at, Some(1_795_573_000_000));
        assert_eq!(
            p.fingerprint, r.fingerprint,
            "problem and recovery share identity"
        );
    }

    #[test]
    fn severity_scale_and_date_fallback() {
        let scale: Vec<Severity> = (0..=5).map(super::severity_of).collect();
        use Severity::*;
        assert_eq!(scale, [Info, Info, Warning, Error, Error, Critical]);
        let no_clock = PROBLEM.replace(r#""event_clock": "1795572667", "#, "");
        let mut out = Vec::new();
        parse_record(&Format::Zabbix, no_clock.as_bytes(), &mut out).unwrap();
        assert_eq!(out[0].starts_at, 1_795_572_667_000);
    }

    #[test]
    fn bad_events_say_why() {
        let mut out = Vec::new();
        let e = parse_record(
            &Format::Zabbix,
            PROBLEM
                .replace(r#""event_value": "1""#, r#""event_value": "7""#)
                .as_bytes(),
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("event_value \"7\""), "{e}");
        let e = parse_record(
            &Format::Zabbix,
            PROBLEM
                .replace(r#""event_nseverity": "4""#, r#""event_nseverity": "9""#)
                .as_bytes(),
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("not 0-5"), "{e}");
        let e = parse_record(
            &Format::Zabbix,
            br#"{"event_id":"1","event_name":"x","event_value":"1"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("no host"), "{e}");
        let e = parse_record(
            &Format::Zabbix,
            br#"{"event_id":"1","event_name":"x","event_value":"1","host_host":"h"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("no event time"), "{e}");
        let e = parse_record(
            &Format::Zabbix,
            br#"{"event_id":"1","event_value":"1"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("missing field `event_name`"), "{e}");
        assert!(out.is_empty());
    }
}
