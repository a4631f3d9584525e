use super::*;
use crate::truth::Truth;
use corral_core::topology::TopologyIndex;
use rustc_hash::FxHashSet;

fn small(name: &str) -> ScenarioConfig {
    ScenarioConfig {
        name: name.into(),
        nodes: 600,
        span_minutes: 120,
        failures: 6,
        overlap_rate: 0.5,
        flap_rate: 0.3,
        ha_duplicate_rate: 0.5,
        cmdb_gap_rate: 0.1,
        alias_rate: 0.3,
        late_rate: 0.1,
        ..ScenarioConfig::default()
    }
}

#[test]
fn same_seed_same_files_other_seed_other_files() {
    let a = generate(&small("det"), 42, None).unwrap();
    let b = generate(&small("det"), 42, None).unwrap();
    let c = generate(&small("det"), 43, None).unwrap();
    let lines = |s: &Scenario| -> Vec<String> {
        s.alerts()
            .map(|a| serde_json::to_string(&a).unwrap())
            .collect()
    };
    assert_eq!(lines(&a), lines(&b));
    assert_eq!(a.truth, b.truth);
    assert_eq!(a.topology, b.topology);
    assert_ne!(lines(&a), lines(&c));
}

#[test]
fn truth_is_consistent_with_the_stream() {
    let s = generate(&small("truth"), 7, None).unwrap();
    let alerts: Vec<Alert> = s.alerts().collect();
    let stream_fps: FxHashSet<&str> = alerts.iter().map(|a| a.fingerprint.as_str()).collect();
    // Every truth fingerprint occurs in the stream; the truth file parses back.
    for r in &s.truth {
        assert!(
            stream_fps.contains(r.fingerprint.as_str()),
            "{} not in stream",
            r.fingerprint
        );
    }
    let text: String = s
        .truth
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    let truth = Truth::parse(&text).expect("truth parses");
    assert_eq!(truth.incidents.len(), s.failures.len());
    // Exactly one root cause per incident, on the failed node (possibly by alias).
    let topo = TopologyIndex::build(&s.topology);
    let by_fp: FxHashMap<&str, &Alert> =
        alerts.iter().map(|a| (a.fingerprint.as_str(), a)).collect();
    for (i, roots) in truth.root_causes.iter().enumerate() {
        assert_eq!(roots.len(), 1, "incident {}", truth.incidents[i]);
        let f = s
            .failures
            .iter()
            .find(|f| f.incident == truth.incidents[i])
            .unwrap();
        let a = by_fp[roots[0].as_str()];
        let node = topo
            .resolve(&a.resource)
            .expect("root resource is in the CMDB");
        assert_eq!(topo.node(node).id, f.root.as_str());
        assert!(alerts
            .iter()
            .any(|x| x.fingerprint == a.fingerprint && x.status == Status::Firing));
    }
    // Members of an incident are impacted by its root: the root or downstream of it, unless
    // their resource is missing from the CMDB.
    let mask = corral_core::topology::EdgeMask::ALL;
    for f in &s.failures {
        let root = topo.resolve(&f.root).unwrap();
        let reach: FxHashSet<_> = topo
            .impact_of(root, mask)
            .into_iter()
            .map(|x| x.0)
            .collect();
        for r in s.truth.iter().filter(|r| r.incident == f.incident) {
            let a = by_fp[r.fingerprint.as_str()];
            if let Some(n) = topo.resolve(&a.resource) {
                assert!(
                    n == root || reach.contains(&n),
                    "{} not impacted by {}",
                    a.resource,
                    f.root
                );
            }
        }
    }
    // Noise alerts exist and are absent from the truth.
    assert!(s.stats.noise_alerts > 0);
    assert_eq!(s.stats.alerts, stream_fps.len());
    assert_eq!(s.stats.alerts - s.stats.noise_alerts, s.truth.len());
    // The stream is in delivery order, and event time follows it within bounds.
    let times: Vec<Millis> = s.delivery_times().collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    for (a, d) in alerts.iter().zip(&times) {
        assert!(a.event_time() <= *d, "delivered before it happened");
    }
}

#[test]
fn every_phenomenon_occurs_in_a_mixed_scenario() {
    let s = generate(&small("mix"), 11, None).unwrap();
    let st = &s.stats;
    assert!(st.repeat_events > 0, "{st:?}");
    assert!(st.ha_duplicate_events > 0, "{st:?}");
    assert!(st.flapping_alerts > 0, "{st:?}");
    assert!(st.resolve_events > 0, "{st:?}");
    assert!(st.late_events > 0, "{st:?}");
    assert!(st.out_of_order_events > 0, "{st:?}");
    assert!(st.cmdb_gap_alerts > 0, "{st:?}");
    assert!(st.alias_alerts > 0, "{st:?}");
    assert!(st.overlapping_failures > 0, "{st:?}");
    assert!(st.sources.len() >= 4, "{st:?}");
    // Partial propagation: not every dependent of a failed node alerts.
    assert!(s.failures.iter().any(|f| f.alerts > 1));
    // Flapping shows as more than one firing interval of one fingerprint.
    let mut starts: FxHashMap<Str, FxHashSet<Millis>> = FxHashMap::default();
    for a in s.alerts() {
        starts
            .entry(a.fingerprint.clone())
            .or_default()
            .insert(a.starts_at);
    }
    assert!(starts.values().any(|v| v.len() > 1));
}

#[test]
fn quiet_scenario_has_no_trouble_it_did_not_ask_for() {
    let cfg = suite::suite("smoke").unwrap().remove(0);
    let s = generate(&cfg, 1, None).unwrap();
    assert_eq!(s.stats.ha_duplicate_events, 0);
    assert_eq!(s.stats.late_events, 0);
    assert_eq!(s.stats.cmdb_gap_alerts, 0);
    assert_eq!(s.stats.flapping_alerts, 0);
    assert!(!s.truth.is_empty());
}

#[test]
fn roots_can_be_restricted_to_a_layer() {
    let cfg = ScenarioConfig {
        roots: vec![NodeRole::Database],
        ..small("db")
    };
    let s = generate(&cfg, 5, None).unwrap();
    assert!(!s.failures.is_empty());
    for f in &s.failures {
        if f.overlaps.is_none() {
            assert!(f.root.starts_with("db-"), "{}", f.root);
        }
    }
}

#[test]
fn bad_knobs_are_all_reported() {
    let cfg = ScenarioConfig {
        propagation: 1.5,
        late_rate: -0.1,
        hop_delay_s: (10, 5),
        start: "noon".into(),
        ..ScenarioConfig::default()
    };
    let errs = generate(&cfg, 1, None).err().unwrap();
    assert_eq!(errs.len(), 4, "{errs:?}");
}

#[test]
fn a_given_topology_is_used_as_is() {
    let topo = TopologyFile::parse(
        "nodes:\n  - {id: sw1, kind: switch}\n  - {id: h1, kind: host}\n  - {id: h2, kind: host}\n  - {id: api, kind: service}\nedges:\n  - {from: h1, to: sw1, type: depends_on}\n  - {from: h2, to: sw1, type: depends_on}\n  - {from: api, to: h1, type: depends_on}\n",
        "t.yaml",
    )
    .unwrap();
    let cfg = ScenarioConfig {
        roots: vec![NodeRole::Switch],
        propagation: 1.0,
        spread: 1.0,
        failures: 1,
        ..ScenarioConfig::default()
    };
    let s = generate(&cfg, 3, Some(topo.clone())).unwrap();
    assert_eq!(s.topology, topo);
    assert_eq!(s.failures[0].root, "sw1");
    // Full propagation reaches all three dependents.
    let resources: FxHashSet<String> = s
        .alerts()
        .filter(|a| {
            s.truth
                .iter()
                .any(|r| r.fingerprint == a.fingerprint.as_str())
        })
        .map(|a| a.resource.to_string())
        .collect();
    for r in ["sw1", "h1", "h2", "api"] {
        assert!(resources.contains(r), "{r} missing: {resources:?}");
    }
}

#[test]
fn standard_suite_has_at_least_eight_valid_named_scenarios() {
    let s = suite::suite("standard").unwrap();
    assert!(s.len() >= 8);
    let names: FxHashSet<&str> = s.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), s.len());
    for c in &s {
        c.validate().unwrap();
    }
    assert!(suite::suite("nope").is_none());
}

#[test]
fn webhook_rendering_is_alertmanager_v4() {
    let s = generate(&small("wh"), 2, None).unwrap();
    let a = s.alerts().find(|a| a.source == "alertmanager").unwrap();
    let p = write::alertmanager_payload(&a);
    assert_eq!(p["version"], "4");
    assert_eq!(p["alerts"][0]["fingerprint"], a.fingerprint.as_str());
    assert_eq!(p["alerts"][0]["labels"]["alertname"], a.name.as_str());
}

#[test]
fn scenario_files_are_written_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&small("files"), 9, None).unwrap();
    write::write_scenario(&s, dir.path(), true).unwrap();
    let alerts = std::fs::read_to_string(dir.path().join(write::ALERTS_FILE)).unwrap();
    let parsed: Vec<Alert> = alerts
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed.len(), s.len());
    assert_eq!(parsed, s.alerts().collect::<Vec<_>>());
    let topo = std::fs::read_to_string(dir.path().join(write::TOPOLOGY_FILE)).unwrap();
    assert_eq!(
        TopologyFile::parse(&topo, "topology.yaml").unwrap(),
        s.topology
    );
    let truth = std::fs::read_to_string(dir.path().join(write::TRUTH_FILE)).unwrap();
    assert_eq!(
        Truth::parse(&truth).unwrap().incident_of.len(),
        s.truth.len()
    );
    assert!(dir.path().join(write::WEBHOOK_FILE).exists());
    assert!(dir.path().join(write::MANIFEST_FILE).exists());
}
