//! `alertmanager`: the Prometheus Alertmanager webhook (payload version "4"). Each element of
//! `alerts[]` is one alert; its identity stays Alertmanager's: the given `fingerprint`, and all
//! labels kept in `labels`.

use crate::common::{
    alert, ctx, finish, label, resource_from_labels, strip_port, utf8, Problems, StatusField, Time,
    GO_ZERO_TIME_MS, MAX_LABELS, MAX_VALUE_BYTES, RESOURCE_LABELS,
};
use crate::fast_json::{
    self, normalize_raw_labels, owned_labels, raw_label, RawLabels, Scanner, Seen,
};
use crate::Sink;
use corral_core::model::{fingerprint_of, labels_as_map, Labels, Str};
use corral_core::{Alert, AlertHead, Severity};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

pub const SOURCE: &str = "alertmanager";

#[derive(Deserialize)]
pub(crate) struct Payload<'a> {
    #[serde(default, borrow)]
    pub version: Option<Cow<'a, str>>,
    pub alerts: Vec<AmAlert>,
}

/// Second chance after a failed parse: keep the good alerts, name the bad ones.
#[derive(Deserialize)]
pub(crate) struct LoosePayload<'a> {
    #[serde(borrow)]
    pub alerts: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AmAlert {
    status: StatusField,
    #[serde(with = "labels_as_map")]
    labels: Labels,
    #[serde(default, with = "labels_as_map")]
    annotations: Labels,
    starts_at: Time,
    #[serde(default)]
    ends_at: Option<Time>,
    #[serde(default)]
    fingerprint: Option<Str>,
    /// Grafana's rendered query values, kept as an annotation.
    #[serde(default)]
    value_string: Option<String>,
}

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    parse_webhook(SOURCE, check_version, payload, context, out, problems)
}

/// The Alertmanager webhook shape, shared with Grafana's unified alerting webhook.
pub(crate) fn parse_webhook(
    source: &str,
    check_version: fn(Option<&str>) -> Result<(), String>,
    payload: &[u8],
    context: &str,
    out: &mut Vec<Alert>,
    problems: &mut Problems,
) {
    let convert = |a| convert(source, a);
    let text = match utf8(payload) {
        Ok(t) => t,
        Err(e) => return problems.push(context, e),
    };
    let parsed = match scan_payload(text) {
        Some(p) => Ok(p.into_payload()),
        None => serde_json::from_str::<Payload>(text),
    };
    match parsed {
        Ok(p) => {
            if let Err(e) = check_version(p.version.as_deref()) {
                return problems.push(context, e);
            }
            for (i, a) in p.alerts.into_iter().enumerate() {
                match convert(a) {
                    Ok(a) => out.push(a),
                    Err(e) => problems.push(&ctx(context, &format!("alerts[{i}]")), e),
                }
            }
        }
        Err(whole) => match serde_json::from_str::<LoosePayload>(text) {
            Ok(loose) => {
                for (i, raw) in loose.alerts.iter().enumerate() {
                    let here = ctx(context, &format!("alerts[{i}]"));
                    match serde_json::from_str::<AmAlert>(raw.get()) {
                        Ok(a) => match convert(a) {
                            Ok(a) => out.push(a),
                            Err(e) => problems.push(&here, e),
                        },
                        Err(e) => problems.push(&here, e),
                    }
                }
                if problems.is_empty() {
                    // The alerts were fine: the envelope around them is what is wrong.
                    problems.push(context, whole);
                }
            }
            Err(_) => problems.push(context, whole),
        },
    }
}

/// A payload as the fast scanner reads it: every string borrowed from the input.
pub(crate) struct RawPayload<'a> {
    version: Option<&'a str>,
    alerts: Vec<RawAmAlert<'a>>,
}

/// One alert of a [`RawPayload`]; labels in input order until [`RawAmAlert::identity`].
struct RawAmAlert<'a> {
    status: StatusField,
    labels: RawLabels<'a>,
    annotations: RawLabels<'a>,
    starts_at: Time,
    ends_at: Option<Time>,
    fingerprint: Option<&'a str>,
    value_string: Option<&'a str>,
}

impl<'a> RawPayload<'a> {
    /// The payload as serde_json would have read it.
    fn into_payload(self) -> Payload<'a> {
        Payload {
            version: self.version.map(Cow::Borrowed),
            alerts: self
                .alerts
                .into_iter()
                .map(RawAmAlert::into_alert)
                .collect(),
        }
    }
}

/// What `convert` derives from an alert's labels, borrowed.
struct Identity<'a> {
    name: &'a str,
    resource: &'a str,
    severity: Severity,
    service: Option<&'a str>,
}

impl<'a> RawAmAlert<'a> {
    fn into_alert(self) -> AmAlert {
        self.to_alert()
    }

    fn to_alert(&self) -> AmAlert {
        AmAlert {
            status: self.status,
            labels: owned_labels(&self.labels),
            annotations: owned_labels(&self.annotations),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            fingerprint: self.fingerprint.map(Str::from),
            value_string: self.value_string.map(str::to_string),
        }
    }

    /// Name, resource, severity and service as `convert` derives them, when `convert` and
    /// `finish` will accept the alert (else `None`: the general path judges and explains).
    /// Sorts the labels, as `convert` finds them.
    fn identity(&mut self) -> Option<Identity<'a>> {
        normalize_raw_labels(&mut self.labels);
        let labels = &self.labels;
        let name = raw_label(labels, "alertname").filter(|n| !n.is_empty())?;
        let severity = match raw_label(labels, "severity") {
            Some(s) => Severity::parse_loose(s).unwrap_or(Severity::Warning),
            None => Severity::Warning,
        };
        let resource = raw_resource(labels).unwrap_or(name);
        let service = raw_label(labels, "service").filter(|s| !s.is_empty());
        let fits = |s: &str| s.len() <= MAX_VALUE_BYTES;
        let pairs_fit = |pairs: &RawLabels<'_>, extra: usize| {
            pairs.len() + extra <= MAX_LABELS && pairs.iter().all(|(k, v)| fits(k) && fits(v))
        };
        // `value_string` becomes one more annotation.
        let value_string = self.value_string.filter(|v| !v.is_empty());
        let clean = !resource.is_empty()
            && fits(resource)
            && self.fingerprint.is_none_or(fits)
            && value_string.is_none_or(fits)
            && pairs_fit(labels, 0)
            && pairs_fit(&self.annotations, usize::from(value_string.is_some()));
        clean.then_some(Identity {
            name,
            resource,
            severity,
            service,
        })
    }
}

/// [`resource_from_labels`] on sorted borrowed labels.
fn raw_resource<'a>(labels: &RawLabels<'a>) -> Option<&'a str> {
    RESOURCE_LABELS.iter().find_map(|key| {
        let v = raw_label(labels, key).filter(|v| !v.is_empty())?;
        Some(if *key == "instance" { strip_port(v) } else { v })
    })
}

/// A whole record (one payload) for a stream whose sink takes plain repeats by their head
/// ([`crate::Sink::repeat`]): when every part of it reads cleanly, each alert in turn is
/// offered by its head and built and delivered only if declined; returns how many alerts it
/// had. `None`, with nothing delivered, for any record that is not clean: the general path
/// then decodes it (and names what is wrong). The alerts delivered and their order are those
/// of [`parse`].
pub(crate) fn deliver_or_repeat(payload: &[u8], sink: &mut impl Sink) -> Option<u64> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut p = scan_payload(text)?;
    check_version(p.version).ok()?;
    let identities: Vec<Identity<'_>> = p
        .alerts
        .iter_mut()
        .map(RawAmAlert::identity)
        .collect::<Option<_>>()?;
    let n = p.alerts.len() as u64;
    // By reference: moving these ~600-byte records out costs a copy each.
    for (a, id) in p.alerts.iter().zip(identities) {
        let computed;
        let fingerprint = match a.fingerprint.filter(|f| !f.is_empty()) {
            Some(given) => given,
            None => {
                computed = fingerprint_of(SOURCE, id.name, id.resource, a.labels.iter().copied());
                computed.as_str()
            }
        };
        let head = AlertHead {
            fingerprint,
            status: a.status.0,
            severity: id.severity,
            service: id.service,
            starts_at: a.starts_at.0,
            ends_at: a.ends_at.map(|t| t.0).filter(|&t| t != GO_ZERO_TIME_MS),
            value: None,
        };
        if sink.repeat(&head) {
            continue;
        }
        // `identity` checked everything `convert` and `finish` check.
        if let Ok(alert) = convert(SOURCE, a.to_alert()) {
            sink.alert(alert);
        }
    }
    Some(n)
}

/// The payload as the fast scanner reads it, or `None` to let serde_json decide (and explain).
fn scan_payload(text: &str) -> Option<RawPayload<'_>> {
    let mut s = Scanner::new(text);
    let mut seen = Seen::default();
    let mut version = None;
    // Room for a typical payload's alerts up front: growing a vector of these ~600-byte
    // records copies them at every doubling.
    let mut alerts = Vec::with_capacity(16);
    s.object(|key, s| {
        match key {
            "version" => {
                seen.first(0)?;
                version = fast_json::opt_string(s)?;
            }
            "alerts" => {
                seen.first(1)?;
                s.array(|s| {
                    alerts.push(scan_alert(s)?);
                    Some(())
                })?;
            }
            _ => s.skip_value()?,
        }
        Some(())
    })?;
    if !s.at_end() || !seen.has(1) {
        return None;
    }
    Some(RawPayload { version, alerts })
}

fn scan_alert<'a>(s: &mut Scanner<'a>) -> Option<RawAmAlert<'a>> {
    let mut seen = Seen::default();
    let (mut status, mut labels, mut annotations) = (None, RawLabels::new(), RawLabels::new());
    let (mut starts_at, mut ends_at, mut fingerprint, mut value_string) = (None, None, None, None);
    s.object(|key, s| {
        match key {
            "status" => {
                seen.first(0)?;
                status = Some(fast_json::status(s)?);
            }
            "labels" => {
                seen.first(1)?;
                // `null` reads as no labels, as `labels_as_map` reads it; the field itself is
                // required.
                fast_json::raw_labels(s, &mut labels)?;
            }
            "annotations" => {
                seen.first(2)?;
                fast_json::raw_labels(s, &mut annotations)?;
            }
            "startsAt" => {
                seen.first(3)?;
                starts_at = Some(fast_json::time(s)?);
            }
            "endsAt" => {
                seen.first(4)?;
                ends_at = fast_json::opt_time(s)?;
            }
            "fingerprint" => {
                seen.first(5)?;
                fingerprint = fast_json::opt_string(s)?;
            }
            "valueString" => {
                seen.first(6)?;
                value_string = fast_json::opt_string(s)?;
            }
            _ => s.skip_value()?,
        }
        Some(())
    })?;
    if !seen.has(1) {
        return None;
    }
    Some(RawAmAlert {
        status: status?,
        labels,
        annotations,
        starts_at: starts_at?,
        ends_at,
        fingerprint,
        value_string,
    })
}

fn check_version(v: Option<&str>) -> Result<(), String> {
    match v {
        None | Some("4") => Ok(()),
        Some(other) => Err(format!(
            "unsupported Alertmanager webhook version {other:?} (expected \"4\")"
        )),
    }
}

fn convert(source: &str, a: AmAlert) -> Result<Alert, String> {
    let name: Str = label(&a.labels, "alertname")
        .ok_or("alert has no `alertname` label")?
        .into();
    let severity = match label(&a.labels, "severity") {
        Some(s) => Severity::parse_loose(s).unwrap_or(Severity::Warning),
        None => Severity::Warning,
    };
    // An alert about no particular target (Watchdog, a cluster-wide rule) is its own resource.
    let resource = resource_from_labels(&a.labels).unwrap_or_else(|| name.clone());
    let mut out = alert(source, name, a.status.0, severity, resource);
    out.service = label(&a.labels, "service")
        .filter(|s| !s.is_empty())
        .map(Str::from);
    out.summary = label(&a.annotations, "summary")
        .or_else(|| label(&a.annotations, "description"))
        .map(str::to_string);
    out.fingerprint = a.fingerprint.unwrap_or_default();
    out.starts_at = a.starts_at.0;
    out.ends_at = a.ends_at.map(|t| t.0).filter(|&t| t != GO_ZERO_TIME_MS);
    out.labels = a.labels;
    out.annotations = a.annotations;
    let sorted = match a.value_string {
        Some(v) if !v.is_empty() => {
            out.annotations.push(("value_string".into(), v.into()));
            false
        }
        _ => true,
    };
    finish(out, sorted)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    const PAYLOAD: &str = r#"{
      "version": "4", "groupKey": "{}:{alertname=\"NodeDown\"}", "truncatedAlerts": 0,
      "status": "firing", "receiver": "corral",
      "groupLabels": {"alertname": "NodeDown"}, "commonLabels": {"alertname": "NodeDown"},
      "commonAnnotations": {}, "externalURL": "http://am:9093",
      "alerts": [
        {"status": "firing",
         "labels": {"alertname": "NodeDown", "instance": "db-4.prod:9100", "job": "node",
                    "severity": "critical", "service": "payroll"},
         "annotations": {"summary": "db-4 is down", "description": "no scrape for 5m"},
         "startsAt": "2026-11-25T02:11:07.123456789Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prom:9090/graph", "fingerprint": "c6fa5b3e7a8c1f20"},
        {"status": "resolved",
         "labels": {"alertname": "HighLatency", "pod": "api-7f9c", "severity": "page"},
         "annotations": {"description": "p99 above 2s"},
         "startsAt": "2026-11-25T02:00:00Z", "endsAt": "2026-11-25T02:30:00+01:00"}
      ]}"#;

    #[test]
    fn maps_every_field() {
        let mut out = Vec::new();
        parse_record(&Format::Alertmanager, PAYLOAD.as_bytes(), &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let a = &out[0];
        assert_eq!(a.source, "alertmanager");
        assert_eq!(a.fingerprint, "c6fa5b3e7a8c1f20");
        assert_eq!(a.name, "NodeDown");
        assert_eq!(a.status, Status::Firing);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.resource, "db-4.prod");
        assert_eq!(a.service.as_deref(), Some("payroll"));
        assert_eq!(a.summary.as_deref(), Some("db-4 is down"));
        assert_eq!(a.starts_at, 1_795_572_667_123);
        assert_eq!(a.ends_at, None, "Go zero time means no end");
        assert_eq!(
            a.labels.len(),
            5,
            "all labels are kept: identity is Alertmanager's"
        );
        assert_eq!(a.label("instance"), Some("db-4.prod:9100"));
        assert_eq!(a.annotations.len(), 2);
        let b = &out[1];
        assert_eq!(b.status, Status::Resolved);
        assert_eq!(b.severity, Severity::Critical, "`page` maps loosely");
        assert_eq!(b.resource, "api-7f9c");
        assert_eq!(b.summary.as_deref(), Some("p99 above 2s"));
        assert_eq!(b.ends_at, Some(1_795_570_200_000));
        assert_eq!(b.fingerprint.len(), 16, "computed when absent");
    }

    #[test]
    fn default_severity_is_warning_and_resource_falls_back() {
        let p = r#"{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"Watchdog"},"startsAt":"2026-01-01T00:00:00Z"}]}"#;
        let mut out = Vec::new();
        parse_record(&Format::Alertmanager, p.as_bytes(), &mut out).unwrap();
        assert_eq!(out[0].severity, Severity::Warning);
        assert_eq!(out[0].resource, "Watchdog");
    }

    #[test]
    fn json_array_of_payloads() {
        let rec = format!("[{PAYLOAD}, {PAYLOAD}]");
        let mut out = Vec::new();
        parse_record(&Format::Alertmanager, rec.as_bytes(), &mut out).unwrap();
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn a_bad_alert_is_named_and_its_neighbours_kept() {
        let p = r#"{"version":"4","alerts":[
            {"status":"firing","labels":{"alertname":"A","host":"h"},"startsAt":"2026-01-01T00:00:00Z"},
            {"status":"firing","labels":{"host":"h"},"startsAt":"2026-01-01T00:00:00Z"},
            {"status":"firing","labels":{"alertname":"C"},"startsAt":12.5e99}]}"#;
        let mut out = Vec::new();
        let e = parse_record(&Format::Alertmanager, p.as_bytes(), &mut out).unwrap_err();
        assert_eq!(out.len(), 1);
        assert!(
            e.contains("alerts[1]: alert has no `alertname` label"),
            "{e}"
        );
        assert!(
            e.contains("alerts[2]: epoch milliseconds out of range"),
            "{e}"
        );
    }

    #[test]
    fn wrong_version_and_missing_alerts() {
        let mut out = Vec::new();
        let e = parse_record(
            &Format::Alertmanager,
            br#"{"version":"3","alerts":[]}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("version \"3\""), "{e}");
        let e = parse_record(&Format::Alertmanager, br#"{"version":"4"}"#, &mut out).unwrap_err();
        assert!(e.contains("missing field `alerts`"), "{e}");
        let e = parse_record(
            &Format::Alertmanager,
            br#"{"version":"4","alerts":{}}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("invalid type: map"), "{e}");
    }

    fn value() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            Just(r#""firing""#.to_string()),
            Just(r#""resolved""#.to_string()),
            Just(r#""4""#.to_string()),
            Just(r#""2026-11-25T02:11:07.123Z""#.to_string()),
            Just(r#""0001-01-01T00:00:00Z""#.to_string()),
            Just(r#""{}:{alertname=\"NodeDown\"}""#.to_string()),
            Just(r#""caf\u00e9""#.to_string()),
            Just(r#""bad \x escape""#.to_string()),
            Just("null".to_string()),
            Just("false".to_string()),
            Just("-12".to_string()),
            Just("1700000000000".to_string()),
            Just("2.5e3".to_string()),
            Just("1.".to_string()),
            Just(r#"{"alertname":"A","instance":"h:9100","severity":"page"}"#.to_string()),
            Just(r#"{"alertname":"B","port":5432}"#.to_string()),
            Just(r#"{"summary":"s","description":"d"}"#.to_string()),
            Just(r#"{"a":[1,{"b":null}],"c":"\n"}"#.to_string()),
            Just(r#"[1,2]"#.to_string()),
            "[a-z0-9]{0,8}".prop_map(|s| format!("\"{s}\"")),
        ]
    }

    fn object(members: &[(&str, String)]) -> String {
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    const ALERT_KEYS: &[&str] = &[
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "fingerprint",
        "valueString",
        "generatorURL",
    ];

    /// Records what the head path delivers; takes every head when `take`.
    struct Recorder {
        take: bool,
        heads: Vec<String>,
        alerts: Vec<corral_core::Alert>,
    }

    impl crate::Sink for Recorder {
        fn repeat(&mut self, head: &corral_core::AlertHead<'_>) -> bool {
            self.heads.push(format!("{head:?}"));
            self.take
        }
        fn alert(&mut self, alert: corral_core::Alert) {
            self.alerts.push(alert);
        }
        fn dead(&mut self, _: crate::DeadLetter) {
            unreachable!("records go whole to the general path")
        }
    }

    /// The head path takes a record only when `parse_record` accepts it whole, offers the head of
    /// each of its alerts in order, and delivers the alerts it is not given.
    fn head_path_delivers_what_parse_delivers(
        text: &str,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut whole = Vec::new();
        let parsed = parse_record(&Format::Alertmanager, text.as_bytes(), &mut whole);
        let mut declining = Recorder {
            take: false,
            heads: Vec::new(),
            alerts: Vec::new(),
        };
        let Some(n) = super::deliver_or_repeat(text.as_bytes(), &mut declining) else {
            proptest::prop_assert!(declining.heads.is_empty() && declining.alerts.is_empty());
            return Ok(());
        };
        proptest::prop_assert!(parsed.is_ok(), "{}: {:?}", text, parsed);
        proptest::prop_assert_eq!(n as usize, whole.len());
        proptest::prop_assert_eq!(&declining.alerts, &whole, "{}", text);
        let heads: Vec<String> = whole.iter().map(|a| format!("{:?}", a.head())).collect();
        proptest::prop_assert_eq!(&declining.heads, &heads);
        let mut taking = Recorder {
            take: true,
            heads: Vec::new(),
            alerts: Vec::new(),
        };
        proptest::prop_assert_eq!(
            super::deliver_or_repeat(text.as_bytes(), &mut taking),
            Some(n)
        );
        proptest::prop_assert!(taking.alerts.is_empty());
        proptest::prop_assert_eq!(taking.heads, heads);
        Ok(())
    }

    #[test]
    fn the_head_path_reads_the_sample_payload_as_parse_does() {
        let one_line = PAYLOAD.replace('\n', " ");
        head_path_delivers_what_parse_delivers(&one_line).unwrap();
        let mut r = Recorder {
            take: false,
            heads: Vec::new(),
            alerts: Vec::new(),
        };
        assert_eq!(
            super::deliver_or_repeat(one_line.as_bytes(), &mut r),
            Some(2)
        );
        let bad_version = one_line.replace(r#""version": "4""#, r#""version": "3""#);
        assert_eq!(
            super::deliver_or_repeat(bad_version.as_bytes(), &mut r),
            None
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The fast scanner never disagrees with serde_json: whatever payload it accepts,
        /// serde_json accepts and reads into the same alerts (or the same per-alert errors).
        #[test]
        fn fast_scan_agrees_with_serde(
            envelope in proptest::collection::vec(
                (proptest::sample::select(vec!["version", "groupKey", "receiver", "alerts"]), value()),
                0..4,
            ),
            alerts in proptest::collection::vec(
                proptest::collection::vec(
                    (proptest::sample::select(ALERT_KEYS.to_vec()), value()),
                    0..8,
                ),
                0..4,
            ),
            base in proptest::bool::ANY,
        ) {
            let alerts: Vec<String> = alerts
                .iter()
                .map(|fields| {
                    let mut m: Vec<(&str, String)> = if base {
                        vec![
                            ("status", r#""firing""#.to_string()),
                            ("labels", r#"{"alertname":"A","host":"h"}"#.to_string()),
                            ("startsAt", r#""2026-01-01T00:00:00Z""#.to_string()),
                        ]
                    } else {
                        Vec::new()
                    };
                    m.extend(fields.iter().map(|(k, v)| (*k, v.clone())));
                    object(&m)
                })
                .collect();
            let mut m: Vec<(&str, String)> = vec![("alerts", format!("[{}]", alerts.join(",")))];
            m.extend(envelope.iter().map(|(k, v)| (*k, v.clone())));
            let text = object(&m);
            head_path_delivers_what_parse_delivers(&text)?;
            if let Some(fast) = super::scan_payload(&text).map(super::RawPayload::into_payload) {
                let slow = serde_json::from_str::<super::Payload>(&text);
                proptest::prop_assert!(slow.is_ok(), "{text}: {:?}", slow.err());
                let slow = slow.unwrap();
                proptest::prop_assert_eq!(&fast.version, &slow.version);
                let read = |p: super::Payload| -> Vec<Result<corral_core::Alert, String>> {
                    p.alerts.into_iter().map(|a| super::convert("alertmanager", a)).collect()
                };
                proptest::prop_assert_eq!(read(fast), read(slow), "{}", text);
            }
        }
    }
}
