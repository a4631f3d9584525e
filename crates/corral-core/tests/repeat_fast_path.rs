//! `Engine::ingest_repeat`, the head-only path for plain repeats: it must take exactly the
//! occurrences whose whole alert would change nothing but counters and times, and leave the
//! engine (updates, stats, every piece of state) as `Engine::ingest` of the whole alert would.

use corral_core::incident::IncidentUpdate;
use corral_core::model::{compute_fingerprint, Alert, Severity, Status, Str};
use corral_core::{Engine, RuleSet, TopologyFile, TopologyIndex};
use proptest::prelude::*;
use std::sync::Arc;

const T0: i64 = 1_764_000_000_000;

const TOPO: &str = r#"
nodes:
  - {id: core-1, kind: switch}
  - {id: tor-a, kind: switch}
  - {id: host-a1, kind: host}
  - {id: host-a2, kind: host}
  - {id: app-1, kind: service, service: shop}
edges:
  - {from: tor-a, to: core-1, type: connects_to}
  - {from: host-a1, to: tor-a, type: part_of}
  - {from: host-a2, to: tor-a, type: part_of}
  - {from: app-1, to: host-a1, type: runs_on}
"#;

/// Short timers so that sequences of a few minutes expire alerts, coalesce and close incidents,
/// and every kind of mute: suppression, inhibition, a maintenance window, flapping.
fn rules_yaml(with_severity_rule: bool) -> String {
    let mut yaml = format!(
        r#"
settings:
  allowed_lateness: 20s
  alert_expiry: 3m
  update_interval: 30s
  flapping: {{window: 5m, max_changes: 3, quiet: 5m}}
suppress:
  - name: no-info
    match: {{severity: info}}
inhibit:
  - name: host-down-mutes-latency
    source_match: {{name: HostDown}}
    target_match: {{name: HighLatency}}
    equal: [resource]
maintenance:
  - name: tor-work
    match: {{resource: tor-a}}
    start: {}
    end: {}
"#,
        T0 + 60_000,
        T0 + 240_000
    );
    if with_severity_rule {
        yaml.push_str("severity:\n  - match: {name: DiskFull}\n    set: critical\n");
    }
    yaml
}

fn engine(with_severity_rule: bool) -> Engine {
    let rules = RuleSet::from_yaml(&rules_yaml(with_severity_rule), "test.yaml").expect("rules");
    let topo = TopologyIndex::build(&TopologyFile::parse(TOPO, "topo.yaml").expect("topology"));
    Engine::new(Arc::new(rules), Arc::new(topo))
}

/// One occurrence of a small set of alerts, described by indexes so that proptest shrinks well.
#[derive(Clone, Debug)]
struct Step {
    identity: usize,
    resolved: bool,
    severity: usize,
    service: usize,
    /// Seconds from the previous occurrence; negative ones arrive late.
    dt: i64,
    /// A metric sample rather than an alert occurrence.
    sample: bool,
}

const IDENTITIES: [(&str, &str); 6] = [
    ("HostDown", "host-a1"),
    ("HighLatency", "host-a1"),
    ("AppDown", "app-1"),
    ("PortDown", "tor-a"),
    ("DiskFull", "host-a2"),
    ("Unknown", "nowhere-1"),
];

fn step() -> impl Strategy<Value = Step> {
    (
        0..IDENTITIES.len() + 1,
        prop::bool::weighted(0.15),
        0..4usize,
        0..4usize,
        prop_oneof![4 => 0..40i64, 1 => -30..0i64, 1 => 100..400i64],
        prop::bool::weighted(0.03),
    )
        .prop_map(|(identity, resolved, severity, service, dt, sample)| Step {
            identity,
            resolved,
            severity,
            service,
            dt,
            sample,
        })
}

fn occurrences(steps: &[Step]) -> Vec<Alert> {
    let mut t = T0;
    steps
        .iter()
        .map(|s| {
            t += s.dt * 1000;
            // The last identity reuses the first one's fingerprint with another name and
            // resource: a source that gives its own fingerprint can do that.
            let (name, resource) = IDENTITIES[s.identity % IDENTITIES.len()];
            let mut a = Alert::firing(name, resource, t);
            if s.identity == IDENTITIES.len() {
                let (name, resource) = IDENTITIES[0];
                a.fingerprint = compute_fingerprint("native", name, resource, &Vec::new());
            }
            a.severity = Severity::ALL[s.severity];
            a.service = [None, Some("shop"), Some("payroll"), None][s.service].map(Str::from);
            if s.resolved {
                a.status = Status::Resolved;
                a.ends_at = Some(t);
            }
            if s.sample {
                a.value = Some(1.0);
            }
            a
        })
        .collect()
}

/// Everything an engine shows: its updates, its stats, and its whole state as a snapshot.
fn observe(engine: &Engine, updates: &[IncidentUpdate]) -> (String, String, serde_json::Value) {
    let snapshot: serde_json::Value =
        serde_json::from_slice(&engine.snapshot()).expect("snapshot is JSON");
    (
        serde_json::to_string(updates).expect("updates serialize"),
        serde_json::to_string(engine.stats()).expect("stats serialize"),
        snapshot,
    )
}

/// Runs `alerts` through two engines, one whole and one head first; returns how many
/// occurrences the fast path took.
fn run_both(alerts: &[Alert], with_severity_rule: bool) -> Result<usize, TestCaseError> {
    let (mut whole, mut fast) = (engine(with_severity_rule), engine(with_severity_rule));
    let (mut whole_out, mut fast_out) = (Vec::new(), Vec::new());
    let mut taken = 0;
    for a in alerts {
        whole.ingest(a.clone(), &mut whole_out);
        if fast.ingest_repeat(&a.head(), &mut fast_out) {
            taken += 1;
        } else {
            fast.ingest(a.clone(), &mut fast_out);
        }
        prop_assert_eq!(whole_out.len(), fast_out.len());
    }
    whole.finish(&mut whole_out);
    fast.finish(&mut fast_out);
    let (w, f) = (observe(&whole, &whole_out), observe(&fast, &fast_out));
    prop_assert_eq!(w.0, f.0, "updates");
    prop_assert_eq!(w.1, f.1, "stats");
    prop_assert_eq!(w.2, f.2, "state");
    Ok(taken)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any sequence of occurrences (repeats with the same or another severity, service,
    /// status, late ones, expiries, mutes, samples) gives the same updates, stats and state
    /// whether plain repeats are taken by their head or whole.
    #[test]
    fn head_path_and_whole_path_agree(steps in prop::collection::vec(step(), 1..60)) {
        run_both(&occurrences(&steps), false)?;
    }

    /// With a severity rule the engine must read the whole alert, so it never takes a head.
    #[test]
    fn severity_rules_keep_every_occurrence_whole(steps in prop::collection::vec(step(), 1..30)) {
        prop_assert_eq!(run_both(&occurrences(&steps), true)?, 0);
    }
}

#[test]
fn only_plain_repeats_of_firing_unmuted_alerts_are_taken_by_their_head() {
    let mut e = engine(false);
    let mut out = Vec::new();
    let first = Alert::firing("HostDown", "host-a1", T0);
    assert!(
        !e.ingest_repeat(&first.head(), &mut out),
        "a new alert needs its labels and resource"
    );
    e.ingest(first.clone(), &mut out);
    let mut repeat = Alert::firing("HostDown", "host-a1", T0 + 10_000);
    repeat.severity = Severity::Critical;
    repeat.service = Some("shop".into());
    assert!(e.ingest_repeat(&repeat.head(), &mut out));
    let state = e.alert_state(&first.fingerprint).expect("tracked");
    assert_eq!(
        (state.count, state.last_seen, state.severity),
        (2, T0 + 10_000, Severity::Critical)
    );
    assert_eq!(state.service.as_deref().map(Str::as_str), Some("shop"));
    assert_eq!((e.stats().events, e.stats().deduplicated), (2, 1));

    let mut sample = repeat.clone();
    sample.value = Some(3.0);
    assert!(
        !e.ingest_repeat(&sample.head(), &mut out),
        "a metric sample"
    );
    let mut resolve = Alert::firing("HostDown", "host-a1", T0 + 20_000);
    resolve.status = Status::Resolved;
    assert!(!e.ingest_repeat(&resolve.head(), &mut out), "a resolve");
    e.ingest(resolve, &mut out);
    let again = Alert::firing("HostDown", "host-a1", T0 + 30_000);
    assert!(!e.ingest_repeat(&again.head(), &mut out), "fires again");

    // Info alerts are suppressed: a muted alert is looked at again on every repeat.
    let mut info = Alert::firing("DiskFull", "host-a2", T0 + 40_000);
    info.severity = Severity::Info;
    e.ingest(info.clone(), &mut out);
    info.starts_at += 1_000;
    assert!(!e.ingest_repeat(&info.head(), &mut out), "a muted alert");
}
