//! `corral simulate` and `corral score` as a user runs them.

use std::path::Path;
use std::process::{Command, Output};

fn corral(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(args)
        .output()
        .expect("corral runs")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn simulate_then_score_every_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("smoke");
    let o = corral(&[
        "simulate",
        "--suite",
        "smoke",
        "--scenario",
        "smoke-quiet",
        "--seed",
        "3",
        "--out",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = out.join("smoke-quiet");
    for f in [
        "alerts.ndjson",
        "topology.yaml",
        "truth.ndjson",
        "scenario.json",
    ] {
        assert!(s.join(f).exists(), "{f} missing");
    }
    let alerts = s.join("alerts.ndjson");
    let truth = s.join("truth.ndjson");
    let topo = s.join("topology.yaml");
    for strategy in ["corral", "alertmanager", "alec"] {
        let incidents = s.join(format!("inc.{strategy}.ndjson"));
        let o = corral(&[
            "score",
            "--strategy",
            strategy,
            "--alerts",
            path(&alerts),
            "--truth",
            path(&truth),
            "--topology",
            path(&topo),
            "--write-incidents",
            path(&incidents),
        ]);
        assert!(
            o.status.success(),
            "{strategy}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for k in [
            "alerts",
            "events",
            "incidents",
            "compression",
            "ideal_compression",
            "event_compression",
            "ari",
            "ami",
            "pair_precision",
            "pair_recall",
            "missed_incidents",
            "fragmented_incidents",
            "noise_in_incidents",
            "rca_top1",
            "time_to_incident_p50_s",
            "time_to_incident_p99_s",
        ] {
            assert!(v.get(k).is_some(), "{strategy}: no {k} in {v}");
        }
        assert_eq!(v["missed_incidents"], 0, "{strategy}: {v}");
        // Scoring the written incidents gives the same figures.
        let again = corral(&[
            "score",
            "--incidents",
            path(&incidents),
            "--alerts",
            path(&alerts),
            "--truth",
            path(&truth),
            "--topology",
            path(&topo),
        ]);
        assert!(again.status.success());
        let w: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(v, w, "{strategy}");
    }
}

#[test]
fn simulate_is_deterministic_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        let o = corral(&[
            "simulate",
            "--nodes",
            "300",
            "--failures",
            "3",
            "--span-minutes",
            "60",
            "--seed",
            seed,
            "--out",
            path(&out),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out.join("alerts.ndjson")).unwrap()
    };
    assert_eq!(run("a", "5"), run("b", "5"));
    assert_ne!(run("a", "5"), run("c", "6"));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.ndjson");
    std::fs::write(
        &truth,
        "{\"fingerprint\":\"a\",\"incident\":\"i\"}\nnot json\n",
    )
    .unwrap();
    let inc = dir.path().join("inc.ndjson");
    std::fs::write(&inc, "").unwrap();
    let o = corral(&["score", "--incidents", path(&inc), "--truth", path(&truth)]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("truth.ndjson:2:"), "{err}");

    let o = corral(&[
        "simulate",
        "--out",
        path(dir.path()),
        "--propagation",
        "2",
        "--late-rate=-1",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("propagation") && err.contains("late_rate"),
        "{err}"
    );

    let o = corral(&["simulate", "--out", path(dir.path()), "--suite", "nope"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown suite"));
}

#[test]
fn alec_situations_truth_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("situations.xml");
    std::fs::write(
        &truth,
        r#"<situations><situation id="s1"><alarm-ref id="a"/><alarm-ref id="b"/></situation></situations>"#,
    )
    .unwrap();
    let inc = dir.path().join("inc.ndjson");
    std::fs::write(
        &inc,
        r#"{"event_action":"trigger","dedup_key":"x","payload":{"summary":"s","source":"h","severity":"error","timestamp":"2026-11-25T00:00:00Z","component":"h","custom_details":{"incident_id":"x","alerts":["a","b"],"alert_count":2,"event_count":2,"resources":["h"],"services":[],"root_cause":{"resource":"h","confidence":0.5,"reason":"r"},"impacted_services":[],"anomaly_score":0,"rules":[],"merged_from":[],"first_seen":"2026-11-25T00:00:00Z","last_seen":"2026-11-25T00:00:00Z","explanation":[]}}}"#,
    )
    .unwrap();
    let o = corral(&["score", "--incidents", path(&inc), "--truth", path(&truth)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ari"], 1.0);
    assert_eq!(v["incidents"], 1);
    assert_eq!(v["rca_top1"], serde_json::Value::Null);
}
