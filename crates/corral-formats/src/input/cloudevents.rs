//! `cloudevents`: a CloudEvents 1.0 JSON event whose `data` holds the alert. `data` may be any
//! other supported payload (an Alertmanager webhook, a Zabbix event, ...), detected as
//! `--format auto` would, or a native alert whose missing fields come from the envelope:
//! `source` from `source`, `starts_at` from `time`, `status` firing, `severity` warning.

use crate::common::Problems;
use crate::json_path::{self, need, text};
use crate::Format;
use corral_core::Alert;
use serde_json::{Map, Value};

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    let v = match json_path::parse(payload) {
        Ok(v) => v,
        Err(e) => return problems.push(context, e),
    };
    match inner(&v) {
        Ok((format, data)) => {
            let here = crate::common::ctx(context, "data");
            let mut sub = Problems::default();
            crate::parse_into(&format, &data, out, &mut sub);
            for p in sub.0 {
                problems.push(&here, p);
            }
        }
        Err(e) => problems.push(context, e),
    }
}

fn inner(v: &Value) -> Result<(Format, Vec<u8>), String> {
    let version = need(v, "specversion")?;
    if version != "1.0" {
        return Err(format!("specversion {version:?} is not 1.0"));
    }
    if v.get("data_base64").is_some() {
        return Err(
            "binary data (data_base64) is not supported; send the alert as JSON in `data`".into(),
        );
    }
    let data = match v.get("data") {
        Some(Value::Object(m)) => m,
        Some(Value::String(s)) => {
            // Some producers put the JSON document in a string.
            return match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => with_format(v, &m),
                _ => Err("`data` is a string that holds no JSON object".into()),
            };
        }
        Some(other) => {
            return Err(format!(
                "`data` is {}, expected an object",
                json_path::describe(other)
            ))
        }
        None => return Err("missing field `data`".into()),
    };
    with_format(v, data)
}

fn with_format(envelope: &Value, data: &Map<String, Value>) -> Result<(Format, Vec<u8>), String> {
    if data.contains_key("name") && data.contains_key("resource") {
        let mut d = data.clone();
        let defaults = [
            ("source", text(envelope, "source").map(Value::String)),
            ("starts_at", text(envelope, "time").map(Value::String)),
            ("status", Some(Value::String("firing".into()))),
            ("severity", Some(Value::String("warning".into()))),
        ];
        for (k, default) in defaults {
            if let (false, Some(val)) = (d.contains_key(k), default) {
                d.insert(k.into(), val);
            }
        }
        let bytes = serde_json::to_vec(&d).map_err(|e| e.to_string())?;
        return Ok((Format::Native, bytes));
    }
    let format = crate::detect::classify(data)
        .map_err(|e| format!("`data` holds no known alert payload: {e}"))?;
    if format == Format::CloudEvents {
        return Err("`data` is itself a CloudEvent; nesting is not supported".into());
    }
    let bytes = serde_json::to_vec(data).map_err(|e| e.to_string())?;
    Ok((format, bytes))
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    #[test]
    fn native_data_takes_envelope_defaults() {
        let ev = r#"{"specversion": "1.0", "type": "com.example.alert", "source": "/monitors/synthetics",
          "id": "A234-1234-1234", "time": "2026-11-25T02:11:07Z", "datacontenttype": "application/json",
          "data": {"name": "CheckoutFlowFailed", "resource": "checkout-web", "severity": "critical",
                   "labels": {"region": "eu"}}}"#;
        let mut out = Vec::new();
        parse_record(&Format::CloudEvents, ev.as_bytes(), &mut out).unwrap();
        let a = &out[0];
        assert_eq!(a.source, "/monitors/synthetics");
        assert_eq!(a.name, "CheckoutFlowFailed");
        assert_eq!(a.status, Status::Firing);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.starts_at, 1_795_572_667_000);
        assert_eq!(a.label("region"), Some("eu"));
    }

    #[test]
    fn wrapped_vendor_payload_is_detected() {
        let ev = r#"{"specversion":"1.0","type":"io.prometheus.alertmanager","source":"am","id":"1",
          "data":{"version":"4","alerts":[{"status":"resolved","labels":{"alertname":"A","host":"h1"},
          "startsAt":"2026-11-25T02:11:07Z","endsAt":"2026-11-25T02:12:07Z"}]}}"#;
        let mut out = Vec::new();
        parse_record(&Format::CloudEvents, ev.as_bytes(), &mut out).unwrap();
        assert_eq!(out[0].source, "alertmanager");
        assert_eq!(out[0].status, Status::Resolved);
    }

    #[test]
    fn envelope_errors() {
        let mut out = Vec::new();
        let e = parse_record(
            &Format::CloudEvents,
            br#"{"specversion":"0.3","data":{}}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("not 1.0"), "{e}");
        let e = parse_record(
            &Format::CloudEvents,
            br#"{"specversion":"1.0","data_base64":"AAA="}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("data_base64"), "{e}");
        let e = parse_record(
            &Format::CloudEvents,
            br#"{"specversion":"1.0","data":{"x":1}}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("no known alert payload"), "{e}");
        let e = parse_record(&Format::CloudEvents, br#"{"specversion":"1.0","time":"2026-11-25T02:11:07Z","data":{"name":"n","resource":"r","status":"maybe"}}"#, &mut out).unwrap_err();
        assert!(
            e.starts_with("data: ") && e.contains("status \"maybe\" is neither"),
            "{e}"
        );
    }
}
