//! A small simulated storm through corral's engine with the shipped default rules, scored
//! against its ground truth: the quality targets of issue 3, end to end.

use corral_core::model::Alert;
use corral_core::{Engine, RuleSet, TopologyIndex};
use corral_quality::sim::{generate, suite};
use corral_quality::{missed_targets, score_with_topology, Score, Truth};
use std::sync::Arc;

const DEFAULT_RULES: &str = include_str!("../../../rules/default.yaml");

fn run(name: &str, seed: u64) -> Score {
    let cfg = suite::suite("smoke")
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap();
    let s = generate(&cfg, seed, None).unwrap();
    let rules = RuleSet::from_sources(&[("rules/default.yaml".into(), DEFAULT_RULES.into())])
        .expect("shipped rules are valid");
    let topo = Arc::new(TopologyIndex::build(&s.topology));
    let mut engine = Engine::new(Arc::new(rules), topo.clone());
    let alerts: Vec<Alert> = s.alerts().collect();
    let mut out = Vec::new();
    for a in &alerts {
        engine.ingest(a.clone(), &mut out);
    }
    engine.finish(&mut out);
    let truth = Truth::from_records(s.truth.clone()).unwrap();
    score_with_topology(&out, &truth, Some(&alerts), Some(&topo))
}

/// What the engine reaches today on the quiet smoke scenario: every failure reported, grouped
/// and rooted correctly, no noise pulled into real incidents.
#[test]
fn smoke_quiet_grouping_and_root_cause_targets() {
    let s = run("smoke-quiet", 1);
    assert_eq!(s.missed_incidents, 0, "{s:#?}");
    assert!(s.fragmented_share <= 0.05, "{s:#?}");
    assert!(s.noise_in_incidents <= 0.05, "{s:#?}");
    assert!(s.ari >= 0.9, "{s:#?}");
    assert!(s.rca_top1.unwrap() >= 0.9, "{s:#?}");
    assert!(s.time_to_incident_p99_s.is_some());
}

/// Every target, compression included. Ignored while the engine opens a new incident each time
/// a chronic noisy check re-fires (see docs/quality.md, "Findings"): the ideal counts each
/// noise alert once. Run with `cargo test -p corral-quality -- --ignored`.
#[test]
#[ignore = "engine misses the compression target on re-firing chronic checks (docs/quality.md)"]
fn smoke_scenarios_meet_every_target() {
    for name in ["smoke-quiet", "smoke-mixed"] {
        let s = run(name, 1);
        let missed = missed_targets(&s);
        assert!(missed.is_empty(), "{name}: {missed:?}\n{s:#?}");
    }
}
