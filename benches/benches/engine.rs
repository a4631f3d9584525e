//! Correlation throughput: a 1M-alert storm over a 10k-node topology through the engine alone
//! (dedup, suppression checks, topology correlation, root cause, updates), on one core.

use corral_benches::{storm, topology};
use corral_core::{Engine, TopologyIndex};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::sync::Arc;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn engine(c: &mut Criterion) {
    let topo = topology(10_000);
    let index = Arc::new(TopologyIndex::build(&topo));
    let rules = corral_benches::default_rules();
    let n = 1_000_000;
    let alerts = storm(&topo, n, 42);
    let mut g = c.benchmark_group("correlate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("storm_1m_alerts_10k_nodes", |b| {
        b.iter_batched(
            || alerts.clone(),
            |alerts| {
                let mut e = Engine::new(rules.clone(), index.clone());
                let mut out = Vec::with_capacity(1024);
                let mut emitted = 0usize;
                for a in alerts {
                    e.ingest(a, &mut out);
                    emitted += out.len();
                    out.clear();
                }
                e.finish(&mut out);
                emitted + out.len()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("topology");
    g.sample_size(10);
    g.throughput(Throughput::Elements(topo.nodes.len() as u64));
    g.bench_function("index_10k_nodes", |b| {
        b.iter(|| TopologyIndex::build(&topo))
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
