//! Deduplication cost per occurrence, on the bench storm (1M occurrences, ~45k fingerprints over
//! a 10k-node topology): `DedupTable::merge` alone, and `Engine::ingest` of repeats that change
//! nothing (the bulk of a storm), against an engine that already knows every alert. Measured in
//! CPU time of the bench thread (`ThreadCpuTime`): the machine is shared.
//!
//! `cargo bench -p corral-benches --bench dedup`

use corral_benches::{storm, topology, ThreadCpuTime};
use corral_core::dedup::{AlertState, DedupTable};
use corral_core::{Engine, Status, TopologyIndex};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench_dedup(c: &mut Criterion<ThreadCpuTime>) {
    let topo = topology(10_000);
    let index = Arc::new(TopologyIndex::build(&topo));
    let rules = corral_benches::default_rules();
    let alerts = storm(&topo, 1_000_000, 42);
    let mut g = c.benchmark_group("dedup");
    g.sample_size(10);

    g.throughput(Throughput::Elements(alerts.len() as u64));
    g.bench_function("merge_storm_1m", |b| {
        b.iter(|| {
            let mut table = DedupTable::default();
            for a in &alerts {
                let (merged, _) =
                    table.merge(a, &rules.settings.flapping, || AlertState::new(a, None, 0));
                black_box(merged);
            }
            table.len()
        })
    });

    // The storm's last occurrence of each still-firing fingerprint, replayed as repeats into an
    // engine that has seen the whole storm: same status, time and severity, so nothing but the
    // counters change.
    let mut engine = Engine::new(rules.clone(), index.clone());
    let mut out = Vec::new();
    for a in &alerts {
        engine.ingest(a.clone(), &mut out);
    }
    out.clear();
    let mut last_of: std::collections::HashMap<_, _> = std::collections::HashMap::new();
    for a in &alerts {
        last_of.insert(a.fingerprint.clone(), a.clone());
    }
    // Alerts that expired since their last occurrence would fire again, not repeat.
    let repeats: Vec<_> = last_of
        .into_values()
        .filter(|a| {
            engine
                .alert_state(&a.fingerprint)
                .is_some_and(|s| s.status == Status::Firing)
        })
        .collect();
    g.throughput(Throughput::Elements(repeats.len() as u64));
    g.bench_function("ingest_no_change_repeat", |b| {
        b.iter_batched(
            || repeats.clone(),
            |batch| {
                for a in batch {
                    engine.ingest(a, &mut out);
                }
                assert!(
                    out.is_empty(),
                    "a repeat that changes nothing emits nothing"
                );
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_dedup
}
criterion_main!(benches);
