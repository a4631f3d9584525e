//! The whole replay pipeline on one core, as `corral replay` runs it: decode (native NDJSON, or
//! Alertmanager webhook payloads of 10 alerts) → correlate → encode every incident update as
//! NDJSON into a buffered writer. Input: a 1M-alert storm over a 10k-node topology. Measured in
//! CPU time of the bench thread (`ThreadCpuTime`): the machine is shared.
//!
//! `cargo bench -p corral-benches --bench replay`

use corral_benches::{storm, to_alertmanager, to_ndjson, topology, ThreadCpuTime};
use corral_core::{Engine, IncidentUpdate, RuleSet, TopologyIndex};
use corral_formats::{decode_stream, Format};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Decodes, correlates and encodes `input`; returns (alerts, updates, bytes written).
fn replay(
    format: &Format,
    input: &[u8],
    rules: &Arc<RuleSet>,
    index: &Arc<TopologyIndex>,
) -> (u64, u64, u64) {
    let mut engine = Engine::new(rules.clone(), index.clone());
    let mut batch: Vec<IncidentUpdate> = Vec::with_capacity(64);
    let mut out = BufWriter::with_capacity(1 << 20, CountingSink::default());
    let mut updates = 0u64;
    let mut write = |batch: &mut Vec<IncidentUpdate>, out: &mut BufWriter<CountingSink>| {
        for u in batch.drain(..) {
            updates += 1;
            serde_json::to_writer(&mut *out, &u).expect("updates serialize");
            out.write_all(b"\n").expect("sink accepts");
        }
    };
    let stats = decode_stream(
        format,
        input,
        |alert| {
            engine.ingest(alert, &mut batch);
            write(&mut batch, &mut out);
        },
        |d| panic!("bench input is valid: {d:?}"),
    )
    .expect("reading memory cannot fail");
    engine.finish(&mut batch);
    write(&mut batch, &mut out);
    let sink = out.into_inner().expect("sink accepts");
    (stats.alerts, updates, sink.bytes)
}

/// Where `corral replay --output /dev/null` writes: bytes counted, not kept.
#[derive(Debug, Default)]
struct CountingSink {
    bytes: u64,
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

fn bench_replay(c: &mut Criterion<ThreadCpuTime>) {
    let topo = topology(10_000);
    let index = Arc::new(TopologyIndex::build(&topo));
    let rules = Arc::new(
        RuleSet::from_yaml(include_str!("../../rules/default.yaml"), "default.yaml")
            .expect("rules"),
    );
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
