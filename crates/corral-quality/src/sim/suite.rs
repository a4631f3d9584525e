//! Named scenario suites. `standard` covers every phenomenon of the simulator, one at a time
//! on small topologies and all together on large ones, up to a storm of about a million events.
//! `smoke` is a quick pair for tests and CI.

use super::{NodeRole, ScenarioConfig};

/// Suite names `corral simulate --suite` accepts.
pub const SUITES: [&str; 2] = ["standard", "smoke"];

/// The scenarios of a named suite, or `None` for an unknown name.
pub fn suite(name: &str) -> Option<Vec<ScenarioConfig>> {
    match name {
        "standard" => Some(standard()),
        "smoke" => Some(smoke()),
        _ => None,
    }
}

/// No noise, no delivery trouble: the baseline every other scenario departs from.
fn quiet(name: &str, nodes: usize, span_minutes: u32, failures: usize) -> ScenarioConfig {
    ScenarioConfig {
        name: name.into(),
        nodes,
        span_minutes,
        failures,
        ha_duplicate_rate: 0.0,
        flap_rate: 0.0,
        overlap_rate: 0.0,
        chronic_noisy_checks: 0,
        one_offs_per_hour: 0.0,
        cmdb_gap_rate: 0.0,
        alias_rate: 0.0,
        late_rate: 0.0,
        jitter_ms: 500,
        ..ScenarioConfig::default()
    }
}

pub fn standard() -> Vec<ScenarioConfig> {
    vec![
        // One host dies; its services and their callers complain; it comes back.
        ScenarioConfig {
            roots: vec![NodeRole::Host],
            chronic_noisy_checks: 2,
            one_offs_per_hour: 2.0,
            ..quiet("single-host", 300, 60, 1)
        },
        // Top-of-rack and distribution switches: wide fan-out, partial propagation.
        ScenarioConfig {
            roots: vec![NodeRole::Switch],
            propagation: 0.6,
            max_blast: 200,
            chronic_noisy_checks: 3,
            one_offs_per_hour: 4.0,
            ..quiet("switch-outage", 2000, 180, 4)
        },
        // Databases and services fail; callers up to the business layer flap while it lasts.
        ScenarioConfig {
            roots: vec![NodeRole::Database, NodeRole::Service],
            flap_rate: 0.3,
            chronic_noisy_checks: 3,
            one_offs_per_hour: 4.0,
            ..quiet("db-cascade", 2000, 180, 6)
        },
        // Every monitor speaks: HA pairs send everything twice, re-notifications every minute.
        ScenarioConfig {
            ha_duplicate_rate: 0.7,
            repeat_interval_s: 60,
            chronic_noisy_checks: 4,
            one_offs_per_hour: 4.0,
            ..quiet("ha-multi-source", 2000, 180, 8)
        },
        // A few failures drowned in chronic checks and one-off alerts.
        ScenarioConfig {
            chronic_noisy_checks: 60,
            one_offs_per_hour: 60.0,
            ..quiet("noisy-background", 3000, 240, 8)
        },
        // Failures in pairs, next to each other in the graph and within two minutes.
        ScenarioConfig {
            overlap_rate: 0.9,
            chronic_noisy_checks: 4,
            one_offs_per_hour: 4.0,
            ..quiet("overlapping", 3000, 240, 10)
        },
        // The CMDB is behind: alerts on unknown resources, hosts named by IP or FQDN.
        ScenarioConfig {
            cmdb_gap_rate: 0.25,
            alias_rate: 0.5,
            chronic_noisy_checks: 4,
            one_offs_per_hour: 6.0,
            ..quiet("cmdb-gaps", 3000, 240, 10)
        },
        // A congested pipeline: events late by minutes, and seconds of jitter reorder the rest.
        ScenarioConfig {
            late_rate: 0.15,
            late_delay_s: (30, 300),
            jitter_ms: 20_000,
            chronic_noisy_checks: 4,
            one_offs_per_hour: 6.0,
            ..quiet("late-delivery", 3000, 240, 10)
        },
        // A day in a 10k-node estate: everything at once, at everyday rates.
        ScenarioConfig {
            name: "mixed-day".into(),
            nodes: 10_000,
            span_minutes: 1440,
            failures: 120,
            chronic_noisy_checks: 80,
            one_offs_per_hour: 30.0,
            ..ScenarioConfig::default()
        },
        // The storm: about a million events on a 10k-node topology in twelve hours, from
        // failures of shared infrastructure (switches, hypervisors, databases, services) with
        // monitors re-notifying every 30 s.
        ScenarioConfig {
            name: "storm-1m".into(),
            nodes: 10_000,
            span_minutes: 720,
            failures: 1550,
            roots: vec![
                NodeRole::Switch,
                NodeRole::Hypervisor,
                NodeRole::Database,
                NodeRole::Service,
            ],
            failure_minutes: (15, 60),
            repeat_interval_s: 30,
            chronic_noisy_checks: 300,
            one_offs_per_hour: 200.0,
            ..ScenarioConfig::default()
        },
    ]
}

pub fn smoke() -> Vec<ScenarioConfig> {
    vec![
        ScenarioConfig {
            chronic_noisy_checks: 2,
            one_offs_per_hour: 3.0,
            ..quiet("smoke-quiet", 400, 120, 3)
        },
        ScenarioConfig {
            name: "smoke-mixed".into(),
            nodes: 800,
            span_minutes: 180,
            failures: 6,
            ..ScenarioConfig::default()
        },
    ]
}
