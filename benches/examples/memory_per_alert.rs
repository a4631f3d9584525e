//! Resident memory per active alert: holds N distinct firing alerts (default 1,000,000) in the
//! engine, over the bench's 10k-node topology, and reports what they cost.
//!
//! ```text
//! cargo run --release -p corral-benches --example memory_per_alert [ALERTS]
//! ```
//!
//! Resident memory (VmRSS, so allocator overhead and hash-table slack count) is read before and
//! after ingesting; the alerts are generated one at a time, so only the engine holds them. Each
//! alert carries 3 labels of short strings (stored inline in their `CompactString`s); "label
//! storage" is the label vector's buffer (48 bytes a label plus any string too long to be
//! inline), and the target (DESIGN.md: at most 300 bytes per active alert beyond its label
//! strings, 1M alerts under 1 GiB) is checked against the figure without it. Every alert names
//! one of 100 business services (the engine shares one copy of each name).

use corral_benches::topology;
use corral_core::dedup::AlertState;
use corral_core::model::{compute_fingerprint, Alert, Labels, Severity, Status, Str};
use corral_core::{Engine, TopologyIndex};
use std::sync::Arc;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident set size in bytes, from /proc/self/status.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

const NAMES: [&str; 10] = [
    "DiskSpaceLow",
    "HighCpuLoad",
    "HighMemory",
    "InterfaceErrors",
    "HighLatency",
    "ErrorRateHigh",
    "CertificateExpiry",
    "QueueBacklog",
    "ReplicationLag",
    "PacketLoss",
];

const SERVICES: usize = 100;

/// Alert `i`: one of 10 checks on one of the topology's nodes, on its own device, so that every
/// alert is distinct; all firing, spread over one hour of event time (under the 4h expiry).
fn alert(i: usize, nodes: &[String], total: usize) -> Alert {
    let resource = &nodes[i % nodes.len()];
    let name = NAMES[(i / nodes.len()) % NAMES.len()];
    let labels: Labels = vec![
        ("alertname".into(), name.into()),
        (
            "device".into(),
            compact_str::format_compact!("dev{}", i / nodes.len()),
        ),
        ("job".into(), "node".into()),
    ];
    Alert {
        fingerprint: compute_fingerprint("alertmanager", name, resource, &labels),
        source: Str::const_new("alertmanager"),
        name: name.into(),
        status: Status::Firing,
        severity: Severity::Warning,
        resource: resource.into(),
        service: Some(compact_str::format_compact!("service-{}", i % SERVICES)),
        summary: None,
        labels,
        annotations: Vec::new(),
        starts_at: 1_764_000_000_000 + (i as i64 * 3_600_000 / total as i64),
        ends_at: None,
        value: None,
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let topo = topology(10_000);
    let nodes: Vec<String> = topo.nodes.iter().map(|n| n.id.clone()).collect();
    let index = Arc::new(TopologyIndex::build(&topo));
    let rules = corral_benches::default_rules();
    let mut engine = Engine::new(rules, index);
    let mut out = Vec::new();
    let mut label_bytes = 0u64;
    let before = rss_bytes();
    for i in 0..n {
        let a = alert(i, &nodes, n);
        label_bytes += (a.labels.len() * std::mem::size_of::<(Str, Str)>()) as u64;
        label_bytes += a
            .labels
            .iter()
            .flat_map(|(k, v)| [k, v])
            .filter(|s| s.is_heap_allocated())
            .map(|s| s.capacity() as u64)
            .sum::<u64>();
        engine.ingest(a, &mut out);
        out.clear();
    }
    let after = rss_bytes();
    assert_eq!(
        engine.active_alerts(),
        n,
        "every alert is distinct and firing"
    );
    let per_alert = (after - before) as f64 / n as f64;
    let labels_per_alert = label_bytes as f64 / n as f64;
    println!(
        "{n} active alerts: resident {:.1} MiB more ({per_alert:.0} bytes per alert); label \
         storage {labels_per_alert:.0} bytes per alert; beyond labels {:.0} bytes per alert \
         (target 300); open incidents {}; size_of AlertState {} bytes",
        (after - before) as f64 / (1024.0 * 1024.0),
        per_alert - labels_per_alert,
        engine.open_incidents(),
        std::mem::size_of::<AlertState>(),
    );
}
