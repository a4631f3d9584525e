//! The whole replay pipeline on one core, as `corral replay` runs it: decode (native NDJSON, or
//! Alertmanager webhook payloads of 10 alerts) → correlate → encode every incident update as
//! NDJSON into a buffered writer. Input: a 1M-alert storm over a 10k-node topology. Measured in
//! CPU time of the bench thread (`ThreadCpuTime`): the machine is shared.
//!
//! `cargo bench -p corral-benches --bench replay`

use corral_benches::{replay, storm, to_alertmanager, to_ndjson, topology, ThreadCpuTime};
use corral_core::TopologyIndex;
use corral_formats::Format;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench_replay(c: &mut Criterion<ThreadCpuTime>) {
    let topo = topology(10_000);
    let index = Arc::new(TopologyIndex::build(&topo));
    let rules = corral_benches::default_rules();
    let n = 1_000_000;
    let alerts = storm(&topo, n, 42);
    let inputs = [
        (Format::Native, to_ndjson(&alerts)),
        (Format::Alertmanager, to_alertmanager(&alerts, 10)),
    ];
    drop(alerts);
    let mut g = c.benchmark_group("replay_storm_1m_alerts_10k_nodes");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for (format, input) in &inputs {
        let (alerts, updates, bytes) = replay(format, input, &rules, &index);
        assert_eq!(alerts, n as u64, "every alert decoded");
        eprintln!(
            "{format}: {} input bytes, {updates} incident updates, {bytes} output bytes",
            input.len()
        );
        g.bench_function(BenchmarkId::new("decode_correlate_encode", format), |b| {
            b.iter(|| black_box(replay(format, black_box(input), &rules, &index)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_replay
}
criterion_main!(benches);
