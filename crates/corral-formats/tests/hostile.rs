//! Hostile input, for every format: wrong types, missing fields, enormous label sets, oversized
//! values, invalid UTF-8, deep nesting, arbitrary bytes. Each must give a clear error (and a
//! dead letter through `decode_stream`), never a panic and never a silent nothing.

use corral_formats::{decode_stream, parse_record, Format, Mapping, MAX_LABELS, MAX_VALUE_BYTES};
use proptest::prelude::*;
use std::sync::Arc;

fn mapping() -> Format {
    let yaml = "source: acme\nfields: {name: n, resource: r, starts_at: t}\nlabels: {a: a}\nstatus_default: firing\n";
    Format::Mapping(Arc::new(Mapping::parse(yaml, "acme").unwrap()))
}

fn all_formats() -> Vec<Format> {
    let mut v: Vec<Format> = Format::NAMES
        .iter()
        .map(|n| Format::from_name(n).unwrap().unwrap())
        .collect();
    v.push(mapping());
    v
}

fn err(format: &Format, record: &[u8]) -> String {
    let mut out = Vec::new();
    match parse_record(format, record, &mut out) {
        Ok(()) => panic!(
            "{format}: {:?} was accepted ({} alerts)",
            String::from_utf8_lossy(record),
            out.len()
        ),
        Err(e) => {
            assert!(!e.trim().is_empty(), "{format}: empty reason");
            e
        }
    }
}

#[test]
fn empty_objects_and_wrong_shapes_are_refused_by_every_format() {
    let e = err(
        &Format::Datadog,
        format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200)).as_bytes(),
    );
    assert!(e.contains("recursion limit exceeded"), "{e}");
    for f in all_formats() {
        for record in [
            &b"{}"[..],
            b"null",
            b"42",
            b"\"text\"",
            b"[1, 2]",
            b"{\"a\": ",
        ] {
            let e = err(&f, record);
            assert!(e.len() < 4096, "{f}: reason is bounded");
        }
    }
}

#[test]
fn invalid_utf8_is_refused_with_a_position() {
    for f in all_formats() {
        let mut rec = b"{\"name\": \"".to_vec();
        rec.extend_from_slice(&[0xc3, 0x28, 0xff]);
        rec.extend_from_slice(b"\"}");
        let e = err(&f, &rec);
        if f != Format::Alec {
            assert!(
                e.contains("line 1 column") || e.contains("unicode"),
                "{f}: {e}"
            );
        }
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    for f in all_formats() {
        // serde_json stops at depth 128 where it builds values and skips ignored ones
        // iteratively: either way a reason, never a stack overflow.
        err(&f, deep.as_bytes());
        err(&f, deep_obj.as_bytes());
    }
}

fn am_with_labels(n: usize, value_len: usize) -> String {
    let mut labels = String::from("\"alertname\": \"Big\", \"host\": \"h\"");
    for i in 0..n {
        labels.push_str(&format!(
            ", \"label_{i:04}\": \"{}\"",
            "v".repeat(value_len)
        ));
    }
    format!(
        r#"{{"version":"4","alerts":[{{"status":"firing","labels":{{{labels}}},"startsAt":"2026-11-25T02:11:07Z"}}]}}"#
    )
}

#[test]
fn enormous_label_sets_and_values_are_refused_with_the_limit() {
    let e = err(
        &Format::Alertmanager,
        am_with_labels(MAX_LABELS + 10, 1).as_bytes(),
    );
    assert!(e.contains("268 labels, more than the 256 allowed"), "{e}");
    let mut ok = Vec::new();
    parse_record(
        &Format::Alertmanager,
        am_with_labels(MAX_LABELS - 2, 1).as_bytes(),
        &mut ok,
    )
    .unwrap();
    let e = err(
        &Format::Alertmanager,
        am_with_labels(1, MAX_VALUE_BYTES + 1).as_bytes(),
    );
    assert!(e.contains("label \"label_0000\" is 16385 bytes"), "{e}");

    let mut native_labels = String::new();
    for i in 0..1000 {
        native_labels.push_str(&format!("{}\"k{i}\": \"v\"", if i > 0 { "," } else { "" }));
    }
    let native = format!(
        r#"{{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1,"labels":{{{native_labels}}}}}"#
    );
    assert!(err(&Format::Native, native.as_bytes()).contains("1000 labels"));
    let long_summary = format!(
        r#"{{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1,"summary":"{}"}}"#,
        "x".repeat(MAX_VALUE_BYTES * 2)
    );
    assert!(err(&Format::Native, long_summary.as_bytes()).contains("summary is 32768 bytes"));

    let zabbix_tags: Vec<String> = (0..400)
        .map(|i| format!(r#"{{"tag":"t{i}","value":"v"}}"#))
        .collect();
    let zabbix = format!(
        r#"{{"event_id":"1","event_name":"n","event_value":"1","host_host":"h","event_clock":1,"event_tags":[{}]}}"#,
        zabbix_tags.join(",")
    );
    assert!(err(&Format::Zabbix, zabbix.as_bytes()).contains("labels, more than the 256"));
}

#[test]
fn wrong_types_name_the_field() {
    let cases: &[(Format, &str, &str)] = &[
        (
            Format::Alertmanager,
            r#"{"version":"4","alerts":[{"status":"firing","labels":"alertname=x","startsAt":"2026-01-01T00:00:00Z"}]}"#,
            "invalid type: string",
        ),
        (
            Format::Grafana,
            r#"{"version":"1","alerts":[{"status":1,"labels":{},"startsAt":"x"}]}"#,
            "status \"1\" is neither firing nor resolved",
        ),
        (
            Format::Zabbix,
            r#"{"event_id":"1","event_name":["n"],"event_value":"1"}"#,
            "invalid type: sequence",
        ),
        (
            Format::Icinga2,
            r#"{"type":"StateChange","timestamp":{},"host":"h"}"#,
            "invalid type: map",
        ),
        (
            Format::Nagios,
            r#"{"notification_type":"PROBLEM","host_name":5,"timestamp":1}"#,
            "invalid type: integer",
        ),
        (
            Format::Datadog,
            r#"{"alert_type":{"x":1}}"#,
            "`alert_type` is an object",
        ),
        (
            Format::CloudWatch,
            r#"{"AlarmName":["a"],"NewStateValue":"ALARM"}"#,
            "`AlarmName` is an array",
        ),
        (
            Format::Azure,
            r#"{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertRule":true}}}"#,
            "missing field `severity`",
        ),
        (
            Format::Gcp,
            r#"{"incident":{"policy_name":"p","state":7}}"#,
            "incident.state \"7\"",
        ),
        (
            Format::Dynatrace,
            r#"{"ProblemTitle":{},"State":"OPEN"}"#,
            "`ProblemTitle` is an object",
        ),
        (
            Format::Splunk,
            r#"{"search_name":"s","result":"row"}"#,
            "`result` is a string",
        ),
        (
            Format::CloudEvents,
            r#"{"specversion":"1.0","data":[1]}"#,
            "`data` is an array",
        ),
        (
            Format::Native,
            r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":true}"#,
            "invalid type: boolean",
        ),
    ];
    for (f, rec, want) in cases {
        let e = err(f, rec.as_bytes());
        assert!(e.contains(want), "{f}: {e:?} should contain {want:?}");
    }
}

#[test]
fn hostile_streams_dead_letter_every_bad_record() {
    let good = r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1}"#;
    let mut input = Vec::new();
    input.extend_from_slice(good.as_bytes());
    input.extend_from_slice(b"\n\xff\xfe\xfd\n");
    input.extend_from_slice("[".repeat(5000).as_bytes());
    input.extend_from_slice(b"\n");
    input.extend_from_slice(good.as_bytes());
    input.extend_from_slice(b"\n");
    let mut alerts = 0;
    let mut dead = Vec::new();
    let stats = decode_stream(
        &Format::Native,
        &input[..],
        |_| alerts += 1,
        |d| dead.push(d),
    )
    .unwrap();
    assert_eq!(
        alerts, 2,
        "the next value at column 0 ends the unclosed one: {dead:?}"
    );
    assert_eq!(stats.dead_letters as usize, dead.len());
    assert!(dead.iter().any(|d| d.record == 2));
    assert!(dead
        .iter()
        .any(|d| d.record == 3 && d.reason.contains("never closed: a new value began")));
    assert!(dead.iter().all(|d| d.raw.len() <= 2048 * 3));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for f in all_formats() {
            let mut out = Vec::new();
            let _ = parse_record(&f, &bytes, &mut out);
            let mut n = 0u64;
            let mut d = 0u64;
            let stats = decode_stream(&f, &bytes[..], |_| n += 1, |_| d += 1).unwrap();
            prop_assert_eq!(stats.alerts, n);
            prop_assert_eq!(stats.dead_letters, d);
        }
    }

    #[test]
    fn json_shaped_noise_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{".to_string()), Just("}".to_string()), Just("[".to_string()),
                Just("]".to_string()), Just(",".to_string()), Just(":".to_string()),
                Just("\"alerts\"".to_string()), Just("\"labels\"".to_string()),
                Just("\"starts_at\"".to_string()), Just("\"version\":\"4\"".to_string()),
                Just("\"status\":\"firing\"".to_string()), Just("\"alertname\"".to_string()),
                Just("null".to_string()), Just("1e999".to_string()), Just("-1".to_string()),
                Just("\"\\ud800\"".to_string()), Just("\n".to_string()),
                Just("<alarm id=\"a\">".to_string()), Just("<event time=\"1\"/>".to_string()),
                "[a-z]{1,8}".prop_map(|s| format!("\"{s}\"")),
            ],
            0..64,
        )
    ) {
        let text = parts.concat();
        for f in all_formats() {
            let mut out = Vec::new();
            let _ = parse_record(&f, text.as_bytes(), &mut out);
            let _ = decode_stream(&f, text.as_bytes(), |_| {}, |_| {});
        }
    }
}
