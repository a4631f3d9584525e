//! The OpenNMS ALEC sample data (`/work/shared/data/alec-samples`, or `CORRAL_ALEC_SAMPLES`)
//! through the real command line: the inventory imported with `corral topology import --from
//! alec`, the alarms replayed with `--format alec` on that topology, and the incidents scored
//! with `corral score` against ALEC's own `situations.xml`.
//!
//! The data is part of the test suite: a missing folder fails the tests, never skips them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn samples() -> PathBuf {
    let dir = std::env::var_os("CORRAL_ALEC_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data/alec-samples"));
    assert!(
        dir.join("sample").is_dir() && dir.join("snapshot").is_dir(),
        "the ALEC sample data is not at {} (set CORRAL_ALEC_SAMPLES to the folder holding \
         sample/ and snapshot/)",
        dir.display()
    );
    dir
}

fn corral(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "corral {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Imports the inventory, replays the alarms on it; returns the incidents file and the
/// replay's own statistics.
fn replay(work: &Path, alarms: &Path, inventory: &Path) -> (PathBuf, Value) {
    let topology = work.join("topology.yaml");
    corral(&[
        "topology",
        "import",
        "--from",
        "alec",
        path(inventory),
        "--output",
        path(&topology),
    ]);
    let incidents = work.join("incidents.ndjson");
    let out = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args([
            "replay",
            "--format",
            "alec",
            "--topology",
            path(&topology),
            "--output",
            path(&incidents),
            "--stats",
            path(alarms),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "replay failed: {stderr}");
    // --stats prints one JSON object on stderr.
    let stats: Value = serde_json::from_str(&stderr[stderr.find('{').unwrap()..])
        .unwrap_or_else(|e| panic!("replay --stats is not JSON ({e}): {stderr}"));
    (incidents, stats)
}

fn score(incidents: &Path, truth: &Path) -> Value {
    serde_json::from_str(&corral(&[
        "score",
        "--incidents",
        path(incidents),
        "--truth",
        path(truth),
    ]))
    .unwrap()
}

fn figure(s: &Value, name: &str) -> f64 {
    s[name]
        .as_f64()
        .unwrap_or_else(|| panic!("no figure {name} in {s}"))
}

/// ALEC's `sample` set: three alarms flapping on one switch port (18 events), which ALEC's
/// situation file puts in one situation. corral finds exactly that situation.
#[test]
fn sample_alarms_replayed_on_their_inventory_match_alec_situation() {
    let data = samples().join("sample");
    let work = tempfile::tempdir().unwrap();
    let (incidents, stats) = replay(
        work.path(),
        &data.join("sample.alarms.xml"),
        &data.join("sample.inventory.xml"),
    );
    assert_eq!(stats["alerts"], 3, "{stats}");
    assert_eq!(stats["events"], 18, "{stats}");
    assert_eq!(stats["dead_letters"], 0, "{stats}");
    assert_eq!(stats["incidents"], 1, "{stats}");

    let s = score(&incidents, &data.join("sample.situations.xml"));
    assert_eq!(s["truth_incidents"], 1, "{s}");
    assert_eq!(s["incidents"], 1, "{s}");
    assert_eq!(s["missed_incidents"], 0, "{s}");
    assert_eq!(s["fragmented_incidents"], 0, "{s}");
    assert_eq!(figure(&s, "ari"), 1.0, "{s}");
    assert!((figure(&s, "ami") - 1.0).abs() < 1e-9, "{s}");
    assert_eq!(figure(&s, "pair_precision"), 1.0, "{s}");
    assert_eq!(figure(&s, "pair_recall"), 1.0, "{s}");
    assert!((figure(&s, "compression") - 2.0 / 3.0).abs() < 1e-9, "{s}");

    // The same incidents against the sample's other situation file, which leaves alarm 4738853
    // out (noise): the scorer sees the noise alarm grouped with the real ones.
    let s = score(&incidents, &data.join("sample.other.situations.xml"));
    assert_eq!(s["noise_alerts"], 1, "{s}");
    assert_eq!(s["missed_incidents"], 0, "{s}");
    assert_eq!(figure(&s, "noise_in_incidents"), 1.0, "{s}");
    assert!(
        (figure(&s, "pair_precision") - 1.0 / 3.0).abs() < 1e-9,
        "{s}"
    );
    assert_eq!(figure(&s, "pair_recall"), 1.0, "{s}");
}

/// ALEC's `snapshot` set: 11 alarms of an OpenDaylight lab whose situation file is empty (ALEC
/// formed no situation). Nothing can be missed; corral pairs the online and offline alarms of
/// two hosts (same inventory object) and leaves every other alarm alone, which the scorer
/// counts against it (ARI 0 when the truth is all singletons and any pair is grouped).
#[test]
fn snapshot_alarms_replayed_on_their_inventory_are_scored_against_empty_situations() {
    let data = samples().join("snapshot");
    let work = tempfile::tempdir().unwrap();
    let (incidents, stats) = replay(
        work.path(),
        &data.join("alec.alarms.xml"),
        &data.join("alec.inventory.xml"),
    );
    assert_eq!(stats["alerts"], 11, "{stats}");
    assert_eq!(stats["dead_letters"], 0, "{stats}");

    let s = score(&incidents, &data.join("alec.situations.xml"));
    assert_eq!(s["truth_incidents"], 0, "{s}");
    assert_eq!(s["missed_incidents"], 0, "{s}");
    // Three alarms' only events are clears (resolves of alerts never seen firing): they open
    // nothing. The other eight are in incidents.
    assert_eq!(stats["engine"]["orphan_resolves"], 3, "{stats}");
    assert_eq!(s["alerts"], 8, "{s}");
    assert_eq!(s["noise_alerts"], 8, "{s}");
    assert_eq!(s["incidents"], 6, "{s}");
    assert_eq!(figure(&s, "noise_in_incidents"), 0.0, "{s}");
    // Every grouped pair shares one inventory object.
    let mut finals = std::collections::BTreeMap::new();
    for line in std::fs::read_to_string(&incidents).unwrap().lines() {
        let u: Value = serde_json::from_str(line).unwrap();
        finals.insert(u["dedup_key"].as_str().unwrap().to_string(), u);
    }
    let groups: Vec<&Value> = finals
        .values()
        .filter(|u| u["payload"]["custom_details"]["alert_count"].as_u64() > Some(1))
        .collect();
    assert_eq!(groups.len(), 2, "{finals:#?}");
    for g in groups {
        let d = &g["payload"]["custom_details"];
        assert_eq!(d["resources"].as_array().unwrap().len(), 1, "{d}");
        assert_eq!(d["alert_count"], 2, "{d}");
    }
}
