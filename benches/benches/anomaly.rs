//! Anomaly scoring throughput: metric samples scored per second on one core, by the bare
//! per-series detector (one hot series, and 10k series interleaved so state comes from memory)
//! and through the model the engine calls (hash lookup by fingerprint, synthetic alerts); alert
//! occurrences learned per second by the alert-rate and chronic-noise baselines. Prints the
//! bytes of detector state per series.

use corral_anomaly::{BaselineModel, DetectorConfig, ModelConfig, SeriesDetector};
use corral_core::anomaly::AnomalyModel;
use corral_core::model::Alert;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

const MINUTE: i64 = 60_000;
const T0: i64 = 1_700_000_000_000;

/// Deterministic noise in [-1, 1] (splitmix64).
fn noise(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// A daily cycle with noise and a rare spike, one sample a minute.
fn value(series: u64, i: u64) -> f64 {
    let phase = (i % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
    let spike = if (i + series * 37).is_multiple_of(5000) {
        60.0
    } else {
        0.0
    };
    100.0 + 30.0 * phase.sin() + 3.0 * noise(i ^ (series << 32)) + spike
}

fn detector(c: &mut Criterion) {
    eprintln!(
        "detector state: {} bytes per series (SeriesDetector::BYTES)",
        SeriesDetector::BYTES
    );
    let config = DetectorConfig::default();
    let n: u64 = 1_000_000;
    let samples: Vec<(i64, f64)> = (0..n)
        .map(|i| (T0 + i as i64 * MINUTE, value(0, i)))
        .collect();
    let mut g = c.benchmark_group("anomaly_detector");
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("score_1m_samples_one_series", |b| {
        b.iter(|| {
            let mut d = SeriesDetector::new();
            let mut sum = 0.0;
            for &(t, v) in &samples {
                sum += d.score(&config, t, v);
            }
            black_box(sum)
        })
    });

    let series = 10_000u64;
    let per_series = n / series;
    let interleaved: Vec<(u32, i64, f64)> = (0..per_series)
        .flat_map(|i| (0..series).map(move |s| (s as u32, T0 + i as i64 * MINUTE, value(s, i))))
        .collect();
    g.bench_function("score_1m_samples_10k_series_interleaved", |b| {
        b.iter_batched(
            || vec![SeriesDetector::new(); series as usize],
            |mut detectors| {
                let mut sum = 0.0;
                for &(s, t, v) in &interleaved {
                    sum += detectors[s as usize].score(&config, t, v);
                }
                black_box(sum)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn model(c: &mut Criterion) {
    let series = 10_000u64;
    let per_series = 50u64;
    let n = series * per_series;
    let samples: Vec<Alert> = (0..per_series)
        .flat_map(|i| {
            (0..series).map(move |s| {
                let mut a = Alert::firing("cpu_busy", &format!("host-{s}"), T0 + i as i64 * MINUTE);
                a.fingerprint = format!("series-{s:05}").into();
                a.value = Some(value(s, i));
                a
            })
        })
        .collect();
    let alerts: Vec<Alert> = (0..n)
        .map(|i| {
            let mut a = Alert::firing(
                &format!("Check{}", i % 50),
                &format!("host-{}", i % 10_000),
                T0 + (i as i64) * 100,
            );
            a.service = Some(format!("svc-{}", i % 100).into());
            a
        })
        .collect();
    let mut g = c.benchmark_group("anomaly_model");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.bench_function("observe_metric_500k_samples_10k_series", |b| {
        b.iter(|| {
            let mut m = BaselineModel::new(ModelConfig::default());
            let mut raised = 0usize;
            for s in &samples {
                raised += m.observe_metric(s).is_some() as usize;
            }
            black_box(raised)
        })
    });
    g.bench_function("observe_alert_500k_alerts_10k_resources", |b| {
        b.iter(|| {
            let mut m = BaselineModel::new(ModelConfig::default());
            for a in &alerts {
                m.observe_alert(a);
            }
            black_box(m.resource_count())
        })
    });
    g.finish();
}

criterion_group!(benches, detector, model);
criterion_main!(benches);
