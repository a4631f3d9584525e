//! `--format auto`: tell the formats apart from the first record, by the keys each vendor's
//! payload is known to carry. When nothing fits, say what was seen and what was expected.

use crate::Format;
use serde_json::{Map, Value};
use std::io::BufRead;

/// Guesses the format of a stream from a sample of its beginning (the first record must be
/// complete within it). The error says why no format fits.
pub fn detect(sample: &[u8]) -> Result<Format, String> {
    let text = strip_bom(sample);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| "cannot detect the format: the input is empty".to_string())?;
    let text = &text[start..];
    if text[0] == b'<' {
        let head = &text[..text.len().min(64 * 1024)];
        if memchr::memmem::find(head, b"<alarms").is_some()
            || memchr::memmem::find(head, b"<alarm ").is_some()
        {
            return Ok(Format::Alec);
        }
        return Err(
            "cannot detect the format: the input is XML but not an ALEC <alarms> document"
                .to_string(),
        );
    }
    let first = match serde_json::Deserializer::from_slice(text)
        .into_iter::<Value>()
        .next()
    {
        Some(Ok(v)) => v,
        Some(Err(e)) if e.is_eof() => {
            return Err(format!(
                "cannot detect the format: the first record does not end within the {} bytes \
                 sampled; pass --format",
                sample.len()
            ))
        }
        Some(Err(e)) => {
            return Err(format!(
                "cannot detect the format: the input is neither JSON nor XML ({e})"
            ))
        }
        None => return Err("cannot detect the format: the input is empty".to_string()),
    };
    let object = match &first {
        Value::Object(m) => m,
        Value::Array(items) => match items.first() {
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(format!(
                    "cannot detect the format: the first record is an array of {}, not of \
                     objects",
                    kind(other)
                ))
            }
            None => {
                return Err(
                    "cannot detect the format: the first record is an empty array".to_string(),
                )
            }
        },
        other => {
            return Err(format!(
                "cannot detect the format: the first record is {}, not a JSON object",
                kind(other)
            ))
        }
    };
    classify(object)
}

/// Detects from a buffered reader without consuming anything: what `fill_buf` holds is the
/// sample, so give the reader a capacity that holds a whole first record (1 MiB is plenty).
pub fn detect_stream(input: &mut impl BufRead) -> Result<Format, String> {
    let sample = input
        .fill_buf()
        .map_err(|e| format!("cannot detect the format: reading the input failed: {e}"))?;
    detect(sample)
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(b)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn has(m: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|k| m.contains_key(*k))
}

fn str_of<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m str> {
    m.get(key).and_then(Value::as_str)
}

/// Which format a payload object is, by the keys each one carries. Order matters: the
/// envelope formats (CloudEvents, SNS) are tested before what they may wrap.
pub(crate) fn classify(m: &Map<String, Value>) -> Result<Format, String> {
    if m.contains_key("specversion") {
        return Ok(Format::CloudEvents);
    }
    if str_of(m, "Type") == Some("Notification") && m.contains_key("TopicArn")
        || has(m, &["AlarmName", "NewStateValue"])
    {
        return Ok(Format::CloudWatch);
    }
    if str_of(m, "schemaId") == Some("azureMonitorCommonAlertSchema") {
        return Ok(Format::Azure);
    }
    if m.get("incident").is_some_and(|i| {
        i.get("incident_id").is_some()
            && (i.get("policy_name").is_some() || i.get("state").is_some())
    }) {
        return Ok(Format::Gcp);
    }
    if m.get("alerts").is_some_and(Value::is_array) {
        let grafana_keys =
            m.contains_key("orgId") || m.contains_key("title") && m.contains_key("state");
        return match str_of(m, "version") {
            Some("1") => Ok(Format::Grafana),
            None if grafana_keys => Ok(Format::Grafana),
            Some("4") | None => Ok(Format::Alertmanager),
            Some(v) => Err(format!(
                "cannot detect the format: an `alerts` array like Alertmanager's (version                  \"4\") or Grafana's (version \"1\"), but version {v:?}"
            )),
        };
    }
    if has(m, &["event_value", "event_name"]) {
        return Ok(Format::Zabbix);
    }
    if has(m, &["type", "host", "timestamp"])
        && matches!(
            str_of(m, "type"),
            Some("StateChange" | "Notification" | "CheckResult")
        )
    {
        return Ok(Format::Icinga2);
    }
    if has(m, &["notification_type", "host_name"]) {
        return Ok(Format::Nagios);
    }
    if m.contains_key("alert_type")
        && (m.contains_key("alert_transition")
            || m.contains_key("aggreg_key")
            || m.contains_key("alert_id"))
    {
        return Ok(Format::Datadog);
    }
    if has(m, &["ProblemTitle", "State"]) {
        return Ok(Format::Dynatrace);
    }
    if has(m, &["search_name", "result"]) {
        return Ok(Format::Splunk);
    }
    if has(m, &["name", "resource", "starts_at"]) {
        return Ok(Format::Native);
    }
    let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys.truncate(12);
    Err(format!(
        "cannot detect the format: the first record is an object with keys [{}], which \
         matches none of: native (name, resource, starts_at), alertmanager/grafana (alerts), \
         zabbix (event_name, event_value), icinga2 (type StateChange|Notification), nagios \
         (notification_type, host_name), datadog (alert_type, alert_transition), cloudwatch \
         (AlarmName, NewStateValue or an SNS Notification), azure (schemaId), gcp (incident), \
         dynatrace (ProblemTitle, State), splunk (search_name, result), cloudevents \
         (specversion); for any other JSON write a mapping and pass --format mapping:FILE",
        keys.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_native_from_alertmanager() {
        let native = br#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1}
{"source":"s"}"#;
        assert_eq!(detect(native), Ok(Format::Native));
        let am = b"\xef\xbb\xbf\n  {\n \"version\": \"4\",\n \"alerts\": []\n}";
        assert_eq!(detect(am), Ok(Format::Alertmanager));
        let am_array = br#"[{"version":"4","groupKey":"x","alerts":[]}]"#;
        assert_eq!(detect(am_array), Ok(Format::Alertmanager));
    }

    #[test]
    fn tells_every_vendor_apart() {
        let cases: &[(&str, Format)] = &[
            (
                r#"{"version":"1","orgId":1,"alerts":[],"title":"t","state":"alerting"}"#,
                Format::Grafana,
            ),
            (r#"{"receiver":"r","orgId":1,"alerts":[]}"#, Format::Grafana),
            (
                r#"{"event_id":"1","event_name":"n","event_value":"1"}"#,
                Format::Zabbix,
            ),
            (
                r#"{"type":"StateChange","host":"h","timestamp":1,"state":2}"#,
                Format::Icinga2,
            ),
            (
                r#"{"notification_type":"PROBLEM","host_name":"h"}"#,
                Format::Nagios,
            ),
            (
                r#"{"alert_type":"error","alert_transition":"Triggered","title":"t"}"#,
                Format::Datadog,
            ),
            (
                r#"{"Type":"Notification","TopicArn":"arn","Message":"{}"}"#,
                Format::CloudWatch,
            ),
            (
                r#"{"AlarmName":"a","NewStateValue":"ALARM"}"#,
                Format::CloudWatch,
            ),
            (
                r#"{"schemaId":"azureMonitorCommonAlertSchema","data":{}}"#,
                Format::Azure,
            ),
            (
                r#"{"version":"1.2","incident":{"incident_id":"1","policy_name":"p"}}"#,
                Format::Gcp,
            ),
            (
                r#"{"ProblemTitle":"t","State":"OPEN","PID":"1"}"#,
                Format::Dynatrace,
            ),
            (
                r#"{"search_name":"s","result":{},"sid":"x"}"#,
                Format::Splunk,
            ),
            (r#"{"specversion":"1.0","data":{}}"#, Format::CloudEvents),
        ];
        for (sample, want) in cases {
            assert_eq!(detect(sample.as_bytes()).as_ref(), Ok(want), "{sample}");
        }
    }

    #[test]
    fn explains_why_it_cannot_decide() {
        let e = detect(b"").unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = detect(br#"{"hello": "world", "answer": 42}"#).unwrap_err();
        assert!(
            e.contains("[answer, hello]") && e.contains("pass --format"),
            "{e}"
        );
        let e = detect(b"hello world").unwrap_err();
        assert!(e.contains("neither JSON nor XML"), "{e}");
        let e = detect(b"{\"version\": \"4\", \"alerts\": [").unwrap_err();
        assert!(e.contains("does not end within"), "{e}");
        let e = detect(b"[1, 2]").unwrap_err();
        assert!(e.contains("array of a number"), "{e}");
        let e = detect(b"[]").unwrap_err();
        assert!(e.contains("empty array"), "{e}");
        let e = detect(br#"{"version":"3","alerts":[]}"#).unwrap_err();
        assert!(e.contains("version \"3\""), "{e}");
        assert!(detect(br#"{"hello": 1}"#)
            .unwrap_err()
            .contains("mapping:FILE"));
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?>\n<alarms xmlns=\"x\">"),
            Ok(Format::Alec)
        );
        let e = detect(b"<html></html>").unwrap_err();
        assert!(e.contains("XML"), "{e}");
    }
}
