//! Acceptance tests of the correlation engine, read like Alertmanager's: push alerts at event
//! times, expect incident updates.

use corral_core::incident::{EventAction, IncidentUpdate};
use corral_core::model::{Alert, Severity, Status};
use corral_core::{Engine, RuleSet, TopologyFile, TopologyIndex};
use std::collections::BTreeMap;
use std::sync::Arc;

const T0: i64 = 1_764_000_000_000; // 2025-11-24T16:00:00Z

/// A small data centre: two racks behind a core, a database on a VM, services on top.
const TOPO: &str = r#"
nodes:
  - {id: core-1, kind: switch}
  - {id: tor-a, kind: switch}
  - {id: tor-b, kind: switch}
  - {id: host-a1, kind: host}
  - {id: host-a2, kind: host}
  - {id: host-a3, kind: host}
  - {id: host-b1, kind: host}
  - {id: host-b2, kind: host}
  - {id: esx-1, kind: hypervisor}
  - {id: db-1, kind: database, service: payroll, aliases: [10.0.0.5]}
  - {id: payroll-api, kind: service, service: payroll}
  - {id: hr-portal, kind: service, service: hr}
  - {id: web-b, kind: service, service: shop}
  - {id: cyc-1, kind: service}
  - {id: cyc-2, kind: service}
  - {id: island, kind: host}
edges:
  - {from: tor-a, to: core-1, type: connects_to}
  - {from: tor-b, to: core-1, type: connects_to}
  - {from: host-a1, to: tor-a, type: part_of}
  - {from: host-a2, to: tor-a, type: part_of}
  - {from: host-a3, to: tor-a, type: part_of}
  - {from: host-b1, to: tor-b, type: part_of}
  - {from: host-b2, to: tor-b, type: part_of}
  - {from: esx-1, to: host-a1, type: runs_on}
  - {from: db-1, to: esx-1, type: runs_on}
  - {from: payroll-api, to: db-1, type: depends_on}
  - {from: hr-portal, to: payroll-api, type: depends_on}
  - {from: web-b, to: host-b1, type: runs_on}
  - {from: cyc-1, to: cyc-2, type: depends_on}
  - {from: cyc-2, to: cyc-1, type: depends_on}
"#;

struct Harness {
    engine: Engine,
    updates: Vec<IncidentUpdate>,
}

impl Harness {
    fn new(rules_yaml: &str) -> Harness {
        Harness::with_topology(rules_yaml, TOPO)
    }

    fn with_topology(rules_yaml: &str, topology_yaml: &str) -> Harness {
        let rules = if rules_yaml.is_empty() {
            RuleSet::default()
        } else {
            RuleSet::from_yaml(rules_yaml, "test.yaml").expect("valid rules")
        };
        let topo = TopologyIndex::build(&TopologyFile::parse(topology_yaml, "topo.yaml").unwrap());
        Harness {
            engine: Engine::new(Arc::new(rules), Arc::new(topo)),
            updates: Vec::new(),
        }
    }

    fn push(&mut self, a: Alert) -> &mut Self {
        self.engine.ingest(a, &mut self.updates);
        self
    }

    fn fire(&mut self, secs: i64, name: &str, resource: &str) -> &mut Self {
        self.push(alert(secs, name, resource, Status::Firing))
    }

    fn resolve(&mut self, secs: i64, name: &str, resource: &str) -> &mut Self {
        self.push(alert(secs, name, resource, Status::Resolved))
    }

    fn tick(&mut self, secs: i64) -> &mut Self {
        self.engine.advance_to(T0 + secs * 1000, &mut self.updates);
        self
    }

    fn finish(&mut self) -> &mut Self {
        self.engine.finish(&mut self.updates);
        self
    }

    /// Last update of each incident, merged incidents folded away.
    fn incidents(&self) -> BTreeMap<String, IncidentUpdate> {
        let mut last = BTreeMap::new();
        for u in &self.updates {
            last.insert(u.dedup_key.to_string(), u.clone());
        }
        last.retain(|_, u: &mut IncidentUpdate| u.payload.custom_details.merged_into.is_none());
        last
    }

    /// Member names per incident (alert name@resource), sorted, for readable assertions.
    fn groups(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = self
            .incidents()
            .values()
            .map(|u| {
                let mut v: Vec<String> = u
                    .payload
                    .custom_details
                    .alerts
                    .iter()
                    .map(|fp| fp.to_string())
                    .collect();
                v.sort();
                v
            })
            .collect();
        out.sort();
        out
    }
}

/// Alerts in these tests use "name@resource" as their fingerprint, so groups read plainly.
fn alert(secs: i64, name: &str, resource: &str, status: Status) -> Alert {
    let mut a = Alert::firing(name, resource, T0 + secs * 1000);
    a.fingerprint = format!("{name}@{resource}").into();
    a.status = status;
    if status == Status::Resolved {
        a.ends_at = Some(T0 + secs * 1000);
    }
    a
}

/// A firing alert at critical severity (error or above: it can head an incident and split it
/// on recovery).
fn critical(secs: i64, name: &str, resource: &str) -> Alert {
    let mut a = alert(secs, name, resource, Status::Firing);
    a.severity = Severity::Critical;
    a
}

/// A firing alert at warning severity (a degradation, not an outage).
fn warning(secs: i64, name: &str, resource: &str) -> Alert {
    let mut a = alert(secs, name, resource, Status::Firing);
    a.severity = Severity::Warning;
    a
}

fn g(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn repeats_fold_into_one_incident_per_failure() {
    let mut h = Harness::new("");
    for i in 0..10 {
        h.fire(i * 30, "HostDown", "host-b2");
    }
    h.finish();
    assert_eq!(h.groups(), vec![g(&["HostDown@host-b2"])]);
    let inc = h.incidents().into_values().next().unwrap();
    assert_eq!(inc.payload.custom_details.event_count, 10);
    assert_eq!(inc.payload.custom_details.alert_count, 1);
    assert_eq!(h.engine.stats().deduplicated, 9);
}

#[test]
fn a_repeat_that_changes_nothing_updates_dedup_state_but_emits_nothing() {
    let mut h = Harness::new("");
    // The join's coalesced update goes out by the tick.
    h.fire(0, "HostDown", "host-b2")
        .fire(5, "PortDown", "tor-b")
        .tick(120);
    let opened = h.updates.len();
    assert!(opened > 0, "the first occurrences open an incident");
    // Long after the update interval, so only a change could make the engine emit.
    h.fire(600, "HostDown", "host-b2");
    assert_eq!(h.updates.len(), opened, "a plain repeat is no news");
    let st = h.engine.alert_state("HostDown@host-b2").expect("tracked");
    assert_eq!((st.count, st.last_seen), (2, T0 + 600_000));
    assert_eq!(
        st.last_update,
        T0 + 600_000,
        "expiry counts from the repeat"
    );
    assert_eq!(h.engine.stats().deduplicated, 1);
    // A repeat that raises the severity is news.
    let mut worse = alert(630, "HostDown", "host-b2", Status::Firing);
    worse.severity = Severity::Critical;
    h.push(worse);
    assert_eq!(h.updates.len(), opened + 1);
    assert_eq!(h.updates[opened].payload.severity, Severity::Critical);
    // The repeats' events reach the incident's last update at the end of input.
    h.finish();
    let inc = h.incidents().into_values().next().expect("one incident");
    assert_eq!(inc.payload.custom_details.event_count, 4);
}

#[test]
fn topology_groups_a_failure_and_names_the_upstream_root_cause() {
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a1")
        .fire(20, "VMDown", "esx-1")
        .fire(40, "DatabaseDown", "db-1")
        .fire(50, "HighErrorRate", "payroll-api")
        // Unrelated, same time, other rack:
        .fire(30, "DiskFull", "host-b2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "DatabaseDown@db-1",
                "HighErrorRate@payroll-api",
                "HostDown@host-a1",
                "VMDown@esx-1"
            ]),
            g(&["DiskFull@host-b2"]),
        ]
    );
    let big = h
        .incidents()
        .into_values()
        .find(|u| u.payload.custom_details.alert_count == 4)
        .unwrap();
    let rc = &big.payload.custom_details.root_cause;
    assert_eq!(rc.resource, "host-a1");
    assert_eq!(rc.name.as_deref(), Some("HostDown"));
    assert!(rc.reason.contains("upstream of 3 other"), "{}", rc.reason);
    assert!(big
        .payload
        .custom_details
        .impacted_services
        .contains(&"payroll".into()));
    assert!(big
        .payload
        .custom_details
        .impacted_services
        .contains(&"hr".into()));
}

#[test]
fn silent_shared_upstream_is_named_as_monitoring_gap() {
    let mut h = Harness::new("");
    h.fire(0, "HostUnreachable", "host-a2")
        .fire(5, "HostUnreachable", "host-a3")
        .fire(9, "HostUnreachable", "host-a1")
        .finish();
    let incs = h.incidents();
    assert_eq!(incs.len(), 1);
    let rc = &incs
        .values()
        .next()
        .unwrap()
        .payload
        .custom_details
        .root_cause;
    assert_eq!(rc.resource, "tor-a");
    assert!(rc.fingerprint.is_none());
    assert!(rc.reason.contains("monitoring gap"), "{}", rc.reason);
}

#[test]
fn alerts_far_apart_in_time_do_not_group() {
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a2")
        .fire(3600, "DiskFull", "host-a3")
        .finish();
    assert_eq!(h.groups().len(), 2);
}

#[test]
fn unknown_resources_still_correlate_by_resource_and_time() {
    let mut h = Harness::new("");
    h.fire(0, "CpuHigh", "mystery-box")
        .fire(10, "MemHigh", "mystery-box")
        .fire(20, "CpuHigh", "other-box")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CpuHigh@mystery-box", "MemHigh@mystery-box"]),
            g(&["CpuHigh@other-box"])
        ]
    );
    assert_eq!(h.incidents().len(), 2);
}

#[test]
fn resources_missing_from_the_cmdb_link_by_service_only_through_a_known_alert() {
    let mut h = Harness::new("");
    let mut ghost = alert(20, "HighErrorRate", "payroll-api-7f9c", Status::Firing);
    ghost.service = Some("payroll".into());
    let mut other_ghost = alert(25, "HighErrorRate", "shop-5d2a", Status::Firing);
    other_ghost.service = Some("shop".into());
    h.fire(0, "DatabaseDown", "db-1")
        .push(ghost)
        .push(other_ghost);
    // Two alerts the CMDB knows, same service but unrelated in the graph, stay apart.
    h.fire(30, "DiskFull", "host-b2");
    let mut known_same_service = alert(31, "HighLatency", "web-b", Status::Firing);
    known_same_service.service = Some("payroll".into());
    h.push(known_same_service).finish();
    let groups = h.groups();
    assert!(
        groups.contains(&g(&[
            "DatabaseDown@db-1",
            "HighErrorRate@payroll-api-7f9c",
            "HighLatency@web-b"
        ])),
        "{groups:?}"
    );
    assert!(
        groups.contains(&g(&["HighErrorRate@shop-5d2a"])),
        "{groups:?}"
    );
}

#[test]
fn resolves_when_every_alert_resolved_after_the_hold() {
    let mut h = Harness::new("settings: {resolve_hold: 2m, allowed_lateness: 30s}\n");
    h.fire(0, "HostDown", "host-b1")
        .fire(10, "ServiceDown", "web-b")
        .resolve(100, "HostDown", "host-b1")
        .resolve(110, "ServiceDown", "web-b")
        .tick(200);
    assert!(h
        .updates
        .iter()
        .all(|u| u.event_action == EventAction::Trigger));
    h.tick(110 + 120 + 30);
    let last = h.updates.last().unwrap();
    assert_eq!(last.event_action, EventAction::Resolve);
    assert_eq!(
        last.payload.timestamp,
        corral_core::model::format_event_time(T0 + 110_000)
    );
    assert_eq!(h.engine.stats().incidents_resolved, 1);
}

#[test]
fn resolved_incident_does_not_swallow_a_new_failure_on_the_same_resource() {
    let mut h = Harness::new("settings: {resolve_hold: 1m, allowed_lateness: 10s}\n");
    h.fire(0, "HostDown", "host-b1")
        .fire(5, "ServiceDown", "web-b")
        .resolve(60, "HostDown", "host-b1")
        .resolve(60, "ServiceDown", "web-b")
        .tick(200);
    let first = h.incidents().into_keys().next().unwrap();
    h.fire(230, "HostDown", "host-b1")
        .fire(231, "DiskFull", "host-b1")
        .finish();
    let incs = h.incidents();
    assert_eq!(incs.len(), 2, "{:?}", incs.keys());
    let second = incs.keys().find(|k| **k != first).unwrap();
    assert_eq!(incs[&first].event_action, EventAction::Resolve);
    assert_eq!(incs[second].event_action, EventAction::Trigger);
    assert_eq!(
        incs[second].payload.custom_details.alerts,
        vec![
            "HostDown@host-b1".to_string(),
            "DiskFull@host-b1".to_string()
        ]
    );
}

#[test]
fn a_recurring_solo_alert_reopens_its_incident_within_the_reopen_window() {
    let rules = "settings: {resolve_hold: 1m, allowed_lateness: 0s, reopen_window: 2h}\n";
    let mut h = Harness::new(rules);
    for episode in 0..5 {
        let t = episode * 1200;
        h.fire(t, "DiskSpaceLow", "island")
            .resolve(t + 120, "DiskSpaceLow", "island");
    }
    h.tick(20_000).finish();
    assert_eq!(h.incidents().len(), 1, "one ticket for a recurring check");
    assert_eq!(h.engine.stats().incidents_reopened, 4);
    // A different alert on the same resource is a new failure, never a reopen.
    h.fire(20_100, "HostDown", "island").finish();
    assert_eq!(h.incidents().len(), 2);

    // Past the window, or with reopening disabled, each episode is its own incident.
    let mut off =
        Harness::new("settings: {resolve_hold: 1m, allowed_lateness: 0s, reopen_window: 0s}\n");
    for episode in 0..3 {
        let t = episode * 1200;
        off.fire(t, "DiskSpaceLow", "island")
            .resolve(t + 120, "DiskSpaceLow", "island");
    }
    off.tick(20_000).finish();
    assert_eq!(off.incidents().len(), 3);
}

#[test]
fn a_member_firing_again_within_the_hold_reopens_the_same_incident() {
    let mut h = Harness::new("settings: {resolve_hold: 5m}\n");
    h.fire(0, "HostDown", "host-b1")
        .resolve(60, "HostDown", "host-b1")
        .fire(120, "HostDown", "host-b1")
        .tick(1000)
        .finish();
    assert_eq!(h.incidents().len(), 1);
    assert!(h
        .updates
        .iter()
        .all(|u| u.event_action == EventAction::Trigger));
}

#[test]
fn bridging_alert_merges_two_incidents() {
    let mut h = Harness::new("");
    // Two hosts in different racks: separate incidents (4 hops apart through the core, more
    // than the default 2).
    h.fire(0, "HostDown", "host-a2")
        .fire(5, "HostDown", "host-b2");
    assert_eq!(h.incidents().len(), 2);
    // The core switch alerting explains both: it bridges them.
    h.fire(10, "SwitchDown", "core-1").finish();
    let incs = h.incidents();
    assert_eq!(incs.len(), 1, "{:#?}", h.groups());
    let inc = incs.values().next().unwrap();
    assert_eq!(inc.payload.custom_details.merged_from.len(), 1);
    assert_eq!(inc.payload.custom_details.root_cause.resource, "core-1");
    // The absorbed incident was closed, pointing at the survivor.
    let closed: Vec<_> = h
        .updates
        .iter()
        .filter(|u| u.payload.custom_details.merged_into.is_some())
        .collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].event_action, EventAction::Resolve);
    assert_eq!(
        closed[0].payload.custom_details.merged_into.as_deref(),
        Some(inc.dedup_key.as_str())
    );
    assert_eq!(h.engine.stats().incidents_merged, 1);
}

#[test]
fn out_of_order_within_lateness_gives_the_same_incidents() {
    let mut in_order = Harness::new("");
    in_order
        .fire(0, "HostDown", "host-a1")
        .fire(20, "VMDown", "esx-1")
        .fire(40, "DatabaseDown", "db-1")
        .fire(45, "DiskFull", "host-b2")
        .finish();
    let mut shuffled = Harness::new("");
    shuffled
        .fire(40, "DatabaseDown", "db-1")
        .fire(45, "DiskFull", "host-b2")
        .fire(0, "HostDown", "host-a1")
        .fire(20, "VMDown", "esx-1")
        .finish();
    assert_eq!(in_order.groups(), shuffled.groups());
    assert_eq!(shuffled.engine.stats().late_events, 0);
    let root = |h: &Harness| {
        h.incidents()
            .values()
            .map(|u| u.payload.custom_details.root_cause.resource.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(root(&in_order), root(&shuffled));
}

#[test]
fn late_events_beyond_lateness_are_counted_and_still_correlated() {
    let mut h = Harness::new("settings: {allowed_lateness: 30s}\n");
    h.fire(0, "HostDown", "host-a1")
        .fire(100, "DiskFull", "host-b2");
    // 100 s late: beyond the 30 s lateness, but the host's incident is still open.
    h.fire(10, "VMDown", "esx-1").finish();
    assert_eq!(h.engine.stats().late_events, 1);
    assert!(h
        .groups()
        .contains(&g(&["HostDown@host-a1", "VMDown@esx-1"])));
}

#[test]
fn flapping_alert_does_not_open_incident_after_incident() {
    let mut h = Harness::new(
        "settings: {resolve_hold: 1m, allowed_lateness: 0s, flapping: {window: 30m, max_changes: 4, quiet: 30m}}\n",
    );
    // Flaps every 3 minutes: longer than the resolve hold, so without flap detection each
    // firing would be a new incident.
    for i in 0..10 {
        h.fire(i * 360, "PingLoss", "host-b2");
        h.resolve(i * 360 + 180, "PingLoss", "host-b2");
    }
    h.tick(10_000).finish();
    let opened = h.engine.stats().incidents_opened;
    assert!(opened <= 2, "flapping opened {opened} incidents");
    assert_eq!(h.engine.stats().flapping_alerts, 1);
    assert!(
        h.engine
            .stats()
            .suppressed
            .get("flapping")
            .copied()
            .unwrap_or(0)
            >= 1
    );
}

const INHIBIT: &str = r#"
inhibit:
  - name: host-down-mutes-service-checks
    source_match: {name: HostDown}
    target_match: {name: [ServiceCheckFailed, HighLatency]}
    equal: [resource]
"#;

#[test]
fn inhibited_target_opens_nothing_while_source_fires() {
    let mut h = Harness::new(INHIBIT);
    h.fire(0, "HostDown", "island")
        .fire(10, "ServiceCheckFailed", "island")
        // Different resource: the `equal` label differs, so no inhibition.
        .fire(12, "ServiceCheckFailed", "mystery")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@island"]), g(&["ServiceCheckFailed@mystery"])]
    );
    assert_eq!(h.engine.stats().suppressed.get("inhibited"), Some(&1));
}

#[test]
fn inhibited_target_comes_back_when_source_resolves_and_its_resolve_propagates() {
    let mut h = Harness::new(&format!(
        "{INHIBIT}settings: {{resolve_hold: 1m, allowed_lateness: 0s}}\n"
    ));
    h.fire(0, "HostDown", "island")
        .fire(10, "HighLatency", "island");
    h.resolve(100, "HostDown", "island");
    // The target still fires: it is no longer muted and joins an incident.
    let with_target = h.updates.iter().any(|u| {
        u.payload
            .custom_details
            .alerts
            .contains(&"HighLatency@island".into())
    });
    assert!(with_target, "released target must be reported");
    // Its resolve closes the incident: an inhibited alert never leaves an incident hanging.
    h.resolve(150, "HighLatency", "island").tick(400).finish();
    let incs = h.incidents();
    assert!(
        incs.values()
            .all(|u| u.event_action == EventAction::Resolve),
        "{incs:#?}"
    );
}

#[test]
fn maintenance_window_mutes_matching_alerts_only_inside_the_window() {
    let rules = format!(
        "maintenance:\n  - name: rack-b-work\n    match: {{resource: {{regex: 'host-b.*'}}}}\n    start: {}\n    end: {}\n",
        T0,
        T0 + 600_000
    );
    let mut h = Harness::new(&rules);
    h.fire(0, "HostDown", "host-b1")
        .fire(10, "HostDown", "host-a2")
        .fire(700, "DiskFull", "host-b1")
        .finish();
    // host-b1 still fires when the window ends, so it comes back then, and a later alert on
    // the same host joins it.
    assert_eq!(
        h.groups(),
        vec![
            g(&["DiskFull@host-b1", "HostDown@host-b1"]),
            g(&["HostDown@host-a2"])
        ]
    );
    assert_eq!(
        h.engine.stats().suppressed.get("maintenance:rack-b-work"),
        Some(&1)
    );
}

#[test]
fn maintenance_end_lets_a_still_firing_alert_through() {
    let rules = format!(
        "maintenance:\n  - name: w\n    match: {{name: HostDown}}\n    start: {}\n    end: {}\n",
        T0,
        T0 + 300_000
    );
    let mut h = Harness::new(&rules);
    h.fire(0, "HostDown", "host-b1")
        .fire(200, "HostDown", "host-b1");
    assert!(h.incidents().is_empty());
    h.fire(400, "HostDown", "host-b1").finish();
    assert_eq!(h.groups(), vec![g(&["HostDown@host-b1"])]);
}

#[test]
fn maintenance_end_brings_back_a_still_firing_alert_without_a_new_occurrence() {
    let rules = format!(
        "maintenance:\n  - name: w\n    match: {{name: HostDown}}\n    start: {}\n    end: {}\n",
        T0,
        T0 + 300_000
    );
    let mut h = Harness::new(&rules);
    // Fires once inside the window and is never sent again (no Alertmanager re-notification).
    h.fire(0, "HostDown", "host-b1").tick(200);
    assert!(h.incidents().is_empty(), "muted during the window");
    // Other traffic moves event time, and so the watermark, past the window's end.
    h.fire(400, "DiskFull", "island").finish();
    assert_eq!(
        h.groups(),
        vec![g(&["DiskFull@island"]), g(&["HostDown@host-b1"])]
    );
}

#[test]
fn maintenance_end_waits_for_the_watermark() {
    let rules = format!(
        "settings:\n  allowed_lateness: 60s\nmaintenance:\n  - name: w\n    match: {{name: HostDown}}\n    start: {}\n    end: {}\n",
        T0,
        T0 + 300_000
    );
    let mut h = Harness::new(&rules);
    h.fire(0, "HostDown", "host-b1").tick(330);
    assert!(
        h.incidents().is_empty(),
        "event time is past the end but the watermark (30 s behind) is not"
    );
    h.tick(400).finish();
    assert_eq!(h.groups(), vec![g(&["HostDown@host-b1"])]);
}

#[test]
fn a_maintenance_window_extended_by_a_reload_mutes_until_its_new_end() {
    let window = |end_secs: i64| {
        format!(
            "maintenance:\n  - name: w\n    match: {{name: HostDown}}\n    start: {}\n    end: {}\n",
            T0,
            T0 + end_secs * 1000
        )
    };
    let mut h = Harness::new(&window(300));
    h.fire(0, "HostDown", "host-b1").tick(100);
    let extended = RuleSet::from_yaml(&window(900), "test.yaml").expect("valid rules");
    let topo = TopologyIndex::build(&TopologyFile::parse(TOPO, "topo.yaml").unwrap());
    h.engine.reload(Arc::new(extended), Arc::new(topo));
    h.tick(600);
    assert!(h.incidents().is_empty(), "the window now ends at 900 s");
    h.tick(1_000).finish();
    assert_eq!(h.groups(), vec![g(&["HostDown@host-b1"])]);
}

#[test]
fn an_alert_resolved_inside_its_maintenance_window_stays_quiet_after_it() {
    let rules = format!(
        "maintenance:\n  - name: w\n    match: {{name: HostDown}}\n    start: {}\n    end: {}\n",
        T0,
        T0 + 300_000
    );
    let mut h = Harness::new(&rules);
    h.fire(0, "HostDown", "host-b1")
        .resolve(100, "HostDown", "host-b1")
        .tick(1_000)
        .finish();
    assert!(h.incidents().is_empty(), "{:#?}", h.updates);
}

#[test]
fn a_pending_maintenance_end_survives_a_snapshot() {
    let rules = format!(
        "maintenance:\n  - name: w\n    match: {{name: HostDown}}\n    start: {}\n    end: {}\n",
        T0,
        T0 + 300_000
    );
    let mut first = Harness::new(&rules);
    first.fire(0, "HostDown", "host-b1").tick(200);
    let snap = first.engine.snapshot();
    let mut second = Harness::new(&rules);
    second.engine.restore(&snap).unwrap();
    assert!(second.incidents().is_empty());
    second.tick(400).finish();
    assert_eq!(second.groups(), vec![g(&["HostDown@host-b1"])]);
}

#[test]
fn suppression_and_severity_mapping() {
    let mut h = Harness::new(
        "suppress:\n  - name: watchdog\n    match: {name: Watchdog}\nseverity:\n  - match: {name: DiskFull}\n    set: critical\n",
    );
    h.fire(0, "Watchdog", "island")
        .fire(5, "DiskFull", "island")
        .finish();
    assert_eq!(h.groups(), vec![g(&["DiskFull@island"])]);
    let inc = h.incidents().into_values().next().unwrap();
    assert_eq!(inc.payload.severity, Severity::Critical);
    assert_eq!(
        h.engine.stats().suppressed.get("suppress:watchdog"),
        Some(&1)
    );
}

#[test]
fn min_alerts_holds_an_incident_until_enough_alerts_join() {
    let mut h = Harness::new("groupings:\n  - name: t\n    min_alerts: 3\n");
    h.fire(0, "HostDown", "host-a1").fire(5, "VMDown", "esx-1");
    assert!(h.updates.is_empty());
    h.fire(9, "DatabaseDown", "db-1");
    assert_eq!(h.updates.len(), 1);
    assert_eq!(h.updates[0].payload.custom_details.alert_count, 3);
}

#[test]
fn group_by_groups_alerts_without_topology() {
    let mut h = Harness::new(
        "groupings:\n  - name: by-cluster\n    match: {labels: {cluster: {exists: true}}}\n    group_by: [labels.cluster]\n    topology: false\n  - name: topology\n",
    );
    let mut a = alert(0, "PodCrash", "pod-1", Status::Firing);
    a.labels = vec![("cluster".into(), "k1".into())];
    let mut b = alert(5, "PodCrash", "pod-2", Status::Firing);
    b.labels = vec![("cluster".into(), "k1".into())];
    let mut c = alert(6, "PodCrash", "pod-3", Status::Firing);
    c.labels = vec![("cluster".into(), "k2".into())];
    h.push(a).push(b).push(c).finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["PodCrash@pod-1", "PodCrash@pod-2"]),
            g(&["PodCrash@pod-3"])
        ]
    );
}

#[test]
fn re_notifications_with_the_original_start_keep_an_alert_alive_and_are_not_late() {
    let mut h =
        Harness::new("settings: {alert_expiry: 10m, resolve_hold: 1m, allowed_lateness: 0s}\n");
    // Alertmanager re-sends a firing alert with its original startsAt every 5 minutes for an
    // hour, while other traffic moves event time on.
    h.fire(0, "HostDown", "island");
    for minute in (5..=60).step_by(5) {
        h.fire(minute * 60, "Heartbeat", "mystery");
        h.fire(0, "HostDown", "island");
    }
    assert_eq!(h.engine.stats().expired_alerts, 0, "repeats keep it alive");
    assert_eq!(
        h.engine.stats().late_events,
        0,
        "re-notifications are not late"
    );
    assert!(h
        .updates
        .iter()
        .all(|u| u.event_action == EventAction::Trigger));
    // Once the repeats stop, it expires after the expiry.
    h.tick(3600 + 600 + 60 + 1);
    assert_eq!(h.engine.stats().expired_alerts, 2);
}

#[test]
fn expired_alerts_resolve_their_incident() {
    let mut h =
        Harness::new("settings: {alert_expiry: 10m, resolve_hold: 1m, allowed_lateness: 0s}\n");
    h.fire(0, "HostDown", "island").tick(600 + 60 + 1);
    assert_eq!(h.engine.stats().expired_alerts, 1);
    assert_eq!(h.updates.last().unwrap().event_action, EventAction::Resolve);
}

#[test]
fn cycles_and_isolated_nodes_do_not_trouble_correlation() {
    let mut h = Harness::new("");
    h.fire(0, "Err", "cyc-1")
        .fire(3, "Err", "cyc-2")
        .fire(4, "Down", "island")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["Down@island"]), g(&["Err@cyc-1", "Err@cyc-2"])]
    );
}

#[test]
fn updates_are_coalesced_per_interval_and_always_list_every_member() {
    let mut h = Harness::new("settings: {update_interval: 1m}\n");
    h.fire(0, "HostUnreachable", "host-a1");
    for (i, host) in ["host-a2", "host-a3"].iter().enumerate() {
        h.fire(5 + i as i64, "HostUnreachable", host);
    }
    assert_eq!(
        h.updates.len(),
        1,
        "joins within the interval are coalesced"
    );
    h.tick(61);
    assert_eq!(h.updates.len(), 2);
    assert_eq!(h.updates[1].payload.custom_details.alert_count, 3);
    assert_eq!(h.updates[1].payload.custom_details.alerts.len(), 3);
}

#[test]
fn resolve_of_unknown_alert_is_counted_not_an_incident() {
    let mut h = Harness::new("");
    h.resolve(0, "HostDown", "island").finish();
    assert!(h.updates.is_empty());
    assert_eq!(h.engine.stats().orphan_resolves, 1);
}

#[test]
fn snapshot_restore_continues_identically() {
    let script = |h: &mut Harness, from: usize, to: usize| {
        let steps: Vec<(i64, &str, &str, Status)> = vec![
            (0, "HostDown", "host-a1", Status::Firing),
            (10, "VMDown", "esx-1", Status::Firing),
            (20, "DiskFull", "host-b2", Status::Firing),
            (30, "DatabaseDown", "db-1", Status::Firing),
            (400, "HostDown", "host-a1", Status::Resolved),
            (410, "VMDown", "esx-1", Status::Resolved),
            (420, "DatabaseDown", "db-1", Status::Resolved),
            (2000, "DiskFull", "host-b2", Status::Firing),
        ];
        for (s, n, r, st) in &steps[from..to] {
            h.push(alert(*s, n, r, *st));
        }
    };
    let mut straight = Harness::new("");
    script(&mut straight, 0, 8);
    straight.finish();

    let mut first = Harness::new("");
    script(&mut first, 0, 4);
    let snap = first.engine.snapshot();
    let mut second = Harness::new("");
    second.engine.restore(&snap).unwrap();
    second.updates = first.updates.clone();
    script(&mut second, 4, 8);
    second.finish();
    assert_eq!(straight.updates, second.updates);
    assert!(second.engine.restore(b"{not json").is_err());
}

#[test]
fn a_recurring_check_neither_absorbs_nor_joins_a_nearby_failure() {
    let rules = "settings: {resolve_hold: 1m, allowed_lateness: 0s, reopen_window: 2h}\n";
    // The check fires first in its third episode: before, its reopened incident took in the
    // failure that followed.
    let mut h = Harness::new(rules);
    for episode in 0..3 {
        let t = episode * 1200;
        h.fire(t, "DiskSpaceLow", "host-a2");
        if episode < 2 {
            h.resolve(t + 120, "DiskSpaceLow", "host-a2");
        }
    }
    h.fire(2410, "SwitchDown", "tor-a")
        .fire(2420, "HostUnreachable", "host-a1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DiskSpaceLow@host-a2"]),
            g(&["HostUnreachable@host-a1", "SwitchDown@tor-a"]),
        ]
    );
    // The failure first, then the check's third episode: the check keeps to itself.
    let mut h = Harness::new(rules);
    for episode in 0..2 {
        let t = episode * 1200;
        h.fire(t, "DiskSpaceLow", "host-a2")
            .resolve(t + 120, "DiskSpaceLow", "host-a2");
    }
    h.fire(2390, "SwitchDown", "tor-a")
        .fire(2400, "DiskSpaceLow", "host-a2")
        .fire(2410, "HostUnreachable", "host-a1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DiskSpaceLow@host-a2"]),
            g(&["HostUnreachable@host-a1", "SwitchDown@tor-a"]),
        ]
    );
    assert_eq!(h.engine.stats().incidents_reopened, 2);
}

#[test]
fn a_silent_common_cause_links_only_alerts_that_start_together() {
    // host-a1, host-a2 and host-a3 share the silent tor-a. Had the switch failed, each would
    // have lost it within the detection delay, a scrape interval per hop between it and the
    // switch (`causality::silent_cause_tolerance`): hosts that start within that of the
    // incident's first one below the switch share a possible cause; one that starts later does
    // not, and the window does not slide from member to member either.
    let mut h = Harness::new("");
    h.fire(0, "HostUnreachable", "host-a2")
        .fire(45, "HostUnreachable", "host-a3")
        .fire(100, "HostUnreachable", "host-a1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostUnreachable@host-a1"]),
            g(&["HostUnreachable@host-a2", "HostUnreachable@host-a3"]),
        ]
    );
    // The two that failed together name the silent switch as the monitoring gap.
    assert_eq!(root_of(&h, "HostUnreachable@host-a3"), "tor-a");
    // Siblings minutes apart are evidence against a common cause: two failures, however close
    // within the grouping window, whichever arrives first.
    let mut h = Harness::new("");
    h.fire(0, "HostUnreachable", "host-a2")
        .fire(240, "HostUnreachable", "host-a3")
        .finish();
    assert_eq!(h.groups().len(), 2);
    let mut late = Harness::new("");
    late.fire(240, "HostUnreachable", "host-a3")
        .fire(0, "HostUnreachable", "host-a2")
        .finish();
    assert_eq!(late.groups().len(), 2);
    // Deeper below the silent node, the failure takes a scrape interval more per hop to reach
    // the farther one: host-a1 (a hop below tor-a) and esx-1 (two hops), 100 s apart, still
    // share tor-a as a possible cause under a rule that relates them through it.
    let rules = "groupings:\n  - {name: deep, max_hops: 3}\n";
    let mut h = Harness::new(rules);
    h.fire(0, "HostUnreachable", "host-a2")
        .fire(100, "HypervisorDown", "esx-1")
        .finish();
    assert_eq!(h.groups().len(), 1);
    let mut h = Harness::new(rules);
    h.fire(0, "HostUnreachable", "host-a2")
        .fire(130, "HypervisorDown", "esx-1")
        .finish();
    assert_eq!(h.groups().len(), 2);
}

#[test]
fn an_alerting_node_gathers_dependents_up_to_impact_hops() {
    // db-1 runs on esx-1, on host-a1, behind tor-a: three hops below the failed switch, with
    // nothing alerting in between.
    let run = |rules: &str| {
        let mut h = Harness::new(rules);
        h.fire(0, "SwitchDown", "tor-a")
            .fire(60, "DatabaseDown", "db-1")
            .finish();
        h
    };
    let h = run("");
    assert_eq!(
        h.groups(),
        vec![g(&["DatabaseDown@db-1", "SwitchDown@tor-a"])]
    );
    let rc = &h
        .incidents()
        .values()
        .next()
        .unwrap()
        .payload
        .custom_details
        .root_cause
        .clone();
    assert_eq!(rc.resource, "tor-a");
    // The root alert arriving after its symptom links the same way.
    let mut late_root = Harness::new("");
    late_root
        .fire(0, "DatabaseDown", "db-1")
        .fire(45, "SwitchDown", "tor-a")
        .finish();
    assert_eq!(late_root.groups().len(), 1);
    // With impact reaching two hops only, they are two failures.
    let h = run("groupings:\n  - {name: near, impact_hops: 2}\n");
    assert_eq!(h.groups().len(), 2);
}

#[test]
fn a_service_link_gathers_an_incident_of_alerts_the_cmdb_does_not_know() {
    let mut h = Harness::new("");
    let mut ghost = alert(5, "HighErrorRate", "payroll-api-7f9c", Status::Firing);
    ghost.service = Some("payroll".into());
    h.fire(0, "HostDown", "host-a1").push(ghost);
    // db-1 (service payroll) relates to host-a1 through the graph and to the ghost through its
    // service: the ghost's incident had nowhere better to go and is gathered in.
    h.fire(10, "DatabaseDown", "db-1").finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "DatabaseDown@db-1",
            "HighErrorRate@payroll-api-7f9c",
            "HostDown@host-a1"
        ])]
    );
}

#[test]
fn a_node_whose_alert_resolved_long_ago_no_longer_gathers_dependents() {
    // tor-a fails for a minute; host-a1 below it keeps alerting for a while. Ten minutes on,
    // host-a2 (also below tor-a) fails: tor-a has been healthy for nine minutes, so host-a2 is
    // a failure of its own, however recently host-a1's alerts joined.
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .fire(10, "HostUnreachable", "host-a1")
        .resolve(60, "SwitchDown", "tor-a")
        .fire(200, "PacketLoss", "host-a1")
        .fire(440, "HighLatency", "host-a1")
        .fire(600, "HostDown", "host-a2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "HighLatency@host-a1",
                "HostUnreachable@host-a1",
                "PacketLoss@host-a1",
                "SwitchDown@tor-a"
            ]),
            g(&["HostDown@host-a2"]),
        ]
    );
    // While tor-a fails, a dependent starting within the detection delay of it is its impact
    // (`a_dependent_failing_long_after_the_node_above_it_is_a_failure_of_its_own`); one
    // starting ten minutes later is not, however recently other dependents joined (the window
    // does not slide from member to member). More alerts on a resource that still fires keep
    // joining it.
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .fire(10, "HostUnreachable", "host-a1")
        .fire(40, "HostDown", "host-a2")
        .fire(55, "HostDown", "host-a3")
        .fire(200, "PacketLoss", "host-a1")
        .fire(440, "HighLatency", "host-a1")
        .fire(600, "HypervisorDown", "esx-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "HighLatency@host-a1",
                "HostDown@host-a2",
                "HostDown@host-a3",
                "HostUnreachable@host-a1",
                "PacketLoss@host-a1",
                "SwitchDown@tor-a"
            ]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
}

#[test]
fn a_late_cause_joins_a_failure_below_it_before_a_mere_warning() {
    // host-a1 goes down, then host-a2 under the same switch shows a disk warning (no evidence
    // that tor-a failed: its own incident). tor-a's alert comes after both, so it may be the
    // late cause of either: it joins the failure, which an outage explains, not the warning it
    // lags less.
    let mut disk = alert(5, "DiskSpaceLow", "host-a2", Status::Firing);
    disk.severity = Severity::Warning;
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a1")
        .push(disk)
        .fire(20, "SwitchDown", "tor-a")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DiskSpaceLow@host-a2"]),
            g(&["HostDown@host-a1", "SwitchDown@tor-a"])
        ]
    );
}

#[test]
fn a_degradation_nothing_near_explains_joins_the_failure_further_up_what_it_depends_on() {
    // hr-portal depends on payroll-api, on db-1, on esx-1, on host-a1: four hops, one more than
    // the rule's impact_hops, the three between silent. Two minutes after host-a1 goes down,
    // hr-portal degrades: no failure nearer explains it, and host-a1 is within the root-cause
    // analysis' reach above it, so it is host-a1's remote effect.
    let latency = |secs| {
        let mut a = alert(secs, "HighLatency", "hr-portal", Status::Firing);
        a.severity = Severity::Warning;
        a
    };
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a1").push(latency(120)).finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HighLatency@hr-portal", "HostDown@host-a1"])]
    );
    // An outright failure there, with nothing near to explain it, is a failure of its own.
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a1")
        .fire(120, "ServiceDown", "hr-portal")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a1"]), g(&["ServiceDown@hr-portal"])]
    );
    // Only a failure still firing, that started before the degradation, explains it.
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a1")
        .resolve(60, "HostDown", "host-a1")
        .push(latency(120))
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HighLatency@hr-portal"]), g(&["HostDown@host-a1"])]
    );
    let mut h = Harness::new("");
    h.push(latency(0)).fire(30, "HostDown", "host-a1").finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HighLatency@hr-portal"]), g(&["HostDown@host-a1"])]
    );
}

/// A business service on top of a chain of four services (shop -> cart -> pricing -> stock ->
/// stock-i0, each depending on the next), another dependency of the service (search) beside the
/// chain, and a database nothing depends on at the top of a chain as long (orders-db runs on
/// orders-vm, on esx-9, on host-9, part of tor-9).
const TOP_OF_GRAPH_TOPO: &str = r#"
nodes:
  - {id: shop, kind: business service, service: shop}
  - {id: cart, kind: service, service: shop}
  - {id: pricing, kind: service, service: shop}
  - {id: stock, kind: service, service: shop}
  - {id: stock-i0, kind: service instance, service: shop}
  - {id: search, kind: service, service: shop}
  - {id: orders-db, kind: database}
  - {id: orders-vm, kind: host}
  - {id: esx-9, kind: hypervisor}
  - {id: host-9, kind: host}
  - {id: tor-9, kind: switch}
edges:
  - {from: shop, to: cart, type: depends_on}
  - {from: cart, to: pricing, type: depends_on}
  - {from: pricing, to: stock, type: depends_on}
  - {from: stock, to: stock-i0, type: depends_on}
  - {from: shop, to: search, type: depends_on}
  - {from: orders-db, to: orders-vm, type: runs_on}
  - {from: orders-vm, to: esx-9, type: runs_on}
  - {from: esx-9, to: host-9, type: runs_on}
  - {from: host-9, to: tor-9, type: part_of}
"#;

#[test]
fn an_outright_alert_on_a_business_service_nothing_depends_on_joins_the_failure_below_it() {
    // stock-i0 crash-loops; two minutes later the shop's SLO burns. Nothing depends on the
    // shop: its SLO is what users see of a failure below it, never the root of one that spreads
    // further. The failure is four hops below (beyond impact_hops 3, within the root-cause
    // analysis' reach) and started within a scrape interval per hop before it: the SLO joins it,
    // although it fails outright.
    let mut h = Harness::with_topology("", TOP_OF_GRAPH_TOPO);
    h.push(critical(0, "ContainerCrashLooping", "stock-i0"))
        .push(critical(120, "SLOBurnRateHigh", "shop"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "ContainerCrashLooping@stock-i0",
            "SLOBurnRateHigh@shop"
        ])]
    );
    // A warning on another of its dependencies (a one-off noise check) offers the SLO alert a
    // link, but a warning explains no outright failure: it joins the failure below all the same
    // and the warning stays apart.
    let mut h = Harness::with_topology("", TOP_OF_GRAPH_TOPO);
    h.push(critical(0, "ContainerCrashLooping", "stock-i0"))
        .push(warning(60, "HighLatency", "search"))
        .push(critical(120, "SLOBurnRateHigh", "shop"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["ContainerCrashLooping@stock-i0", "SLOBurnRateHigh@shop"]),
            g(&["HighLatency@search"]),
        ]
    );
    // A nearer failure whose alert starts within a scrape interval after the SLO's (search, a
    // dependency of the shop, unrelated to stock) is its late cause: the SLO leaves the failure
    // four hops down for it. Started later than that, it is a failure of its own.
    let mut h = Harness::with_topology("", TOP_OF_GRAPH_TOPO);
    h.push(critical(0, "ContainerCrashLooping", "stock-i0"))
        .push(critical(120, "SLOBurnRateHigh", "shop"))
        .push(critical(130, "DeploymentFailed", "search"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["ContainerCrashLooping@stock-i0"]),
            g(&["DeploymentFailed@search", "SLOBurnRateHigh@shop"]),
        ]
    );
    let mut h = Harness::with_topology("", TOP_OF_GRAPH_TOPO);
    h.push(critical(0, "ContainerCrashLooping", "stock-i0"))
        .push(critical(120, "SLOBurnRateHigh", "shop"))
        .push(critical(200, "DeploymentFailed", "search"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["ContainerCrashLooping@stock-i0", "SLOBurnRateHigh@shop"]),
            g(&["DeploymentFailed@search"]),
        ]
    );
    // Effects follow their cause: a failure below that starts after the SLO does not take it.
    let mut h = Harness::with_topology("", TOP_OF_GRAPH_TOPO);
    h.push(critical(0, "SLOBurnRateHigh", "shop"))
        .push(critical(30, "ContainerCrashLooping", "stock-i0"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["ContainerCrashLooping@stock-i0"]),
            g(&["SLOBurnRateHigh@shop"]),
        ]
    );
    // A database nothing depends on is no business service: its outage is a failure of its
    // own, whatever fails four hops below it.
    let mut h = Harness::with_topology("", TOP_OF_GRAPH_TOPO);
    h.push(critical(0, "SwitchDown", "tor-9"))
        .push(critical(120, "DatabaseDown", "orders-db"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["DatabaseDown@orders-db"]), g(&["SwitchDown@tor-9"])]
    );
}

/// A business service whose dependencies meet a failure four hops below it and, on another
/// branch, a database two hops up: `cart` is silent, `billing` shares it with the shop.
const SPREADING_BELOW_TOPO: &str = r#"
nodes:
  - {id: shop, kind: business service, service: shop}
  - {id: cart, kind: service, service: shop}
  - {id: cart-i0, kind: service instance, service: shop}
  - {id: cart-vm, kind: host}
  - {id: esx-1, kind: hypervisor}
  - {id: billing, kind: service, service: billing}
  - {id: reports, kind: service, service: shop}
  - {id: reports-db, kind: database}
  - {id: admin, kind: service, service: shop}
edges:
  - {from: shop, to: cart, type: depends_on}
  - {from: cart, to: cart-i0, type: depends_on}
  - {from: cart-i0, to: cart-vm, type: runs_on}
  - {from: cart-vm, to: esx-1, type: runs_on}
  - {from: billing, to: cart, type: depends_on}
  - {from: shop, to: reports, type: depends_on}
  - {from: reports, to: reports-db, type: depends_on}
  - {from: admin, to: cart, type: depends_on}
  - {from: admin, to: reports, type: depends_on}
"#;

#[test]
fn an_outright_alert_explained_only_by_a_warning_above_follows_the_failure_it_shares_a_node_with() {
    // esx-1 goes down; its impact climbs through the silent cart service to billing, which
    // depends on cart too. A one-off CronJobMissed warning fires on reports-db, two hops above
    // the shop; then the shop's SLO burns. A degraded database explains no outage: the SLO
    // follows the failure whose member shares the silent cart node with it, and the warning
    // stays apart.
    let mut h = Harness::with_topology("", SPREADING_BELOW_TOPO);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(warning(40, "HighErrorRate", "billing"))
        .push(warning(70, "CronJobMissed", "reports-db"))
        .push(critical(90, "SLOBurnRateHigh", "shop"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CronJobMissed@reports-db"]),
            g(&[
                "HighErrorRate@billing",
                "HypervisorDown@esx-1",
                "SLOBurnRateHigh@shop"
            ]),
        ]
    );
    // The database failing outright explains it: the SLO joins that failure, as before (a
    // shared symptom joins the failure above it that explains it, and bridges nothing).
    let mut h = Harness::with_topology("", SPREADING_BELOW_TOPO);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(warning(40, "HighErrorRate", "billing"))
        .push(critical(70, "DatabaseDown", "reports-db"))
        .push(critical(90, "SLOBurnRateHigh", "shop"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@reports-db", "SLOBurnRateHigh@shop"]),
            g(&["HighErrorRate@billing", "HypervisorDown@esx-1"]),
        ]
    );
    // An outright alert on a service that is no business service on top (admin, which nothing
    // depends on, on the same two branches) may be a failure of its own: the warning above it
    // keeps it apart from the outage below, as before.
    let mut h = Harness::with_topology("", SPREADING_BELOW_TOPO);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(warning(40, "HighErrorRate", "billing"))
        .push(warning(70, "CronJobMissed", "reports-db"))
        .push(critical(90, "DeploymentFailed", "admin"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CronJobMissed@reports-db", "DeploymentFailed@admin"]),
            g(&["HighErrorRate@billing", "HypervisorDown@esx-1"]),
        ]
    );
    // A warning on the shop links through no silent node, but follows the failure by the
    // remote-effect link all the same: still spreading through cart (billing, behind it, joined
    // 50 s before), it explains the warning better than the degraded database does (see
    // `a_warning_offered_only_warnings_follows_the_failure_spreading_further_up`).
    let mut h = Harness::with_topology("", SPREADING_BELOW_TOPO);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(warning(40, "HighErrorRate", "billing"))
        .push(warning(70, "CronJobMissed", "reports-db"))
        .push(warning(90, "HighLatency", "shop"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CronJobMissed@reports-db"]),
            g(&[
                "HighErrorRate@billing",
                "HighLatency@shop",
                "HypervisorDown@esx-1"
            ]),
        ]
    );
}

/// A service four hops below a switch (through its API's instance and VM) and three below a
/// hypervisor on another branch; a batch job's instance on the same VM as the API's.
const WARNING_BELOW_TWO_BRANCHES_TOPO: &str = r#"
nodes:
  - {id: web, kind: service, service: web}
  - {id: api, kind: service, service: api}
  - {id: api-i0, kind: service instance, service: api}
  - {id: vm-1, kind: host}
  - {id: tor-1, kind: switch}
  - {id: batch-i0, kind: service instance, service: batch}
  - {id: cache, kind: service, service: cache}
  - {id: cache-vm, kind: host}
  - {id: cache-esx, kind: hypervisor}
edges:
  - {from: web, to: api, type: depends_on}
  - {from: api, to: api-i0, type: depends_on}
  - {from: api-i0, to: vm-1, type: runs_on}
  - {from: vm-1, to: tor-1, type: depends_on}
  - {from: batch-i0, to: vm-1, type: runs_on}
  - {from: web, to: cache, type: depends_on}
  - {from: cache, to: cache-vm, type: runs_on}
  - {from: cache-vm, to: cache-esx, type: runs_on}
"#;

#[test]
fn a_warning_offered_only_warnings_follows_the_failure_spreading_further_up() {
    // tor-1 goes down; 40 s before web's error rate rises, its impact reaches batch-i0 on vm-1,
    // a node web depends on three hops up: the failure is spreading towards web. A CPUHigh
    // warning on cache-esx, three hops above web on another branch, offers web a link, but a
    // degraded neighbour explains a symptom less well than a failure: web's warning joins the
    // switch's failure, four hops up (beyond impact_hops), and CPUHigh stays apart.
    let mut h = Harness::with_topology("", WARNING_BELOW_TWO_BRANCHES_TOPO);
    h.push(critical(0, "SwitchDown", "tor-1"))
        .push(critical(50, "TargetDown", "batch-i0"))
        .push(warning(80, "CPUHigh", "cache-esx"))
        .push(warning(90, "HighErrorRate", "web"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CPUHigh@cache-esx"]),
            g(&[
                "HighErrorRate@web",
                "SwitchDown@tor-1",
                "TargetDown@batch-i0"
            ]),
        ]
    );
    // Nothing of the switch's failure arrived behind web's dependencies in the scrape interval
    // before it (batch-i0 failed 70 s before): no sign that it is spreading towards web, so the
    // warning above explains it, as before.
    let mut h = Harness::with_topology("", WARNING_BELOW_TWO_BRANCHES_TOPO);
    h.push(critical(0, "SwitchDown", "tor-1"))
        .push(critical(20, "TargetDown", "batch-i0"))
        .push(warning(80, "CPUHigh", "cache-esx"))
        .push(warning(90, "HighErrorRate", "web"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CPUHigh@cache-esx", "HighErrorRate@web"]),
            g(&["SwitchDown@tor-1", "TargetDown@batch-i0"]),
        ]
    );
}

#[test]
fn a_recurring_member_no_longer_makes_its_node_an_alerting_one() {
    // A chronic check on tor-a first fires with a real failure below it and stays in that
    // incident; after it has come back twice, its firing says nothing about tor-a any more, so
    // host-a2 failing later is a failure of its own.
    let mut h = Harness::new("");
    h.fire(0, "CertificateExpiringSoon", "tor-a")
        .fire(10, "HostDown", "host-a1")
        .resolve(100, "CertificateExpiringSoon", "tor-a")
        .fire(200, "CertificateExpiringSoon", "tor-a")
        .resolve(300, "CertificateExpiringSoon", "tor-a")
        .fire(400, "CertificateExpiringSoon", "tor-a")
        .fire(700, "HostDown", "host-a2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CertificateExpiringSoon@tor-a", "HostDown@host-a1"]),
            g(&["HostDown@host-a2"]),
        ]
    );
    assert_eq!(
        h.engine
            .alert_state("CertificateExpiringSoon@tor-a")
            .unwrap()
            .flap
            .refires,
        2
    );
}

#[test]
fn a_deep_guess_at_a_silent_cause_joins_but_never_bridges() {
    // hr-portal alerts alone; host-a1 fails separately. esx-1 then alerts: it runs on the
    // failed host-a1 (impact, one hop: strong), and it is three hops above hr-portal, more than
    // a common cause may reach (max_hops 2): that guess is enough to join an incident but not to
    // merge two, so hr-portal keeps its own incident.
    let mut h = Harness::new("");
    h.fire(0, "PortalErrors", "hr-portal")
        .fire(10, "HostDown", "host-a1")
        .fire(30, "VMDown", "esx-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "VMDown@esx-1"]),
            g(&["PortalErrors@hr-portal"]),
        ]
    );
    // With only that guess to go on, esx-1 joins hr-portal's incident.
    let mut h = Harness::new("");
    h.fire(0, "PortalErrors", "hr-portal")
        .fire(30, "VMDown", "esx-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["PortalErrors@hr-portal", "VMDown@esx-1"])]
    );
}

/// The root cause named by the incident holding `fingerprint`.
fn root_of(h: &Harness, fingerprint: &str) -> String {
    h.incidents()
        .values()
        .find(|u| {
            u.payload
                .custom_details
                .alerts
                .iter()
                .any(|a| a == fingerprint)
        })
        .map(|u| u.payload.custom_details.root_cause.resource.to_string())
        .unwrap_or_default()
}

#[test]
fn a_cause_does_not_start_failing_after_its_effects() {
    // host-a1 fails; three minutes later tor-a above it alerts. Effects follow their cause, and
    // a cause's alert lags them by a scrape interval at most: tor-a cannot explain host-a1, so it
    // is a second failure. host-a2 failing right after tor-a is tor-a's impact.
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a1")
        .fire(180, "SwitchDown", "tor-a")
        .fire(200, "HostUnreachable", "host-a2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1"]),
            g(&["HostUnreachable@host-a2", "SwitchDown@tor-a"]),
        ]
    );
    assert_eq!(root_of(&h, "SwitchDown@tor-a"), "tor-a");
    assert_eq!(root_of(&h, "HostDown@host-a1"), "host-a1");
    // Within the scrape interval, the switch's alert is late news of the cause: one incident.
    let mut h = Harness::new("");
    h.fire(0, "HostDown", "host-a1")
        .fire(40, "SwitchDown", "tor-a")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a1", "SwitchDown@tor-a"])]
    );
    assert_eq!(root_of(&h, "HostDown@host-a1"), "tor-a");
}

/// A core switch above two distribution switches, a top-of-rack switch under the second.
const CORE_TOPO: &str = r#"
nodes:
  - {id: core-1, kind: switch}
  - {id: dist-1, kind: switch}
  - {id: dist-2, kind: switch}
  - {id: tor-2, kind: switch}
edges:
  - {from: dist-1, to: core-1, type: depends_on}
  - {from: dist-2, to: core-1, type: depends_on}
  - {from: tor-2, to: dist-2, type: depends_on}
"#;

#[test]
fn a_cause_that_alerts_after_its_effects_does_not_make_them_one_failure() {
    // dist-1 fails; 50 s later tor-2, under the other distribution switch, fails on its own (too
    // far from dist-1 for a silent common cause). core-1, above both, alerts 58 s after dist-1:
    // within the scrape interval a cause may lag, so it may be the late cause of either, or a
    // failure of its own starting just after them. Its late alert is no evidence that the two
    // are one failure: it joins the one it lags least (the most recent, as for a shared
    // symptom) and merges nothing.
    let mut h = Harness::with_topology("", CORE_TOPO);
    h.fire(0, "SwitchDown", "dist-1")
        .fire(50, "SwitchDown", "tor-2")
        .fire(58, "SwitchDown", "core-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["SwitchDown@core-1", "SwitchDown@tor-2"]),
            g(&["SwitchDown@dist-1"]),
        ]
    );
    assert_eq!(h.engine.stats().incidents_merged, 0);
    // Alone, a late cause still joins its effect, and a cause that alerts first still gathers
    // the failures of its dependents into one.
    let mut h = Harness::with_topology("", CORE_TOPO);
    h.fire(0, "SwitchDown", "dist-1")
        .fire(58, "SwitchDown", "core-1")
        .fire(70, "SwitchDown", "dist-2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "SwitchDown@core-1",
            "SwitchDown@dist-1",
            "SwitchDown@dist-2"
        ])]
    );
    assert_eq!(root_of(&h, "SwitchDown@dist-1"), "core-1");
}

/// A checkout service that needs both a database and a cache; two VMs share a hypervisor.
const SHARED_TOPO: &str = r#"
nodes:
  - {id: db-orders, kind: database}
  - {id: cache-1, kind: cache}
  - {id: checkout, kind: service, service: shop}
  - {id: esx-9, kind: hypervisor}
  - {id: vm-1, kind: vm}
  - {id: vm-2, kind: vm}
  - {id: svc-1a, kind: service}
  - {id: svc-1b, kind: service}
edges:
  - {from: checkout, to: db-orders, type: depends_on}
  - {from: checkout, to: cache-1, type: depends_on}
  - {from: vm-1, to: esx-9, type: runs_on}
  - {from: vm-2, to: esx-9, type: runs_on}
  - {from: svc-1a, to: vm-1, type: runs_on}
  - {from: svc-1b, to: vm-1, type: runs_on}
"#;

/// A business service on two services, one of which reaches its VM through a silent instance.
const TWO_PATHS_TOPO: &str = r#"
nodes:
  - {id: shop, kind: business_service}
  - {id: cart, kind: service}
  - {id: db-cart, kind: database}
  - {id: pay, kind: service}
  - {id: pay-i0, kind: service_instance}
  - {id: vm-pay, kind: vm}
edges:
  - {from: shop, to: cart, type: depends_on}
  - {from: cart, to: db-cart, type: depends_on}
  - {from: shop, to: pay, type: depends_on}
  - {from: pay, to: pay-i0, type: depends_on}
  - {from: pay-i0, to: vm-pay, type: runs_on}
"#;

#[test]
fn a_shared_symptom_goes_to_a_failure_alerting_near_it_before_one_further_up() {
    // The cart database fails and cart with it; vm-pay fails a minute later. shop's SLO burn
    // ten seconds after that is a symptom of both: of cart, a service it calls, alerting one
    // hop above it, and of vm-pay, three hops above through pay and pay-i0, neither alerting.
    // An alerting node within `max_hops` is observed evidence; one further up reaches the
    // symptom only through layers that show no failure (the engine calls that link weak when it
    // runs from cause to effects). shop joins cart's failure, however recent vm-pay's.
    let mut h = Harness::with_topology("", TWO_PATHS_TOPO);
    h.fire(0, "DatabaseDown", "db-cart")
        .fire(20, "HighErrorRate", "cart")
        .fire(60, "HostDown", "vm-pay")
        .fire(70, "SLOBurnRateHigh", "shop")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "DatabaseDown@db-cart",
                "HighErrorRate@cart",
                "SLOBurnRateHigh@shop"
            ]),
            g(&["HostDown@vm-pay"]),
        ]
    );
    assert_eq!(h.engine.stats().incidents_merged, 0);
    // With only the far explanation, it is still the symptom's cause.
    let mut h = Harness::with_topology("", TWO_PATHS_TOPO);
    h.fire(60, "HostDown", "vm-pay")
        .fire(70, "SLOBurnRateHigh", "shop")
        .finish();
    assert_eq!(h.groups().len(), 1);
    // Once pay alerts, vm-pay's failure is observed one hop above shop, and the failure that
    // started within a scrape interval before shop explains it again (cart's errors began more
    // than one before it: they would already have shown).
    let mut h = Harness::with_topology("", TWO_PATHS_TOPO);
    h.fire(0, "DatabaseDown", "db-cart")
        .fire(5, "HighErrorRate", "cart")
        .fire(60, "HostDown", "vm-pay")
        .fire(65, "TargetDown", "pay")
        .fire(70, "SLOBurnRateHigh", "shop")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-cart", "HighErrorRate@cart"]),
            g(&["HostDown@vm-pay", "SLOBurnRateHigh@shop", "TargetDown@pay"]),
        ]
    );
}

#[test]
fn a_symptom_shared_by_two_failures_does_not_merge_them() {
    // db-orders and cache-1 fail independently; checkout, which needs both, starts failing ten
    // seconds after the cache. It is a symptom below two alerting causes: it joins the one that
    // started most recently (the database has been down for two minutes without hurting it) and
    // does not make the two failures one. A second alert on checkout joins the first one's
    // incident and bridges nothing either.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "DatabaseDown", "db-orders")
        .fire(120, "CacheDown", "cache-1")
        .fire(130, "HighErrorRate", "checkout")
        .fire(140, "HighLatency", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "CacheDown@cache-1",
                "HighErrorRate@checkout",
                "HighLatency@checkout"
            ]),
            g(&["DatabaseDown@db-orders"]),
        ]
    );
    assert_eq!(h.engine.stats().incidents_merged, 0);
    assert_eq!(root_of(&h, "HighErrorRate@checkout"), "cache-1");
    // A warning on the cache says it is degraded, not failed: the failed database explains
    // checkout's errors better, however recent the warning.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    let mut evictions = alert(30, "CacheEvictionsHigh", "cache-1", Status::Firing);
    evictions.severity = Severity::Warning;
    h.fire(0, "DatabaseDown", "db-orders")
        .push(evictions)
        .fire(40, "HighErrorRate", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CacheEvictionsHigh@cache-1"]),
            g(&["DatabaseDown@db-orders", "HighErrorRate@checkout"]),
        ]
    );
}

#[test]
fn an_alerting_node_explaining_most_of_an_incident_beats_a_silent_guess() {
    // vm-1 fails with both its services; vm-2, on the same hypervisor, fails within the scrape
    // interval. They share the silent esx-9, so they are one incident, but vm-1 explains three
    // of its four resources: the observed failure is named, not the silent hypervisor.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "InstanceDown", "vm-1")
        .fire(10, "TargetDown", "svc-1a")
        .fire(15, "TargetDown", "svc-1b")
        .fire(50, "InstanceDown", "vm-2")
        .finish();
    assert_eq!(h.groups().len(), 1);
    assert_eq!(root_of(&h, "InstanceDown@vm-2"), "vm-1");
    // Two lone VMs failing together: no alerting node explains more than itself, and the
    // hypervisor they share is named as the monitoring gap.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "InstanceDown", "vm-1")
        .fire(5, "InstanceDown", "vm-2")
        .finish();
    assert_eq!(root_of(&h, "InstanceDown@vm-2"), "esx-9");
    // vm-2 failing a minute and a half after vm-1 did not lose a hypervisor they share (vm-1
    // would have lost it as soon): a failure of its own, named on its own.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "InstanceDown", "vm-1")
        .fire(10, "TargetDown", "svc-1a")
        .fire(90, "InstanceDown", "vm-2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["InstanceDown@vm-1", "TargetDown@svc-1a"]),
            g(&["InstanceDown@vm-2"]),
        ]
    );
    assert_eq!(root_of(&h, "InstanceDown@vm-2"), "vm-2");
}

#[test]
fn a_warning_does_not_claim_the_failures_of_its_dependents() {
    // db-1 runs on esx-1. The database fails; a disk warning on esx-1 twenty seconds later says
    // the hypervisor is degraded, not down: it does not explain the database and stays apart.
    let mut h = Harness::new("");
    let mut disk = alert(20, "DiskSpaceLow", "esx-1", Status::Firing);
    disk.severity = Severity::Warning;
    h.fire(0, "DatabaseDown", "db-1").push(disk).finish();
    assert_eq!(
        h.groups(),
        vec![g(&["DatabaseDown@db-1"]), g(&["DiskSpaceLow@esx-1"])]
    );
    // The hypervisor going down is the database's cause.
    let mut h = Harness::new("");
    h.fire(0, "DatabaseDown", "db-1")
        .fire(20, "HypervisorDown", "esx-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["DatabaseDown@db-1", "HypervisorDown@esx-1"])]
    );
    assert_eq!(root_of(&h, "DatabaseDown@db-1"), "esx-1");
    // Nor is a warning evidence that a silent shared upstream failed: a clock-skew warning on
    // host-a3 beside host-a2 going down does not guess tor-a down and stays apart.
    let mut h = Harness::new("");
    let mut skew = alert(10, "NTPClockSkew", "host-a3", Status::Firing);
    skew.severity = Severity::Warning;
    h.fire(0, "HostDown", "host-a2").push(skew).finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2"]), g(&["NTPClockSkew@host-a3"])]
    );
    // A warning below a failed node is still that failure's symptom.
    let mut h = Harness::new("");
    let mut latency = alert(30, "HighLatency", "payroll-api", Status::Firing);
    latency.severity = Severity::Warning;
    h.fire(0, "DatabaseDown", "db-1").push(latency).finish();
    assert_eq!(
        h.groups(),
        vec![g(&["DatabaseDown@db-1", "HighLatency@payroll-api"])]
    );
}

/// An alert as a Prometheus exporter sends it: `cluster` locates it, `instance` names the
/// resource (so it says nothing about which check this is).
fn scraped(secs: i64, name: &str, resource: &str, cluster: &str) -> Alert {
    let mut a = alert(secs, name, resource, Status::Firing);
    a.labels = vec![
        ("cluster".into(), cluster.into()),
        ("instance".into(), format!("{resource}:9100").into()),
    ];
    a
}

#[test]
fn an_unknown_resource_joins_the_failure_where_the_same_check_fires_at_the_same_moment() {
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .push(scraped(10, "HostDown", "host-a1", "dc1"))
        // Another failure in the other cluster, same check, same moment: its own incident.
        .push(scraped(12, "HostDown", "island", "dc2"))
        // An unregistered host of cluster dc1 goes down with host-a1: the same check in the
        // same cluster within a scrape interval is the only evidence, and it is enough to join.
        .push(scraped(25, "HostDown", "host-a9-unregistered", "dc1"))
        // A different check at the same moment is no evidence; nor is the same check minutes on.
        .push(scraped(26, "DiskFull", "disk-box", "dc1"))
        .push(scraped(200, "HostDown", "ghost-later", "dc1"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DiskFull@disk-box"]),
            g(&["HostDown@ghost-later"]),
            g(&[
                "HostDown@host-a1",
                "HostDown@host-a9-unregistered",
                "SwitchDown@tor-a"
            ]),
            g(&["HostDown@island"]),
        ]
    );
}

#[test]
fn a_check_firing_at_the_same_moment_never_links_resources_the_cmdb_knows() {
    let mut h = Harness::new("");
    // island and host-b2 are unrelated in the topology: the same check failing on both within
    // seconds is two failures (the CMDB decides for resources it knows). An unregistered host
    // with the same check joins the failure nearest in time, and bridges nothing.
    h.push(scraped(0, "HostDown", "island", "dc1"))
        .push(scraped(40, "HostDown", "host-b2", "dc1"))
        .push(scraped(45, "HostDown", "host-b9-unregistered", "dc1"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-b2", "HostDown@host-b9-unregistered"]),
            g(&["HostDown@island"]),
        ]
    );
}

#[test]
fn a_symptom_the_cmdb_does_not_know_recovers_with_its_cause() {
    // island and host-b2 go down with the same check; the unregistered host's alert, nearest in
    // time to host-b2's, joins that failure (the only evidence when it starts).
    let co_firing = |h: &mut Harness| {
        h.push(scraped(0, "HostDown", "island", "dc1"))
            .push(scraped(40, "HostDown", "host-b2", "dc1"))
            .push(scraped(45, "HostDown", "host-b9-unregistered", "dc1"))
            .resolve(300, "HostDown", "host-b2");
    };
    // host-b2 recovers at 300 s while the unregistered host keeps failing until 900 s, when it
    // recovers with island: host-b2's failure was not its cause, island's was. It moves there.
    let mut h = Harness::new("");
    co_firing(&mut h);
    h.resolve(895, "HostDown", "island")
        .resolve(900, "HostDown", "host-b9-unregistered")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-b2"]),
            g(&["HostDown@host-b9-unregistered", "HostDown@island"]),
        ]
    );
    // Recovering within a scrape interval of host-b2 (monitors see a recovery at different
    // moments), it recovered with host-b2: it stays.
    let mut h = Harness::new("");
    co_firing(&mut h);
    h.resolve(330, "HostDown", "host-b9-unregistered")
        .resolve(895, "HostDown", "island")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-b2", "HostDown@host-b9-unregistered"]),
            g(&["HostDown@island"]),
        ]
    );
    // island recovered a scrape interval and more before it too: nothing recovered with it, so
    // nothing says where it belongs better than where it started. It stays.
    let mut h = Harness::new("");
    co_firing(&mut h);
    h.resolve(400, "HostDown", "island")
        .resolve(900, "HostDown", "host-b9-unregistered")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-b2", "HostDown@host-b9-unregistered"]),
            g(&["HostDown@island"]),
        ]
    );
}

#[test]
fn a_co_firing_unknown_resource_is_gathered_whichever_arrives_first() {
    let mut h = Harness::new("");
    // The unregistered host's alert arrives first and opens an incident of its own; host-a1,
    // linked to the switch through the topology, brings it in when the same check fires on it.
    h.push(scraped(0, "HostDown", "host-a9-unregistered", "dc1"))
        .fire(5, "SwitchDown", "tor-a")
        .push(scraped(10, "HostDown", "host-a1", "dc1"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "HostDown@host-a1",
            "HostDown@host-a9-unregistered",
            "SwitchDown@tor-a"
        ])]
    );
}

#[test]
fn a_co_firing_guess_moves_to_a_nearer_start_of_the_same_check_arriving_later() {
    // tor-a's failure takes host-a1 down at 10 s; island, unrelated to it in the topology,
    // goes down at 47 s. An unregistered host fails with the same check at 45 s: nearest in
    // time, it is island's failure, whichever of the two arrives first.
    let groups_in = |unknown_first: bool| {
        let mut h = Harness::new("");
        h.fire(0, "SwitchDown", "tor-a")
            .push(scraped(10, "HostDown", "host-a1", "dc1"));
        let (unknown, known) = (
            scraped(45, "HostDown", "host-b9-unregistered", "dc1"),
            scraped(47, "HostDown", "island", "dc1"),
        );
        if unknown_first {
            // Alone it joins tor-a's failure (35 s away), then leaves it when island arrives.
            h.push(unknown).push(known);
        } else {
            h.push(known).push(unknown);
        }
        h.finish();
        h.groups()
    };
    let expected = vec![
        g(&["HostDown@host-a1", "SwitchDown@tor-a"]),
        g(&["HostDown@island", "HostDown@host-b9-unregistered"]),
    ];
    assert_eq!(groups_in(false), expected);
    assert_eq!(groups_in(true), expected);
}

#[test]
fn a_check_flapping_on_one_resource_does_not_co_fire_as_if_it_started_again() {
    // host-a1 goes down with tor-a at 10 s, recovers at 30 s and goes down again at 100 s: its
    // check did not start at 100 s, it flaps. island goes down at 135 s. An unregistered host
    // failing with the same check at 110 s co-fires with island (25 s away), not with the
    // flap (the check started on host-a1 100 s before it).
    let mut recovered = scraped(30, "HostDown", "host-a1", "dc1");
    recovered.status = Status::Resolved;
    recovered.ends_at = Some(recovered.starts_at);
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .push(scraped(10, "HostDown", "host-a1", "dc1"))
        .push(recovered)
        .push(scraped(100, "HostDown", "host-a1", "dc1"))
        .push(scraped(135, "HostDown", "island", "dc1"))
        .push(scraped(110, "HostDown", "host-b9-unregistered", "dc1"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "SwitchDown@tor-a"]),
            g(&["HostDown@island", "HostDown@host-b9-unregistered"]),
        ]
    );
}

#[test]
fn a_co_firing_guess_that_another_member_joined_through_stays() {
    // As above, but a second alert on the unregistered host joins tor-a's incident through it
    // (same resource) before island arrives: the guess has become evidence there, and stays.
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .push(scraped(10, "HostDown", "host-a1", "dc1"))
        .push(scraped(45, "HostDown", "host-b9-unregistered", "dc1"))
        .push(scraped(46, "PingLoss", "host-b9-unregistered", "dc1"))
        .push(scraped(47, "HostDown", "island", "dc1"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "HostDown@host-a1",
                "HostDown@host-b9-unregistered",
                "PingLoss@host-b9-unregistered",
                "SwitchDown@tor-a"
            ]),
            g(&["HostDown@island"]),
        ]
    );
}

#[test]
fn an_unknown_resource_of_a_known_service_joins_a_failure_upstream_of_that_service() {
    let mut h = Harness::new("");
    let of_service = |secs: i64, name: &str, resource: &str, service: &str| {
        let mut a = alert(secs, name, resource, Status::Firing);
        a.service = Some(service.into());
        a
    };
    // hr-portal (service hr) calls payroll-api, which calls db-1: an unregistered hr instance
    // failing 40 s after db-1 went down is db-1's impact, though no hr alert is in the incident.
    h.fire(100, "DatabaseDown", "db-1")
        .push(of_service(140, "HighErrorRate", "hr-portal-5b7d", "hr"))
        // Nothing upstream of shop's nodes (web-b) is failing when this one starts; host-b1,
        // under web-b, fails only afterwards: a cause does not start after its effect.
        .push(of_service(140, "HighErrorRate", "shop-9f3c", "shop"))
        .fire(150, "HostDown", "host-b1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "HighErrorRate@hr-portal-5b7d"]),
            g(&["HighErrorRate@shop-9f3c"]),
            g(&["HostDown@host-b1"]),
        ]
    );
}

/// A service with an instance on each of two VMs; a batch job also runs on the first VM.
const PLACED_TOPO: &str = r#"
nodes:
  - {id: api, kind: service, service: pay}
  - {id: api-i0, kind: service_instance, service: pay}
  - {id: api-i1, kind: service_instance, service: pay}
  - {id: vm-0, kind: vm}
  - {id: vm-1, kind: vm}
  - {id: batch, kind: service}
edges:
  - {from: api, to: api-i0, type: depends_on}
  - {from: api, to: api-i1, type: depends_on}
  - {from: api-i0, to: vm-0, type: runs_on}
  - {from: api-i1, to: vm-1, type: runs_on}
  - {from: batch, to: vm-0, type: runs_on}
"#;

#[test]
fn an_unknown_resource_of_a_service_joins_the_failure_that_started_there_most_recently() {
    // vm-0 went down two minutes ago (its batch job failed with it), vm-1 ten seconds ago; both
    // carry an instance of pay. An unregistered pay instance failing now is placed in its
    // service by both: like a symptom shared by two failures, it joins the one that started
    // most recently (an older failure would already have caused it), not the one whose
    // incident happened to be active last.
    let mut h = Harness::with_topology("", PLACED_TOPO);
    let mut unknown = alert(130, "HighErrorRate", "api-7f2c", Status::Firing);
    unknown.service = Some("pay".into());
    h.fire(0, "HostDown", "vm-0")
        .fire(30, "JobFailed", "batch")
        .fire(120, "HostDown", "vm-1")
        .push(unknown)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HighErrorRate@api-7f2c", "HostDown@vm-1"]),
            g(&["HostDown@vm-0", "JobFailed@batch"]),
        ]
    );
    assert_eq!(h.engine.stats().incidents_merged, 0);
}

#[test]
fn an_unknown_resource_of_a_service_recovers_with_the_failure_that_caused_it() {
    // As above (without the batch job): the unregistered pay instance joins vm-1's failure,
    // the most recent start in its service, and passes over vm-0's.
    let placed = |h: &mut Harness| {
        let mut unknown = alert(130, "HighErrorRate", "api-7f2c", Status::Firing);
        unknown.service = Some("pay".into());
        h.fire(0, "HostDown", "vm-0")
            .fire(120, "HostDown", "vm-1")
            .push(unknown);
    };
    let vm0 = g(&["HostDown@vm-0"]);
    let vm1 = g(&["HostDown@vm-1"]);
    let with = |group: &[String]| {
        let mut v = group.to_vec();
        v.push("HighErrorRate@api-7f2c".to_string());
        v.sort();
        v
    };
    // vm-0 comes back at 600 s and the instance 20 s later, while vm-1 stays down until
    // 2,000 s: it recovered with vm-0's failure, not with vm-1's, which went on without it.
    let mut h = Harness::with_topology("", PLACED_TOPO);
    placed(&mut h);
    h.resolve(600, "HostDown", "vm-0")
        .resolve(620, "HighErrorRate", "api-7f2c")
        .resolve(2_000, "HostDown", "vm-1")
        .finish();
    assert_eq!(h.groups(), vec![with(&vm0), vm1.clone()]);
    // vm-1 comes back 30 s after the instance (monitors see a recovery at different moments):
    // it recovered with vm-1's failure too, and nothing tells the two apart. It stays.
    let mut h = Harness::with_topology("", PLACED_TOPO);
    placed(&mut h);
    h.resolve(600, "HostDown", "vm-0")
        .resolve(620, "HighErrorRate", "api-7f2c")
        .resolve(650, "HostDown", "vm-1")
        .finish();
    assert_eq!(h.groups(), vec![with(&vm1), vm0.clone()]);
    // It fires again 30 s later: a check flapping while vm-1 is down, not a recovery. It stays.
    let mut h = Harness::with_topology("", PLACED_TOPO);
    placed(&mut h);
    let mut again = alert(650, "HighErrorRate", "api-7f2c", Status::Firing);
    again.service = Some("pay".into());
    h.resolve(600, "HostDown", "vm-0")
        .resolve(620, "HighErrorRate", "api-7f2c")
        .push(again)
        .resolve(2_000, "HostDown", "vm-1")
        .resolve(2_000, "HighErrorRate", "api-7f2c")
        .finish();
    assert_eq!(h.groups(), vec![with(&vm1), vm0]);
}

#[test]
fn a_co_firing_guess_recovers_with_the_failure_it_passed_over() {
    // tor-a's failure takes host-a1 down at 10 s; island, unrelated to it in the topology,
    // goes down at 40 s. An unregistered host fails with the same check at 45 s: nearest in
    // time, it joins island's failure and passes over tor-a's (35 s away).
    let placed = |h: &mut Harness| {
        h.fire(0, "SwitchDown", "tor-a")
            .push(scraped(10, "HostDown", "host-a1", "dc1"))
            .push(scraped(40, "HostDown", "island", "dc1"))
            .push(scraped(45, "HostDown", "host-x-unregistered", "dc1"));
    };
    let tor_a = g(&["HostDown@host-a1", "SwitchDown@tor-a"]);
    let island = g(&["HostDown@island"]);
    let with = |group: &[String]| {
        let mut v = group.to_vec();
        v.push("HostDown@host-x-unregistered".to_string());
        v.sort();
        v
    };
    // tor-a and host-a1 come back at 600 s and 610 s, the unregistered host at 620 s, while
    // island stays down until 2,000 s: it recovered with tor-a's failure, not with island's,
    // which went on without it. It moves there.
    let mut h = Harness::new("");
    placed(&mut h);
    h.resolve(600, "SwitchDown", "tor-a")
        .push(resolved_scraped(610, "HostDown", "host-a1", "dc1"))
        .push(resolved_scraped(
            620,
            "HostDown",
            "host-x-unregistered",
            "dc1",
        ))
        .push(resolved_scraped(2_000, "HostDown", "island", "dc1"))
        .finish();
    assert_eq!(h.groups(), vec![with(&tor_a), island.clone()]);
    // island comes back 10 s after it too: nothing tells the two failures apart. It stays.
    let mut h = Harness::new("");
    placed(&mut h);
    h.resolve(600, "SwitchDown", "tor-a")
        .push(resolved_scraped(610, "HostDown", "host-a1", "dc1"))
        .push(resolved_scraped(
            620,
            "HostDown",
            "host-x-unregistered",
            "dc1",
        ))
        .push(resolved_scraped(630, "HostDown", "island", "dc1"))
        .finish();
    assert_eq!(h.groups(), vec![tor_a, with(&island)]);
}

fn resolved_scraped(secs: i64, name: &str, resource: &str, cluster: &str) -> Alert {
    let mut a = scraped(secs, name, resource, cluster);
    a.status = Status::Resolved;
    a.ends_at = Some(T0 + secs * 1000);
    a
}

#[test]
fn a_degraded_node_is_not_named_over_a_failure_it_sits_above() {
    // A latency warning on db-1 is firing when payroll-api, which depends on it, goes down a
    // minute later: the failure joins as the warning's possible symptom, but a degraded
    // database is not an outage, and the failed service is named.
    let mut h = Harness::new("");
    let mut slow = alert(0, "SlowQueries", "db-1", Status::Firing);
    slow.severity = Severity::Warning;
    h.push(slow).fire(60, "ServiceDown", "payroll-api").finish();
    assert_eq!(
        h.groups(),
        vec![g(&["ServiceDown@payroll-api", "SlowQueries@db-1"])]
    );
    assert_eq!(root_of(&h, "ServiceDown@payroll-api"), "payroll-api");
    // With only warnings, the one upstream of the others is still named.
    let mut h = Harness::new("");
    let mut slow = alert(0, "SlowQueries", "db-1", Status::Firing);
    slow.severity = Severity::Warning;
    let mut latency = alert(30, "HighLatency", "payroll-api", Status::Firing);
    latency.severity = Severity::Warning;
    h.push(slow).push(latency).finish();
    assert_eq!(root_of(&h, "HighLatency@payroll-api"), "db-1");
}

#[test]
fn a_failure_is_no_cause_of_symptoms_another_failure_already_explains() {
    // db-orders goes down and checkout, which needs it, fails ten seconds later: the database
    // explains it. cache-1, which checkout also needs, fails thirty seconds on: checkout needs
    // no second cause, so the cache is a failure of its own, named as such, not a cause that
    // merges into the database's incident.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "DatabaseDown", "db-orders")
        .fire(10, "HighErrorRate", "checkout")
        .fire(40, "CacheDown", "cache-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CacheDown@cache-1"]),
            g(&["DatabaseDown@db-orders", "HighErrorRate@checkout"]),
        ]
    );
    assert_eq!(root_of(&h, "CacheDown@cache-1"), "cache-1");
    assert_eq!(root_of(&h, "HighErrorRate@checkout"), "db-orders");
    // A symptom nothing explains yet still takes a cause that fires after it: checkout fails
    // first, then the cache (within a scrape interval), and they are one failure.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "HighErrorRate", "checkout")
        .fire(30, "CacheDown", "cache-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["CacheDown@cache-1", "HighErrorRate@checkout"])]
    );
    assert_eq!(root_of(&h, "HighErrorRate@checkout"), "cache-1");
}

#[test]
fn a_shared_symptom_goes_to_the_first_failure_that_started_within_a_scrape_interval_before_it() {
    // The database fails, the cache half a minute later, and checkout, which needs both, fails
    // fifteen seconds after the cache. A symptom shows within a scrape interval of its cause;
    // both started within one before it, and the cache has hardly had the time: checkout joins
    // the database's failure. The two failures stay apart.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "DatabaseDown", "db-orders")
        .fire(30, "CacheDown", "cache-1")
        .fire(45, "HighErrorRate", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CacheDown@cache-1"]),
            g(&["DatabaseDown@db-orders", "HighErrorRate@checkout"]),
        ]
    );
    assert_eq!(h.engine.stats().incidents_merged, 0);
    // The database down for more than a scrape interval before checkout fails would already
    // have caused it: the cache, the most recent, is its cause.
    let mut h = Harness::with_topology("", SHARED_TOPO);
    h.fire(0, "DatabaseDown", "db-orders")
        .fire(60, "CacheDown", "cache-1")
        .fire(75, "HighErrorRate", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["CacheDown@cache-1", "HighErrorRate@checkout"]),
            g(&["DatabaseDown@db-orders"]),
        ]
    );
}

/// A hypervisor, a VM on it, a service instance on the VM, and the services above it.
const CHAIN_TOPO: &str = r#"
nodes:
  - {id: esx-1, kind: hypervisor}
  - {id: vm-1, kind: vm}
  - {id: inst-1, kind: service_instance}
  - {id: svc-1, kind: service}
  - {id: api-1, kind: service}
  - {id: web-1, kind: service}
  - {id: web-2, kind: service}
edges:
  - {from: vm-1, to: esx-1, type: runs_on}
  - {from: inst-1, to: vm-1, type: runs_on}
  - {from: svc-1, to: inst-1, type: depends_on}
  - {from: api-1, to: svc-1, type: depends_on}
  - {from: web-1, to: api-1, type: depends_on}
  - {from: web-2, to: api-1, type: depends_on}
"#;

#[test]
fn a_root_cause_has_no_failing_cause_of_its_own_among_the_members() {
    // The hypervisor fails, then the instance two hops above the services that call it, and
    // the services with it. Within the root-cause horizon (four hops) the instance explains
    // more members than the hypervisor, whose reach stops at api-1; but the instance depends on
    // the hypervisor, which failed first: the hypervisor is upstream of everything the instance
    // explains, and is named.
    let fire_services = |h: &mut Harness| {
        h.fire(20, "HighErrorRate", "svc-1")
            .fire(30, "HighErrorRate", "api-1")
            .fire(40, "SLOBurnRateHigh", "web-1")
            .fire(41, "SLOBurnRateHigh", "web-2");
    };
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.fire(0, "HypervisorDown", "esx-1")
        .fire(10, "ContainerCrashLooping", "inst-1");
    fire_services(&mut h);
    h.finish();
    assert_eq!(h.groups().len(), 1);
    assert_eq!(root_of(&h, "HighErrorRate@svc-1"), "esx-1");
    // A hypervisor that starts failing after the instance is not what broke it first: the
    // instance, which explains the most, stays the root cause.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.fire(0, "ContainerCrashLooping", "inst-1")
        .fire(10, "HypervisorDown", "esx-1");
    fire_services(&mut h);
    h.finish();
    assert_eq!(h.groups().len(), 1);
    assert_eq!(root_of(&h, "HighErrorRate@svc-1"), "inst-1");
    // A warning on the hypervisor says it is degraded, not failed: no cause of the instance.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    let mut degraded = alert(0, "HypervisorMemoryHigh", "esx-1", Status::Firing);
    degraded.severity = Severity::Warning;
    h.push(degraded).fire(10, "ContainerCrashLooping", "inst-1");
    fire_services(&mut h);
    h.finish();
    assert_eq!(root_of(&h, "HighErrorRate@svc-1"), "inst-1");
}

#[test]
fn an_outage_of_a_resource_a_failure_only_degraded_long_before_is_a_failure_of_its_own() {
    // The instance crash-loops; within seconds its service shows the impact, a warning (its
    // error rate rises), and so does the service calling it. A minute and a half later the
    // service itself fails outright (a failed deployment). The instance's impact on the service
    // already showed, as a degradation: an outage of the service more than a scrape interval
    // after it is not that impact arriving but a failure of its own, in an incident of its own.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.fire(0, "ContainerCrashLooping", "inst-1")
        .push(warning(3, "HighErrorRate", "svc-1"))
        .push(warning(20, "HighErrorRate", "api-1"))
        .fire(84, "DeploymentFailed", "svc-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "ContainerCrashLooping@inst-1",
                "HighErrorRate@api-1",
                "HighErrorRate@svc-1"
            ]),
            g(&["DeploymentFailed@svc-1"]),
        ]
    );
    assert_eq!(root_of(&h, "DeploymentFailed@svc-1"), "svc-1");
    // Within a scrape interval of the warning, the outage is the same impact still arriving
    // (monitors notice it at different moments): one incident.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.fire(0, "ContainerCrashLooping", "inst-1")
        .push(warning(3, "HighErrorRate", "svc-1"))
        .fire(60, "DeploymentFailed", "svc-1")
        .finish();
    assert_eq!(h.groups().len(), 1);
    // A warning there from before the incident failed is no impact of it: the service's later
    // outage is the instance's impact reaching it, and joins.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.push(warning(0, "HighLatency", "svc-1"))
        .fire(30, "ContainerCrashLooping", "inst-1")
        .fire(100, "HighErrorRate", "svc-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "ContainerCrashLooping@inst-1",
            "HighErrorRate@svc-1",
            "HighLatency@svc-1"
        ])]
    );
}

#[test]
fn a_failure_worse_than_the_impact_its_resource_already_showed_is_a_failure_of_its_own() {
    // The hypervisor goes down; 30 s later the instance two hops above it loses its target (an
    // error: the impact reaching it). 70 s after that the instance crash-loops, critical. Had the
    // hypervisor's failure been what crashed it, its worst would have shown when the impact
    // reached the instance: a crash more than a scrape interval after an impact that showed
    // less severe is a failure of its own, in an incident of its own, although the hypervisor
    // is still within a scrape interval per hop of it.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .fire(30, "TargetDown", "inst-1")
        .push(critical(100, "ContainerCrashLooping", "inst-1"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["ContainerCrashLooping@inst-1"]),
            g(&["HypervisorDown@esx-1", "TargetDown@inst-1"]),
        ]
    );
    assert_eq!(root_of(&h, "ContainerCrashLooping@inst-1"), "inst-1");
    // Within a scrape interval of the first impact, it is the same impact still arriving at its
    // worst (monitors notice it at different moments): one incident.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .fire(30, "TargetDown", "inst-1")
        .push(critical(85, "ContainerCrashLooping", "inst-1"))
        .finish();
    assert_eq!(h.groups().len(), 1);
    // An alert no worse than what already showed is the same impact going on: it joins.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .fire(30, "TargetDown", "inst-1")
        .fire(100, "HighErrorRate", "inst-1")
        .finish();
    assert_eq!(h.groups().len(), 1);
    // The instance's own failure escalating is no impact of anything else: an error that
    // opened the incident, then a critical on the same resource, stay one incident.
    let mut h = Harness::with_topology("", CHAIN_TOPO);
    h.fire(0, "TargetDown", "inst-1")
        .push(critical(100, "ContainerCrashLooping", "inst-1"))
        .finish();
    assert_eq!(h.groups().len(), 1);
}

/// A database three services call through one API: the callers are two hops below it.
const FANIN_TOPO: &str = r#"
nodes:
  - {id: db-1, kind: database}
  - {id: api-1, kind: service}
  - {id: app-1, kind: service}
  - {id: app-2, kind: service}
  - {id: app-3, kind: service}
edges:
  - {from: api-1, to: db-1, type: depends_on}
  - {from: app-1, to: api-1, type: depends_on}
  - {from: app-2, to: api-1, type: depends_on}
  - {from: app-3, to: api-1, type: depends_on}
"#;

#[test]
fn a_check_the_failure_fires_on_other_resources_is_its_impact_whatever_showed_first() {
    // The database goes down; app-3 logs an error burst (a warning) 20 s later, then the
    // failure's SLO burn alert fires on app-1 and app-2, and 80 s after app-3's warning on
    // app-3 too. What showed first on app-3 was another check; the same check the failure
    // fires on two other callers is its impact reaching app-3 as well: one incident.
    let burn = |secs, app| critical(secs, "SLOBurnRateHigh", app);
    let mut h = Harness::with_topology("", FANIN_TOPO);
    h.push(critical(0, "DatabaseDown", "db-1"))
        .push(warning(20, "LogErrorBurst", "app-3"))
        .push(burn(30, "app-1"))
        .push(burn(40, "app-2"))
        .push(burn(100, "app-3"))
        .finish();
    assert_eq!(h.groups().len(), 1, "{:?}", h.groups());
    // On one other caller only, the check is no pattern yet: app-3's outage, worse than the
    // impact it had shown long before, is a failure of its own (as before).
    let mut h = Harness::with_topology("", FANIN_TOPO);
    h.push(critical(0, "DatabaseDown", "db-1"))
        .push(warning(20, "LogErrorBurst", "app-3"))
        .push(burn(30, "app-1"))
        .push(burn(100, "app-3"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "DatabaseDown@db-1",
                "LogErrorBurst@app-3",
                "SLOBurnRateHigh@app-1"
            ]),
            g(&["SLOBurnRateHigh@app-3"]),
        ]
    );
}

#[test]
fn a_dependent_failing_long_after_the_node_above_it_is_a_failure_of_its_own() {
    // Effects follow their cause within the detection delay, a scrape interval per hop
    // (`causality::effect_too_late`, the bound a silent common cause has too): db-1 runs on
    // esx-1; failing 45 s after the hypervisor went down it is its impact, and payroll-api, two
    // hops below esx-1, failing 100 s after it as well.
    let mut h = Harness::new("");
    h.fire(0, "HypervisorDown", "esx-1")
        .fire(45, "DatabaseDown", "db-1")
        .fire(100, "HighErrorRate", "payroll-api")
        .finish();
    assert_eq!(h.groups().len(), 1);
    assert_eq!(root_of(&h, "DatabaseDown@db-1"), "esx-1");
    // db-1 going down 90 s after esx-1 (one hop) would have been noticed sooner, had esx-1's
    // failure reached it: it is a failure of its own beside it, named on its own, and its
    // caller failing with it is its impact.
    let mut h = Harness::new("");
    h.fire(0, "HypervisorDown", "esx-1")
        .fire(90, "DatabaseDown", "db-1")
        .fire(110, "HighErrorRate", "payroll-api")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "HighErrorRate@payroll-api"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
    assert_eq!(root_of(&h, "DatabaseDown@db-1"), "db-1");
    // The clock runs from the latest alert on the node: a second check failing on esx-1 at
    // 60 s still explains db-1 at 90 s.
    let mut h = Harness::new("");
    h.fire(0, "HypervisorDown", "esx-1")
        .fire(60, "HypervisorUnreachable", "esx-1")
        .fire(90, "DatabaseDown", "db-1")
        .finish();
    assert_eq!(h.groups().len(), 1);
}

/// A service behind four layers of callers: the instance crash-loops, its service then fails
/// outright.
const CALLERS_TOPO: &str = r#"
nodes:
  - {id: inst-1, kind: service_instance}
  - {id: svc-1, kind: service}
  - {id: caller-1, kind: service}
  - {id: caller-2, kind: service}
  - {id: caller-3, kind: service}
  - {id: caller-4, kind: service}
edges:
  - {from: svc-1, to: inst-1, type: depends_on}
  - {from: caller-1, to: svc-1, type: depends_on}
  - {from: caller-2, to: caller-1, type: depends_on}
  - {from: caller-3, to: caller-2, type: depends_on}
  - {from: caller-4, to: caller-3, type: depends_on}
"#;

#[test]
fn a_symptom_goes_to_a_failure_within_root_cause_reach_before_one_only_degraded_callers_reach() {
    // The instance crash-loops and its impact climbs the callers as warnings, up to caller-3
    // (four hops: within the root-cause analysis' reach, `root_cause.max_hops`). Then svc-1
    // fails outright (a failed deployment, a failure of its own). caller-4 degrading next is
    // linked only to caller-3, a degraded member of the crash's incident; the crash is five
    // hops above it, further than a root cause is named, while svc-1's failure is four hops
    // above it and started just before: that failure explains it.
    let crash = |h: &mut Harness| {
        h.fire(0, "ContainerCrashLooping", "inst-1")
            .push(warning(3, "HighErrorRate", "svc-1"))
            .push(warning(20, "HighErrorRate", "caller-1"))
            .push(warning(40, "HighErrorRate", "caller-2"))
            .push(warning(60, "HighErrorRate", "caller-3"));
    };
    let impact = [
        "ContainerCrashLooping@inst-1",
        "HighErrorRate@caller-1",
        "HighErrorRate@caller-2",
        "HighErrorRate@caller-3",
        "HighErrorRate@svc-1",
    ];
    let mut h = Harness::with_topology("", CALLERS_TOPO);
    crash(&mut h);
    h.fire(84, "DeploymentFailed", "svc-1")
        .push(warning(110, "HighErrorRate", "caller-4"))
        // Linked to both (caller-3's incident, and its own resource's in the other): the
        // failure within reach comes first.
        .push(warning(112, "HighLatency", "caller-4"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&impact),
            g(&[
                "DeploymentFailed@svc-1",
                "HighErrorRate@caller-4",
                "HighLatency@caller-4"
            ]),
        ]
    );
    assert_eq!(root_of(&h, "HighErrorRate@caller-4"), "svc-1");
    // With no failure within reach, the chain of degraded callers still explains it.
    let mut h = Harness::with_topology("", CALLERS_TOPO);
    crash(&mut h);
    h.push(warning(110, "HighErrorRate", "caller-4")).finish();
    let mut all = impact.to_vec();
    all.push("HighErrorRate@caller-4");
    assert_eq!(h.groups(), vec![g(&all)]);
}

/// A rack behind a distribution switch, with silent layers in between: two hypervisors on a
/// ToR, VMs on them, a service instance on two of the VMs.
const RACK: &str = r#"
nodes:
  - {id: dist, kind: switch}
  - {id: tor, kind: switch}
  - {id: esx-1, kind: hypervisor}
  - {id: esx-2, kind: hypervisor}
  - {id: vm-1, kind: vm}
  - {id: vm-2, kind: vm}
  - {id: vm-3, kind: vm}
  - {id: svc-1, kind: service}
  - {id: svc-3, kind: service}
edges:
  - {from: tor, to: dist, type: connects_to}
  - {from: esx-1, to: tor, type: depends_on}
  - {from: esx-2, to: tor, type: depends_on}
  - {from: vm-1, to: esx-1, type: runs_on}
  - {from: vm-2, to: esx-1, type: runs_on}
  - {from: vm-3, to: esx-2, type: runs_on}
  - {from: svc-1, to: vm-1, type: runs_on}
  - {from: svc-3, to: vm-3, type: runs_on}
"#;

#[test]
fn an_outage_behind_a_silent_node_a_failure_further_up_is_spreading_through_is_its_impact() {
    // svc-1 runs on vm-1, on esx-1, on tor, on dist: four hops below dist, one more than the
    // rule's impact_hops, the three between silent. dist goes down; 60 s later vm-2, behind the
    // same silent esx-1, goes down with it (three hops: its impact). svc-1 going down 30 s
    // after that is the same failure spreading through esx-1, not a failure of its own.
    let mut h = Harness::with_topology("", RACK);
    h.fire(0, "SwitchDown", "dist")
        .fire(60, "InstanceDown", "vm-2")
        .fire(90, "TargetDown", "svc-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "InstanceDown@vm-2",
            "SwitchDown@dist",
            "TargetDown@svc-1"
        ])]
    );
    assert_eq!(root_of(&h, "TargetDown@svc-1"), "dist");
    // With nothing behind esx-1 (or tor) going down with dist, an outage four hops below it is
    // a failure of its own, as before.
    let mut h = Harness::with_topology("", RACK);
    h.fire(0, "SwitchDown", "dist")
        .fire(90, "TargetDown", "svc-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["SwitchDown@dist"]), g(&["TargetDown@svc-1"])]
    );
    // Nor once the spread behind esx-1 is over: vm-2 went down more than a scrape interval
    // before svc-1 (dist's alert is still within the four minutes of its remote effect).
    let mut h = Harness::with_topology("", RACK);
    h.fire(0, "SwitchDown", "dist")
        .fire(60, "InstanceDown", "vm-2")
        .fire(200, "TargetDown", "svc-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["InstanceDown@vm-2", "SwitchDown@dist"]),
            g(&["TargetDown@svc-1"])
        ]
    );
}

#[test]
fn a_failure_whose_impact_already_showed_on_a_resource_is_no_remote_cause_of_its_outage() {
    // dist goes down; 20 s later svc-1, four hops below it behind silent layers, degrades (a
    // warning: dist's remote effect). vm-2, behind the same silent esx-1 as svc-1, goes down at
    // 60 s: dist's failure is spreading through esx-1. svc-1 failing outright at 100 s, 80 s
    // after dist's impact on it showed as a warning, is a failure of its own: a failure's impact
    // on a resource shows at its worst when it reaches it, through whatever path, near or far.
    let mut h = Harness::with_topology("", RACK);
    h.fire(0, "SwitchDown", "dist")
        .push(warning(20, "HighLatency", "svc-1"))
        .fire(60, "InstanceDown", "vm-2")
        .fire(100, "DeploymentFailed", "svc-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DeploymentFailed@svc-1"]),
            g(&["HighLatency@svc-1", "InstanceDown@vm-2", "SwitchDown@dist"])
        ]
    );
    assert_eq!(root_of(&h, "DeploymentFailed@svc-1"), "svc-1");
    // Within a scrape interval of the warning, the outage is the same impact still arriving.
    let mut h = Harness::with_topology("", RACK);
    h.fire(0, "SwitchDown", "dist")
        .push(warning(50, "HighLatency", "svc-1"))
        .fire(60, "InstanceDown", "vm-2")
        .fire(100, "DeploymentFailed", "svc-1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "DeploymentFailed@svc-1",
            "HighLatency@svc-1",
            "InstanceDown@vm-2",
            "SwitchDown@dist"
        ])]
    );
}

#[test]
fn a_cause_reported_after_its_effects_ties_them_together_as_if_it_had_come_first() {
    // svc-1 and svc-3 are three hops below tor, each behind its own silent hypervisor and VM:
    // failing 30 s and 40 s after tor went down, they are its impact and join it.
    let mut in_order = Harness::with_topology("", RACK);
    in_order
        .fire(0, "SwitchDown", "tor")
        .fire(30, "TargetDown", "svc-1")
        .fire(40, "TargetDown", "svc-3")
        .finish();
    assert_eq!(
        in_order.groups(),
        vec![g(&[
            "SwitchDown@tor",
            "TargetDown@svc-1",
            "TargetDown@svc-3"
        ])]
    );
    // Delivered late, after both (each then opened an incident of its own), tor's alert that
    // started before them ties them together: arrival order changes nothing.
    let mut late = Harness::with_topology("", RACK);
    late.fire(30, "TargetDown", "svc-1")
        .fire(40, "TargetDown", "svc-3")
        .fire(0, "SwitchDown", "tor")
        .finish();
    assert_eq!(late.groups(), in_order.groups());
    assert_eq!(root_of(&late, "TargetDown@svc-3"), "tor");
    // An effect that starts later than tor's failure reaches three hops (a scrape interval per
    // hop) is a failure of its own in either order.
    let mut in_order = Harness::with_topology("", RACK);
    in_order
        .fire(0, "SwitchDown", "tor")
        .fire(30, "TargetDown", "svc-1")
        .fire(200, "TargetDown", "svc-3")
        .finish();
    let mut late = Harness::with_topology("", RACK);
    late.fire(30, "TargetDown", "svc-1")
        .fire(200, "TargetDown", "svc-3")
        .fire(0, "SwitchDown", "tor")
        .finish();
    assert_eq!(
        in_order.groups(),
        vec![
            g(&["SwitchDown@tor", "TargetDown@svc-1"]),
            g(&["TargetDown@svc-3"])
        ]
    );
    assert_eq!(late.groups(), in_order.groups());
}

#[test]
fn a_failure_that_recovers_apart_from_the_root_cause_it_joined_is_a_failure_of_its_own() {
    // db-1 goes down; 20 s later esx-1, the hypervisor it runs on, alerts too: within the
    // scrape interval a cause may lag its effects, so it joins db-1's incident as its late
    // cause, and the caller's errors with them. A cause's recovery brings its effects' within a
    // scrape interval per hop (and one more, for noticing each recovery): db-1 and its caller
    // recovering at 600 s while esx-1 is still re-notified as failing at 900 s (and resolves at
    // 1,500 s) were never its effects. The part that recovered together leaves as an incident
    // of its own, named after db-1; esx-1 keeps the incident.
    let late_cause = |h: &mut Harness| {
        h.push(critical(0, "DatabaseDown", "db-1"))
            .push(critical(20, "HypervisorDown", "esx-1"))
            .fire(30, "HighErrorRate", "payroll-api");
    };
    let mut h = Harness::new("");
    late_cause(&mut h);
    h.resolve(600, "DatabaseDown", "db-1")
        .resolve(610, "HighErrorRate", "payroll-api")
        .push(critical(900, "HypervisorDown", "esx-1"))
        .resolve(1500, "HypervisorDown", "esx-1")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "HighErrorRate@payroll-api"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
    assert_eq!(root_of(&h, "DatabaseDown@db-1"), "db-1");
    assert_eq!(root_of(&h, "HypervisorDown@esx-1"), "esx-1");
    // Recovering within two scrape intervals of each other (one hop), they may be cause and
    // effect: one incident.
    let mut h = Harness::new("");
    late_cause(&mut h);
    h.resolve(600, "DatabaseDown", "db-1")
        .resolve(610, "HighErrorRate", "payroll-api")
        .resolve(700, "HypervisorDown", "esx-1")
        .tick(1600)
        .finish();
    assert_eq!(h.groups().len(), 1);
    // Silence is no evidence: with no occurrence of esx-1 past the tolerance (a lost or late
    // resolve looks the same), nothing splits.
    let mut h = Harness::new("");
    late_cause(&mut h);
    h.resolve(600, "DatabaseDown", "db-1")
        .resolve(610, "HighErrorRate", "payroll-api")
        .tick(1600)
        .finish();
    assert_eq!(h.groups().len(), 1);
    // Effects recovering long after the root cause did: the hypervisor fails first and db-1
    // with it, but db-1 stays down 20 minutes after esx-1 recovered: a failure of its own.
    let mut h = Harness::new("");
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(critical(30, "DatabaseDown", "db-1"))
        .fire(40, "HighErrorRate", "payroll-api")
        .resolve(600, "HypervisorDown", "esx-1")
        .push(critical(900, "DatabaseDown", "db-1"))
        .resolve(1800, "DatabaseDown", "db-1")
        .resolve(1810, "HighErrorRate", "payroll-api")
        .tick(1900)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "HighErrorRate@payroll-api"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
    assert_eq!(root_of(&h, "DatabaseDown@db-1"), "db-1");
}

#[test]
fn two_heads_below_a_shared_upstream_that_recover_apart_are_two_failures() {
    // host-a2 and host-a3 go down 40 s apart below tor-a, which stays silent: one incident,
    // named after the switch they share (a monitoring gap?). Had the switch failed, its
    // recovery would reach both within a scrape interval per hop of it (two hops from one
    // host to the other through it, and one more for noticing each recovery). host-a2
    // recovering at 600 s while host-a3 is still re-notified as failing at 900 s (and
    // resolves at 1,500 s) says no shared cause failed: two failures, each named after its
    // own host.
    let siblings = |h: &mut Harness| {
        h.push(critical(0, "HostDown", "host-a2"))
            .push(critical(40, "HostDown", "host-a3"));
    };
    let mut h = Harness::new("");
    siblings(&mut h);
    h.tick(300);
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2", "HostDown@host-a3"])]
    );
    assert_eq!(root_of(&h, "HostDown@host-a2"), "tor-a");
    h.resolve(600, "HostDown", "host-a2")
        .push(critical(900, "HostDown", "host-a3"))
        .resolve(1500, "HostDown", "host-a3")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2"]), g(&["HostDown@host-a3"])]
    );
    assert_eq!(root_of(&h, "HostDown@host-a2"), "host-a2");
    assert_eq!(root_of(&h, "HostDown@host-a3"), "host-a3");
    // Recovering within three scrape intervals of each other, the switch may have taken both
    // down and brought both back: one incident.
    let mut h = Harness::new("");
    siblings(&mut h);
    h.resolve(600, "HostDown", "host-a2")
        .push(critical(700, "HostDown", "host-a3"))
        .resolve(750, "HostDown", "host-a3")
        .tick(1600)
        .finish();
    assert_eq!(h.groups().len(), 1);
}

#[test]
fn an_effect_that_recovered_with_the_failure_that_kept_failing_stays_with_it_and_bridges_no_split()
{
    // svc-edge's deployment fails; 30 s later svc-core, which it calls, fails too: within the
    // scrape interval a cause may lag its effects, so svc-core joins as their late cause and is
    // named; app-front, which calls svc-edge, degrades with them. svc-core recovers at 600 s,
    // svc-edge only at 800 s (one hop, 200 s apart: more than the two scrape intervals a
    // cause's recovery takes to reach its effect), so they were two failures. app-front
    // recovered at 770 s: within three scrape intervals of svc-core (two hops up) but 30 s from
    // svc-edge, the one it calls, whose failure it showed: it stays with svc-edge and no
    // longer ties the two recoveries together.
    let topo = r#"
nodes:
  - {id: svc-core, kind: service}
  - {id: svc-edge, kind: service}
  - {id: app-front, kind: service}
edges:
  - {from: svc-edge, to: svc-core, type: depends_on}
  - {from: app-front, to: svc-edge, type: depends_on}
"#;
    let two_deployments = |h: &mut Harness| {
        let mut degraded = alert(40, "HighErrorRate", "app-front", Status::Firing);
        degraded.severity = Severity::Warning;
        h.push(critical(0, "DeploymentFailed", "svc-edge"))
            .push(critical(30, "DeploymentFailed", "svc-core"))
            .push(degraded)
            .tick(300);
        assert_eq!(root_of(h, "DeploymentFailed@svc-edge"), "svc-core");
        h.resolve(600, "DeploymentFailed", "svc-core")
            .push(critical(700, "DeploymentFailed", "svc-edge"));
    };
    let mut h = Harness::with_topology("", topo);
    two_deployments(&mut h);
    h.resolve(770, "HighErrorRate", "app-front")
        .resolve(800, "DeploymentFailed", "svc-edge")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DeploymentFailed@svc-core"]),
            g(&["DeploymentFailed@svc-edge", "HighErrorRate@app-front"]),
        ]
    );
    assert_eq!(root_of(&h, "DeploymentFailed@svc-edge"), "svc-edge");
    // Recovering 150 s before svc-edge (more than two scrape intervals, one hop) and 50 s
    // after svc-core, app-front goes with svc-core's part, as it did before.
    let mut h = Harness::with_topology("", topo);
    two_deployments(&mut h);
    h.resolve(650, "HighErrorRate", "app-front")
        .resolve(800, "DeploymentFailed", "svc-edge")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DeploymentFailed@svc-core", "HighErrorRate@app-front"]),
            g(&["DeploymentFailed@svc-edge"]),
        ]
    );
}

#[test]
fn an_effect_that_recovered_before_the_cause_that_kept_failing_splits_nothing_off() {
    // esx-1 goes down; vm-a on it and app-b on vm-a follow. vm-a recovers at 600 s, its
    // hypervisor only at 800 s (one hop, 200 s: past the two scrape intervals a recovery takes
    // to reach an effect); app-b recovered at 710 s, 110 s after vm-a and 90 s before esx-1.
    // Siding app-b with the nearer recovery would leave vm-a apart as a failure of its own, but
    // an effect recovering before its cause is ordinary variance: one incident, as before.
    let topo = r#"
nodes:
  - {id: esx-1, kind: hypervisor}
  - {id: vm-a, kind: host}
  - {id: app-b, kind: service}
edges:
  - {from: vm-a, to: esx-1, type: runs_on}
  - {from: app-b, to: vm-a, type: depends_on}
"#;
    let mut h = Harness::with_topology("", topo);
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(alert(10, "InstanceDown", "vm-a", Status::Firing))
        .push(alert(20, "HighErrorRate", "app-b", Status::Firing))
        .resolve(600, "InstanceDown", "vm-a")
        .resolve(710, "HighErrorRate", "app-b")
        .push(critical(750, "HypervisorDown", "esx-1"))
        .resolve(800, "HypervisorDown", "esx-1")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "HighErrorRate@app-b",
            "HypervisorDown@esx-1",
            "InstanceDown@vm-a"
        ])]
    );
}

#[test]
fn a_failure_whose_own_effects_recovered_with_it_splits_from_the_cause_that_kept_failing() {
    // vm-1 goes down with inst-a on it; 60 s later inst-a also crash-loops. svc-a calls
    // inst-a, api-x calls svc-a, web-y calls api-x. The crash loop recovers at 600 s and
    // svc-a's errors, its own effect, 110 s later; vm-1 stays down until 1,000 s (one hop:
    // 400 s, past the 120 s a recovery takes to reach an effect), and web-y and inst-a's
    // TargetDown recover with it. api-x's latency recovered 115 s after svc-a (within the
    // 120 s of one hop) and 75 s before web-y: chained through it, the crash loop's part
    // reaches web-y, which recovered with vm-1, and the split waits for good. Sided by the
    // nearer recovery, api-x goes with vm-1, and the crash loop leaves with its own impact.
    let topo = r#"
nodes:
  - {id: vm-1, kind: host}
  - {id: inst-a, kind: service_instance}
  - {id: svc-a, kind: service}
  - {id: api-x, kind: service}
  - {id: web-y, kind: service}
edges:
  - {from: inst-a, to: vm-1, type: runs_on}
  - {from: svc-a, to: inst-a, type: depends_on}
  - {from: api-x, to: svc-a, type: depends_on}
  - {from: web-y, to: api-x, type: depends_on}
"#;
    let mut h = Harness::with_topology("", topo);
    h.push(critical(0, "HostDown", "vm-1"))
        .push(alert(10, "TargetDown", "inst-a", Status::Firing))
        .push(critical(60, "ContainerCrashLooping", "inst-a"))
        .push(alert(90, "HighErrorRate", "svc-a", Status::Firing))
        .push(warning(100, "HighLatency", "api-x"))
        .push(critical(120, "SLOBurnRateHigh", "web-y"))
        .resolve(600, "ContainerCrashLooping", "inst-a")
        .resolve(710, "HighErrorRate", "svc-a")
        .resolve(825, "HighLatency", "api-x")
        .resolve(900, "SLOBurnRateHigh", "web-y")
        .resolve(990, "TargetDown", "inst-a")
        .resolve(1000, "HostDown", "vm-1")
        .tick(2000)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["ContainerCrashLooping@inst-a", "HighErrorRate@svc-a"]),
            g(&[
                "HighLatency@api-x",
                "HostDown@vm-1",
                "SLOBurnRateHigh@web-y",
                "TargetDown@inst-a"
            ]),
        ]
    );
    // The split-off part says why it is no symptom of vm-1.
    let split_off = h
        .incidents()
        .into_values()
        .find(|u| u.payload.custom_details.alerts.len() == 2)
        .expect("the crash loop's part");
    assert!(
        split_off.payload.custom_details.explanation.iter().any(|e| e
            .contains("kept failing beyond the time a cause's recovery takes to reach its effects, and its own effects recovered with it")),
        "{:?}",
        split_off.payload.custom_details.explanation
    );
}

#[test]
fn an_outright_alert_far_below_the_root_that_recovered_apart_from_every_cause_above_it_splits_off()
{
    // web-1 calls api-1, which calls svc-1, which runs as inst-1 on vm-1 behind tor-1: five
    // hops from the switch, beyond the root-cause reach (4), so the pairs with the named root
    // never judge it. tor-1 goes down and its impact climbs to svc-1; 90 s after svc-1's
    // errors web-1's deployment fails (two hops below them: their effect by time and
    // topology) and joins. It is rolled back at 600 s while everything above it in the
    // incident stays down until 2,400 s: no failure above it explains its recovery, so it was
    // a failure of its own. So was it had it failed on long after they all recovered.
    let topo = r#"
nodes:
  - {id: tor-1, kind: switch}
  - {id: vm-1, kind: host}
  - {id: inst-1, kind: service_instance}
  - {id: svc-1, kind: service}
  - {id: api-1, kind: service}
  - {id: web-1, kind: service}
edges:
  - {from: vm-1, to: tor-1, type: depends_on}
  - {from: inst-1, to: vm-1, type: runs_on}
  - {from: svc-1, to: inst-1, type: depends_on}
  - {from: api-1, to: svc-1, type: depends_on}
  - {from: web-1, to: api-1, type: depends_on}
"#;
    let run = |deploy_recovers: i64| {
        let mut h = Harness::with_topology("", topo);
        h.push(critical(0, "SwitchDown", "tor-1"))
            .push(alert(20, "HostDown", "vm-1", Status::Firing))
            .push(alert(40, "TargetDown", "inst-1", Status::Firing))
            .push(alert(60, "HighErrorRate", "svc-1", Status::Firing))
            .push(critical(150, "DeploymentFailed", "web-1"))
            .tick(300);
        // Joined by time and topology while it fired.
        assert_eq!(h.groups().len(), 1, "{:?}", h.groups());
        let mut resolves = vec![
            (deploy_recovers, "DeploymentFailed", "web-1"),
            (2400, "HighErrorRate", "svc-1"),
            (2400, "TargetDown", "inst-1"),
            (2400, "HostDown", "vm-1"),
            (2400, "SwitchDown", "tor-1"),
        ];
        resolves.sort_by_key(|&(at, _, _)| at);
        for (at, name, resource) in resolves {
            h.resolve(at, name, resource);
        }
        h.tick(4000).finish();
        h
    };
    // The deployment split off alone, the rest stayed together, and its part's explanation
    // carries the split line that says why.
    let assert_split_off_saying = |h: &Harness, line: &str| {
        assert_eq!(
            h.groups(),
            vec![
                g(&["DeploymentFailed@web-1"]),
                g(&[
                    "HighErrorRate@svc-1",
                    "HostDown@vm-1",
                    "SwitchDown@tor-1",
                    "TargetDown@inst-1"
                ]),
            ]
        );
        let split_off = h
            .incidents()
            .into_values()
            .find(|u| u.payload.custom_details.alerts.len() == 1)
            .expect("the deployment's part");
        let explanation = &split_off.payload.custom_details.explanation;
        assert!(
            explanation.iter().any(|e| e.contains(line)),
            "{explanation:?}"
        );
    };
    let h = run(600);
    assert_split_off_saying(
        &h,
        "DeploymentFailed on web-1 recovered while HighErrorRate on svc-1 (2 hops away) kept \
         failing beyond the time a cause's recovery takes to reach its effects: so did every \
         failure above it",
    );
    // Recovering within the 180 s of two hops before svc-1 did, it may have been svc-1's
    // effect: it stays.
    let h = run(2250);
    assert_eq!(h.groups().len(), 1, "{:?}", h.groups());
    // Failing on for ten minutes after everything above it recovered, the last member of the
    // incident to recover, it outlived its causes: theirs would have brought its recovery.
    let h = run(3000);
    assert_split_off_saying(
        &h,
        "DeploymentFailed on web-1 kept failing after HighErrorRate on svc-1 (2 hops away) and \
         every other failure above it had recovered",
    );
    // Recovering within the 180 s after svc-1, it may have been its effect: it stays.
    let h = run(2550);
    assert_eq!(h.groups().len(), 1, "{:?}", h.groups());
}

#[test]
fn a_silent_guess_left_by_a_split_joins_the_failure_firing_right_below_it() {
    // svc-s runs on two instances. inst-3 crash-loops first, and svc-s's errors join it;
    // inst-1 crash-loops 30 s later and opens its own incident (svc-s's errors are already
    // explained). The callers' warnings and their business services' SLO burns, shared
    // symptoms of both, join inst-3's incident (the failure that started first within a
    // scrape interval before them). inst-3 recovers at 900 s with svc-s's errors while the
    // SLO burns go on: that part splits off, and what stays is named by a guess at the silent
    // svc-s. But svc-s depends directly on inst-1, which still crash-loops and started before
    // all of it: the guess is inst-1's failure seen from its effects, and the rest joins it.
    let topo = r#"
nodes:
  - {id: inst-1, kind: service_instance}
  - {id: inst-3, kind: service_instance}
  - {id: svc-s, kind: service}
  - {id: c-1, kind: service}
  - {id: c-2, kind: service}
  - {id: d-1, kind: service}
  - {id: d-2, kind: service}
  - {id: app-1, kind: business_service}
  - {id: app-2, kind: business_service}
edges:
  - {from: svc-s, to: inst-1, type: depends_on}
  - {from: svc-s, to: inst-3, type: depends_on}
  - {from: c-1, to: svc-s, type: depends_on}
  - {from: c-2, to: svc-s, type: depends_on}
  - {from: d-1, to: c-1, type: depends_on}
  - {from: d-2, to: c-2, type: depends_on}
  - {from: app-1, to: d-1, type: depends_on}
  - {from: app-2, to: d-2, type: depends_on}
"#;
    let run = |inst_1_fails: bool| {
        let mut h = Harness::with_topology("", topo);
        h.push(critical(0, "ContainerCrashLooping", "inst-3"))
            .push(warning(5, "HighErrorRate", "svc-s"));
        if inst_1_fails {
            h.push(critical(30, "ContainerCrashLooping", "inst-1"));
        }
        for (i, k) in ["1", "2"].iter().enumerate() {
            let at = 40 + 10 * i as i64;
            h.push(warning(at, "HighLatency", &format!("c-{k}")))
                .push(warning(at + 5, "HighLatency", &format!("d-{k}")))
                .push(critical(at + 8, "SLOBurnRateHigh", &format!("app-{k}")));
        }
        h.resolve(900, "ContainerCrashLooping", "inst-3")
            .resolve(905, "HighErrorRate", "svc-s");
        for k in ["1", "2"] {
            // Still burning at its re-notification, long after inst-3 recovered.
            h.push(critical(1300, "SLOBurnRateHigh", &format!("app-{k}")));
        }
        h.tick(1400);
        if inst_1_fails {
            h.resolve(1990, "ContainerCrashLooping", "inst-1");
        }
        for k in ["1", "2"] {
            h.resolve(2000, "HighLatency", &format!("c-{k}"))
                .resolve(2005, "HighLatency", &format!("d-{k}"))
                .resolve(2010, "SLOBurnRateHigh", &format!("app-{k}"));
        }
        h.tick(3000).finish();
        h
    };
    let h = run(true);
    let rest = |with: &[&str]| {
        let mut v = with.to_vec();
        for k in ["1", "2"] {
            v.push(Box::leak(format!("HighLatency@c-{k}").into_boxed_str()));
            v.push(Box::leak(format!("HighLatency@d-{k}").into_boxed_str()));
            v.push(Box::leak(
                format!("SLOBurnRateHigh@app-{k}").into_boxed_str(),
            ));
        }
        g(&v)
    };
    assert_eq!(
        h.groups(),
        vec![
            rest(&["ContainerCrashLooping@inst-1"]),
            g(&["ContainerCrashLooping@inst-3", "HighErrorRate@svc-s"]),
        ]
    );
    let joined = h
        .incidents()
        .into_values()
        .find(|u| u.payload.custom_details.alerts.len() > 2)
        .expect("inst-1's incident");
    let root = &joined.payload.custom_details.root_cause;
    assert_eq!(root.resource.as_str(), "inst-1");
    assert!(
        joined
            .payload
            .custom_details
            .explanation
            .iter()
            .any(|e| e
                .contains("named by a guess at silent svc-s, which depends directly on inst-1")),
        "{:?}",
        joined.payload.custom_details.explanation
    );
    // Without inst-1 failing, the rest stays apart, named by the silent guess.
    let h = run(false);
    assert_eq!(
        h.groups(),
        vec![
            g(&["ContainerCrashLooping@inst-3", "HighErrorRate@svc-s"]),
            rest(&[]),
        ]
    );
}

#[test]
fn an_effect_just_past_the_bound_joins_while_its_cause_is_still_reaching_its_siblings() {
    // Effects follow their cause within a scrape interval per hop (`effect_too_late`), but
    // monitors notice one failure's simultaneous impacts behind a node within a scrape interval
    // of one another: host-a2 going down 65 s after tor-a, 25 s after host-a1 behind the same
    // switch went down with it, is tor-a's impact still arriving, not a failure of its own.
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .fire(40, "HostDown", "host-a1")
        .fire(65, "HostDown", "host-a2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "HostDown@host-a1",
            "HostDown@host-a2",
            "SwitchDown@tor-a"
        ])]
    );
    // Alone behind the switch, 65 s after it, it is still a failure of its own (q7's bound).
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .fire(65, "HostDown", "host-a2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2"]), g(&["SwitchDown@tor-a"])]
    );
    // The stretch is one scrape interval, never chained from effect to effect: host-a3, 30 s
    // after host-a2 but 125 s after tor-a (one hop), is a failure of its own.
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .fire(40, "HostDown", "host-a1")
        .fire(95, "HostDown", "host-a2")
        .fire(125, "HostDown", "host-a3")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "HostDown@host-a2", "SwitchDown@tor-a"]),
            g(&["HostDown@host-a3"]),
        ]
    );
}

#[test]
fn an_effect_just_past_the_bound_that_recovers_with_the_node_above_it_joins_its_failure() {
    // host-a2 goes down 65 s after tor-a, alone behind it: past the scrape interval per hop
    // (q7's bound), so it opens an incident of its own. The bound is a guess made at its
    // start; the recoveries decide later.
    let late_effect = |h: &mut Harness| {
        h.fire(0, "SwitchDown", "tor-a")
            .fire(65, "HostDown", "host-a2");
    };
    // It recovers 15 s before the switch, within the two scrape intervals a cause one hop up
    // and its effect recover in: the switch's impact after all. One incident, named tor-a.
    let mut h = Harness::new("");
    late_effect(&mut h);
    h.tick(300);
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2"]), g(&["SwitchDown@tor-a"])]
    );
    h.resolve(900, "HostDown", "host-a2")
        .resolve(915, "SwitchDown", "tor-a")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2", "SwitchDown@tor-a"])]
    );
    assert_eq!(root_of(&h, "HostDown@host-a2"), "tor-a");
    let merge_note = h
        .incidents()
        .values()
        .map(|u| u.payload.custom_details.explanation.join("\n"))
        .find(|e| e.contains("started just past the scrape interval per hop"))
        .unwrap_or_default();
    assert!(
        merge_note.contains(
            "after SwitchDown on tor-a, 1 hop(s) above it, whose failure had shown no effect of \
             its own below it, and recovered with it"
        ),
        "{merge_note}"
    );
    // Either order of the recoveries: the switch first, the host 50 s later.
    let mut h = Harness::new("");
    late_effect(&mut h);
    h.resolve(900, "SwitchDown", "tor-a")
        .resolve(950, "HostDown", "host-a2")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2", "SwitchDown@tor-a"])]
    );
    // Recovered 300 s apart: two failures, as the bound said.
    let mut h = Harness::new("");
    late_effect(&mut h);
    h.resolve(600, "HostDown", "host-a2")
        .resolve(900, "SwitchDown", "tor-a")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2"]), g(&["SwitchDown@tor-a"])]
    );
    // More than the shortest scrape interval (15 s) past the bound (80 s after the switch, one
    // hop) is no impact noticed late, whatever the recoveries say.
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .fire(80, "HostDown", "host-a2")
        .resolve(900, "HostDown", "host-a2")
        .resolve(915, "SwitchDown", "tor-a")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&["HostDown@host-a2"]), g(&["SwitchDown@tor-a"])]
    );
}

#[test]
fn a_late_alert_below_a_failure_that_already_reached_below_it_stays_apart_when_they_recover_together(
) {
    // tor-a goes down and host-a1 behind it is unreachable 3 s later: the switch's impact is
    // seen, on time. host-a2, also one hop behind it, goes down 65 s after the switch (62 s
    // after host-a1), past the scrape interval per hop: its own incident. They all recover within 20 s of one
    // another. With nothing of the switch's failure seen below it, a first effect just past
    // the bound is its impact noticed late (the test above); here the impact had already
    // arrived, on time, so the late alert is more likely a failure beside it that recovers
    // with it by chance (the overlapping failures of seeds 10-12): the recoveries alone do
    // not join it.
    let mut h = Harness::new("");
    h.fire(0, "SwitchDown", "tor-a")
        .fire(3, "HostDown", "host-a1")
        .fire(65, "HostDown", "host-a2")
        .tick(300);
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "SwitchDown@tor-a"]),
            g(&["HostDown@host-a2"]),
        ]
    );
    h.resolve(900, "HostDown", "host-a2")
        .resolve(915, "SwitchDown", "tor-a")
        .resolve(920, "HostDown", "host-a1")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "SwitchDown@tor-a"]),
            g(&["HostDown@host-a2"]),
        ]
    );
}

#[test]
fn a_warning_just_past_the_bound_that_the_failure_then_spread_through_joins_it_when_they_recover_together(
) {
    // db-1 goes down; payroll-api, which calls it, reports errors 62 s later: 2 s past the
    // scrape interval per hop, so a warning of its own. 38 s later the SLO of hr-portal, which
    // calls payroll-api, burns: 100 s from the database (two hops: in time), it joins the
    // database's failure. The database's impact reached its callers' callers through
    // payroll-api: the errors there are that impact noticed a scrape late, and all three
    // recover within 10 s. What already shows below a cause is judged at the late alert's
    // start (nothing had: it was the first), not at the recovery, when the effects that
    // followed it through its own node sit in the cause's incident.
    let spread = |h: &mut Harness| {
        h.push(critical(0, "DatabaseDown", "db-1"))
            .push(warning(62, "HighErrorRate", "payroll-api"))
            .push(critical(100, "SLOBurnRateHigh", "hr-portal"))
            .tick(300);
    };
    let mut h = Harness::new("");
    spread(&mut h);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "SLOBurnRateHigh@hr-portal"]),
            g(&["HighErrorRate@payroll-api"]),
        ]
    );
    h.push(warning_resolved(900, "HighErrorRate", "payroll-api"))
        .resolve(905, "DatabaseDown", "db-1")
        .resolve(910, "SLOBurnRateHigh", "hr-portal")
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "DatabaseDown@db-1",
            "HighErrorRate@payroll-api",
            "SLOBurnRateHigh@hr-portal"
        ])]
    );
    assert_eq!(root_of(&h, "HighErrorRate@payroll-api"), "db-1");
    // The warning recovers 300 s before the database: a degradation of its own after all.
    let mut h = Harness::new("");
    spread(&mut h);
    h.push(warning_resolved(600, "HighErrorRate", "payroll-api"))
        .resolve(900, "DatabaseDown", "db-1")
        .resolve(910, "SLOBurnRateHigh", "hr-portal")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "SLOBurnRateHigh@hr-portal"]),
            g(&["HighErrorRate@payroll-api"]),
        ]
    );
}

/// checkout calls two databases, each of which can fail on its own.
const TWO_DATABASES_TOPO: &str = r#"
nodes:
  - {id: db-x, kind: database}
  - {id: db-y, kind: database}
  - {id: checkout, kind: service}
edges:
  - {from: checkout, to: db-x, type: depends_on}
  - {from: checkout, to: db-y, type: depends_on}
"#;

#[test]
fn a_shared_symptom_recovers_with_its_cause() {
    // checkout calls two databases; each goes down on its own. checkout's latency, 50 s after
    // db-x and 30 s after db-y, could be either's impact: it joins db-x's, which started first
    // within a scrape interval (the shared-symptom order).
    let topo = TWO_DATABASES_TOPO;
    let shared_symptom = |h: &mut Harness| {
        h.fire(0, "DatabaseDown", "db-x")
            .fire(20, "DatabaseDown", "db-y")
            .push(warning(50, "HighLatency", "checkout"))
            .resolve(300, "DatabaseDown", "db-x");
    };
    // db-x recovers at 300 s while checkout stays slow until 905 s, when it recovers with db-y:
    // db-x's failure was not its cause, db-y's was. It moves there.
    let mut h = Harness::with_topology("", topo);
    shared_symptom(&mut h);
    h.resolve(900, "DatabaseDown", "db-y")
        .resolve(905, "HighLatency", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x"]),
            g(&["DatabaseDown@db-y", "HighLatency@checkout"]),
        ]
    );
    // Recovering within a recovery tolerance of db-x (a scrape interval per hop and one more),
    // it recovered with db-x: it stays.
    let mut h = Harness::with_topology("", topo);
    shared_symptom(&mut h);
    h.resolve(400, "HighLatency", "checkout")
        .resolve(900, "DatabaseDown", "db-y")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x", "HighLatency@checkout"]),
            g(&["DatabaseDown@db-y"]),
        ]
    );
    // db-y recovered long before it too: nothing recovered with it, so nothing says where it
    // belongs better than where it started. It stays.
    let mut h = Harness::with_topology("", topo);
    shared_symptom(&mut h);
    h.resolve(500, "DatabaseDown", "db-y")
        .resolve(905, "HighLatency", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x", "HighLatency@checkout"]),
            g(&["DatabaseDown@db-y"]),
        ]
    );
}

#[test]
fn an_alert_nothing_places_folds_into_the_failure_it_started_and_recovered_with() {
    // tor-a's outage spreads to host-a1 and host-a2; 20 s after host-a2, a check on a host the
    // CMDB does not know fails (no service, no label: no topology, service or co-firing link
    // places it), and opens an incident of its own. island fails on its own meanwhile.
    let outage = |h: &mut Harness| {
        h.fire(0, "SwitchDown", "tor-a")
            .fire(10, "HostDown", "host-a1")
            .fire(15, "HostDown", "host-a2")
            .fire(25, "DiskFull", "island")
            .fire(35, "PacketLoss", "vm-unregistered");
    };
    let failure = g(&["HostDown@host-a1", "HostDown@host-a2", "SwitchDown@tor-a"]);
    let island = g(&["DiskFull@island"]);
    let unknown = g(&["PacketLoss@vm-unregistered"]);
    let with_unknown = g(&[
        "HostDown@host-a1",
        "HostDown@host-a2",
        "PacketLoss@vm-unregistered",
        "SwitchDown@tor-a",
    ]);
    // It recovers 20 s before the switch and its hosts: it started and ended with that
    // failure, two coincidences. Its incident folds into the outage's.
    let mut h = Harness::new("");
    outage(&mut h);
    h.resolve(600, "DiskFull", "island")
        .resolve(880, "PacketLoss", "vm-unregistered")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(h.groups(), vec![island.clone(), with_unknown]);
    // It recovers minutes before the outage does: it only started with it (a one-off amid a
    // failure). It stays apart.
    let mut h = Harness::new("");
    outage(&mut h);
    h.resolve(300, "PacketLoss", "vm-unregistered")
        .resolve(600, "DiskFull", "island")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![island.clone(), failure.clone(), unknown.clone()]
    );
    // It recovers with one alert of the outage only (host-a1 comes back early, and splits off
    // as a failure of its own, as any member recovering apart does): one alert clearing is no
    // failure recovering. It stays apart.
    let mut h = Harness::new("");
    outage(&mut h);
    h.resolve(400, "HostDown", "host-a1")
        .resolve(420, "PacketLoss", "vm-unregistered")
        .resolve(600, "DiskFull", "island")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(910, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            island,
            g(&["HostDown@host-a1"]),
            g(&["HostDown@host-a2", "SwitchDown@tor-a"]),
            unknown
        ]
    );
    drop(failure);
}

#[test]
fn a_co_firing_guess_that_recovers_with_the_failure_it_started_with_moves_there() {
    // island's PacketLoss fails 10 s after host-a2 (tor-a's outage); the same check on a host
    // the CMDB does not know 5 s later joins island's incident: the same check starting within
    // a scrape interval, the only link it has.
    let guessed = |h: &mut Harness| {
        h.fire(0, "SwitchDown", "tor-a")
            .fire(10, "HostDown", "host-a1")
            .fire(15, "HostDown", "host-a2")
            .push(scraped(25, "PacketLoss", "island", "dc1"))
            .push(scraped(30, "PacketLoss", "vm-unregistered", "dc1"));
    };
    // island recovers at 300 s; the unregistered host keeps failing until the outage recovers,
    // and recovers with it: it started and ended with that failure, and nothing of island's
    // recovered with it. It moves there.
    let mut h = Harness::new("");
    guessed(&mut h);
    h.resolve(300, "PacketLoss", "island")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "PacketLoss", "vm-unregistered")
        .resolve(915, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "HostDown@host-a1",
                "HostDown@host-a2",
                "PacketLoss@vm-unregistered",
                "SwitchDown@tor-a"
            ]),
            g(&["PacketLoss@island"]),
        ]
    );
    // island recovers with it: the guess is confirmed. It stays.
    let mut h = Harness::new("");
    guessed(&mut h);
    h.resolve(880, "PacketLoss", "island")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "PacketLoss", "vm-unregistered")
        .resolve(915, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "HostDown@host-a2", "SwitchDown@tor-a"]),
            g(&["PacketLoss@island", "PacketLoss@vm-unregistered"]),
        ]
    );
}

#[test]
fn an_alert_nothing_places_folds_into_a_failure_that_started_spreading_just_after_it() {
    // A check on a host the CMDB does not know fails first (no service, no label: nothing
    // places it, it opens an incident of its own); tor-a's outage starts spreading 10 s later
    // (the unknown host may be its first symptom seen, or its cause). island fails on its own.
    let outage = |h: &mut Harness| {
        h.fire(0, "PacketLoss", "vm-unregistered")
            .fire(10, "SwitchDown", "tor-a")
            .fire(15, "HostDown", "host-a1")
            .fire(20, "HostDown", "host-a2")
            .fire(25, "DiskFull", "island");
    };
    let island = g(&["DiskFull@island"]);
    // It recovers with the switch and its hosts: it started and ended with that failure, as
    // much as one that started 10 s after it. Its incident folds into the outage's.
    let mut h = Harness::new("");
    outage(&mut h);
    h.resolve(600, "DiskFull", "island")
        .resolve(880, "PacketLoss", "vm-unregistered")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            island.clone(),
            g(&[
                "HostDown@host-a1",
                "HostDown@host-a2",
                "PacketLoss@vm-unregistered",
                "SwitchDown@tor-a",
            ]),
        ]
    );
    // It recovers minutes before the outage does: it only started with it. It stays apart.
    let mut h = Harness::new("");
    outage(&mut h);
    h.resolve(300, "PacketLoss", "vm-unregistered")
        .resolve(600, "DiskFull", "island")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            island,
            g(&["HostDown@host-a1", "HostDown@host-a2", "SwitchDown@tor-a"]),
            g(&["PacketLoss@vm-unregistered"]),
        ]
    );
}

#[test]
fn a_co_firing_guess_among_several_recovers_with_the_failure_it_started_with() {
    // tor-a's outage spreads to host-a1 and host-a2. The same check then fails on island and on
    // cyc-1 (two failures of their own), and 3 s later on a host the CMDB does not know: it
    // joins cyc-1's incident, the nearest start of the check, passing over island's.
    let guessed = |h: &mut Harness| {
        h.fire(0, "SwitchDown", "tor-a")
            .fire(10, "HostDown", "host-a1")
            .fire(15, "HostDown", "host-a2")
            .push(scraped(25, "PacketLoss", "island", "dc1"))
            .push(scraped(27, "PacketLoss", "cyc-1", "dc1"))
            .push(scraped(30, "PacketLoss", "vm-unregistered", "dc1"));
    };
    // island and cyc-1 recover at 300 s; the unregistered host keeps failing until the outage
    // recovers, and recovers with it: neither co-firing failure recovered with it, the one
    // spreading when it started did. It moves there.
    let mut h = Harness::new("");
    guessed(&mut h);
    h.resolve(300, "PacketLoss", "island")
        .resolve(300, "PacketLoss", "cyc-1")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "PacketLoss", "vm-unregistered")
        .resolve(915, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "HostDown@host-a1",
                "HostDown@host-a2",
                "PacketLoss@vm-unregistered",
                "SwitchDown@tor-a"
            ]),
            g(&["PacketLoss@cyc-1"]),
            g(&["PacketLoss@island"]),
        ]
    );
    // cyc-1 recovers with it: the guess is confirmed. It stays.
    let mut h = Harness::new("");
    guessed(&mut h);
    h.resolve(300, "PacketLoss", "island")
        .resolve(880, "PacketLoss", "cyc-1")
        .resolve(900, "SwitchDown", "tor-a")
        .resolve(905, "HostDown", "host-a1")
        .resolve(910, "PacketLoss", "vm-unregistered")
        .resolve(915, "HostDown", "host-a2")
        .tick(1_200)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "HostDown@host-a2", "SwitchDown@tor-a"]),
            g(&["PacketLoss@cyc-1", "PacketLoss@vm-unregistered"]),
            g(&["PacketLoss@island"]),
        ]
    );
}

#[test]
fn a_shared_symptom_whose_explanation_split_off_recovers_with_the_failure_it_passed_over() {
    // checkout calls two databases; each goes down on its own. checkout's errors, 50 s after
    // db-x and 30 s after db-y, could be either's impact: they join db-x's, which started first
    // within a scrape interval (the shared-symptom order). db-x recovers at 300 s while
    // checkout is still re-notified as failing at 500 s: db-x's part splits off (a cause's
    // recovery reaches its effects within a scrape interval per hop and one more), leaving
    // checkout alone, with nothing there to explain it any more. It recovers at 905 s, 5 s
    // after db-y, the failure it passed over: that was its cause. It moves there.
    let topo = TWO_DATABASES_TOPO;
    let split_from_its_explanation = |h: &mut Harness| {
        h.fire(0, "DatabaseDown", "db-x")
            .fire(20, "DatabaseDown", "db-y")
            .push(critical(50, "HighErrorRate", "checkout"))
            .resolve(300, "DatabaseDown", "db-x")
            .push(critical(500, "HighErrorRate", "checkout"))
            .tick(600);
    };
    let mut h = Harness::with_topology("", topo);
    split_from_its_explanation(&mut h);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x"]),
            g(&["DatabaseDown@db-y"]),
            g(&["HighErrorRate@checkout"]),
        ]
    );
    h.resolve(900, "DatabaseDown", "db-y")
        .resolve(905, "HighErrorRate", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x"]),
            g(&["DatabaseDown@db-y", "HighErrorRate@checkout"]),
        ]
    );
    assert_eq!(root_of(&h, "HighErrorRate@checkout"), "db-y");
    // db-y recovered long before it too: nothing recovered with it, so it stays alone.
    let mut h = Harness::with_topology("", topo);
    split_from_its_explanation(&mut h);
    h.resolve(700, "DatabaseDown", "db-y")
        .resolve(1500, "HighErrorRate", "checkout")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x"]),
            g(&["DatabaseDown@db-y"]),
            g(&["HighErrorRate@checkout"]),
        ]
    );
}

#[test]
fn a_shared_symptom_that_recovered_before_the_split_leaves_with_the_failure_it_recovered_with() {
    // checkout calls two databases; each goes down on its own. checkout's errors, 50 s after
    // db-x and 30 s after db-y, could be either's impact: they join db-x's (the shared-symptom
    // order), passing over db-y's. checkout recovers at 300 s, db-y 10 s later, while db-x is
    // re-notified as failing at 500 s. When checkout resolved both databases were still down,
    // so its recovery said nothing yet; the recovery split (db-x kept failing past the time a
    // cause's recovery takes to reach its effect) then shows db-x was not its cause, and db-y,
    // which explained it too, recovered with it: it leaves for db-y's incident, not alone.
    let topo = TWO_DATABASES_TOPO;
    let until_both_recovered = |h: &mut Harness, db_y_recovers: i64| {
        h.fire(0, "DatabaseDown", "db-x")
            .fire(20, "DatabaseDown", "db-y")
            .push(critical(50, "HighErrorRate", "checkout"))
            .resolve(300, "HighErrorRate", "checkout")
            .resolve(db_y_recovers, "DatabaseDown", "db-y");
    };
    let after = |h: &mut Harness| {
        h.push(critical(500, "DatabaseDown", "db-x"))
            .resolve(1500, "DatabaseDown", "db-x")
            .finish();
    };
    let mut h = Harness::with_topology("", topo);
    until_both_recovered(&mut h, 310);
    after(&mut h);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x"]),
            g(&["DatabaseDown@db-y", "HighErrorRate@checkout"]),
        ]
    );
    assert_eq!(root_of(&h, "HighErrorRate@checkout"), "db-y");
    let why = h
        .incidents()
        .values()
        .find(|u| u.payload.custom_details.alerts.len() == 2)
        .map(|u| u.payload.custom_details.explanation.join("\n"))
        .unwrap_or_default();
    assert!(
        why.contains("with DatabaseDown on db-y (1 hop above), which explained it too"),
        "{why}"
    );
    // What it passed over survives a snapshot taken between its recovery and the split.
    let mut first = Harness::with_topology("", topo);
    until_both_recovered(&mut first, 310);
    let mut second = Harness::with_topology("", topo);
    second.engine.restore(&first.engine.snapshot()).unwrap();
    second.updates = first.updates.clone();
    after(&mut second);
    assert_eq!(second.groups(), h.groups());
    // db-y recovered long after it: nothing recovered with it, so it leaves alone.
    let mut h = Harness::with_topology("", topo);
    until_both_recovered(&mut h, 700);
    after(&mut h);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-x"]),
            g(&["DatabaseDown@db-y"]),
            g(&["HighErrorRate@checkout"]),
        ]
    );
}

#[test]
fn the_end_of_a_replay_makes_the_recovery_split_the_clock_would() {
    // checkout's errors join db-x's outage and recover at 300 s; db-x is re-notified as
    // failing at 500 s, past the time its recovery would take to reach checkout (120 s for
    // one hop): checkout recovered apart from it. The check that says so falls due after the
    // last event. A live correlator makes that split once its clock passes the check; a
    // replay's end makes it too, the same split.
    let topo = TWO_DATABASES_TOPO;
    let stream = |h: &mut Harness| {
        h.fire(0, "DatabaseDown", "db-x")
            .push(critical(50, "HighErrorRate", "checkout"))
            .resolve(300, "HighErrorRate", "checkout")
            .push(critical(500, "DatabaseDown", "db-x"));
    };
    let apart = vec![g(&["DatabaseDown@db-x"]), g(&["HighErrorRate@checkout"])];
    let mut live = Harness::with_topology("", topo);
    stream(&mut live);
    live.tick(700).finish();
    assert_eq!(live.groups(), apart);
    let mut replay = Harness::with_topology("", topo);
    stream(&mut replay);
    replay.finish();
    assert_eq!(replay.groups(), apart);
}

#[test]
fn alerts_on_one_resource_that_recover_apart_from_the_failure_they_joined_leave_it_together() {
    // db-1 goes down 50 s after esx-1, the hypervisor it runs on, and its replication breaks
    // 18 s later: both join esx-1's incident as its impact. They recover at 500 s and 562 s
    // while esx-1 is still re-notified as failing at 900 s: neither was its effect. Each
    // recovery check splits its alert off; the recovery check never tells one resource's
    // alerts apart, so the second joins the part the first made: one db-1 failure, not two.
    let one_resource = |h: &mut Harness, second: &str, second_resource: &str, end: i64| {
        h.push(critical(0, "HypervisorDown", "esx-1"))
            .push(critical(50, "DatabaseDown", "db-1"))
            .push(critical(68, second, second_resource))
            .resolve(500, "DatabaseDown", "db-1")
            .resolve(end, second, second_resource)
            .push(critical(900, "HypervisorDown", "esx-1"))
            .resolve(1500, "HypervisorDown", "esx-1")
            .finish();
    };
    let mut h = Harness::new("");
    one_resource(&mut h, "ReplicationBroken", "db-1", 562);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "ReplicationBroken@db-1"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
    // On two resources that recovered further apart than a cause's recovery takes to reach
    // its effect (payroll-api, one hop above db-1: two scrape intervals), they stay apart.
    let mut h = Harness::new("");
    one_resource(&mut h, "HighErrorRate", "payroll-api", 640);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1"]),
            g(&["HighErrorRate@payroll-api"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
}

#[test]
fn alerts_on_one_resource_that_started_together_leave_the_failure_they_joined_together() {
    // db-1 goes down 50 s after esx-1, the hypervisor it runs on, and its replication breaks
    // 18 s later: one database failure, both in esx-1's incident as its impact. The database
    // comes back at 500 s, its replication only at 830 s (a resource recovers in stages, each
    // check on its own schedule), both long before esx-1, re-notified as failing at 1,400 s.
    // The database's recovery check splits it off at 1,460 s; its replication, which started
    // with it, goes with it, although it recovered further from it than one resource's
    // tolerance: not a part of its own later (the first part has closed by the time the
    // replication's own check would split it off).
    let db_failure = |h: &mut Harness, replication_end: i64| {
        h.push(critical(0, "HypervisorDown", "esx-1"))
            .push(critical(50, "DatabaseDown", "db-1"))
            .push(critical(68, "ReplicationBroken", "db-1"))
            .resolve(500, "DatabaseDown", "db-1");
        // In event-time order: the replication's resolve before or after esx-1's re-notification.
        if replication_end < 1400 {
            h.resolve(replication_end, "ReplicationBroken", "db-1");
        }
        h.push(critical(1400, "HypervisorDown", "esx-1"));
        if replication_end > 1400 {
            h.resolve(replication_end, "ReplicationBroken", "db-1");
        }
        h.resolve(2000, "HypervisorDown", "esx-1")
            .tick(3000)
            .finish();
    };
    let mut h = Harness::new("");
    db_failure(&mut h, 830);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1", "ReplicationBroken@db-1"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
    // The split line (which `corral explain --alerts` quotes) says why the replication went.
    let split_note = h
        .incidents()
        .values()
        .find(|u| u.payload.custom_details.alerts.len() == 2)
        .map(|u| u.payload.custom_details.explanation.join("\n"))
        .unwrap_or_default();
    assert!(
        split_note.contains(
            "DatabaseDown on db-1 recovered while HypervisorDown on esx-1 (1 hop away) kept \
             failing beyond the time a cause's recovery takes to reach its effects; \
             ReplicationBroken on db-1, started within a scrape interval of an outage of the \
             part on the same resource, went with it: split off"
        ),
        "{split_note}"
    );
    // esx-1 failing when they started explains them both, so either may be its impact
    // arriving rather than the database's own failure: the replication, recovering with esx-1
    // (50 s before it, one hop: within two scrape intervals), stays with it.
    let mut h = Harness::new("");
    db_failure(&mut h, 1950);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1"]),
            g(&["HypervisorDown@esx-1", "ReplicationBroken@db-1"]),
        ]
    );
    // With nothing failing above them, two outages of one resource that start together are
    // its own failure whatever their recoveries: esx-1's exporter and hypervisor checks go
    // down 8 s and 15 s after db-1 on it started failing. The exporter comes back at 500 s,
    // the hypervisor check at 1,900 s, with db-1 (re-notified at 1,400 s, resolved at
    // 2,000 s): esx-1's failure recovered with db-1's, and the exporter is not split off alone.
    let mut h = Harness::new("");
    h.push(critical(0, "DatabaseDown", "db-1"))
        .push(critical(8, "NodeExporterDown", "esx-1"))
        .push(critical(15, "HypervisorDown", "esx-1"))
        .resolve(500, "NodeExporterDown", "esx-1")
        .push(critical(1400, "DatabaseDown", "db-1"))
        .resolve(1900, "HypervisorDown", "esx-1")
        .resolve(2000, "DatabaseDown", "db-1")
        .tick(3000)
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "DatabaseDown@db-1",
            "HypervisorDown@esx-1",
            "NodeExporterDown@esx-1"
        ])]
    );
    // A check on the same resource that started minutes later is another failure there: the
    // database's part splits off without it (and it splits off on its own later).
    let mut h = Harness::new("");
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(critical(50, "DatabaseDown", "db-1"))
        .push(critical(230, "ReplicationBroken", "db-1"))
        .resolve(500, "DatabaseDown", "db-1")
        .resolve(830, "ReplicationBroken", "db-1")
        .push(critical(1400, "HypervisorDown", "esx-1"))
        .resolve(2000, "HypervisorDown", "esx-1")
        .tick(3000)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-1"]),
            g(&["HypervisorDown@esx-1"]),
            g(&["ReplicationBroken@db-1"]),
        ]
    );
    // Nor is an outage of the resource that its upstream's failure, starting between the two,
    // explains: esx-1 fails on its own at 0 s, host-a1 below it goes down 5 s later, and
    // esx-1 becomes unreachable 25 s after that, host-a1's impact. esx-1's own failure
    // recovers at 500 s and splits off alone; the unreachable check, which recovered with
    // host-a1, stays with it.
    let mut h = Harness::new("");
    h.push(critical(0, "HypervisorDown", "esx-1"))
        .push(critical(5, "HostDown", "host-a1"))
        .push(critical(30, "HypervisorUnreachable", "esx-1"))
        .resolve(500, "HypervisorDown", "esx-1")
        .push(critical(1400, "HostDown", "host-a1"))
        .resolve(1990, "HypervisorUnreachable", "esx-1")
        .resolve(2000, "HostDown", "host-a1")
        .tick(3000)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "HypervisorUnreachable@esx-1"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
}

#[test]
fn a_late_cause_left_alone_by_a_split_joins_the_failure_of_what_runs_on_it() {
    // host-a2 goes down at 0 s. esx-1, which runs on host-a1, goes down at 16 s; host-a1's
    // exporter and host checks 5 s and 11 s later: host-a1 is esx-1's late cause, but its
    // exporter also links to host-a2 as a sibling under the silent tor-a, and that link places
    // it. host-a2 recovers at 500 s while host-a1 is re-notified at 1,400 s: the recovery
    // split takes host-a2 away, which leaves host-a1's two alerts alone though the incident
    // of what runs on it is still failing. They join it: one failure of host-a1.
    const RACK: &str = "nodes:\n  - {id: tor-a, kind: switch}\n  - {id: host-a1, kind: host}\n  - {id: host-a2, kind: host}\n  - {id: esx-1, kind: hypervisor}\nedges:\n  - {from: host-a1, to: tor-a, type: part_of}\n  - {from: host-a2, to: tor-a, type: part_of}\n  - {from: esx-1, to: host-a1, type: runs_on}\n";
    let outage = |esx_start: i64| {
        let mut h = Harness::with_topology("", RACK);
        let mut alerts = vec![
            critical(0, "HostDown", "host-a2"),
            critical(esx_start, "HypervisorDown", "esx-1"),
            critical(21, "NodeExporterDown", "host-a1"),
            critical(27, "HostDown", "host-a1"),
        ];
        alerts.sort_by_key(|a| a.starts_at);
        for a in alerts {
            h.push(a);
        }
        h.resolve(500, "HostDown", "host-a2")
            .push(critical(1400, "HostDown", "host-a1"))
            .push(critical(1400, "HypervisorDown", "esx-1"))
            .resolve(1950, "NodeExporterDown", "host-a1")
            .resolve(1960, "HostDown", "host-a1")
            .resolve(2000, "HypervisorDown", "esx-1")
            .tick(3000)
            .finish();
        h
    };
    let h = outage(16);
    assert_eq!(
        h.groups(),
        vec![
            g(&[
                "HostDown@host-a1",
                "HypervisorDown@esx-1",
                "NodeExporterDown@host-a1"
            ]),
            g(&["HostDown@host-a2"]),
        ]
    );
    let merged_note = h
        .incidents()
        .values()
        .find(|u| u.payload.custom_details.alerts.len() == 3)
        .map(|u| u.payload.custom_details.explanation.join("\n"))
        .unwrap_or_default();
    assert!(
        merged_note.contains(
            "the outages of host-a1 left there by a recovery split started just after \
             HypervisorDown on esx-1, which depends on it directly: its late cause"
        ),
        "{merged_note}"
    );
    // esx-1 down 81 s before host-a1's first alert is no effect host-a1 lagged (a scrape
    // interval at most): host-a1's failure stays apart.
    let h = outage(-60);
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostDown@host-a1", "NodeExporterDown@host-a1"]),
            g(&["HostDown@host-a2"]),
            g(&["HypervisorDown@esx-1"]),
        ]
    );
}

/// A warning's resolve (a warning that clears: `resolve` would record it at error).
fn warning_resolved(secs: i64, name: &str, resource: &str) -> Alert {
    let mut a = warning(secs, name, resource);
    a.status = Status::Resolved;
    a.ends_at = Some(T0 + secs * 1000);
    a
}

#[test]
fn a_warning_that_clears_long_before_the_outage_it_joined_is_no_symptom_of_it() {
    // tor-a goes down and host-a2 behind it becomes unreachable; 40 s into the outage a
    // one-off warning fires on host-a3, also behind the switch: by time and topology, one
    // incident. The warning clears at 300 s while the switch is re-notified as failing at
    // 900 s (and recovers at 1,500 s, host-a2 with it). A cause's recovery brings its
    // symptoms' within a scrape interval per hop and one more (120 s for one hop): the warning
    // degraded host-a3 for a reason of its own, no symptom of the outage. It leaves as an
    // incident of its own, and says why.
    let outage = |h: &mut Harness| {
        h.push(critical(0, "SwitchDown", "tor-a"))
            .push(critical(10, "HostUnreachable", "host-a2"))
            .push(warning(40, "LogErrorBurst", "host-a3"));
    };
    let all_three = vec![g(&[
        "HostUnreachable@host-a2",
        "LogErrorBurst@host-a3",
        "SwitchDown@tor-a",
    ])];
    let mut h = Harness::new("");
    outage(&mut h);
    h.push(warning_resolved(300, "LogErrorBurst", "host-a3"))
        .tick(350);
    assert_eq!(h.groups(), all_three);
    h.push(critical(900, "SwitchDown", "tor-a"))
        .resolve(1500, "SwitchDown", "tor-a")
        .resolve(1510, "HostUnreachable", "host-a2")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostUnreachable@host-a2", "SwitchDown@tor-a"]),
            g(&["LogErrorBurst@host-a3"]),
        ]
    );
    assert_eq!(root_of(&h, "SwitchDown@tor-a"), "tor-a");
    let split_note = h
        .incidents()
        .values()
        .find(|u| u.payload.custom_details.alerts.len() == 1)
        .map(|u| u.payload.custom_details.explanation.join("\n"))
        .unwrap_or_default();
    assert!(
        split_note.contains(
            "LogErrorBurst on host-a3, a warning, recovered while SwitchDown on tor-a (1 hop \
             above it) kept failing"
        ) && split_note.contains("no symptom of it"),
        "{split_note}"
    );
    // Clearing within the tolerance of the switch's recovery, it may be its symptom: it stays.
    let mut h = Harness::new("");
    outage(&mut h);
    h.push(critical(900, "SwitchDown", "tor-a"))
        .push(warning_resolved(1450, "LogErrorBurst", "host-a3"))
        .resolve(1500, "SwitchDown", "tor-a")
        .resolve(1510, "HostUnreachable", "host-a2")
        .tick(1600)
        .finish();
    assert_eq!(h.groups(), all_three);
    // Silence is no evidence: with no occurrence of the switch past the tolerance (a lost or
    // late resolve looks the same), the warning stays.
    let mut h = Harness::new("");
    outage(&mut h);
    h.push(warning_resolved(300, "LogErrorBurst", "host-a3"))
        .tick(1600)
        .finish();
    assert_eq!(h.groups(), all_three);
    // Nothing follows a warning that was no symptom: it was no failure of its own. host-a3's
    // disk, full since 20 s into the outage, recovers at 560 s, after the warning split off
    // (at 540 s) and while the switch still fails: a failure of its own on host-a3, not the
    // cleared warning's (a part that recovered apart would take it: same resource).
    let mut h = Harness::new("");
    h.push(critical(0, "SwitchDown", "tor-a"))
        .push(critical(10, "HostUnreachable", "host-a2"))
        .push(critical(20, "DiskFull", "host-a3"))
        .push(warning(40, "LogErrorBurst", "host-a3"))
        .push(warning_resolved(300, "LogErrorBurst", "host-a3"))
        .push(critical(500, "SwitchDown", "tor-a"))
        .resolve(560, "DiskFull", "host-a3")
        .push(critical(700, "SwitchDown", "tor-a"))
        .push(critical(900, "SwitchDown", "tor-a"))
        .resolve(1500, "SwitchDown", "tor-a")
        .resolve(1510, "HostUnreachable", "host-a2")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DiskFull@host-a3"]),
            g(&["HostUnreachable@host-a2", "SwitchDown@tor-a"]),
            g(&["LogErrorBurst@host-a3"]),
        ]
    );
}

#[test]
fn a_warning_seen_just_before_its_root_that_clears_long_before_it_is_no_symptom() {
    // A one-off warning on host-a3 fires 30 s before tor-a, one hop above it, is seen to go
    // down: the correlator lets a cause lag its effect by a scrape interval, so the switch
    // joins the warning's incident, and host-a2's unreachability with it. The warning clears
    // at 200 s while the switch is re-notified as failing at 900 s and recovers at 1,500 s
    // (host-a2 with it): the same evidence as for a warning that started after the switch,
    // and judged with the same lag that let it join. It leaves as an incident of its own.
    let outage = |h: &mut Harness| {
        h.push(warning(0, "LatencySpike", "host-a3"))
            .push(critical(30, "SwitchDown", "tor-a"))
            .push(critical(40, "HostUnreachable", "host-a2"));
    };
    let mut h = Harness::new("");
    outage(&mut h);
    h.tick(100);
    assert_eq!(
        h.groups(),
        vec![g(&[
            "HostUnreachable@host-a2",
            "LatencySpike@host-a3",
            "SwitchDown@tor-a",
        ])]
    );
    h.push(warning_resolved(200, "LatencySpike", "host-a3"))
        .push(critical(900, "SwitchDown", "tor-a"))
        .resolve(1500, "SwitchDown", "tor-a")
        .resolve(1510, "HostUnreachable", "host-a2")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["HostUnreachable@host-a2", "SwitchDown@tor-a"]),
            g(&["LatencySpike@host-a3"]),
        ]
    );
    assert_eq!(root_of(&h, "SwitchDown@tor-a"), "tor-a");
    // The first sign of the outage recovers with it: it stays.
    let mut h = Harness::new("");
    outage(&mut h);
    h.push(critical(900, "SwitchDown", "tor-a"))
        .push(warning_resolved(1450, "LatencySpike", "host-a3"))
        .resolve(1500, "SwitchDown", "tor-a")
        .resolve(1510, "HostUnreachable", "host-a2")
        .tick(1600)
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "HostUnreachable@host-a2",
            "LatencySpike@host-a3",
            "SwitchDown@tor-a",
        ])]
    );
}

#[test]
fn a_warning_above_the_root_that_clears_while_the_root_keeps_failing_is_no_cause_of_it() {
    // A one-off latency warning on esx-1 fires; a minute later a deployment fails on
    // payroll-api (which depends on db-1, which runs on esx-1: 2 hops below the hypervisor) and
    // hr-portal, its caller, burns its error budget. By time and topology the warning is a
    // candidate cause: one incident, named for payroll-api (a warning is no evidence of a
    // root). The warning clears at 200 s; payroll-api and hr-portal keep failing until 900 s.
    // Had the hypervisor been the cause, its recovery would have brought payroll-api's within a
    // scrape interval per hop and one more (180 s): no cause of it, and above it, no symptom
    // either. It leaves as an incident of its own once the root's resolve gives the evidence,
    // when the check next looks (at 1160 s: after every member has recovered), and says why.
    let outage = |h: &mut Harness| {
        h.push(warning(0, "LatencySpike", "esx-1"))
            .push(critical(60, "DeploymentFailed", "payroll-api"))
            .push(critical(70, "SLOBurnRateHigh", "hr-portal"));
    };
    let all_three = vec![g(&[
        "DeploymentFailed@payroll-api",
        "LatencySpike@esx-1",
        "SLOBurnRateHigh@hr-portal",
    ])];
    let mut h = Harness::new("");
    outage(&mut h);
    h.push(warning_resolved(200, "LatencySpike", "esx-1"))
        .tick(300);
    assert_eq!(h.groups(), all_three);
    assert_eq!(root_of(&h, "DeploymentFailed@payroll-api"), "payroll-api");
    h.resolve(900, "DeploymentFailed", "payroll-api")
        .resolve(905, "SLOBurnRateHigh", "hr-portal")
        .tick(1300)
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DeploymentFailed@payroll-api", "SLOBurnRateHigh@hr-portal"]),
            g(&["LatencySpike@esx-1"]),
        ]
    );
    assert_eq!(root_of(&h, "DeploymentFailed@payroll-api"), "payroll-api");
    let split_note = h
        .incidents()
        .values()
        .find(|u| u.payload.custom_details.alerts.len() == 1)
        .map(|u| u.payload.custom_details.explanation.join("\n"))
        .unwrap_or_default();
    assert!(
        split_note.contains(
            "LatencySpike on esx-1, a warning, recovered while DeploymentFailed on payroll-api \
             (2 hops below it) kept failing"
        ) && split_note.contains("no cause of it"),
        "{split_note}"
    );
    // Clearing within the tolerance of payroll-api's recovery, it may have been its cause: it
    // stays.
    let mut h = Harness::new("");
    outage(&mut h);
    h.push(warning_resolved(800, "LatencySpike", "esx-1"))
        .resolve(900, "DeploymentFailed", "payroll-api")
        .resolve(905, "SLOBurnRateHigh", "hr-portal")
        .tick(1300)
        .finish();
    assert_eq!(h.groups(), all_three);
}

/// A service calling a database and a cache; the cache runs on a VM on a hypervisor, three
/// hops above the service.
const OWN_RESOURCE_TOPO: &str = r#"
nodes:
  - {id: api, kind: service}
  - {id: db, kind: database}
  - {id: cache, kind: service}
  - {id: vm-cache, kind: vm}
  - {id: esx-cache, kind: hypervisor}
edges:
  - {from: api, to: db, type: depends_on}
  - {from: api, to: cache, type: depends_on}
  - {from: cache, to: vm-cache, type: runs_on}
  - {from: vm-cache, to: esx-cache, type: runs_on}
"#;

#[test]
fn a_symptom_explained_on_its_own_resource_recovers_with_the_failure_it_passed_over() {
    // db goes down; api's errors follow 20 s later (db's incident). esx-cache, three hops
    // above api, goes down 100 s in: a failure of its own (api's errors started 80 s before
    // it). api's latency warning at 200 s is explained by db's incident on its own resource
    // (api's errors, 0 hops) and by esx-cache's three hops up (deeper than `max_hops`): it
    // joins db's, and passes over esx-cache's. db's failure recovers at 300 s while the
    // latency keeps firing; the latency recovers at 920 s, 20 s after esx-cache: that was its
    // cause, and it moves there. Before, an alert explained only on its own resource recorded
    // no passed-over failure, so nothing looked at its recovery and it stayed behind.
    let mut h = Harness::with_topology("", OWN_RESOURCE_TOPO);
    h.push(critical(0, "DatabaseDown", "db"))
        .push(critical(20, "HighErrorRate", "api"))
        .push(critical(100, "HypervisorDown", "esx-cache"))
        .push(warning(200, "HighLatency", "api"))
        .tick(250);
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db", "HighErrorRate@api", "HighLatency@api"]),
            g(&["HypervisorDown@esx-cache"]),
        ]
    );
    h.resolve(300, "DatabaseDown", "db")
        .resolve(310, "HighErrorRate", "api")
        .push(critical(800, "HypervisorDown", "esx-cache"))
        .resolve(900, "HypervisorDown", "esx-cache")
        .resolve(920, "HighLatency", "api")
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db", "HighErrorRate@api"]),
            g(&["HighLatency@api", "HypervisorDown@esx-cache"]),
        ]
    );
    assert_eq!(root_of(&h, "HighLatency@api"), "esx-cache");
}

/// A database two services call directly, and a service calling one of them.
const DIRECT_CALLERS_TOPO: &str = r#"
nodes:
  - {id: db-9, kind: database}
  - {id: svc-a, kind: service}
  - {id: svc-b, kind: service}
  - {id: svc-c, kind: service}
edges:
  - {from: svc-a, to: db-9, type: depends_on}
  - {from: svc-b, to: db-9, type: depends_on}
  - {from: svc-c, to: svc-b, type: depends_on}
"#;

#[test]
fn a_late_cause_of_failures_directly_below_it_bridges_them() {
    // svc-a and svc-b, both calling db-9 directly, start erroring 5 s apart, each in an
    // incident of its own (two warnings are no evidence of a common failure). db-9's outage
    // alert comes 8 s after the first: within the lag a cause may have, it is the late cause of
    // both, and its failure reaches what calls it directly first: one failure.
    let mut h = Harness::with_topology("", DIRECT_CALLERS_TOPO);
    h.push(warning(0, "HighErrorRate", "svc-a"))
        .push(warning(5, "HighErrorRate", "svc-b"))
        .push(critical(8, "DatabaseDown", "db-9"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![g(&[
            "DatabaseDown@db-9",
            "HighErrorRate@svc-a",
            "HighErrorRate@svc-b"
        ])]
    );
    assert_eq!(h.engine.stats().incidents_merged, 1);
    assert_eq!(root_of(&h, "HighErrorRate@svc-a"), "db-9");
    // Further below (svc-c reaches db-9 through svc-b) a failure of its own starting just
    // before the database's is as likely: the late cause joins the one it lags least and
    // bridges nothing.
    let mut h = Harness::with_topology("", DIRECT_CALLERS_TOPO);
    h.push(warning(0, "HighErrorRate", "svc-a"))
        .push(warning(5, "HighErrorRate", "svc-c"))
        .push(critical(8, "DatabaseDown", "db-9"))
        .finish();
    assert_eq!(
        h.groups(),
        vec![
            g(&["DatabaseDown@db-9", "HighErrorRate@svc-c"]),
            g(&["HighErrorRate@svc-a"]),
        ]
    );
    assert_eq!(h.engine.stats().incidents_merged, 0);
}
