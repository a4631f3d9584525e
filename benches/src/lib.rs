//! Inputs for the criterion benches: a layered 10k-node topology and a storm of alerts over it,
//! built deterministically in memory so that every run measures the same work. (Quality is
//! measured with `corral simulate`; this is only load.)

use corral_core::model::{compute_fingerprint, Alert, AlertHead, Severity, Status};
use corral_core::topology::{EdgeSpec, EdgeType, NodeSpec, TopologyFile};
use corral_core::{Engine, IncidentUpdate, RuleSet, TopologyIndex};
use corral_formats::{decode_stream_to, DeadLetter, Format, Sink, UpdateLines};
use std::io::{self, Write};
use std::sync::Arc;

/// Small deterministic PRNG (SplitMix64): benches need repeatable input, not statistical quality.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The shipped default rules, which every bench runs with.
pub fn default_rules() -> std::sync::Arc<corral_core::RuleSet> {
    std::sync::Arc::new(
        corral_core::RuleSet::from_yaml(include_str!("../../rules/default.yaml"), "default.yaml")
            .expect("the shipped rules parse"),
    )
}

/// `switches` top-of-rack switches under 4 cores, 20 hosts per switch, 2 services per host,
/// each service depending on one of 50 databases.
pub fn topology(nodes: usize) -> TopologyFile {
    let switches = (nodes / 63).max(1);
    let mut t = TopologyFile::default();
    let node = |id: String, kind: &str, service: Option<String>| NodeSpec {
        id,
        kind: Some(kind.into()),
        service,
        aliases: Vec::new(),
        labels: Default::default(),
    };
    let edge = |from: &str, to: &str, edge_type| EdgeSpec {
        from: from.into(),
        to: to.into(),
        edge_type,
    };
    for c in 0..4 {
        t.nodes.push(node(format!("core-{c}"), "switch", None));
    }
    for d in 0..50 {
        t.nodes.push(node(
            format!("db-{d}"),
            "database",
            Some(format!("svc-{}", d % 25)),
        ));
    }
    for s in 0..switches {
        let sw = format!("tor-{s}");
        t.nodes.push(node(sw.clone(), "switch", None));
        t.edges
            .push(edge(&sw, &format!("core-{}", s % 4), EdgeType::ConnectsTo));
        for h in 0..20 {
            let host = format!("host-{s}-{h}");
            t.nodes.push(node(host.clone(), "host", None));
            t.edges.push(edge(&host, &sw, EdgeType::PartOf));
            for a in 0..2 {
                let app = format!("app-{s}-{h}-{a}");
                t.nodes.push(node(
                    app.clone(),
                    "service",
                    Some(format!("svc-{}", (s + a) % 25)),
                ));
                t.edges.push(edge(&app, &host, EdgeType::RunsOn));
                t.edges.push(edge(
                    &app,
                    &format!("db-{}", (s * 7 + h + a) % 50),
                    EdgeType::DependsOn,
                ));
            }
        }
    }
    t
}

/// A storm of `n` alert occurrences: failures of switches, hosts and databases every few
/// seconds, each raising symptoms below it that repeat every 30 s, plus background noise.
pub fn storm(topo: &TopologyFile, n: usize, seed: u64) -> Vec<Alert> {
    let mut rng = SplitMix::new(seed);
    let switches = topo
        .nodes
        .iter()
        .filter(|n| n.id.starts_with("tor-"))
        .count();
    let mut out = Vec::with_capacity(n);
    let t0 = 1_764_000_000_000i64;
    let mut t = t0;
    while out.len() < n {
        t += 1_000 + rng.below(4_000) as i64;
        let s = rng.below(switches);
        let h = rng.below(20);
        // One failure: a host and its apps, repeated a few times.
        let mut burst: Vec<(String, String, Severity)> = vec![(
            format!("host-{s}-{h}"),
            "HostDown".into(),
            Severity::Critical,
        )];
        for a in 0..2 {
            burst.push((
                format!("app-{s}-{h}-{a}"),
                "ServiceUnavailable".into(),
                Severity::Error,
            ));
            burst.push((
                format!("app-{s}-{h}-{a}"),
                "HighLatency".into(),
                Severity::Warning,
            ));
        }
        if rng.below(4) == 0 {
            let other = rng.below(20);
            burst.push((
                format!("host-{s}-{other}"),
                "PacketLoss".into(),
                Severity::Warning,
            ));
        }
        let repeats = 1 + rng.below(6);
        for r in 0..repeats {
            for (i, (res, name, sev)) in burst.iter().enumerate() {
                if out.len() >= n {
                    break;
                }
                out.push(make_alert(
                    name,
                    res,
                    *sev,
                    t + (r as i64) * 30_000 + i as i64 * 500,
                ));
            }
        }
        // Background noise.
        let noisy = format!("host-{}-{}", rng.below(switches), rng.below(20));
        if out.len() < n {
            out.push(make_alert("DiskSpaceLow", &noisy, Severity::Warning, t));
        }
    }
    out.truncate(n);
    out
}

fn make_alert(name: &str, resource: &str, severity: Severity, t: i64) -> Alert {
    let labels = vec![
        ("alertname".into(), name.into()),
        ("instance".into(), format!("{resource}:9100").into()),
        ("job".into(), "node".into()),
    ];
    Alert {
        fingerprint: compute_fingerprint("alertmanager", name, resource, &labels),
        source: "alertmanager".into(),
        name: name.into(),
        status: Status::Firing,
        severity,
        resource: resource.into(),
        service: None,
        summary: None,
        labels,
        annotations: Vec::new(),
        starts_at: t,
        ends_at: None,
        value: None,
    }
}

/// The storm as native NDJSON, one alert per line.
pub fn to_ndjson(alerts: &[Alert]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(alerts.len() * 300);
    for a in alerts {
        serde_json::to_writer(&mut buf, a).expect("alerts serialize");
        buf.push(b'\n');
    }
    buf
}

/// A topology of `nodes` nodes padded with service-to-service `depends_on` edges up to `edges`
/// edges, for the load-and-index figure (100k nodes, 500k edges).
pub fn large_topology(nodes: usize, edges: usize, seed: u64) -> TopologyFile {
    let mut t = topology(nodes);
    let apps: Vec<String> = t
        .nodes
        .iter()
        .filter(|n| n.id.starts_with("app-"))
        .map(|n| n.id.clone())
        .collect();
    let mut rng = SplitMix::new(seed);
    while t.edges.len() < edges && !apps.is_empty() {
        let a = rng.below(apps.len());
        let b = rng.below(apps.len());
        if a != b {
            t.edges.push(EdgeSpec {
                from: apps[a].clone(),
                to: apps[b].clone(),
                edge_type: EdgeType::DependsOn,
            });
        }
    }
    t
}

/// CPU time of the calling thread, for criterion (`Criterion::default().with_measurement`).
///
/// Five engineers share this 2-core machine: wall-clock samples wait for a core and spread by
/// several times, CPU time does not. Read from `/proc/thread-self/schedstat` (nanoseconds on
/// CPU), so it needs no unsafe code; elsewhere than Linux it reads zero.
pub struct ThreadCpuTime;

impl ThreadCpuTime {
    /// Nanoseconds this thread has run so far.
    pub fn now_ns() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl criterion::measurement::Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        ThreadCpuTime::now_ns()
    }

    fn end(&self, started: u64) -> u64 {
        ThreadCpuTime::now_ns().saturating_sub(started)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn criterion::measurement::ValueFormatter {
        // Nanoseconds, like wall time: criterion's own formatter prints them.
        static WALL: criterion::measurement::WallTime = criterion::measurement::WallTime;
        criterion::measurement::Measurement::formatter(&WALL)
    }
}

/// The storm as Alertmanager webhook payloads (version "4") of `per_payload` alerts, one per
/// line. Alertmanager's `fingerprint` is kept, so identities match the native form.
pub fn to_alertmanager(alerts: &[Alert], per_payload: usize) -> Vec<u8> {
    use serde_json::json;
    let mut buf = Vec::with_capacity(alerts.len() * 400);
    for chunk in alerts.chunks(per_payload.max(1)) {
        let items: Vec<serde_json::Value> = chunk
            .iter()
            .map(|a| {
                let mut labels = serde_json::Map::new();
                for (k, v) in &a.labels {
                    labels.insert(k.to_string(), json!(v.as_str()));
                }
                labels.insert("severity".into(), json!(a.severity.as_str()));
                json!({
                    "status": a.status.as_str(),
                    "labels": labels,
                    "annotations": {"summary": format!("{} on {}", a.name, a.resource)},
                    "startsAt": corral_core::model::format_event_time(a.starts_at),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
                    "fingerprint": a.fingerprint.as_str(),
                })
            })
            .collect();
        let payload = json!({
            "version": "4",
            "groupKey": "{}:{alertname=\"storm\"}",
            "status": "firing",
            "receiver": "corral",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": items,
        });
        serde_json::to_writer(&mut buf, &payload).expect("payload serializes");
        buf.push(b'\n');
    }
    buf
}

/// Decodes, correlates and encodes `input`; returns (alerts, updates, bytes written).
/// Plain repeats go to the engine by their head, without building the alert, as in
/// `corral replay`.
pub fn replay(
    format: &Format,
    input: &[u8],
    rules: &Arc<RuleSet>,
    index: &Arc<TopologyIndex>,
) -> (u64, u64, u64) {
    let mut pipeline = Pipeline {
        engine: Engine::new(rules.clone(), index.clone()),
        batch: Vec::with_capacity(64),
        out: UpdateLines::new(CountingSink::default()),
        updates: 0,
    };
    let stats = decode_stream_to(format, input, &mut pipeline).expect("reading memory cannot fail");
    pipeline.engine.finish(&mut pipeline.batch);
    pipeline.write();
    let sink = pipeline.out.into_inner().expect("sink accepts");
    (stats.alerts, pipeline.updates, sink.bytes)
}

/// The replay bench's engine and output, as the decoder's sink.
struct Pipeline {
    engine: Engine,
    batch: Vec<IncidentUpdate>,
    /// Updates encoded straight into the chunks handed to the sink, as `corral replay` does.
    out: UpdateLines<CountingSink>,
    updates: u64,
}

impl Pipeline {
    fn write(&mut self) {
        // Most alerts make no update: no `Drain` to set up and drop for them.
        if self.batch.is_empty() {
            return;
        }
        // Encoded where they lie, then dropped: draining moved each (~530 bytes) out first.
        for u in &self.batch {
            self.updates += 1;
            self.out.write(u).expect("sink accepts");
        }
        self.batch.clear();
    }
}

impl Sink for Pipeline {
    fn repeat(&mut self, head: &AlertHead<'_>) -> bool {
        let taken = self.engine.ingest_repeat(head, &mut self.batch);
        self.write();
        taken
    }

    fn alert(&mut self, alert: Alert) {
        self.engine.ingest(alert, &mut self.batch);
        self.write();
    }

    fn dead(&mut self, d: DeadLetter) {
        panic!("bench input is valid: {d:?}")
    }
}

/// Where `corral replay --output /dev/null` writes: bytes counted, not kept.
#[derive(Debug, Default)]
pub struct CountingSink {
    pub bytes: u64,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
