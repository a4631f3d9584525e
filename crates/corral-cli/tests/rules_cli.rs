//! Rules as code, end to end through the `corral` binary: `test` on the shipped rule tests and on
//! failing suites, `explain` and `diff` on fixtures with known answers, `check` lints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corral(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(args)
        .output()
        .expect("run corral")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/explain")
        .join(name)
        .display()
        .to_string()
}

fn rule_test_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rule_test_files(&p, out);
        } else if p.to_string_lossy().ends_with(".test.yaml") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_rule_test_passes() {
    let mut files = Vec::new();
    rule_test_files(&repo().join("rules"), &mut files);
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let args: Vec<String> = std::iter::once("test".to_string())
        .chain(files.iter().map(|p| p.display().to_string()))
        .chain(std::iter::once("--verbose".to_string()))
        .collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = corral(&refs);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains(" 0 failed"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn failing_suite_exits_nonzero_with_a_readable_diff() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("wrong.test.yaml");
    std::fs::write(
        &p,
        format!(
            "topology: {}\ntests:\n  - name: expects the wrong root cause and a missing alert\n    alerts:\n      - {{at: 0s, name: HostDown, resource: host-1, severity: critical}}\n      - {{at: 30s, name: DbDown, resource: db-1}}\n      - {{at: 40s, name: WebDown, resource: web-1}}\n    expect:\n      - eval_at: 2m\n        incidents:\n          - {{members: [HostDown@host-1, DbDown@db-1, WebDown@web-1], root_cause: db-1}}\n        suppressed: [DbDown@db-1]\n  - name: passes\n    alerts:\n      - {{at: 0s, name: HostDown, resource: host-1}}\n    expect:\n      - eval_at: 1m\n        incidents: [{{members: [HostDown@host-1]}}]\n",
            fixture("topology.yaml")
        ),
    )
    .unwrap();
    let o = corral(&["test", &p.display().to_string()]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("expects the wrong root cause"), "{out}");
    assert!(out.contains("at eval_at 2m:"), "{out}");
    assert!(
        out.contains("- members: [\"DbDown@db-1\", \"HostDown@host-1\", \"WebDown@web-1\"]"),
        "{out}"
    );
    assert!(
        out.contains("+ members: [\"DbDown@db-1\", \"HostDown@host-1\"]"),
        "{out}"
    );
    assert!(out.contains("- root_cause: db-1"), "{out}");
    assert!(out.contains("+ root_cause: host-1"), "{out}");
    assert!(out.contains("+ unexpected incident"), "{out}");
    assert!(out.contains("WebDown@web-1"), "{out}");
    assert!(out.contains("suppressed:\n"), "{out}");
    assert!(out.contains("- expected [DbDown@db-1]"), "{out}");
    assert!(out.contains("+ got      []"), "{out}");
    assert!(out.contains("1 rule tests passed, 1 failed"), "{out}");
}

#[test]
fn broken_test_file_is_a_failure_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.test.yaml");
    std::fs::write(
        &p,
        "tests:\n  - name: t\n    alerts:\n      - {at: 0s, name: A, resource: r, severity: fatal}\n    expect: []\n",
    )
    .unwrap();
    let o = corral(&["test", &p.display().to_string()]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("broken.test.yaml:4"), "{out}");
    assert!(out.contains("fatal"), "{out}");
}

/// `explain` over a fixture's alerts and topology, with the narrow rules.
fn explain_fixture(alerts: &str, topology: &str, extra: &[&str]) -> (Output, String, String) {
    let alerts = fixture(alerts);
    let topo = fixture(topology);
    let rules = fixture("rules-narrow.yaml");
    let mut args = vec![
        "explain",
        alerts.as_str(),
        "--topology",
        topo.as_str(),
        "--rules",
        rules.as_str(),
    ];
    args.extend_from_slice(extra);
    let o = corral(&args);
    let (out, err) = text(&o);
    (o, out, err)
}

fn explain(extra: &[&str]) -> (Output, String, String) {
    explain_fixture("alerts.ndjson", "topology.yaml", extra)
}

#[test]
fn explain_incident_names_the_links_and_the_root_cause() {
    let (o, out, err) = explain(&["--incident", "inc-2026-11-25-000001"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("incident inc-2026-11-25-000001: 3 alerts"),
        "{out}"
    );
    assert!(
        out.contains("opened by HostDown@host-1 (fp-host1)"),
        "{out}"
    );
    // DbDown joined HostDown: 30 s apart, db-1 runs on host-1.
    assert!(
        out.contains("HostDown@host-1 (fp-host1) → DbDown@db-1 (fp-db)"),
        "{out}"
    );
    assert!(
        out.contains("Δt 30s (window 5m); shared upstream host-1, 1 hop (max_hops 2)"),
        "{out}"
    );
    assert!(out.contains("path: db-1 -runs_on-> host-1"), "{out}");
    // Latency joined DbDown, its direct dependency, closest in time.
    assert!(
        out.contains("DbDown@db-1 (fp-db) → Latency@api-1 (fp-api)"),
        "{out}"
    );
    assert!(out.contains("root cause host-1"), "{out}");
    assert!(
        out.contains("impact: api-1 -depends_on-> db-1 -runs_on-> host-1"),
        "{out}"
    );

    let (o, out, _) = explain(&["--incident", "inc-2026-11-25-000001", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["root_cause"]["resource"], "host-1");
    assert_eq!(v["chain"].as_array().unwrap().len(), 2);
    let cands = v["root_cause"]["candidates"].as_array().unwrap();
    assert_eq!(cands[0]["resource"], "host-1");
    assert_eq!(cands[0]["chosen"], true);
    // The switch explains as many resources but is silent: the alerting host wins the tie.
    let sw = cands.iter().find(|c| c["resource"] == "sw-1").unwrap();
    assert_eq!(sw["alerting"], false);
    assert_eq!(sw["explains"], 3);
    assert_eq!(cands[0]["explains"], 3);
}

#[test]
fn explain_alerts_says_what_a_link_missed_by() {
    let (o, out, err) = explain(&["--alerts", "fp-host1,fp-web"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains("shared upstream sw-1, 3 hops (max_hops 2)"),
        "{out}"
    );
    assert!(out.contains("NOT linked: 3 hops > max_hops 2"), "{out}");

    let (_, out, _) = explain(&["--alerts", "fp-db,fp-late"]);
    assert!(out.contains("NOT linked: Δt 12m > window 5m"), "{out}");
    assert!(out.contains("same resource db-1"), "{out}");

    let (_, out, _) = explain(&["--alerts", "HostDown@host-1,Latency@api-1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["grouped"], true);
    let chain = v["chain"].as_array().unwrap();
    assert!(chain.iter().all(|l| l["linked"] == true), "{out}");
    assert_eq!(chain.last().unwrap()["to"], "Latency@api-1 (fp-api)");

    let (o, _, err) = explain(&["--alerts", "fp-host1,nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("no alert \"nope\""), "{err}");
}

/// `explain` on causality.ndjson: one corner of the topology per linking rule of the engine.
fn explain_causality(extra: &[&str]) -> (Output, String, String) {
    explain_fixture("causality.ndjson", "causality-topology.yaml", extra)
}

fn pair_json(pair: &str) -> serde_json::Value {
    let (o, out, err) = explain_causality(&["--alerts", pair, "--json"]);
    assert!(o.status.success(), "{out}\n{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn explain_alerts_says_which_causality_rule_kept_a_link_apart() {
    // HostDown@host-a fired 95 s after DbDown on the database running on it: within the window
    // and the hops, but a cause cannot start that long after its effect.
    let (o, out, err) = explain_causality(&["--alerts", "fp-db-a,fp-host-a"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "NOT linked: the cause HostDown@host-a started 1m35s after its effect DbDown@db-a, \
             more than the 1m a cause may lag"
        ),
        "{out}"
    );
    assert!(!out.contains("note:"), "{out}");
    let v = pair_json("fp-db-a,fp-host-a");
    assert_eq!(v["grouped"], false);
    assert_eq!(v["chain"][0]["linked"], false);
    assert_eq!(v["chain"][0]["causality"], "cause_lags_effect");
    assert_eq!(v["chain"][0]["via"], "shared upstream host-a");
    assert!(v["note"].is_null(), "{v}");

    // A warning on the host of a failed database is not its cause.
    let (_, out, _) = explain_causality(&["--alerts", "DbDown@db-b,DiskFilling@host-b"]);
    assert!(
        out.contains(
            "NOT linked: a warning does not link as the cause of its dependents \
             (DiskFilling@host-b is a warning; DbDown@db-b depends on it)"
        ),
        "{out}"
    );
    let v = pair_json("fp-db-b,fp-host-b");
    assert_eq!(v["chain"][0]["linked"], false);
    assert_eq!(v["chain"][0]["causality"], "warning_as_cause");

    // A warning on a database beside a failed one: their silent host is no shared cause.
    let (_, out, _) = explain_causality(&["--alerts", "fp-db-c1,fp-db-c2"]);
    assert!(
        out.contains(
            "NOT linked: a warning does not link through a silent shared upstream \
             (DbSlow@db-c2 is a warning; host-c has no alert)"
        ),
        "{out}"
    );
    // HostDown@host-f is within a minute of HighErrorRate on a service two hops below, but its
    // incident had an alert below host-f (InstanceDown) 66 s before: the engine keeps the
    // incident's first time at the node, and so does the explanation.
    let (_, out, _) = explain_causality(&["--alerts", "fp-app-f,fp-host-f"]);
    assert!(
        out.contains("Δt 41s (window 5m); shared upstream host-f"),
        "{out}"
    );
    assert!(
        out.contains(
            "NOT linked: the cause HostDown@host-f started 1m6s after the first effect of \
             HighErrorRate@app-f's incident there, InstanceDown@inst-f, more than the 1m a cause \
             may lag"
        ),
        "{out}"
    );

    let v = pair_json("fp-db-c1,fp-db-c2");
    assert_eq!(v["chain"][0]["linked"], false);
    assert_eq!(
        v["chain"][0]["causality"],
        "warning_through_silent_upstream"
    );
    assert_eq!(v["chain"][0]["hops"], 2);
}

#[test]
fn explain_alerts_says_when_siblings_started_too_far_apart_for_a_silent_cause() {
    // Two databases on the silent host-h fail 90 s apart: had the host failed, both would have
    // lost it within a scrape interval (one hop each), so it is no common cause.
    let (o, out, err) = explain_causality(&["--alerts", "fp-db-h1,fp-db-h2"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "NOT linked: DbDown@db-h2 started 1m30s apart from DbDown@db-h1, more than the 1m \
             (a scrape interval per hop) in which a failure of the silent host-h reaches both: \
             no common cause"
        ),
        "{out}"
    );
    let v = pair_json("fp-db-h1,fp-db-h2");
    assert_eq!(v["grouped"], false);
    assert_eq!(v["chain"][0]["linked"], false);
    assert_eq!(v["chain"][0]["causality"], "silent_cause_apart");
}

#[test]
fn explain_alerts_names_the_incident_a_shared_symptom_joined() {
    // AppDown depends on two failed hosts (two incidents), both failed within a scrape interval
    // before it: it links to both, joins the incident of the one that failed first (the other,
    // 30 s old, has hardly had the time to cause it), and bridges nothing.
    let (o, out, err) = explain_causality(&["--alerts", "fp-host-d1,fp-app-d"]);
    assert!(o.status.success(), "{out}\n{err}");
    let v = pair_json("fp-host-d1,fp-app-d");
    let joined = v["shared_symptom"]["joined"].as_str().unwrap_or_default();
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains("shared upstream host-d1, 1 hop (max_hops 2)"),
        "{out}"
    );
    assert!(!out.contains("NOT linked"), "{out}");
    assert!(
        out.contains(&format!(
            "note: the link criteria hold, yet they are apart: AppDown@app-d (fp-app-d) is a \
             symptom of HostDown@host-d2 (fp-host-d2), a firing member of incident {joined}, \
             which it joined"
        )),
        "{out}"
    );
    assert!(
        out.contains("a shared symptom is not a shared cause"),
        "{out}"
    );
    assert_eq!(v["chain"][0]["linked"], true);
    let s = &v["shared_symptom"];
    assert_eq!(s["symptom"], "AppDown@app-d (fp-app-d)");
    assert_eq!(s["apart_from"], "HostDown@host-d1 (fp-host-d1)");
    assert_eq!(s["joined_through"], "HostDown@host-d2 (fp-host-d2)");
    // The incident it joined is the one it is placed in.
    let placed = v["placements"][1].as_str().unwrap();
    assert_eq!(
        placed,
        format!("incident {}", s["joined"].as_str().unwrap())
    );

    // Grouped alerts and pairs apart for another reason carry no shared-symptom record.
    let v = pair_json("fp-host-d2,fp-app-d");
    assert_eq!(v["grouped"], true);
    assert!(v.get("shared_symptom").is_none(), "{v}");
}

#[test]
fn explain_alerts_says_when_a_cause_was_explained_away() {
    // app-g needs db-g and cache-g. The database fails, app-g ten seconds later; the cache
    // thirty seconds on would be app-g's cause, but the database already explains it.
    let (o, out, err) = explain_causality(&["--alerts", "fp-app-g,fp-cache-g"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "note: the link criteria hold, yet they are apart: HighErrorRate@app-g (fp-app-g) \
             was already explained by DbDown@db-g (fp-db-g)"
        ),
        "{out}"
    );
    assert!(
        out.contains("so CacheDown@cache-g (fp-cache-g) is a failure of its own"),
        "{out}"
    );
    let v = pair_json("fp-app-g,fp-cache-g");
    assert_eq!(v["grouped"], false);
    assert_eq!(v["chain"][0]["linked"], true);
    assert!(v["shared_symptom"].is_null(), "{v}");
    // The database and its symptom are one incident.
    assert_eq!(pair_json("fp-db-g,fp-app-g")["grouped"], true);
}

#[test]
fn explain_alerts_says_when_a_late_cause_bridged_nothing() {
    // dist-i1 fails, tor-i2 under the other distribution switch 50 s later, and core-i above
    // both 58 s after dist-i1: a late cause of either, or a failure of its own. It joins the one
    // it lags least, tor-i2, and does not tie dist-i1's failure to it.
    let (o, out, err) = explain_causality(&["--alerts", "fp-dist-i1,fp-core-i"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "note: the link criteria hold, yet they are apart: SwitchDown@core-i (fp-core-i) \
             started 58s after SwitchDown@dist-i1 (fp-dist-i1), within the 1m a cause may lag"
        ),
        "{out}"
    );
    assert!(
        out.contains("a late cause joins the failure it lags least"),
        "{out}"
    );
    let v = pair_json("fp-dist-i1,fp-core-i");
    assert_eq!(v["chain"][0]["linked"], true);
    assert!(v["shared_symptom"].is_null(), "{v}");
    assert_eq!(pair_json("fp-tor-i2,fp-core-i")["grouped"], true);
}

#[test]
fn explain_alerts_says_when_a_failure_had_already_shown_its_impact_on_the_resource() {
    // inst-j crash-loops; svc-j, which depends on it, shows the impact 3 s later as a warning,
    // and fails outright (a failed deployment) 84 s after the crash: a failure of its own, in an
    // incident of its own. Through the warning on its own resource, what keeps it apart is that
    // the crash's impact on svc-j had already shown (81 s before).
    let (o, out, err) = explain_causality(&["--alerts", "fp-svc-j-degraded,fp-svc-j"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "DeploymentFailed@svc-j (fp-svc-j) fails outright 1m21s after HighErrorRate@svc-j \
             (fp-svc-j-degraded), the first alert of incident"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "where that incident's failure (ContainerCrashLooping@inst-j (fp-inst-j)) had \
             only degraded it (warnings)"
        ),
        "{out}"
    );
    // Through the crash one hop above, the effect comes too late already (more than a scrape
    // interval per hop after it), which the engine checks first.
    let (o, out, err) = explain_causality(&["--alerts", "fp-inst-j,fp-svc-j"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "NOT linked: DeploymentFailed@svc-j started 1m24s after ContainerCrashLooping@inst-j \
             on inst-j above it"
        ),
        "{out}"
    );
    for pair in ["fp-inst-j,fp-svc-j", "fp-svc-j-degraded,fp-svc-j"] {
        let v = pair_json(pair);
        assert!(v["shared_symptom"].is_null(), "{v}");
    }
    assert_eq!(
        pair_json("fp-svc-j-degraded,fp-svc-j")["chain"][0]["linked"],
        true
    );
    assert_eq!(pair_json("fp-inst-j,fp-svc-j-degraded")["grouped"], true);
}

#[test]
fn explain_alerts_says_when_a_symptom_went_to_a_failure_within_root_cause_reach() {
    // inst-j's crash climbs svc-j's callers as warnings up to caller-j3; svc-j then fails on its
    // own. caller-j4 degrades 50 s after caller-j3, one hop above it, but the crash is five hops
    // above it (beyond root_cause.max_hops, 4) and svc-j's failure four: it joined the latter.
    let (o, out, err) = explain_causality(&["--alerts", "fp-caller-j3,fp-caller-j4"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "holds no failure within root_cause.max_hops (4) above HighErrorRate@caller-j4 \
             (fp-caller-j4) (its failure ContainerCrashLooping@inst-j (fp-inst-j) is 5 hops \
             above it), while DeploymentFailed@svc-j (fp-svc-j)"
        ),
        "{out}"
    );
    assert!(
        out.contains("fails outright 4 hops above it and started 26s before it"),
        "{out}"
    );
    let v = pair_json("fp-caller-j3,fp-caller-j4");
    assert!(v["shared_symptom"].is_null(), "{v}");
    assert_eq!(v["chain"][0]["linked"], true, "{v}");
    assert_eq!(pair_json("fp-svc-j,fp-caller-j4")["grouped"], true);
    assert_eq!(pair_json("fp-inst-j,fp-caller-j3")["grouped"], true);
}

#[test]
fn explain_alerts_says_when_a_failure_is_worse_than_the_impact_its_resource_already_showed() {
    // host-k goes down; inst-k, running on it, loses its target 10 s later (an error: the
    // impact), and crash-loops, critical, 80 s after that: a failure of its own. Through the
    // error on its own resource, what keeps it apart is that the host's impact on inst-k had
    // already shown, less severe.
    let (o, out, err) = explain_causality(&["--alerts", "fp-inst-k-target,fp-inst-k"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "ContainerCrashLooping@inst-k (fp-inst-k) fails outright 1m20s after \
             TargetDown@inst-k (fp-inst-k-target), the first alert of incident"
        ),
        "{out}"
    );
    assert!(
        out.contains("where that incident's failure (HostDown@host-k (fp-host-k)) had only degraded it (errors)"),
        "{out}"
    );
    let v = pair_json("fp-inst-k-target,fp-inst-k");
    assert_eq!(v["chain"][0]["linked"], true);
    assert!(v["shared_symptom"].is_null(), "{v}");
    assert_eq!(pair_json("fp-host-k,fp-inst-k-target")["grouped"], true);
}

#[test]
fn explain_incident_says_when_a_silent_upstream_lacked_twice_the_evidence() {
    // HostDown@host-e1 explains itself and its database; the silent switch explains those and
    // the second host: more, but not twice as many.
    let (_, out, _) = explain_causality(&["--alerts", "fp-host-e1,fp-host-e2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["grouped"], true, "{out}");
    let id = v["placements"][0]
        .as_str()
        .unwrap()
        .trim_start_matches("incident ")
        .to_string();
    let (o, out, err) = explain_causality(&["--incident", &id]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("root cause host-e1"), "{out}");
    assert!(
        out.contains(
            "silent sw-e explains 3 of 3 member resources, more than host-e1's 2, but a silent \
             upstream needs at least twice the evidence of the best alerting node (4) to be \
             named root cause"
        ),
        "{out}"
    );
    let (_, out, _) = explain_causality(&["--incident", &id, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["root_cause"]["resource"], "host-e1");
    assert!(v["root_cause"]["silent_rule"]
        .as_str()
        .unwrap()
        .starts_with("silent sw-e explains 3"));

    // No silent candidate explains more than the chosen host here: nothing to say.
    let (_, out, _) = explain(&["--incident", "inc-2026-11-25-000001", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["root_cause"].get("silent_rule").is_none(), "{out}");
}

#[test]
fn explain_incident_says_when_the_root_cause_is_the_cause_of_the_node_explaining_most() {
    // The instance explains five member resources within the root-cause horizon, the hypervisor
    // under it four; the hypervisor failed first, and the instance depends on it.
    let (o, out, err) = explain_fixture(
        "first-cause.ndjson",
        "first-cause-topology.yaml",
        &["--incident", "inc-2026-11-25-000001"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains(
            "root cause esx-1 (confidence 0.58): inst-1 (upstream of 4 other alerting \
             resources) depends on it and started failing 10s after it"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "inst-1 explains 5 of 6 member resources (esx-1: 4), but depends on esx-1, which \
             fails outright and started 10s before it: a root cause has no failing cause among \
             the members"
        ),
        "{out}"
    );
    // Where the chosen node depends on no failing member, nothing to say.
    let (_, out, _) = explain(&["--incident", "inc-2026-11-25-000001", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["root_cause"].get("first_cause").is_none(), "{out}");
}

#[test]
fn explain_incident_says_why_an_earlier_peer_with_a_lesser_alert_is_not_the_cause() {
    // core-1's uplink degraded 10 s before core-0, its peer on a symmetric link, went down with
    // three switches below it: the down switch is named, and explain says why not its peer.
    let (o, out, err) = explain_fixture(
        "peer-switches.ndjson",
        "peer-switches-topology.yaml",
        &["--incident", "inc-2026-11-25-000001"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("root cause core-0"), "{out}");
    assert!(
        out.contains(
            "core-1 started 10s before core-0, but each is upstream of the other (no direction \
             of impact) and core-1's alert is less severe (error against critical): within the \
             30s simultaneity tolerance severity decides, so core-1 is not core-0's cause"
        ),
        "{out}"
    );
    // The first-cause case has no peer: nothing to say.
    let (_, out, _) = explain_fixture(
        "first-cause.ndjson",
        "first-cause-topology.yaml",
        &["--incident", "inc-2026-11-25-000001", "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["root_cause"].get("peer_rule").is_none(), "{out}");
}

#[test]
fn explain_alerts_says_a_late_effect_joined_its_cause_when_they_recovered_together() {
    // host-a2 goes down 65 s after tor-a, alone behind it: past the scrape interval per hop, an
    // incident of its own; they recover 15 s apart and the engine merges them. explain says so.
    let (o, out, err) = explain_fixture(
        "late-effect.ndjson",
        "warning-split-topology.yaml",
        &["--alerts", "fp-host-a2,fp-tor-a"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("\ngrouped"), "{out}");
    assert!(
        out.contains(
            "they were two incidents until they recovered together: merged inc-2026-11-25-"
        ) && out.contains(
            "HostDown fp-host-a2 on host-a2 started just past the scrape interval per hop after \
             SwitchDown on tor-a, 1 hop(s) above it, whose failure had shown no effect of its own \
             below it"
        ) && out.contains("(late effect)"),
        "{out}"
    );
}

#[test]
fn explain_alerts_says_a_silent_guess_left_by_a_split_joined_the_failure_right_below_it() {
    // inst-3 and inst-1, both instances of svc-s, crash-loop 30 s apart; the callers' warnings
    // and SLO burns join inst-3's incident. inst-3 recovers with svc-s's errors and splits off;
    // what stays is named by a guess at the silent svc-s, which depends directly on inst-1,
    // still crash-looping: the engine merges the two, and explain says why.
    let (o, out, err) = explain_fixture(
        "silent-guess.ndjson",
        "silent-guess-topology.yaml",
        &["--alerts", "fp-app-1,fp-inst-1"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("\ngrouped"), "{out}");
    assert!(
        out.contains("they were two incidents until the engine merged them: merged into inc-")
            && out.contains(
                "what stayed after a split, was named by a guess at silent svc-s, which depends \
                 directly on inst-1, where ContainerCrashLooping fp-inst-1 fires"
            )
            && out.contains("(silent guess)"),
        "{out}"
    );
    // Two alerts that were in the same incident before the merge: nothing to say.
    let (_, out, _) = explain_fixture(
        "silent-guess.ndjson",
        "silent-guess-topology.yaml",
        &["--alerts", "fp-app-1,fp-c-2"],
    );
    assert!(!out.contains("(silent guess)"), "{out}");
}

#[test]
fn explain_alerts_says_a_shared_symptom_split_off_went_to_the_failure_it_recovered_with() {
    // checkout's errors joined db-x's outage, passing over db-y's; they cleared at 02:05:00,
    // 10 s before db-y, while db-x was re-notified at 02:08:20: the engine split them off into
    // db-y's incident, and explain says why, not that they were a failure of their own.
    let (o, out, err) = explain_fixture(
        "shared-symptom-split.ndjson",
        "two-databases-topology.yaml",
        &["--alerts", "fp-checkout,fp-db-x"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains("with DatabaseDown on db-y (1 hop above), which explained it too")
            && out.contains("(recovered with another cause)")
            && !out.contains("was a failure of its own"),
        "{out}"
    );
    let (_, out, _) = explain_fixture(
        "shared-symptom-split.ndjson",
        "two-databases-topology.yaml",
        &["--alerts", "fp-checkout,fp-db-y"],
    );
    assert!(out.contains("\ngrouped"), "{out}");
}

#[test]
fn explain_alerts_says_a_warning_that_cleared_long_before_the_outage_was_no_symptom() {
    // A one-off warning behind a failed switch clears at 02:05 while the switch is re-notified
    // at 02:15 and recovers at 02:25: the engine split the warning off, and explain says why.
    let (o, out, err) = explain_fixture(
        "warning-split.ndjson",
        "warning-split-topology.yaml",
        &["--alerts", "fp-host-a3,fp-tor-a"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "LogErrorBurst on host-a3, a warning, recovered while SwitchDown on tor-a (1 hop \
             above it) kept failing"
        ),
        "{out}"
    );
    assert!(
        out.contains("for a reason of its own (no symptom)"),
        "{out}"
    );
    // The host that recovered with the switch stays with it.
    let (_, out, _) = explain_fixture(
        "warning-split.ndjson",
        "warning-split-topology.yaml",
        &["--alerts", "fp-host-a2,fp-tor-a"],
    );
    assert!(
        out.starts_with("HostUnreachable@host-a2 (fp-host-a2): incident inc-2026-11-25-000001"),
        "{out}"
    );
    assert!(out.contains("\ngrouped"), "{out}");
}

#[test]
fn explain_alerts_says_a_warning_above_the_root_that_cleared_long_before_it_was_no_cause() {
    // A latency warning on the VM under svc-a's database clears at 02:03 while svc-a's failed
    // deployment, named the root, goes on until 02:15: the engine split the warning off once
    // the root's resolve gave the evidence (an unrelated alert at 02:30 moves the clock past
    // that check), and explain says why.
    let (o, out, err) = explain_fixture(
        "warning-above.ndjson",
        "warning-above-topology.yaml",
        &["--alerts", "fp-vm-a,fp-svc-a"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "LatencySpike on vm-a, a warning, recovered while DeploymentFailed on svc-a (2 hops \
             below it) kept failing"
        ),
        "{out}"
    );
    assert!(out.contains("for a reason of its own (no cause)"), "{out}");
}

#[test]
fn explain_alerts_says_a_member_far_below_the_root_that_recovered_while_its_causes_kept_failing_was_its_own(
) {
    // web-1's deployment, five hops below the failing switch (beyond the root-cause reach),
    // joined the switch's outage through svc-1's errors two hops above it, and was rolled back
    // at 02:10 while everything above it stayed down until 02:40: the engine split it off once
    // those resolves gave the evidence, and explain says why.
    let (o, out, err) = explain_fixture(
        "far-below.ndjson",
        "far-below-topology.yaml",
        &["--alerts", "fp-web-1,fp-svc-1"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains(
            "DeploymentFailed on web-1 recovered while HighErrorRate on svc-1 (2 hops away) kept \
             failing beyond the time a cause's recovery takes to reach its effects: so did every \
             failure above it"
        ),
        "{out}"
    );
    assert!(
        out.contains("a failure of its own (recovered apart from its causes)"),
        "{out}"
    );
}

#[test]
fn diff_shows_the_merge_a_wider_rule_causes() {
    let alerts = fixture("alerts.ndjson");
    let o = corral(&[
        "diff",
        &alerts,
        "--topology",
        &fixture("topology.yaml"),
        "--rules",
        &fixture("rules-wide.yaml"),
        "--against-rules",
        &fixture("rules-narrow.yaml"),
        "--truth",
        &fixture("truth.ndjson"),
        "--json",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["baseline"]["incidents"], 3);
    assert_eq!(v["candidate"]["incidents"], 1);
    assert_eq!(v["baseline"]["score"]["ari"], 1.0);
    assert!(v["candidate"]["score"]["ari"].as_f64().unwrap() < 1.0);
    let merged = v["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "{out}");
    assert_eq!(merged[0]["from"].as_array().unwrap().len(), 3);
    assert_eq!(v["unchanged_incidents"], 0);
    let moved: Vec<&str> = v["moved_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["alert"].as_str().unwrap())
        .collect();
    assert_eq!(
        moved,
        vec!["DbSlow@db-1 (fp-late)", "WebDown@web-1 (fp-web)"]
    );

    // Text form, and a rule set against itself changes nothing.
    let o = corral(&[
        "diff",
        &alerts,
        "--topology",
        &fixture("topology.yaml"),
        "--rules",
        &fixture("rules-narrow.yaml"),
        "--against-rules",
        &fixture("rules-narrow.yaml"),
    ]);
    let (out, _) = text(&o);
    assert!(
        out.contains("incidents: 3 unchanged, 0 split, 0 merged, 0 new, 0 gone"),
        "{out}"
    );
    assert!(!out.contains("moved alerts"), "{out}");
}

#[test]
fn check_lints_warn_and_fail_only_when_strict() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "groupings:\n  - name: all\n  - name: by-team\n    match: {labels: {team: dba}}\nmaintenance:\n  - name: last week\n    match: {service: payroll}\n    start: 2026-11-17T01:00:00Z\n    end: 2026-11-17T03:00:00Z\n",
    )
    .unwrap();
    let rules = rules.display().to_string();
    let args = [
        "check",
        "--rules",
        rules.as_str(),
        "--now",
        "2026-11-25T00:00:00Z",
        "--fixtures",
    ];
    let alerts = fixture("alerts.ndjson");
    let mut a: Vec<&str> = args.to_vec();
    a.push(&alerts);
    let o = corral(&a);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        err.contains(":3: warning[shadowed]: grouping \"by-team\" never applies"),
        "{err}"
    );
    assert!(err.contains("warning[unused-label]"), "{err}");
    assert!(
        err.contains("\"team\", which no fixture alert carries"),
        "{err}"
    );
    assert!(err.contains(":6: warning[maintenance-past]"), "{err}");
    assert!(err.contains("0 error(s), 3 warning(s)"), "{err}");
    a.push("--strict");
    assert_eq!(corral(&a).status.code(), Some(1));

    // The shipped rules are clean, even strictly.
    let o = corral(&["check", "--strict"]);
    assert!(o.status.success(), "{:?}", text(&o));
}

#[test]
fn diff_applies_models_to_both_sides() {
    // A host outage plus a disk check that the shipped example model knows as chronic noise.
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.ndjson");
    std::fs::write(
        &alerts,
        concat!(
            r#"{"source":"alertmanager","name":"HostDown","status":"firing","severity":"critical","resource":"host-1","labels":{},"starts_at":"2026-11-25T02:00:00Z"}"#,
            "\n",
            r#"{"fingerprint":"disk-db-1","source":"nagios","name":"DiskAlmostFull","status":"firing","severity":"warning","resource":"db-1","labels":{},"starts_at":"2026-11-25T02:00:05Z"}"#,
            "\n"
        ),
    )
    .unwrap();
    let topology = dir.path().join("topology.yaml");
    std::fs::write(
        &topology,
        "nodes:\n  - {id: host-1, kind: host}\n  - {id: db-1, kind: database}\nedges:\n  - {from: db-1, to: host-1, type: runs_on}\n",
    )
    .unwrap();
    let examples = repo().join("rules/examples");
    let run = |models: bool| {
        let mut args = vec![
            "diff".to_string(),
            alerts.display().to_string(),
            "--topology".into(),
            topology.display().to_string(),
            "--rules".into(),
            examples.join("chronic-noise.yaml").display().to_string(),
            "--against-rules".into(),
            repo().join("rules/default.yaml").display().to_string(),
            "--json".into(),
        ];
        if models {
            args.push("--models".into());
            args.push(examples.join("chronic-noise.models").display().to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = corral(&refs);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out}\n{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };

    // With the model the candidate's chronic rule mutes the disk check: it leaves the outage.
    let v = run(true);
    assert_eq!(v["candidate"]["suppressed"], 1, "{v}");
    assert_eq!(v["baseline"]["suppressed"], 0, "{v}");
    assert_eq!(v["candidate"]["alerts_in_incidents"], 1, "{v}");
    assert_eq!(v["baseline"]["alerts_in_incidents"], 2, "{v}");

    // Without it nothing is chronic, and both rule sets group the same way.
    let v = run(false);
    assert_eq!(v["candidate"]["suppressed"], 0, "{v}");
    assert_eq!(v["unchanged_incidents"], 1, "{v}");
}

/// `weak-links.ndjson` over the explain topology: alerts on resources the CMDB does not know,
/// joined by the engine's weak links (service placement, co-firing, service).
fn explain_weak(extra: &[&str]) -> (Output, String, String) {
    explain_fixture("weak-links.ndjson", "topology.yaml", extra)
}

#[test]
fn explain_names_the_service_placement_of_an_alert_the_cmdb_does_not_know() {
    // payroll-worker-7 is unknown, of service payroll; DbDown fails on db-1, a payroll node.
    let (o, out, err) = explain_weak(&["--alerts", "fp-db,fp-pay-x"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("grouped, through this chain of links"),
        "{out}"
    );
    assert!(
        out.contains(
            "weak link (service placement): HighErrorRate@payroll-worker-7 is of service payroll \
             but not in the CMDB; the failure DbDown@db-1 sits on db-1, a node of service \
             payroll, started 30s before it (window 5m)"
        ),
        "{out}"
    );
    assert!(
        out.contains("weak: a weak link joins an alert to an incident but never bridges two"),
        "{out}"
    );
    assert!(!out.contains("NOT linked"), "{out}");
    // From a failure above the service's node: which node of the service, and the path.
    let (_, out, _) = explain_weak(&["--alerts", "fp-host1,fp-pay-x"]);
    assert!(
        out.contains("sits on host-1, 1 hop above db-1 of service payroll (impact_hops 3)"),
        "{out}"
    );
    assert!(out.contains("path: db-1 -runs_on-> host-1"), "{out}");
    // The incident view lists it as linked, not "joined through the incident's activity".
    let (_, out, _) = explain_weak(&["--incident", "inc-2026-11-25-000001"]);
    assert!(
        out.contains("DbDown@db-1 (fp-db) → HighErrorRate@payroll-worker-7 (fp-pay-x)"),
        "{out}"
    );
    assert!(
        !out.contains("joined through the incident's activity"),
        "{out}"
    );
    let (_, out, _) = explain_weak(&["--alerts", "fp-db,fp-pay-x", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let weak = &v["chain"][0]["weak"];
    assert_eq!(weak["kind"], "service_placement", "{out}");
    assert_eq!(weak["holds"], true);
    assert_eq!(weak["service"], "payroll");
    assert_eq!(weak["service_node"], "db-1");
    assert_eq!(weak["failing_node"], "db-1");
    assert_eq!(weak["hops"], 0);
}

#[test]
fn explain_names_the_check_of_a_co_firing_link_and_what_it_missed_by() {
    // web-9 is unknown: the same check (name, cluster, job) starts 10 s after web-1's.
    let (o, out, err) = explain_weak(&["--alerts", "fp-web,fp-web-x"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("grouped"), "{out}");
    assert!(
        out.contains(
            "weak link (co-firing): same check WebDown{cluster=eu,job=web} on web-1 and web-9, \
             Δt 10s (co-firing window 1m)"
        ),
        "{out}"
    );
    // web-8 starts the same check 2 minutes later: beyond the co-firing window.
    let (_, out, _) = explain_weak(&["--alerts", "fp-web,fp-web-late"]);
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains("co-firing: Δt 2m > co-firing window 1m"),
        "{out}"
    );
    let (_, out, _) = explain_weak(&["--alerts", "fp-web,fp-web-late", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let link = &v["chain"][0];
    assert_eq!(link["linked"], false, "{out}");
    assert_eq!(link["weak"]["kind"], "co_firing");
    assert_eq!(link["weak"]["holds"], false);
    assert_eq!(link["weak"]["check"], "WebDown{cluster=eu,job=web}");
    assert_eq!(link["weak"]["limit"], "1m");
}

#[test]
fn explain_names_a_service_link_and_says_a_weak_link_never_bridges() {
    // Two billing alerts, neither resource in the CMDB: linked through their service.
    let (o, out, err) = explain_weak(&["--alerts", "fp-bill-1,fp-bill-2"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("grouped"), "{out}");
    assert!(
        out.contains("weak link (service): same service billing; neither resource is in the CMDB"),
        "{out}"
    );
    // web-7 (billing) co-fires with web-6 30 s later but joined billing's incident: a shared
    // service comes before a co-firing check, and the weak co-firing link bridges nothing.
    let (_, out, _) = explain_weak(&["--alerts", "fp-web-y,fp-mix"]);
    assert!(out.contains("not grouped"), "{out}");
    assert!(
        out.contains("same check WebDown{cluster=eu,job=web} on web-6 and web-7, Δt 30s"),
        "{out}"
    );
    assert!(
        out.contains(
            "their only link is weak (co-firing); a weak link joins an alert to an incident but \
             never bridges two"
        ),
        "{out}"
    );
    let (_, out, _) = explain_weak(&["--alerts", "fp-web-y,fp-mix", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["grouped"], false);
    assert_eq!(v["chain"][0]["linked"], true);
    assert_eq!(v["chain"][0]["weak"]["kind"], "co_firing");
    assert!(v.get("shared_symptom").is_none(), "{out}");
}

#[test]
fn explain_says_when_a_known_alert_gathered_a_co_firing_incident() {
    // web-5 (unknown) opens an incident; 20 s later the same check fires on web-1, which the CMDB
    // knows and which joins host-2's failure: it gathers web-5's incident into its own.
    let (o, out, err) = explain_weak(&["--alerts", "fp-web-u,fp-web-2"]);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("grouped"), "{out}");
    assert!(
        out.contains(
            "WebDown@web-1 is in the CMDB and joined HostDown@host-2 (fp-host2) through the \
             topology, and gathers this co-firing alert's incident into its own"
        ),
        "{out}"
    );
}

#[test]
fn explain_alerts_says_when_a_remote_failure_had_already_shown_its_impact_on_the_resource() {
    // dist goes down; svc-1, four hops below it, degrades 20 s later (a warning), vm-2 behind the
    // same silent esx-1 goes down at 60 s, and svc-1 fails outright at 100 s. The remote effect
    // would link it to dist (still spreading behind esx-1), but dist's impact on svc-1 had
    // already shown, less severe, 80 s before: a failure of its own, as the engine keeps it.
    let (o, out, err) = explain_fixture(
        "remote-shown.ndjson",
        "remote-shown-topology.yaml",
        &["--alerts", "fp-dist,fp-svc1"],
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("not grouped"), "{out}");
    assert!(out.contains("weak link (remote effect)"), "{out}");
    assert!(
        out.contains(
            "DeploymentFailed@svc-1 (fp-svc1) fails outright 1m20s after HighLatency@svc-1 \
             (fp-svc1-warn), the first alert of incident"
        ),
        "{out}"
    );
    assert!(
        out.contains("where that incident's failure (SwitchDown@dist (fp-dist)) had only degraded it (warnings)"),
        "{out}"
    );
}
