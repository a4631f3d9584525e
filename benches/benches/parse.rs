//! Input parsing cost per alert: `parse_record` on one line, and `decode_stream` over a whole
//! NDJSON buffer (framing included), for the native and Alertmanager formats. Measured in CPU
//! time of the bench thread (`ThreadCpuTime`): the machine is shared, wall time is not stable.
//!
//! `cargo bench -p corral-benches --bench parse`

use corral_benches::ThreadCpuTime;
use corral_formats::{decode_stream, parse_record, Format};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: usize = 10_000;

fn native_lines() -> Vec<String> {
    (0..LINES)
        .map(|i| {
            format!(
                r#"{{"source":"zabbix","name":"HighCpuLoad","status":"firing","severity":"warning","resource":"web-{:05}","service":"checkout","labels":{{"dc":"par1","env":"prod","team":"web"}},"starts_at":"2026-11-25T02:{:02}:{:02}Z"}}"#,
                i % 5000,
                (i / 60) % 60,
                i % 60
            )
        })
        .collect()
}

/// Alertmanager payloads of 10 alerts each, one payload per line.
fn alertmanager_lines() -> Vec<String> {
    (0..LINES / 10)
        .map(|p| {
            let alerts: Vec<String> = (0..10)
                .map(|i| {
                    let n = p * 10 + i;
                    format!(
                        r#"{{"status":"firing","labels":{{"alertname":"NodeDown","instance":"node-{n:05}:9100","job":"node","severity":"critical"}},"annotations":{{"summary":"node down"}},"startsAt":"2026-11-25T02:11:07.123Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=up","fingerprint":"{n:016x}"}}"#
                    )
                })
                .collect();
            format!(
                r#"{{"version":"4","groupKey":"{{}}:{{alertname=\"NodeDown\"}}","status":"firing","receiver":"corral","groupLabels":{{"alertname":"NodeDown"}},"commonLabels":{{}},"commonAnnotations":{{}},"externalURL":"http://am:9093","alerts":[{}]}}"#,
                alerts.join(",")
            )
        })
        .collect()
}

fn bench_parse(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("parse");
    for (format, lines) in [
        (Format::Native, native_lines()),
        (Format::Alertmanager, alertmanager_lines()),
    ] {
        let mut probe = Vec::new();
        for l in &lines {
            parse_record(&format, l.as_bytes(), &mut probe).expect("bench input is valid");
        }
        let alerts = probe.len() as u64;
        group.throughput(Throughput::Elements(alerts));
        group.bench_function(BenchmarkId::new("parse_record", format.name()), |b| {
            let mut out = Vec::with_capacity(16);
            b.iter(|| {
                for l in &lines {
                    out.clear();
                    let _ = parse_record(&format, black_box(l.as_bytes()), &mut out);
                    black_box(&out);
                }
            })
        });
        let stream = lines.join("\n");
        group.bench_function(BenchmarkId::new("decode_stream", format.name()), |b| {
            b.iter(|| {
                let mut n = 0u64;
                let stats = decode_stream(
                    &format,
                    black_box(stream.as_bytes()),
                    |a| {
                        black_box(&a);
                        n += 1;
                    },
                    |d| panic!("bench input is valid: {d:?}"),
                )
                .expect("reading memory cannot fail");
                assert_eq!(stats.alerts, n);
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_parse
}
criterion_main!(benches);
