//! `alec`: OpenNMS ALEC `alarms.xml`. Every `<event>` of an `<alarm>` is one alert occurrence:
//! the alarm id is the fingerprint, `inventory-object-id` the resource, the event's `time`
//! (epoch ms) its event time, and a `cleared` event resolves. An alarm without events becomes
//! one alert from its own attributes, so nothing in the file is lost.
//!
//! Read with quick-xml as a stream: memory stays flat however large the file. OpenNMS
//! severities map: critical → critical, major → error, minor and warning → warning, normal,
//! indeterminate and cleared → info.

use crate::common::{alert, finish, Problems};
use crate::stream::{DeadLetter, DecodeStats};
use crate::time::parse_time;
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::io::{self, BufRead};

pub const SOURCE: &str = "alec";

pub fn severity_of(s: &str) -> Option<Severity> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "major" => Severity::Error,
        "minor" | "warning" => Severity::Warning,
        "normal" | "indeterminate" | "cleared" => Severity::Info,
        _ => return None,
    })
}

#[derive(Default)]
struct AlarmAttrs {
    id: String,
    resource: String,
    object_type: String,
    summary: String,
    description: String,
    last_severity: String,
    first_time: String,
    last_time: String,
    events: u64,
    raw: Vec<u8>,
}

fn attrs(e: &BytesStart) -> Result<Vec<(String, String)>, String> {
    e.attributes()
        .map(|a| {
            let a = a.map_err(|err| format!("bad attribute: {err}"))?;
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map_err(|err| format!("attribute {key}: {err}"))?
                .into_owned();
            Ok((key, value))
        })
        .collect()
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> &'a str {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn tag_bytes(e: &BytesStart) -> Vec<u8> {
    let mut raw = b"<".to_vec();
    raw.extend_from_slice(e);
    raw.push(b'>');
    raw
}

/// One alert from an `<event>` (or, when `event` is `None`, from the alarm itself).
fn occurrence(alarm: &AlarmAttrs, event: Option<&[(String, String)]>) -> Result<Alert, String> {
    if alarm.id.is_empty() {
        return Err("alarm has no id".into());
    }
    // OpenNMS raises some alarms about itself (an import finished, a daemon restarted) with no
    // inventory object: they stand alone, their own resource, flagged so rules can tell.
    let attached = !alarm.resource.is_empty();
    let resource = if attached { &alarm.resource } else { &alarm.id };
    let (sev_text, time_text, summary) = match event {
        Some(ev) => (get(ev, "severity"), get(ev, "time"), get(ev, "summary")),
        None => (
            alarm.last_severity.as_str(),
            if alarm.last_time.is_empty() {
                alarm.first_time.as_str()
            } else {
                alarm.last_time.as_str()
            },
            alarm.summary.as_str(),
        ),
    };
    let severity = severity_of(sev_text).ok_or_else(|| {
        format!(
            "alarm {:?}: severity {sev_text:?} is not an OpenNMS severity",
            alarm.id
        )
    })?;
    let time = parse_time(time_text)
        .ok_or_else(|| format!("alarm {:?}: time {time_text:?} is not epoch ms", alarm.id))?;
    let status = if sev_text.eq_ignore_ascii_case("cleared") {
        Status::Resolved
    } else {
        Status::Firing
    };
    let name: Str = [alarm.summary.as_str(), summary, alarm.id.as_str()]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_default()
        .into();
    let mut a = alert(SOURCE, name, status, severity, resource.as_str().into());
    a.fingerprint = alarm.id.as_str().into();
    a.starts_at = time;
    if status == Status::Resolved {
        a.ends_at = Some(time);
    }
    let mut labels: Labels = Vec::new();
    if !attached {
        labels.push(("inventory_object".into(), "none".into()));
    }
    if !alarm.object_type.is_empty() {
        labels.push((
            "inventory_object_type".into(),
            alarm.object_type.as_str().into(),
        ));
    }
    a.labels = labels;
    let mut notes: Labels = Vec::new();
    if let Some(ev) = event {
        for (k, key) in [
            ("event_id", "id"),
            ("event_source", "source"),
            ("description", "description"),
        ] {
            let v = get(ev, key);
            if !v.is_empty() {
                notes.push((k.into(), v.into()));
            }
        }
    } else if !alarm.description.is_empty() {
        notes.push(("description".into(), alarm.description.as_str().into()));
    }
    a.annotations = notes;
    a.summary = Some(summary).filter(|s| !s.is_empty()).map(str::to_string);
    finish(a, false)
}

/// Streams an `alarms.xml` document: `on_alert` per occurrence, `on_dead` per bad element.
/// `DeadLetter::record` is the 1-based number of the `<event>` (or event-less `<alarm>`).
/// An XML syntax error ends the document (there is no safe place to resume) with a dead letter.
pub fn decode<R: BufRead>(
    input: R,
    mut on_alert: impl FnMut(Alert),
    mut on_dead: impl FnMut(DeadLetter),
) -> io::Result<DecodeStats> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::with_capacity(4096);
    let mut stats = DecodeStats::default();
    let mut alarm: Option<AlarmAttrs> = None;
    let mut saw_alarms = false;
    let mut emit = |stats: &mut DecodeStats, r: Result<Alert, String>, raw: &[u8]| {
        stats.records += 1;
        match r {
            Ok(a) => {
                stats.alerts += 1;
                on_alert(a);
            }
            Err(reason) => {
                stats.dead_letters += 1;
                on_dead(DeadLetter::new(stats.records, reason, raw));
            }
        }
    };
    loop {
        buf.clear();
        let (e, is_empty) = match reader.read_event_into(&mut buf) {
            Err(quick_xml::Error::Io(e)) => return Err(io::Error::new(e.kind(), e.to_string())),
            Err(e) => {
                let reason = format!(
                    "XML error at byte {}: {e}; the rest of the document is not read",
                    reader.error_position()
                );
                emit(&mut stats, Err(reason), &[]);
                break;
            }
            Ok(Event::Eof) => break,
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == b"alarm" {
                    if let Some(al) = alarm.take() {
                        if al.events == 0 {
                            emit(&mut stats, occurrence(&al, None), &al.raw);
                        }
                    }
                }
                continue;
            }
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(_) => continue,
        };
        match e.local_name().as_ref() {
            b"alarms" => saw_alarms = true,
            b"alarm" => {
                saw_alarms = true;
                let raw = tag_bytes(&e);
                match attrs(&e) {
                    Ok(at) => {
                        let al = AlarmAttrs {
                            id: get(&at, "id").into(),
                            resource: get(&at, "inventory-object-id").into(),
                            object_type: get(&at, "inventory-object-type").into(),
                            summary: get(&at, "summary").into(),
                            description: get(&at, "description").into(),
                            last_severity: get(&at, "last-severity").into(),
                            first_time: get(&at, "first-event-time").into(),
                            last_time: get(&at, "last-event-time").into(),
                            events: 0,
                            raw,
                        };
                        if is_empty {
                            emit(&mut stats, occurrence(&al, None), &al.raw);
                        } else {
                            alarm = Some(al);
                        }
                    }
                    Err(reason) => {
                        emit(&mut stats, Err(reason), &raw);
                        // Its events still belong to an alarm we could not read: name it so.
                        alarm = Some(AlarmAttrs {
                            events: 1,
                            raw: Vec::new(),
                            ..AlarmAttrs::default()
                        });
                    }
                }
            }
            b"event" => {
                let raw = tag_bytes(&e);
                let r = match (&mut alarm, attrs(&e)) {
                    (Some(al), Ok(at)) => {
                        al.events += 1;
                        occurrence(al, Some(&at))
                    }
                    (None, Ok(_)) => Err("<event> outside an <alarm>".to_string()),
                    (_, Err(reason)) => Err(reason),
                };
                emit(&mut stats, r, &raw);
            }
            _ => {}
        }
    }
    stats.bytes = reader.buffer_position();
    if !saw_alarms && stats.records == 0 {
        emit(
            &mut stats,
            Err("not an ALEC alarms document: no <alarms> or <alarm> element".to_string()),
            &[],
        );
    }
    Ok(stats)
}

pub(crate) fn parse(record: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    let result = decode(
        record,
        |a| out.push(a),
        |d| problems.push(context, format!("record {}: {}", d.record, d.reason)),
    );
    if let Err(e) = result {
        problems.push(context, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode_stream, parse_record, Format};

    const SAMPLE: &str = "/work/shared/data/alec-samples/sample/sample.alarms.xml";

    #[test]
    fn every_event_of_the_sample_is_an_occurrence() {
        let Ok(file) = std::fs::File::open(SAMPLE) else {
            panic!("sample data missing at {SAMPLE}");
        };
        let mut alerts = Vec::new();
        let mut dead = Vec::new();
        let stats = decode_stream(
            &Format::Alec,
            io::BufReader::new(file),
            |a| alerts.push(a),
            |d| dead.push(d),
        )
        .unwrap();
        assert!(dead.is_empty(), "{dead:?}");
        assert_eq!(alerts.len(), 18, "10 + 2 + 6 events");
        assert_eq!(stats.alerts, 18);
        let first = &alerts[0];
        assert_eq!(first.fingerprint, "4738854");
        assert_eq!(first.resource, "swmgmt01: Ethernet102/1/22");
        assert_eq!(first.status, Status::Firing);
        assert_eq!(first.severity, Severity::Warning);
        assert_eq!(first.starts_at, 1_546_759_312_000);
        assert_eq!(first.summary.as_deref(), Some("Link down syslog"));
        assert_eq!(first.label("inventory_object_type"), Some("PORT"));
        assert!(first
            .annotations
            .iter()
            .any(|(k, v)| k == "description" && v.starts_with("<189>")));
        assert_eq!(alerts[1].status, Status::Resolved);
        assert_eq!(alerts[10].fingerprint, "4738843");
        assert_eq!(alerts[10].severity, Severity::Error, "major");
    }

    #[test]
    fn bad_elements_are_dead_lettered_and_the_rest_kept() {
        let doc = br#"<?xml version="1.0"?>
<alarms xmlns="http://xmlns.opennms.org/xsd/alec/model/v1.0.0">
  <alarm id="a1" inventory-object-id="sw1" last-severity="major" last-event-time="1000">
    <event severity="major" id="e1" time="1000" summary="down"/>
    <event severity="loud" id="e2" time="2000"/>
    <event severity="major" id="e3" time="yesterday"/>
  </alarm>
  <alarm id="a2" inventory-object-id="sw2" last-severity="critical" last-event-time="3000" summary="fan"/>
  <alarm id="a3" last-severity="critical" last-event-time="3000"/>
</alarms>"#;
        let mut out = Vec::new();
        let e = parse_record(&Format::Alec, doc, &mut out).unwrap_err();
        assert_eq!(
            out.len(),
            3,
            "e1, the event-less alarm a2, and a3 (no inventory object)"
        );
        assert_eq!(out[1].fingerprint, "a2");
        assert_eq!(out[1].severity, Severity::Critical);
        assert!(
            e.contains("record 2: alarm \"a1\": severity \"loud\""),
            "{e}"
        );
        assert!(
            e.contains("record 3: alarm \"a1\": time \"yesterday\""),
            "{e}"
        );
        assert_eq!(
            out[2].resource, "a3",
            "an alarm without inventory object is its own resource"
        );
        assert_eq!(out[2].label("inventory_object"), Some("none"));
    }

    #[test]
    fn broken_xml_stops_with_a_position() {
        let mut out = Vec::new();
        let e = parse_record(&Format::Alec, b"<alarms><alarm id=\"x\" inventory-object-id=\"r\" last-severity=\"minor\" last-event-time=\"1\"></wrong></alarms>", &mut out).unwrap_err();
        assert!(e.contains("XML error at byte"), "{e}");
        let e = parse_record(&Format::Alec, b"<situations/>", &mut out).unwrap_err();
        assert!(e.contains("not an ALEC alarms document"), "{e}");
    }
}
