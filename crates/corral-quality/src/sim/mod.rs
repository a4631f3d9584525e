//! `corral simulate`: alert storms with ground truth.
//!
//! A scenario injects failures on nodes of a topology and lets them propagate along the direction
//! of impact (SPEC §3) with per-hop delays and partial propagation; every alert a failure causes
//! is labelled with that failure in the truth, the alert on the failed node as root cause. Around
//! it come the things that make correlation hard in the field: re-notifications of firing
//! alerts, HA pairs sending the same alert twice, flapping, several monitors with their own
//! fingerprints, chronic noisy checks and one-off alerts (noise, absent from the truth),
//! overlapping failures in neighbouring parts of the graph, resources missing from the CMDB,
//! resolves, and late or out-of-order delivery.
//!
//! Everything is drawn from one ChaCha8 stream seeded by `--seed` and iterated in a fixed order,
//! so a seed always gives the same files.

pub mod suite;
pub mod topology;
pub mod write;

use crate::truth::TruthRecord;
use corral_core::model::{
    compute_fingerprint, parse_event_time, Alert, Labels, Millis, Severity, Status, Str,
};
use corral_core::topology::{EdgeType, TopologyFile};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
pub use topology::{generate_topology, NodeRole};

/// Scenario knobs. Every phenomenon has its own, so a scenario can isolate one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScenarioConfig {
    pub name: String,
    /// Size of the generated topology (ignored when a topology is given).
    pub nodes: usize,
    /// Event-time span over which failures start.
    pub span_minutes: u32,
    /// Event time of the start of the span (RFC 3339).
    pub start: String,
    /// Independent failures injected.
    pub failures: usize,
    /// Probability that an impacted node raises an alert (partial propagation).
    pub propagation: f64,
    /// Probability that impact passes on from a node to each of its dependents.
    pub spread: f64,
    /// Deepest level of dependents a failure can reach.
    pub max_hops: u8,
    /// Most impacted nodes per failure (a failure on a core switch stays a bounded incident).
    pub max_blast: usize,
    /// Delay added per hop of propagation, seconds (min, max).
    pub hop_delay_s: (u32, u32),
    /// How long a failure lasts, minutes (min, max).
    pub failure_minutes: (u32, u32),
    /// Re-notification interval of a firing alert, seconds; 0 for none.
    pub repeat_interval_s: u32,
    /// Share of Alertmanager-sourced alerts also sent by a second (HA) monitor.
    pub ha_duplicate_rate: f64,
    /// Share of symptom alerts that flap while their failure lasts.
    pub flap_rate: f64,
    /// Share of failures followed within two minutes by a second failure nearby.
    pub overlap_rate: f64,
    /// Checks that fire and clear all day long, unrelated to any failure.
    pub chronic_noisy_checks: usize,
    /// One-off unrelated alerts per hour of span.
    pub one_offs_per_hour: f64,
    /// Share of alerts whose resource is missing from the CMDB.
    pub cmdb_gap_rate: f64,
    /// Share of alerts whose resource is given by an alias (IP, FQDN) instead of the node id.
    pub alias_rate: f64,
    /// Share of events delivered late.
    pub late_rate: f64,
    /// Extra delay of a late event, seconds (min, max).
    pub late_delay_s: (u32, u32),
    /// Delivery jitter, milliseconds: events close in time arrive out of order.
    pub jitter_ms: u32,
    /// Whether alerts resolve when their failure ends.
    pub resolves: bool,
    /// Layers failures start on; empty for all (weighted by how often each fails).
    pub roots: Vec<NodeRole>,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            name: "custom".into(),
            nodes: 2000,
            span_minutes: 240,
            start: "2026-11-25T00:00:00Z".into(),
            failures: 10,
            propagation: 0.8,
            spread: 0.9,
            max_hops: 4,
            max_blast: 120,
            hop_delay_s: (5, 60),
            failure_minutes: (5, 45),
            repeat_interval_s: 300,
            ha_duplicate_rate: 0.2,
            flap_rate: 0.1,
            overlap_rate: 0.2,
            chronic_noisy_checks: 5,
            one_offs_per_hour: 6.0,
            cmdb_gap_rate: 0.03,
            alias_rate: 0.2,
            late_rate: 0.02,
            late_delay_s: (30, 240),
            jitter_ms: 3000,
            resolves: true,
            roots: Vec::new(),
        }
    }
}

impl ScenarioConfig {
    /// Checks the knobs; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        let prob = |v: f64, n: &str, errs: &mut Vec<String>| {
            if !(0.0..=1.0).contains(&v) {
                errs.push(format!("{n} must be within 0..=1, got {v}"));
            }
        };
        prob(self.propagation, "propagation", &mut errs);
        prob(self.spread, "spread", &mut errs);
        prob(self.ha_duplicate_rate, "ha_duplicate_rate", &mut errs);
        prob(self.flap_rate, "flap_rate", &mut errs);
        prob(self.overlap_rate, "overlap_rate", &mut errs);
        prob(self.cmdb_gap_rate, "cmdb_gap_rate", &mut errs);
        prob(self.alias_rate, "alias_rate", &mut errs);
        prob(self.late_rate, "late_rate", &mut errs);
        if self.span_minutes == 0 {
            errs.push("span_minutes must be positive".into());
        }
        if !(self.one_offs_per_hour.is_finite() && self.one_offs_per_hour >= 0.0) {
            errs.push("one_offs_per_hour must be a non-negative number".into());
        }
        for (n, (lo, hi)) in [
            ("hop_delay_s", self.hop_delay_s),
            ("failure_minutes", self.failure_minutes),
            ("late_delay_s", self.late_delay_s),
        ] {
            if lo > hi {
                errs.push(format!("{n}: min {lo} is above max {hi}"));
            }
        }
        if self.failure_minutes.0 == 0 {
            errs.push("failure_minutes min must be at least 1".into());
        }
        if parse_event_time(&self.start).is_none() {
            errs.push(format!("start {:?} is not an RFC 3339 time", self.start));
        }
        if self.nodes == 0 {
            errs.push("nodes must be positive".into());
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// The identity and fixed fields of one alert; events refer to it.
#[derive(Clone, Debug)]
struct AlertTemplate {
    alert: Alert,
}

/// One occurrence in the stream.
#[derive(Clone, Copy, Debug)]
struct SimEvent {
    template: u32,
    status: Status,
    starts_at: Millis,
    ends_at: Option<Millis>,
    delivery: Millis,
    /// Sent by the second monitor of an HA pair.
    replica: bool,
    seq: u64,
}

/// One injected failure, for reports and tests.
#[derive(Clone, Debug, Serialize)]
pub struct FailureInfo {
    pub incident: String,
    pub root: String,
    pub start_ms: Millis,
    pub end_ms: Millis,
    pub alerts: usize,
    /// Another failure it was placed next to, when it is an overlapping one.
    pub overlaps: Option<String>,
}

/// Counts of what the scenario contains.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScenarioStats {
    pub events: usize,
    pub alerts: usize,
    pub truth_incidents: usize,
    pub noise_alerts: usize,
    pub repeat_events: usize,
    pub ha_duplicate_events: usize,
    pub flapping_alerts: usize,
    pub resolve_events: usize,
    pub late_events: usize,
    pub out_of_order_events: usize,
    pub cmdb_gap_alerts: usize,
    pub alias_alerts: usize,
    pub overlapping_failures: usize,
    pub sources: BTreeMap<String, usize>,
}

/// A generated scenario: topology, ordered alert stream, truth.
pub struct Scenario {
    pub config: ScenarioConfig,
    pub seed: u64,
    pub topology: TopologyFile,
    templates: Vec<AlertTemplate>,
    events: Vec<SimEvent>,
    pub truth: Vec<TruthRecord>,
    pub failures: Vec<FailureInfo>,
    pub stats: ScenarioStats,
}

impl Scenario {
    /// Number of events (alert occurrences) in the stream.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The stream in delivery order, each occurrence materialised as a SPEC §1 alert.
    pub fn alerts(&self) -> impl Iterator<Item = Alert> + '_ {
        self.events.iter().map(|e| self.materialise(e))
    }

    /// Delivery time of each event, in stream order (for plots).
    pub fn delivery_times(&self) -> impl Iterator<Item = Millis> + '_ {
        self.events.iter().map(|e| e.delivery)
    }

    fn materialise(&self, e: &SimEvent) -> Alert {
        let mut a = self.templates[e.template as usize].alert.clone();
        a.status = e.status;
        a.starts_at = e.starts_at;
        a.ends_at = e.ends_at;
        let monitor = if e.replica { "b" } else { "a" };
        a.annotations.push((
            Str::const_new("monitor"),
            compact_str::format_compact!("{}-{monitor}", a.source),
        ));
        Alert::normalize_labels(&mut a.annotations);
        a
    }
}

/// Per-node facts the generator uses.
struct Graph {
    ids: Vec<String>,
    roles: Vec<NodeRole>,
    services: Vec<Option<String>>,
    aliases: Vec<Vec<String>>,
    /// Nodes a fault here can reach in one hop.
    downstream: Vec<Vec<u32>>,
    /// Neighbours in either direction (for placing overlapping failures).
    neighbours: Vec<Vec<u32>>,
}

impl Graph {
    fn new(topo: &TopologyFile) -> Graph {
        let mut index: FxHashMap<&str, u32> = FxHashMap::default();
        for (i, n) in topo.nodes.iter().enumerate() {
            index.insert(n.id.as_str(), i as u32);
        }
        let n = topo.nodes.len();
        let mut downstream = vec![Vec::new(); n];
        let mut neighbours = vec![Vec::new(); n];
        for e in &topo.edges {
            let (Some(&from), Some(&to)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
            else {
                continue;
            };
            if from == to {
                continue;
            }
            downstream[to as usize].push(from);
            if e.edge_type == EdgeType::ConnectsTo {
                downstream[from as usize].push(to);
            }
            neighbours[to as usize].push(from);
            neighbours[from as usize].push(to);
        }
        Graph {
            ids: topo.nodes.iter().map(|n| n.id.clone()).collect(),
            roles: topo
                .nodes
                .iter()
                .map(|n| NodeRole::of_kind(n.kind.as_deref().unwrap_or("")))
                .collect(),
            services: topo.nodes.iter().map(|n| n.service.clone()).collect(),
            aliases: topo.nodes.iter().map(|n| n.aliases.clone()).collect(),
            downstream,
            neighbours,
        }
    }
}

/// What a node of each role raises: (source, primary alert, optional second alert, severity).
fn alert_kinds(
    role: NodeRole,
    as_root: bool,
) -> (&'static str, &'static str, Option<&'static str>, Severity) {
    match role {
        NodeRole::Switch if as_root => (
            "zabbix",
            "SwitchDown",
            Some("BGPPeerDown"),
            Severity::Critical,
        ),
        NodeRole::Switch => ("zabbix", "UplinkDegraded", None, Severity::Error),
        NodeRole::Interface => ("zabbix", "InterfaceDown", None, Severity::Error),
        NodeRole::Hypervisor if as_root => ("icinga2", "HypervisorDown", None, Severity::Critical),
        NodeRole::Hypervisor => ("icinga2", "HypervisorUnreachable", None, Severity::Error),
        NodeRole::Host if as_root => (
            "alertmanager",
            "HostDown",
            Some("NodeExporterDown"),
            Severity::Critical,
        ),
        NodeRole::Host => (
            "alertmanager",
            "InstanceDown",
            Some("HighPacketLoss"),
            Severity::Error,
        ),
        NodeRole::Database if as_root => (
            "datadog",
            "DatabaseDown",
            Some("ReplicationBroken"),
            Severity::Critical,
        ),
        NodeRole::Database => (
            "datadog",
            "DatabaseUnreachable",
            Some("ConnectionPoolExhausted"),
            Severity::Error,
        ),
        NodeRole::ServiceInstance if as_root => (
            "alertmanager",
            "ContainerCrashLooping",
            None,
            Severity::Critical,
        ),
        NodeRole::ServiceInstance => (
            "alertmanager",
            "TargetDown",
            Some("HighErrorRate"),
            Severity::Error,
        ),
        NodeRole::Service if as_root => (
            "alertmanager",
            "DeploymentFailed",
            Some("HighErrorRate"),
            Severity::Critical,
        ),
        NodeRole::Service => (
            "alertmanager",
            "HighErrorRate",
            Some("HighLatency"),
            Severity::Warning,
        ),
        NodeRole::BusinessService => ("dynatrace", "SLOBurnRateHigh", None, Severity::Critical),
        NodeRole::Other if as_root => ("nagios", "HostCheckCritical", None, Severity::Critical),
        NodeRole::Other => ("nagios", "ServiceCheckWarning", None, Severity::Warning),
    }
}

const NOISY_CHECKS: [&str; 6] = [
    "DiskSpaceLow",
    "CPUHigh",
    "NTPClockSkew",
    "CertificateExpiringSoon",
    "SwapUsageHigh",
    "InodeUsageHigh",
];
const ONE_OFF_NAMES: [&str; 7] = [
    "BackupJobFailed",
    "ConfigDriftDetected",
    "PodRestarted",
    "LatencySpike",
    "ProcessRestarted",
    "LogErrorBurst",
    "CronJobMissed",
];

struct Builder<'a> {
    cfg: &'a ScenarioConfig,
    graph: &'a Graph,
    rng: ChaCha8Rng,
    templates: Vec<AlertTemplate>,
    template_index: FxHashMap<Str, u32>,
    events: Vec<SimEvent>,
    truth: Vec<TruthRecord>,
    stats: ScenarioStats,
    /// (node, alert name) → firing until; a symptom already firing is not raised twice.
    busy_until: FxHashMap<(u32, &'static str), Millis>,
    /// Fingerprints already in the truth: one fingerprint belongs to one incident.
    truth_fps: rustc_hash::FxHashSet<Str>,
    dc_count: usize,
    gap_serial: u64,
}

impl Builder<'_> {
    fn cluster_of(&self, node: u32) -> String {
        // The data centre is the first number in generated ids; other topologies get one.
        let id = &self.graph.ids[node as usize];
        let dc = id
            .split('-')
            .find_map(|p| p.parse::<usize>().ok())
            .map(|n| n % self.dc_count.max(1))
            .unwrap_or(0);
        format!("dc{}", dc + 1)
    }

    /// The resource string an alert on `node` carries: the id, an alias, or (CMDB gap) a name
    /// the CMDB does not know.
    fn resource_for(&mut self, node: u32, allow_gap: bool) -> (String, bool, bool) {
        if allow_gap && self.rng.random_bool(self.cfg.cmdb_gap_rate) {
            self.gap_serial += 1;
            let id = &self.graph.ids[node as usize];
            // Looks like an ephemeral workload the CMDB never recorded.
            return (
                format!("{id}-x{:05x}", self.gap_serial * 7919 % 0xfffff),
                true,
                false,
            );
        }
        let aliases = &self.graph.aliases[node as usize];
        if !aliases.is_empty() && self.rng.random_bool(self.cfg.alias_rate) {
            let a = aliases.choose(&mut self.rng).expect("non-empty").clone();
            return (a, false, true);
        }
        (self.graph.ids[node as usize].clone(), false, false)
    }

    /// Creates (or finds) the template of an alert and returns its index.
    #[allow(clippy::too_many_arguments)]
    fn template(
        &mut self,
        node: u32,
        source: &'static str,
        name: &str,
        severity: Severity,
        resource: String,
        gap: bool,
        alias: bool,
        extra: Option<(&str, String)>,
    ) -> u32 {
        let service = self.graph.services[node as usize].clone();
        let mut labels: Labels = vec![
            (Str::const_new("cluster"), self.cluster_of(node).into()),
            (Str::const_new("env"), Str::const_new("prod")),
        ];
        match source {
            "alertmanager" => {
                labels.push(("instance".into(), format!("{resource}:9100").into()));
                labels.push(("job".into(), Str::const_new("node")));
            }
            "zabbix" | "nagios" | "icinga2" => {
                labels.push(("host".into(), resource.as_str().into()))
            }
            _ => labels.push(("host".into(), resource.as_str().into())),
        }
        if let Some(s) = &service {
            labels.push(("service".into(), s.as_str().into()));
        }
        if let Some((k, v)) = extra {
            labels.push((k.into(), v.into()));
        }
        Alert::normalize_labels(&mut labels);
        let computed = compute_fingerprint(source, name, &resource, &labels);
        // Monitors with their own alarm ids keep them (SPEC §1): the fingerprint is given.
        let fingerprint: Str = match source {
            "zabbix" => compact_str::format_compact!("zbx-{}", &computed[..12]),
            "datadog" => compact_str::format_compact!("dd-{}", &computed[..12]),
            "dynatrace" => compact_str::format_compact!("P-{}", &computed[..10]),
            _ => computed,
        };
        if let Some(&t) = self.template_index.get(&fingerprint) {
            return t;
        }
        let alert = Alert {
            fingerprint: fingerprint.clone(),
            source: Str::const_new(source),
            name: name.into(),
            status: Status::Firing,
            severity,
            resource: resource.as_str().into(),
            service: service.map(Str::from),
            summary: Some(format!("{name} on {resource}")),
            labels,
            annotations: Vec::new(),
            starts_at: 0,
            ends_at: None,
            value: None,
        };
        let idx = self.templates.len() as u32;
        self.templates.push(AlertTemplate { alert });
        self.template_index.insert(fingerprint, idx);
        *self.stats.sources.entry(source.to_string()).or_insert(0) += 1;
        if gap {
            self.stats.cmdb_gap_alerts += 1;
        }
        if alias {
            self.stats.alias_alerts += 1;
        }
        idx
    }

    fn delivery(&mut self, event_time: Millis) -> Millis {
        let mut d = event_time + self.rng.random_range(100..=1500);
        if self.cfg.jitter_ms > 0 {
            d += self.rng.random_range(0..=self.cfg.jitter_ms as i64);
        }
        if self.rng.random_bool(self.cfg.late_rate) {
            let (lo, hi) = self.cfg.late_delay_s;
            d += self.rng.random_range(lo as i64..=hi as i64) * 1000;
            self.stats.late_events += 1;
        }
        d
    }

    fn push(
        &mut self,
        template: u32,
        status: Status,
        starts_at: Millis,
        ends_at: Option<Millis>,
        at: Millis,
        replica: bool,
    ) {
        let delivery = self.delivery(at);
        let seq = self.events.len() as u64;
        self.events.push(SimEvent {
            template,
            status,
            starts_at,
            ends_at,
            delivery,
            replica,
            seq,
        });
    }

    /// Emits the life of one alert: firing, re-notifications, optional flapping, resolve;
    /// every event twice when an HA pair watches it.
    fn life(&mut self, template: u32, start: Millis, end: Millis, flaps: bool) {
        let ha = self.templates[template as usize].alert.source == "alertmanager"
            && self.rng.random_bool(self.cfg.ha_duplicate_rate);
        // Firing intervals: one, or several when the check flaps around its threshold.
        let mut intervals = Vec::new();
        if flaps && end - start > 120_000 {
            self.stats.flapping_alerts += 1;
            let mut t = start;
            while t < end {
                let on = self.rng.random_range(20_000..=90_000);
                let off = self.rng.random_range(15_000..=60_000);
                let stop = (t + on).min(end);
                intervals.push((t, stop));
                t = stop + off;
            }
        } else {
            intervals.push((start, end));
        }
        for (i, &(s, e)) in intervals.iter().enumerate() {
            let replicas: &[bool] = if ha { &[false, true] } else { &[false] };
            for &replica in replicas {
                // The second monitor evaluates on its own schedule: a few seconds apart.
                let skew = if replica {
                    self.rng.random_range(200..=8000)
                } else {
                    0
                };
                if replica {
                    self.stats.ha_duplicate_events += 1;
                }
                self.push(template, Status::Firing, s, None, s + skew, replica);
                if self.cfg.repeat_interval_s > 0 {
                    let step = self.cfg.repeat_interval_s as i64 * 1000;
                    let mut t = s + step;
                    while t < e {
                        self.push(template, Status::Firing, s, None, t + skew, replica);
                        self.stats.repeat_events += 1;
                        if replica {
                            self.stats.ha_duplicate_events += 1;
                        }
                        t += step;
                    }
                }
                let last = i + 1 == intervals.len();
                if !last || self.cfg.resolves {
                    self.push(template, Status::Resolved, s, Some(e), e + skew, replica);
                    self.stats.resolve_events += 1;
                    if replica {
                        self.stats.ha_duplicate_events += 1;
                    }
                }
            }
        }
    }
}

/// Generates a scenario on `topology`, or on a generated one of `config.nodes` nodes.
pub fn generate(
    config: &ScenarioConfig,
    seed: u64,
    topology: Option<TopologyFile>,
) -> Result<Scenario, Vec<String>> {
    config.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let topology = match topology {
        Some(t) => t,
        None => generate_topology(config.nodes, &mut rng),
    };
    if topology.nodes.is_empty() {
        return Err(vec!["the topology has no nodes".into()]);
    }
    let graph = Graph::new(&topology);
    let span_start = parse_event_time(&config.start).expect("validated");
    let span_ms = config.span_minutes as i64 * 60_000;
    let dc_count = topology
        .nodes
        .iter()
        .filter(|n| n.id.starts_with("core-sw-") && n.id.ends_with("-0"))
        .count()
        .max(1);
    let mut b = Builder {
        cfg: config,
        graph: &graph,
        rng,
        templates: Vec::new(),
        template_index: FxHashMap::default(),
        events: Vec::new(),
        truth: Vec::new(),
        stats: ScenarioStats::default(),
        busy_until: FxHashMap::default(),
        truth_fps: Default::default(),
        dc_count,
        gap_serial: 0,
    };

    // Candidate roots, weighted by how often each layer fails in practice.
    let weight = |r: NodeRole| match r {
        NodeRole::Host => 5,
        NodeRole::Database => 4,
        NodeRole::Hypervisor => 3,
        NodeRole::ServiceInstance => 3,
        NodeRole::Service => 2,
        NodeRole::Switch => 2,
        NodeRole::Interface => 1,
        NodeRole::Other => 2,
        NodeRole::BusinessService => 0,
    };
    let candidates: Vec<(u32, u32)> = (0..graph.ids.len() as u32)
        .map(|i| (i, weight(graph.roles[i as usize])))
        .filter(|&(i, w)| {
            w > 0 && (config.roots.is_empty() || config.roots.contains(&graph.roles[i as usize]))
        })
        .collect();
    let candidates = if candidates.is_empty() {
        (0..graph.ids.len() as u32).map(|i| (i, 1)).collect()
    } else {
        candidates
    };

    // Failure plan: independent failures, some followed by a neighbouring one.
    let mut plan: Vec<(u32, Millis, Option<usize>)> = Vec::new();
    for _ in 0..config.failures {
        let root = candidates
            .choose_weighted(&mut b.rng, |c| c.1)
            .expect("weights")
            .0;
        let t0 = span_start + b.rng.random_range(0..span_ms);
        let first = plan.len();
        plan.push((root, t0, None));
        if b.rng.random_bool(config.overlap_rate) {
            if let Some(near) = neighbour_within(&graph, root, 2, &mut b.rng) {
                let t1 = t0 + b.rng.random_range(0..=120_000);
                plan.push((near, t1, Some(first)));
            }
        }
    }
    plan.sort_by_key(|p| p.1);
    // Sorting moved the overlap references: remap them by (root, time).
    let mut failures = Vec::with_capacity(plan.len());
    for (i, &(root, t0, _)) in plan.iter().enumerate() {
        let incident = format!("{}-f{i:04}", config.name);
        let (lo, hi) = config.failure_minutes;
        let duration = b.rng.random_range(lo as i64..=hi as i64) * 60_000;
        let end = t0 + duration;
        let before = b.truth.len();
        inject(&mut b, root, t0, end, &incident);
        failures.push(FailureInfo {
            incident,
            root: graph.ids[root as usize].clone(),
            start_ms: t0,
            end_ms: end,
            alerts: b.truth.len() - before,
            overlaps: None,
        });
    }
    for (i, p) in plan.iter().enumerate() {
        if p.2.is_some() {
            // The partner is the closest earlier failure on a neighbouring node.
            let partner = (0..i).rev().find(|&j| {
                graph.neighbours[plan[j].0 as usize].contains(&p.0)
                    || within_two(&graph, plan[j].0, p.0)
            });
            failures[i].overlaps = partner.map(|j| failures[j].incident.clone());
            b.stats.overlapping_failures += 1;
        }
    }
    // A failure whose every symptom was already firing adds nothing to the truth: drop it.
    failures.retain(|f| f.alerts > 0);

    // Background noise: chronic checks firing and clearing all along, then one-offs.
    let end_all = span_start + span_ms;
    for _ in 0..config.chronic_noisy_checks {
        let node = b.rng.random_range(0..graph.ids.len() as u32);
        let name = *NOISY_CHECKS.choose(&mut b.rng).expect("non-empty");
        let (resource, gap, alias) = b.resource_for(node, true);
        let source = if b.rng.random_bool(0.5) {
            "alertmanager"
        } else {
            "nagios"
        };
        let t = b.template(
            node,
            source,
            name,
            Severity::Warning,
            resource,
            gap,
            alias,
            Some(("check", "chronic".into())),
        );
        let mut at = span_start + b.rng.random_range(0..600_000);
        while at < end_all {
            let on = b.rng.random_range(60_000..=300_000);
            b.life(t, at, at + on, false);
            at += on + b.rng.random_range(300_000..=1_800_000);
        }
    }
    let hours = span_ms as f64 / 3_600_000.0;
    let one_offs = (config.one_offs_per_hour * hours).round() as usize;
    for k in 0..one_offs {
        let node = b.rng.random_range(0..graph.ids.len() as u32);
        let name = *ONE_OFF_NAMES.choose(&mut b.rng).expect("non-empty");
        let (resource, gap, alias) = b.resource_for(node, true);
        let source = *["alertmanager", "datadog", "nagios", "zabbix"]
            .choose(&mut b.rng)
            .expect("non-empty");
        let t = b.template(
            node,
            source,
            name,
            Severity::Warning,
            resource,
            gap,
            alias,
            Some(("event", format!("n{k}"))),
        );
        let at = span_start + b.rng.random_range(0..span_ms);
        let dur = b.rng.random_range(60_000..=600_000);
        b.life(t, at, at + dur, false);
    }

    // The stream in delivery order; ties keep generation order.
    b.events.sort_by_key(|e| (e.delivery, e.seq));
    let mut max_time = Millis::MIN;
    for e in &b.events {
        let t = match (e.status, e.ends_at) {
            (Status::Resolved, Some(end)) => end,
            _ => e.starts_at,
        };
        if t < max_time {
            b.stats.out_of_order_events += 1;
        }
        max_time = max_time.max(t);
    }
    let truth_fps: rustc_hash::FxHashSet<&str> =
        b.truth.iter().map(|r| r.fingerprint.as_str()).collect();
    b.stats.events = b.events.len();
    b.stats.alerts = b.templates.len();
    b.stats.noise_alerts = b
        .templates
        .iter()
        .filter(|t| !truth_fps.contains(t.alert.fingerprint.as_str()))
        .count();
    b.stats.truth_incidents = failures.len();
    Ok(Scenario {
        config: config.clone(),
        seed,
        topology,
        templates: b.templates,
        events: b.events,
        truth: b.truth,
        failures,
        stats: b.stats,
    })
}

fn within_two(g: &Graph, a: u32, b: u32) -> bool {
    g.neighbours[a as usize]
        .iter()
        .any(|&m| m == b || g.neighbours[m as usize].contains(&b))
}

/// A random node one or two hops from `root` in either direction, not `root` itself.
fn neighbour_within<R: Rng>(g: &Graph, root: u32, hops: usize, rng: &mut R) -> Option<u32> {
    let mut seen = vec![root];
    let mut frontier = vec![root];
    for _ in 0..hops {
        let mut next = Vec::new();
        for &n in &frontier {
            for &m in &g.neighbours[n as usize] {
                if !seen.contains(&m) && seen.len() < 64 {
                    seen.push(m);
                    next.push(m);
                }
            }
        }
        frontier = next;
    }
    let options: Vec<u32> = seen
        .into_iter()
        .filter(|&n| n != root && g.roles[n as usize] != NodeRole::BusinessService)
        .collect();
    options.choose(rng).copied()
}

/// Injects one failure: the root alert, then symptoms spreading down the graph.
fn inject(b: &mut Builder<'_>, root: u32, t0: Millis, end: Millis, incident: &str) {
    let cfg = b.cfg;
    // Breadth first over dependents; each impacted node remembers when impact reached it.
    let mut impacted: Vec<(u32, Millis, u8)> = vec![(root, t0, 0)];
    let mut seen = rustc_hash::FxHashSet::default();
    seen.insert(root);
    let mut i = 0;
    while i < impacted.len() && impacted.len() < cfg.max_blast {
        let (node, at, depth) = impacted[i];
        i += 1;
        if depth >= cfg.max_hops {
            continue;
        }
        for &d in &b.graph.downstream[node as usize] {
            if impacted.len() >= cfg.max_blast {
                break;
            }
            if !seen.insert(d) || !b.rng.random_bool(cfg.spread) {
                continue;
            }
            let (lo, hi) = cfg.hop_delay_s;
            let delay =
                b.rng.random_range(lo as i64..=hi as i64) * 1000 + b.rng.random_range(0..1000);
            impacted.push((d, at + delay, depth + 1));
        }
    }
    let mut root_marked = false;
    for (k, &(node, at, _)) in impacted.iter().enumerate() {
        let is_root = k == 0;
        // The failed node always alerts (it is what the operator must hear of); dependents
        // alert with the propagation probability.
        if !is_root && !b.rng.random_bool(cfg.propagation) {
            continue;
        }
        let role = b.graph.roles[node as usize];
        let (source, primary, secondary, severity) = alert_kinds(role, is_root);
        let mut names = vec![primary];
        if let Some(s) = secondary {
            if b.rng.random_bool(0.3) {
                names.push(s);
            }
        }
        for (n, name) in names.into_iter().enumerate() {
            let key = (node, name);
            if b.busy_until.get(&key).is_some_and(|&until| until > at) {
                if is_root && n == 0 {
                    // The failed node is already down for an earlier failure: nothing new.
                    return;
                }
                continue; // already firing for an earlier failure: that failure owns it
            }
            // The root's own check fires within a polling interval; symptoms follow impact.
            let start = if is_root {
                at + b.rng.random_range(0..=20_000)
            } else {
                at + b.rng.random_range(0..=5_000)
            };
            let recover = end + b.rng.random_range(0..=120_000);
            let allow_gap = !is_root;
            let (resource, gap, alias) = b.resource_for(node, allow_gap);
            let tmpl = b.template(node, source, name, severity, resource, gap, alias, None);
            let fp = b.templates[tmpl as usize].alert.fingerprint.to_string();
            if !b.truth_fps.insert(fp.as_str().into()) {
                // Same alert already stood for an earlier failure; a fingerprint maps to one
                // incident in the truth, so this occurrence is not raised again.
                if is_root && n == 0 {
                    return;
                }
                continue;
            }
            b.busy_until.insert(key, recover);
            let flaps = !is_root && b.rng.random_bool(cfg.flap_rate);
            b.life(tmpl, start, recover, flaps);
            let root_cause = is_root && n == 0 && !root_marked;
            root_marked |= root_cause;
            b.truth.push(TruthRecord {
                fingerprint: fp,
                incident: incident.to_string(),
                root_cause,
            });
        }
    }
}

#[cfg(test)]
mod tests;
