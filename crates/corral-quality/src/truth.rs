//! Ground truth (SPEC §5): which alert belongs to which real incident, and which alert sits on
//! the root cause. Read from NDJSON lines `{"fingerprint", "incident", "root_cause"}` or from an
//! OpenNMS ALEC `situations.xml` (each `<situation>` an incident, its `<alarm-ref id>`s the
//! fingerprints; ALEC names no root cause).

use quick_xml::events::Event;
use quick_xml::Reader;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One line of `truth.ndjson`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruthRecord {
    pub fingerprint: String,
    pub incident: String,
    #[serde(default)]
    pub root_cause: bool,
}

/// A problem in a truth file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TruthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TruthError {}

/// The truth, indexed.
#[derive(Clone, Debug, Default)]
pub struct Truth {
    /// Incident names, in first-seen order.
    pub incidents: Vec<String>,
    /// fingerprint → index into `incidents`.
    pub incident_of: FxHashMap<String, usize>,
    /// Per incident, the fingerprints marked as root cause.
    pub root_causes: Vec<Vec<String>>,
}

impl Truth {
    /// Indexes records given with their line numbers; a fingerprint in two incidents is an error.
    fn build(records: Vec<(usize, TruthRecord)>) -> Result<Truth, TruthError> {
        let mut t = Truth::default();
        let mut ids: FxHashMap<String, usize> = FxHashMap::default();
        let mut first_line: FxHashMap<String, usize> = FxHashMap::default();
        for (line, r) in records {
            let idx = *ids.entry(r.incident.clone()).or_insert_with(|| {
                t.incidents.push(r.incident.clone());
                t.root_causes.push(Vec::new());
                t.incidents.len() - 1
            });
            if let Some(&prev) = t.incident_of.get(&r.fingerprint) {
                if prev != idx {
                    return Err(TruthError {
                        line,
                        message: format!(
                            "fingerprint {:?} already in incident {:?} (line {})",
                            r.fingerprint, t.incidents[prev], first_line[&r.fingerprint]
                        ),
                    });
                }
            }
            first_line.entry(r.fingerprint.clone()).or_insert(line);
            t.incident_of.insert(r.fingerprint.clone(), idx);
            if r.root_cause && !t.root_causes[idx].contains(&r.fingerprint) {
                t.root_causes[idx].push(r.fingerprint);
            }
        }
        Ok(t)
    }

    /// Indexes records already in memory (the simulator's own truth).
    pub fn from_records(
        records: impl IntoIterator<Item = TruthRecord>,
    ) -> Result<Truth, TruthError> {
        Truth::build(
            records
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i + 1, r))
                .collect(),
        )
    }

    /// Parses either format: XML when the text starts with `<`, NDJSON otherwise.
    pub fn parse(text: &str) -> Result<Truth, TruthError> {
        if text.trim_start().starts_with('<') {
            Truth::parse_situations_xml(text)
        } else {
            Truth::parse_ndjson(text)
        }
    }

    pub fn parse_ndjson(text: &str) -> Result<Truth, TruthError> {
        let mut records = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r: TruthRecord = serde_json::from_str(line).map_err(|e| TruthError {
                line: i + 1,
                message: format!("not a truth record: {e}"),
            })?;
            if r.fingerprint.is_empty() {
                return Err(TruthError {
                    line: i + 1,
                    message: "empty fingerprint".into(),
                });
            }
            records.push((i + 1, r));
        }
        Truth::build(records)
    }

    /// ALEC `situations.xml`: `<situation id=..>` holding `<alarm-ref id=..>`s.
    pub fn parse_situations_xml(text: &str) -> Result<Truth, TruthError> {
        let mut reader = Reader::from_str(text);
        let mut records = Vec::new();
        let mut current: Option<String> = None;
        let line_at = |pos: u64| {
            let end = (pos as usize).min(text.len());
            text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        };
        loop {
            let pos = reader.buffer_position();
            let ev = reader.read_event().map_err(|e| TruthError {
                line: line_at(reader.error_position()),
                message: format!("invalid XML: {e}"),
            })?;
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let is_empty = matches!(ev, Event::Empty(_));
                    let name = e.local_name();
                    let id = e
                        .try_get_attribute("id")
                        .map_err(|err| TruthError {
                            line: line_at(pos),
                            message: format!("bad attribute: {err}"),
                        })?
                        .map(|a| {
                            a.unescape_value()
                                .map(|v| v.into_owned())
                                .map_err(|err| TruthError {
                                    line: line_at(pos),
                                    message: format!("bad attribute value: {err}"),
                                })
                        })
                        .transpose()?;
                    match name.as_ref() {
                        b"situation" => {
                            let id = id.ok_or_else(|| TruthError {
                                line: line_at(pos),
                                message: "<situation> without id".into(),
                            })?;
                            if !is_empty {
                                current = Some(id);
                            }
                        }
                        b"alarm-ref" => {
                            let id = id.ok_or_else(|| TruthError {
                                line: line_at(pos),
                                message: "<alarm-ref> without id".into(),
                            })?;
                            let incident = current.clone().ok_or_else(|| TruthError {
                                line: line_at(pos),
                                message: "<alarm-ref> outside a <situation>".into(),
                            })?;
                            records.push((
                                line_at(pos),
                                TruthRecord {
                                    fingerprint: id,
                                    incident,
                                    root_cause: false,
                                },
                            ));
                        }
                        _ => {}
                    }
                }
                Event::End(ref e) if e.local_name().as_ref() == b"situation" => current = None,
                Event::Eof => break,
                _ => {}
            }
        }
        Truth::build(records)
    }

    /// Number of alerts in each truth incident.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![0; self.incidents.len()];
        for &i in self.incident_of.values() {
            s[i] += 1;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_truth_is_indexed_with_root_causes() {
        let t = Truth::parse(
            "{\"fingerprint\":\"a\",\"incident\":\"i1\",\"root_cause\":true}\n\
             {\"fingerprint\":\"b\",\"incident\":\"i1\",\"root_cause\":false}\n\n\
             {\"fingerprint\":\"c\",\"incident\":\"i2\"}\n",
        )
        .unwrap();
        assert_eq!(t.incidents, vec!["i1", "i2"]);
        assert_eq!(t.incident_of["b"], 0);
        assert_eq!(t.root_causes[0], vec!["a"]);
        assert!(t.root_causes[1].is_empty());
    }

    #[test]
    fn ndjson_errors_carry_the_line() {
        let e = Truth::parse("{\"fingerprint\":\"a\",\"incident\":\"i1\"}\n{oops\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Truth::parse(
            "{\"fingerprint\":\"a\",\"incident\":\"i1\"}\n{\"fingerprint\":\"a\",\"incident\":\"i2\"}\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("line 1"), "{}", e.message);
    }

    #[test]
    fn alec_situations_are_read_and_comments_skipped() {
        // Same shape as ALEC's own samples: namespace, attributes, a commented-out alarm.
        let xml = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<situations xmlns="http://xmlns.opennms.org/xsd/alec/model/v1.0.0">
    <situation severity="major" id="s-1" creation-time="1546759375000" summary="Link down">
        <alarm-ref id="101"/>
        <alarm-ref id="102"/>
        <!--
        <alarm-ref id="4738853"/>
        -->
    </situation>
    <situation id="s-2"><alarm-ref id="103"></alarm-ref></situation>
    <situation id="s-empty"/>
</situations>"#;
        let t = Truth::parse(xml).unwrap();
        assert_eq!(t.incidents, vec!["s-1", "s-2"]);
        assert_eq!(t.incident_of.len(), 3);
        assert_eq!(t.incident_of["103"], 1);
        assert!(!t.incident_of.contains_key("4738853"));
    }

    #[test]
    fn malformed_xml_is_an_error_with_a_line() {
        let e = Truth::parse(
            "<situations>\n<situation id=\"1\">\n<alarm-ref/>\n</situation></situations>",
        )
        .unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(Truth::parse("<situations>\n<situation id=\"1\">\n</oops>").is_err());
    }
}
