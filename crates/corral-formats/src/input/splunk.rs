//! `splunk`: the Splunk webhook alert action body (`sid`, `search_name`, `app`, `owner`,
//! `results_link`, and `result`: the first result row). The row's `_time` is the event time,
//! else the time Splunk stamps into scheduled search ids (`..._at_1795572667_123`). The row's
//! `host` (or `src`, `dest`, `resource`) is the resource; `severity` or `urgency` the severity
//! (default warning); a `status` of resolved, closed or ok resolves.

use crate::common::{alert, finish, Problems, MAX_LABELS};
use crate::json_path::{self, need, text};
use crate::time::parse_seconds_or_rfc3339;
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde_json::Value;

pub const SOURCE: &str = "splunk";

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match json_path::parse(payload).and_then(|v| convert(&v)) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

fn time_from_sid(sid: &str) -> Option<i64> {
    let (_, rest) = sid.rsplit_once("_at_")?;
    let secs = rest.split('_').next()?;
    parse_seconds_or_rfc3339(secs)
}

fn convert(v: &Value) -> Result<Alert, String> {
    let name: Str = need(v, "search_name")?.into();
    let result = match v.get("result") {
        Some(r @ Value::Object(_)) => r,
        Some(other) => {
            return Err(format!(
                "field `result` is {}, expected an object",
                json_path::describe(other)
            ))
        }
        None => return Err("missing field `result`".into()),
    };
    let sid = text(v, "sid");
    let starts_at = match text(result, "_time") {
        Some(t) => parse_seconds_or_rfc3339(&t)
            .ok_or_else(|| format!("result._time {t:?} is not a time"))?,
        None => sid
            .as_deref()
            .and_then(time_from_sid)
            .ok_or("no event time: result._time is missing and sid carries none")?,
    };
    let resource: Str = ["host", "src", "dest", "resource"]
        .iter()
        .find_map(|k| text(result, k))
        .map(Str::from)
        .unwrap_or_else(|| name.clone());
    let severity = ["severity", "urgency"]
        .iter()
        .find_map(|k| text(result, k))
        .map(|s| {
            Severity::parse_loose(&s).ok_or_else(|| format!("result severity {s:?} is unknown"))
        })
        .transpose()?
        .unwrap_or(Severity::Warning);
    let status = match text(result, "status")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("resolved" | "closed" | "ok" | "cleared") => Status::Resolved,
        _ => Status::Firing,
    };
    let mut a = alert(SOURCE, name, status, severity, resource);
    a.starts_at = starts_at;
    if status == Status::Resolved {
        a.ends_at = Some(starts_at);
    }
    let mut labels: Labels = Vec::new();
    if let Some(app) = text(v, "app") {
        labels.push(("app".into(), app.into()));
    }
    for k in ["sourcetype", "index", "source"] {
        if let Some(x) = text(result, k) {
            labels.push((k.into(), x.into()));
        }
    }
    a.labels = labels;
    a.service = text(result, "service").map(Str::from);
    // The other result fields are context, not identity: counts change between runs.
    let mut notes: Labels = Vec::new();
    if let Value::Object(m) = result {
        for (k, val) in m.iter().take(MAX_LABELS) {
            if let Some(t) = json_path::scalar_text(val) {
                notes.push((format!("result.{k}").into(), t.into()));
            }
        }
    }
    for (k, path) in [
        ("sid", "sid"),
        ("results_link", "results_link"),
        ("owner", "owner"),
    ] {
        if let Some(x) = text(v, path) {
            notes.push((k.into(), x.into()));
        }
    }
    notes.truncate(MAX_LABELS);
    a.annotations = notes;
    a.summary = text(result, "message").or_else(|| text(result, "_raw"));
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    /// As Splunk's webhook alert action documentation shows it, with a realistic result row.
    pub const ALERT: &str = r#"{"result": {"sourcetype": "access_combined", "count": "8", "host": "web-07",
        "_time": "1795572667.000", "severity": "high", "message": "8 HTTP 5xx in 5 minutes"},
      "sid": "scheduler__admin__search__RMD5910195b6abc_at_1795572660_1234",
      "results_link": "http://splunk:8000/app/search/@go?sid=scheduler__admin__search__RMD5910195b6abc_at_1795572660_1234",
      "search_name": "Web 5xx burst", "owner": "admin", "app": "search"}"#;

    #[test]
    fn maps_the_first_result_row() {
        let mut out = Vec::new();
        parse_record(&Format::Splunk, ALERT.as_bytes(), &mut out).unwrap();
        let a = &out[0];
        assert_eq!(a.name, "Web 5xx burst");
        assert_eq!(a.resource, "web-07");
        assert_eq!(a.severity, Severity::Error);
        assert_eq!(a.status, Status::Firing);
        assert_eq!(a.starts_at, 1_795_572_667_000);
        assert_eq!(a.summary.as_deref(), Some("8 HTTP 5xx in 5 minutes"));
        assert_eq!(a.label("sourcetype"), Some("access_combined"));
        assert!(a
            .annotations
            .iter()
            .any(|(k, v)| k == "result.count" && v == "8"));
    }

    #[test]
    fn time_from_sid_and_errors() {
        let no_time = ALERT.replace(r#""_time": "1795572667.000", "#, "");
        let mut out = Vec::new();
        parse_record(&Format::Splunk, no_time.as_bytes(), &mut out).unwrap();
        assert_eq!(out[0].starts_at, 1_795_572_660_000);
        let e = parse_record(
            &Format::Splunk,
            br#"{"search_name":"s","result":[]}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("`result` is an array"), "{e}");
        let e = parse_record(
            &Format::Splunk,
            br#"{"search_name":"s","result":{}}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("no event time"), "{e}");
    }
}
