//! `mapping:FILE`: any JSON alert payload, through a YAML field mapping. A mapping says where
//! each field of the normalized alert is found (a dotted path, a list of alternatives, or a
//! `{{path}}` template), how the source's status and severity words map onto corral's, and how
//! its times are written.
//!
//! ```yaml
//! name: prtg                      # the format's name in messages (default: the file stem)
//! source: prtg                    # the alerts' `source`
//! records: ""                     # path of an array of alerts inside the payload; "" = the payload
//! fields:
//!   name: sensor                  # a path ...
//!   resource: [device, host]      # ... or alternatives, the first present wins ...
//!   fingerprint: "prtg-{{sensorid}}"   # ... or a template
//!   status: status
//!   severity: status
//!   starts_at: datetime
//!   service: group                # optional: service, summary, ends_at, fingerprint
//! labels: {probe: probe, group: group}
//! annotations: {link: linksensor}
//! status_map: {firing: [Down, Warning], resolved: [Up]}   # case-insensitive
//! status_default: firing          # when the status field is absent (else it is required)
//! severity_map: {critical: [Down], warning: [Warning], info: [Up]}
//! severity_default: warning       # for absent or unmapped words (else they are errors)
//! time_format: [rfc3339, "%d.%m.%Y %H:%M:%S"]   # rfc3339, epoch_ms, epoch_s, or strftime (UTC)
//! ```

use crate::common::{alert, finish, Problems};
use crate::json_path::{self, describe};
use crate::time::{parse_time, seconds_to_millis};
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Millis, Severity, Status};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A loaded, validated mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    /// Name shown in messages: `mapping:<name>`.
    pub name: String,
    spec: MappingSpec,
    status_words: Vec<(String, Status)>,
    severity_words: Vec<(String, Severity)>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingSpec {
    #[serde(default)]
    name: Option<String>,
    source: String,
    #[serde(default)]
    records: String,
    fields: Fields,
    #[serde(default)]
    labels: BTreeMap<String, Field>,
    #[serde(default)]
    annotations: BTreeMap<String, Field>,
    #[serde(default)]
    status_map: BTreeMap<StatusName, Vec<String>>,
    #[serde(default)]
    status_default: Option<Status>,
    #[serde(default)]
    severity_map: BTreeMap<Severity, Vec<String>>,
    #[serde(default)]
    severity_default: Option<Severity>,
    #[serde(default)]
    time_format: TimeFormats,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StatusName {
    Firing,
    Resolved,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    name: Field,
    resource: Field,
    starts_at: Field,
    #[serde(default)]
    status: Option<Field>,
    #[serde(default)]
    severity: Option<Field>,
    #[serde(default)]
    ends_at: Option<Field>,
    #[serde(default)]
    fingerprint: Option<Field>,
    #[serde(default)]
    service: Option<Field>,
    #[serde(default)]
    summary: Option<Field>,
}

/// Where a value comes from: a path, a `{{path}}` template, or alternatives.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Field {
    One(String),
    FirstOf(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum TimeFormats {
    One(String),
    Many(Vec<String>),
}

impl Default for TimeFormats {
    fn default() -> Self {
        TimeFormats::Many(vec!["rfc3339".into(), "epoch_ms".into()])
    }
}

impl TimeFormats {
    fn list(&self) -> &[String] {
        match self {
            TimeFormats::One(s) => std::slice::from_ref(s),
            TimeFormats::Many(v) => v,
        }
    }
}

impl Field {
    fn alternatives(&self) -> &[String] {
        match self {
            Field::One(s) => std::slice::from_ref(s),
            Field::FirstOf(v) => v,
        }
    }

    /// The first alternative that yields non-empty text; templates need all their paths.
    fn text(&self, v: &Value) -> Option<String> {
        self.alternatives().iter().find_map(|alt| eval(alt, v))
    }

    fn describe(&self) -> String {
        self.alternatives().join(" | ")
    }
}

fn eval(expr: &str, v: &Value) -> Option<String> {
    if !expr.contains("{{") {
        return json_path::text(v, expr.trim());
    }
    let mut out = String::new();
    let mut rest = expr;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        out.push_str(&json_path::text(v, after[..close].trim())?);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Some(out).filter(|s| !s.is_empty())
}

impl Mapping {
    /// Reads and validates a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("mapping {}: cannot read: {e}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "mapping".into());
        Mapping::parse(&text, &stem).map_err(|e| format!("mapping {}: {e}", path.display()))
    }

    /// Parses mapping YAML; errors carry the line.
    pub fn parse(yaml: &str, default_name: &str) -> Result<Mapping, String> {
        let spec: MappingSpec = serde_norway::from_str(yaml).map_err(|e| match e.location() {
            Some(l) => format!("line {}: {e}", l.line()),
            None => e.to_string(),
        })?;
        let mut errors = Vec::new();
        if spec.source.trim().is_empty() {
            errors.push("`source` is empty".to_string());
        }
        let mut status_words = Vec::new();
        for (status, words) in &spec.status_map {
            let s = match status {
                StatusName::Firing => Status::Firing,
                StatusName::Resolved => Status::Resolved,
            };
            for w in words {
                status_words.push((w.to_lowercase(), s));
            }
        }
        let mut severity_words = Vec::new();
        for (sev, words) in &spec.severity_map {
            for w in words {
                if let Some((_, other)) = severity_words
                    .iter()
                    .find(|(seen, _): &&(String, Severity)| *seen == w.to_lowercase())
                {
                    errors.push(format!(
                        "severity_map: {w:?} is listed under both {other} and {sev}"
                    ));
                }
                severity_words.push((w.to_lowercase(), *sev));
            }
        }
        if spec.fields.status.is_some() && status_words.is_empty() {
            errors.push("fields.status is set but status_map is empty".into());
        }
        for f in spec.time_format.list() {
            if !matches!(f.as_str(), "rfc3339" | "epoch_ms" | "epoch_s") && !f.contains('%') {
                errors.push(format!(
                    "time_format {f:?} is none of rfc3339, epoch_ms, epoch_s or a strftime pattern"
                ));
            }
        }
        for field in spec
            .labels
            .values()
            .chain(spec.annotations.values())
            .chain([
                &spec.fields.name,
                &spec.fields.resource,
                &spec.fields.starts_at,
            ])
        {
            for alt in field.alternatives() {
                if alt.matches("{{").count() != alt.matches("}}").count() {
                    errors.push(format!("template {alt:?} has unbalanced braces"));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(Mapping {
            name: format!(
                "mapping:{}",
                spec.name
                    .clone()
                    .unwrap_or_else(|| default_name.to_string())
            ),
            spec,
            status_words,
            severity_words,
        })
    }

    /// Applies the mapping to one JSON payload.
    pub(crate) fn apply(
        &self,
        payload: &[u8],
        context: &str,
        out: &mut Vec<Alert>,
        problems: &mut Problems,
    ) {
        let v = match json_path::parse(payload) {
            Ok(v) => v,
            Err(e) => return problems.push(context, e),
        };
        let records = self.spec.records.trim();
        if records.is_empty() {
            match self.one(&v) {
                Ok(a) => out.push(a),
                Err(e) => problems.push(context, e),
            }
            return;
        }
        match json_path::get(&v, records) {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match self.one(item) {
                        Ok(a) => out.push(a),
                        Err(e) => problems
                            .push(&crate::common::ctx(context, &format!("{records}.{i}")), e),
                    }
                }
            }
            Some(other) => problems.push(
                context,
                format!("`{records}` is {}, expected an array", describe(other)),
            ),
            None => problems.push(context, format!("missing field `{records}`")),
        }
    }

    fn required(&self, f: &Field, what: &str, v: &Value) -> Result<String, String> {
        f.text(v)
            .ok_or_else(|| format!("no {what}: `{}` is absent or empty", f.describe()))
    }

    fn time(&self, text: &str, what: &str) -> Result<Millis, String> {
        for f in self.spec.time_format.list() {
            let t = text.trim();
            let got = match f.as_str() {
                "rfc3339" => parse_time(t),
                "epoch_ms" => t
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(|x| x as i64),
                "epoch_s" => t.parse::<f64>().ok().and_then(seconds_to_millis),
                pattern => chrono::NaiveDateTime::parse_from_str(t, pattern)
                    .ok()
                    .map(|d| d.and_utc().timestamp_millis()),
            };
            if let Some(ms) = got {
                return Ok(ms);
            }
        }
        Err(format!(
            "{what} {text:?} matches no time_format ({})",
            self.spec.time_format.list().join(", ")
        ))
    }

    fn one(&self, v: &Value) -> Result<Alert, String> {
        if !v.is_object() {
            return Err(format!("the alert is {}, expected an object", describe(v)));
        }
        let f = &self.spec.fields;
        let name: Str = self.required(&f.name, "name", v)?.into();
        let resource: Str = self.required(&f.resource, "resource", v)?.into();
        let status = match f.status.as_ref().and_then(|s| s.text(v)) {
            Some(word) => {
                let lw = word.to_lowercase();
                self.status_words
                    .iter()
                    .find(|(w, _)| *w == lw)
                    .map(|(_, s)| *s)
                    .or(self.spec.status_default)
                    .ok_or_else(|| format!("status {word:?} is not in status_map"))?
            }
            None => self.spec.status_default.ok_or_else(|| match &f.status {
                Some(s) => format!("no status: `{}` is absent", s.describe()),
                None => "no status: set fields.status or status_default".to_string(),
            })?,
        };
        let severity = match f.severity.as_ref().and_then(|s| s.text(v)) {
            Some(word) => {
                let lw = word.to_lowercase();
                self.severity_words
                    .iter()
                    .find(|(w, _)| *w == lw)
                    .map(|(_, s)| *s)
                    .or_else(|| {
                        self.spec
                            .severity_map
                            .is_empty()
                            .then(|| Severity::parse_loose(&word))
                            .flatten()
                    })
                    .or(self.spec.severity_default)
                    .ok_or_else(|| format!("severity {word:?} is not in severity_map"))?
            }
            None => self.spec.severity_default.unwrap_or(Severity::Warning),
        };
        let starts = self.required(&f.starts_at, "starts_at", v)?;
        let mut a = alert(&self.spec.source, name, status, severity, resource);
        a.starts_at = self.time(&starts, "starts_at")?;
        if let Some(end) = f.ends_at.as_ref().and_then(|e| e.text(v)) {
            a.ends_at = Some(self.time(&end, "ends_at")?);
        }
        a.fingerprint = f
            .fingerprint
            .as_ref()
            .and_then(|x| x.text(v))
            .map(Str::from)
            .unwrap_or_default();
        a.service = f.service.as_ref().and_then(|x| x.text(v)).map(Str::from);
        a.summary = f.summary.as_ref().and_then(|x| x.text(v));
        let collect = |set: &BTreeMap<String, Field>| -> Labels {
            set.iter()
                .filter_map(|(k, field)| {
                    field.text(v).map(|t| (Str::from(k.as_str()), Str::from(t)))
                })
                .collect()
        };
        a.labels = collect(&self.spec.labels);
        a.annotations = collect(&self.spec.annotations);
        finish(a, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_record, Format};
    use std::sync::Arc;

    const YAML: &str = r#"
source: acme
records: events
fields:
  name: [check.title, check.id]
  resource: "{{host}}"
  fingerprint: "acme-{{check.id}}-{{host}}"
  status: state
  severity: level
  starts_at: at
  summary: text
labels: {dc: where.dc}
annotations: {link: url}
status_map: {firing: [BAD, Degraded], resolved: [good]}
severity_map: {critical: [p1], warning: [p2, p3]}
severity_default: info
time_format: [epoch_s, "%d.%m.%Y %H:%M:%S"]
"#;

    fn mapping() -> Format {
        Format::Mapping(Arc::new(Mapping::parse(YAML, "acme").unwrap()))
    }

    #[test]
    fn maps_paths_templates_alternatives_and_words() {
        let payload = r#"{"events": [
          {"check": {"title": "Disk full", "id": 42}, "host": "db-1", "state": "bad", "level": "P1",
           "at": 1795572667, "text": "99%", "where": {"dc": "par1"}, "url": "http://x"},
          {"check": {"id": 43}, "host": "db-2", "state": "GOOD", "level": "p9", "at": "25.11.2026 02:11:07"}
        ]}"#;
        let mut out = Vec::new();
        parse_record(&mapping(), payload.as_bytes(), &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let a = &out[0];
        assert_eq!(a.source, "acme");
        assert_eq!(a.name, "Disk full");
        assert_eq!(a.resource, "db-1");
        assert_eq!(a.fingerprint, "acme-42-db-1");
        assert_eq!(a.status, Status::Firing);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.starts_at, 1_795_572_667_000);
        assert_eq!(a.label("dc"), Some("par1"));
        assert_eq!(a.annotations, vec![("link".into(), "http://x".into())]);
        let b = &out[1];
        assert_eq!(b.name, "43");
        assert_eq!(b.status, Status::Resolved);
        assert_eq!(
            b.severity,
            Severity::Info,
            "unmapped word falls to the default"
        );
        assert_eq!(b.starts_at, 1_795_572_667_000);
    }

    #[test]
    fn record_errors_name_the_element_and_the_field() {
        let payload = r#"{"events": [{"check": {"id": 1}, "host": "h", "state": "weird", "at": 1},
            {"check": {"id": 2}, "state": "bad", "at": 1},
            {"check": {"id": 3}, "host": "h", "state": "bad", "at": "noon"}]}"#;
        let mut out = Vec::new();
        let e = parse_record(&mapping(), payload.as_bytes(), &mut out).unwrap_err();
        assert!(
            e.contains("events.0: status \"weird\" is not in status_map"),
            "{e}"
        );
        assert!(
            e.contains("events.1: no resource: `{{host}}` is absent"),
            "{e}"
        );
        assert!(
            e.contains("events.2: starts_at \"noon\" matches no time_format"),
            "{e}"
        );
        let e = parse_record(&mapping(), br#"{"events": 3}"#, &mut out).unwrap_err();
        assert!(e.contains("`events` is a number, expected an array"), "{e}");
    }

    #[test]
    fn bad_mappings_are_refused_with_reasons() {
        let e = Mapping::parse("source: x\nfields: {name: a}\n", "m").unwrap_err();
        assert!(e.contains("missing field `resource`"), "{e}");
        let e = Mapping::parse("source: x\nfield: {}\n", "m").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("unknown field `field`"),
            "{e}"
        );
        let e = Mapping::parse(
            "source: x\nfields: {name: a, resource: b, starts_at: c, status: s}\ntime_format: weekly\nseverity_map: {critical: [a], info: [A]}\n",
            "m",
        )
        .unwrap_err();
        assert!(e.contains("status_map is empty"), "{e}");
        assert!(e.contains("time_format \"weekly\""), "{e}");
        assert!(e.contains("is listed under both info and critical"), "{e}");
        let e = Format::from_name("mapping:/nonexistent/m.yaml").unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }
}
