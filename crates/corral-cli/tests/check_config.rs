//! `corral check --config FILE`: the service config is read and validated as `corral run` reads
//! it, and the rules and topology it names are checked too, every error with its file and line.

use std::path::Path;
use std::process::{Command, Output};

fn check(args: &[&str]) -> (Output, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_corral"))
        .arg("check")
        .args(args)
        .output()
        .expect("run corral");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (o, out, err)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const TOPOLOGY: &str = "nodes:\n  - {id: db, kind: database, service: db}\n  - {id: api, kind: service, service: api}\nedges:\n  - {from: api, to: db, type: depends_on}\n";

#[test]
fn a_valid_config_is_checked_with_the_rules_and_topology_it_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "topology.yaml", TOPOLOGY);
    write(dir.path(), "rules.yaml", "groupings:\n  - name: all\n");
    // Paths relative to the config file, as corral run takes them.
    let config = write(
        dir.path(),
        "corral.yaml",
        "kafka:\n  bootstrap_servers: 127.0.0.1:9092\n  group_id: ops\nrules: rules.yaml\ntopology: topology.yaml\n",
    );
    let (o, out, err) = check(&["--config", &config]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("corral.yaml: ok (service config: group ops"),
        "{out}"
    );
    assert!(out.contains("rules.yaml: ok (1 grouping"), "{out}");
    assert!(
        out.contains("topology.yaml: ok (2 nodes, 1 edges)"),
        "{out}"
    );
}

#[test]
fn every_config_error_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "corral.yaml",
        "kafka:\n  topics:\n    input: 'bad topic'\n  consumer:\n    enable.auto.commit: true\nprocessing:\n  batch_max_records: 0\n",
    );
    let (o, out, err) = check(&["--config", &config]);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("corral.yaml:3:"), "{err}");
    assert!(err.contains("corral.yaml:5:"), "{err}");
    assert!(err.contains("enable.auto.commit"), "{err}");
    assert!(err.contains("corral.yaml:7:"), "{err}");
    assert!(err.contains("3 error(s)"), "{err}");

    let unknown = write(
        dir.path(),
        "typo.yaml",
        "kafka:\n  bootstrap_server: x:9092\n",
    );
    let (o, _, err) = check(&["--config", &unknown]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("typo.yaml:2:"), "{err}");
    assert!(err.contains("bootstrap_server"), "{err}");
}

#[test]
fn the_kafka_section_may_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "corral.yaml",
        "delivery: at_least_once
",
    );
    let (o, out, err) = check(&["--config", &config]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("corral.yaml: ok (service config: group corral"),
        "{out}"
    );
}

#[test]
fn broken_rules_and_a_missing_topology_named_by_the_config_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rules.yaml",
        "groupings:\n  - name: all\n    window: forever\n",
    );
    let config = write(
        dir.path(),
        "corral.yaml",
        "kafka:\n  bootstrap_servers: 127.0.0.1:9092\nrules: rules.yaml\ntopology: no-such-topology.yaml\n",
    );
    let (o, out, err) = check(&["--config", &config]);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("corral.yaml: ok"), "{out}");
    assert!(err.contains("rules.yaml:3:"), "{err}");
    assert!(err.contains("no-such-topology.yaml: cannot read"), "{err}");

    // The command line's files take precedence over the config's.
    let rules = write(dir.path(), "good.yaml", "groupings:\n  - name: all\n");
    let topology = write(dir.path(), "topology.yaml", TOPOLOGY);
    let (o, out, err) = check(&[
        "--config",
        &config,
        "--rules",
        &rules,
        "--topology",
        &topology,
    ]);
    assert!(o.status.success(), "{out}\n{err}");
}
