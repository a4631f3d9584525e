//! End-to-end tests of `corral replay`, `corral demo` and `corral check` through the binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corral() -> Command {
    Command::new(env!("CARGO_BIN_EXE_corral"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_ok(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().expect("corral runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "failed: {stderr}");
    (stdout, stderr)
}

/// The replay of the demo fixture, compared with the reviewed golden output. After a deliberate
/// change of behaviour, regenerate it with `CORRAL_BLESS=1 cargo test -p corral-cli --test replay`
/// and review the diff like code.
#[test]
fn demo_fixture_replay_matches_the_golden_incidents() {
    let demo = repo().join("fixtures/demo");
    let (stdout, _) = run_ok(
        corral()
            .arg("replay")
            .arg(demo.join("alerts.alertmanager.ndjson"))
            .arg("--topology")
            .arg(demo.join("topology.yaml")),
    );
    let golden = demo.join("golden.incidents.ndjson");
    if std::env::var_os("CORRAL_BLESS").is_some() {
        std::fs::write(&golden, &stdout).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("golden file (CORRAL_BLESS=1 to create)");
    assert!(stdout.lines().count() > 20, "the demo produces incidents");
    if stdout != want {
        let first = stdout
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "replay differs from {} at update {} (got {} lines, want {}):\n got: {}\nwant: {}",
            golden.display(),
            first + 1,
            stdout.lines().count(),
            want.lines().count(),
            stdout.lines().nth(first).unwrap_or(""),
            want.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn demo_replay_through_every_source_misses_no_incident() {
    let demo = repo().join("fixtures/demo");
    let dir = tempfile::tempdir().unwrap();
    let incidents = dir.path().join("inc.ndjson");
    run_ok(
        corral()
            .arg("replay")
            .arg(demo.join("alerts.ndjson"))
            .arg("--topology")
            .arg(demo.join("topology.yaml"))
            .arg("--output")
            .arg(&incidents),
    );
    let (score, _) = run_ok(
        corral()
            .arg("score")
            .arg("--incidents")
            .arg(&incidents)
            .arg("--truth")
            .arg(demo.join("truth.ndjson"))
            .arg("--alerts")
            .arg(demo.join("alerts.ndjson")),
    );
    let v: serde_json::Value = serde_json::from_str(&score).unwrap();
    assert_eq!(v["missed_incidents"], 0, "{score}");
    assert!(v["compression"].as_f64().unwrap() > 0.5, "{score}");
}

#[test]
fn the_built_in_demo_runs_without_files() {
    let (stdout, stderr) = run_ok(corral().arg("demo"));
    assert!(stdout.starts_with("incident"), "{stdout}");
    assert!(stdout.lines().count() > 5);
    assert!(stderr.contains("incidents"), "{stderr}");
    assert!(stderr.contains("0 dead letters"), "{stderr}");
}

#[test]
fn malformed_lines_go_to_dead_letters_with_line_and_reason_and_never_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.ndjson");
    std::fs::write(
        &input,
        concat!(
            r#"{"fingerprint":"a1","source":"am","name":"HostDown","status":"firing","severity":"critical","resource":"h1","labels":{},"starts_at":"2026-11-25T00:00:00Z"}"#,
            "\n",
            "this is not json\n",
            r#"{"fingerprint":"a2","source":"am","name":"HostDown","status":"sideways","severity":"critical","resource":"h2","labels":{},"starts_at":"2026-11-25T00:00:10Z"}"#,
            "\n",
            "\n",
            r#"{"fingerprint":"a3","source":"am","name":"DiskFull","status":"firing","severity":"warning","resource":"h1","labels":{},"starts_at":"2026-11-25T00:00:20Z"}"#,
            "\n"
        ),
    )
    .unwrap();
    let dead = dir.path().join("dead.ndjson");
    let (stdout, stderr) = run_ok(
        corral()
            .arg("replay")
            .arg(&input)
            .args(["--format", "native", "--stats", "--dead-letter"])
            .arg(&dead),
    );
    let dead: Vec<serde_json::Value> = std::fs::read_to_string(&dead)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(dead[0]["record"], 2);
    assert_eq!(dead[1]["record"], 3);
    assert!(
        dead[1]["reason"].as_str().unwrap().contains("sideways"),
        "{dead:?}"
    );
    assert!(dead[0]["raw"].as_str().unwrap().contains("not json"));
    // The good lines still made their incident.
    let last = stdout.lines().last().unwrap();
    let u: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(
        u["payload"]["custom_details"]["alerts"],
        serde_json::json!(["a1", "a3"])
    );
    let stats: serde_json::Value =
        serde_json::from_str(&stderr[stderr.find('{').unwrap()..]).unwrap();
    assert_eq!(stats["dead_letters"], 2);
    assert_eq!(stats["events"], 2);
    assert_eq!(stats["incidents"], 1);
}

#[test]
fn dead_letters_without_a_file_are_reported_on_stderr() {
    let mut child = corral()
        .args(["replay", "--format", "native"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{broken\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("dead letter: -:1:"), "{stderr}");
    assert!(
        stderr.contains("1 record(s) could not be parsed"),
        "{stderr}"
    );
}

#[test]
fn replay_is_deterministic_and_reads_stdin() {
    let input = repo().join("fixtures/demo/alerts.alertmanager.ndjson");
    let topo = repo().join("fixtures/demo/topology.yaml");
    let (a, _) = run_ok(
        corral()
            .arg("replay")
            .arg(&input)
            .arg("--topology")
            .arg(&topo),
    );
    let out = corral()
        .args(["replay", "-", "--topology"])
        .arg(&topo)
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(a, String::from_utf8(out.stdout).unwrap());
}

#[test]
fn reference_strategies_run_on_the_same_input() {
    let demo = repo().join("fixtures/demo");
    for strategy in ["alertmanager", "alec"] {
        let (stdout, stderr) = run_ok(
            corral()
                .arg("replay")
                .arg(demo.join("alerts.ndjson"))
                .arg("--topology")
                .arg(demo.join("topology.yaml"))
                .args(["--stats", "--strategy", strategy]),
        );
        assert!(stdout.lines().count() > 10, "{strategy}");
        assert!(
            stderr.contains(&format!("\"strategy\": \"{strategy}\"")),
            "{stderr}"
        );
    }
}

#[test]
fn check_lists_every_error_with_file_and_line_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("bad.yaml");
    std::fs::write(
        &rules,
        "groupings:\n  - name: a\n    window: 5parsecs\nsuppress:\n  - name: x\n    match: {name: {regex: '('}}\n",
    )
    .unwrap();
    let topo = dir.path().join("topo.yaml");
    std::fs::write(
        &topo,
        "nodes: [{id: a}]\nedges:\n  - {from: a, to: ghost, type: depends_on}\n",
    )
    .unwrap();
    let out = corral()
        .arg("check")
        .arg("--rules")
        .arg(&rules)
        .arg("--topology")
        .arg(&topo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{}:3:", rules.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:6:", rules.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:3:", topo.display())),
        "{stderr}"
    );
    // The shipped rules are valid.
    let (stdout, _) = run_ok(corral().arg("check"));
    assert!(stdout.contains("ok"), "{stdout}");
}
