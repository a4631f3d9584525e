//! The engine with a model trained by [`Trainer`]: chronic alerts suppressed by a
//! `chronic_above` rule, and learned co-occurrence relating alerts the topology cannot.

use std::collections::BTreeMap;
use std::sync::Arc;

use corral_anomaly::{ModelConfig, Trainer};
use corral_core::incident::IncidentUpdate;
use corral_core::model::{Alert, Status};
use corral_core::{Engine, RuleSet, TopologyFile, TopologyIndex};

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;
/// Start of the stream the engine sees, after five days of history.
const LIVE: i64 = 1_764_000_000_000 + 5 * 24 * HOUR;

const TOPO: &str = r#"
nodes:
  - {id: host-1, kind: host}
  - {id: host-2, kind: host}
  - {id: db-1, kind: database}
edges:
  - {from: db-1, to: host-1, type: runs_on}
"#;

fn occurrence(name: &str, resource: &str, t: i64, status: Status) -> Alert {
    let mut a = Alert::firing(name, resource, t);
    a.fingerprint = format!("{name}@{resource}").into();
    a.status = status;
    if status == Status::Resolved {
        a.ends_at = Some(t);
    }
    a
}

/// Five days: a disk check on db-1 every hour (chronic); twenty failures, each a host going
/// down with an instance and an error-rate alert on other (ephemeral) resources within two
/// minutes; an unrelated certificate check now and then.
fn history() -> Vec<Alert> {
    let start = LIVE - 5 * 24 * HOUR;
    let mut out = Vec::new();
    for h in 0..5 * 24 {
        let t = start + h * HOUR + 5 * MIN;
        out.push(occurrence("DiskAlmostFull", "db-1", t, Status::Firing));
        out.push(occurrence(
            "DiskAlmostFull",
            "db-1",
            t + 10 * MIN,
            Status::Resolved,
        ));
    }
    for f in 0..20 {
        let t = start + f * 6 * HOUR + 30 * MIN;
        for (name, resource, dt) in [
            ("HostDown", format!("host-h{f}"), 0),
            ("InstanceDown", format!("vm-h{f}-a"), MIN),
            ("HighErrorRate", format!("svc-h{f}"), 2 * MIN),
        ] {
            out.push(occurrence(name, &resource, t + dt, Status::Firing));
            out.push(occurrence(name, &resource, t + 30 * MIN, Status::Resolved));
        }
        let t = start + f * 6 * HOUR + 3 * HOUR;
        let res = format!("web-{f}");
        out.push(occurrence("CertExpiring", &res, t, Status::Firing));
    }
    out
}

fn engine(rules: &str, with_model: bool) -> Engine {
    let rules = if rules.is_empty() {
        RuleSet::default()
    } else {
        RuleSet::from_yaml(rules, "rules.yaml").unwrap()
    };
    let topo = TopologyIndex::build(&TopologyFile::parse(TOPO, "topo.yaml").unwrap());
    let mut e = Engine::new(Arc::new(rules), Arc::new(topo));
    if with_model {
        let mut trainer = Trainer::new(ModelConfig::default()).unwrap();
        trainer.add_alerts("history", history());
        let (model, rejected) = trainer.finish();
        assert!(rejected.is_empty());
        e.set_anomaly_model(Box::new(model));
    }
    e
}

fn run(e: &mut Engine, alerts: Vec<Alert>) -> Vec<Vec<String>> {
    let mut out: Vec<IncidentUpdate> = Vec::new();
    for a in alerts {
        e.ingest(a, &mut out);
    }
    e.finish(&mut out);
    let mut last: BTreeMap<String, IncidentUpdate> = BTreeMap::new();
    for u in out {
        last.insert(u.dedup_key.to_string(), u);
    }
    let mut groups: Vec<Vec<String>> = last
        .values()
        .filter(|u| u.payload.custom_details.merged_into.is_none())
        .map(|u| {
            let mut v: Vec<String> = u
                .payload
                .custom_details
                .alerts
                .iter()
                .map(|a| a.to_string())
                .collect();
            v.sort();
            v
        })
        .collect();
    groups.sort();
    groups
}

#[test]
fn trained_groups_put_the_failure_names_together() {
    let mut trainer = Trainer::new(ModelConfig::default()).unwrap();
    trainer.add_alerts("history", history());
    let (model, _) = trainer.finish();
    let names: Vec<Vec<&str>> = model
        .cooccurrence
        .groups
        .iter()
        .map(|g| g.iter().map(|n| n.as_str()).collect())
        .collect();
    assert_eq!(
        names,
        vec![vec!["HighErrorRate", "HostDown", "InstanceDown"]]
    );
}

#[test]
fn a_chronic_check_learned_from_history_is_suppressed_by_rule() {
    let rules = "suppress:\n  - name: chronic-noise\n    chronic_above: 0.8\n";
    let live = vec![
        occurrence("HostDown", "host-1", LIVE, Status::Firing),
        occurrence("DiskAlmostFull", "db-1", LIVE + 5_000, Status::Firing),
    ];
    let mut with = engine(rules, true);
    assert_eq!(run(&mut with, live.clone()), vec![vec!["HostDown@host-1"]]);
    assert_eq!(
        with.stats().suppressed.get("chronic:chronic-noise"),
        Some(&1)
    );
    // Without the model the same rule suppresses nothing: the disk alert joins the outage.
    let mut without = engine(rules, false);
    assert_eq!(
        run(&mut without, live),
        vec![vec!["DiskAlmostFull@db-1", "HostDown@host-1"]]
    );
    assert_eq!(without.stats().chronic_suppressed_total(), 0);
}

#[test]
fn learned_cooccurrence_relates_an_alert_the_topology_does_not_know() {
    let live = vec![
        occurrence("HostDown", "host-1", LIVE, Status::Firing),
        // An ephemeral workload the CMDB never recorded, with no service to go by.
        occurrence("InstanceDown", "vm-x1f3a", LIVE + 30_000, Status::Firing),
        // Also unknown, but its name does not fire with failures: it stays apart.
        occurrence("CertExpiring", "web-x99", LIVE + 40_000, Status::Firing),
    ];
    let mut with = engine("", true);
    assert_eq!(
        run(&mut with, live.clone()),
        vec![
            vec!["CertExpiring@web-x99"],
            vec!["HostDown@host-1", "InstanceDown@vm-x1f3a"],
        ]
    );
    let mut without = engine("", false);
    assert_eq!(run(&mut without, live).len(), 3);
}

#[test]
fn learned_cooccurrence_never_relates_two_alerts_the_topology_knows() {
    // host-1 and host-2 are both in the CMDB with no path between them: the topology has
    // spoken, and a learned relation does not override it.
    let live = vec![
        occurrence("HostDown", "host-1", LIVE, Status::Firing),
        occurrence("HostDown", "host-2", LIVE + 30_000, Status::Firing),
    ];
    let mut with = engine("", true);
    assert_eq!(run(&mut with, live).len(), 2);
}
