//! Samples scored per CPU-second (on-CPU time from /proc/self/schedstat, Linux), as a check on
//! the criterion bench when the machine is shared and wall time overstates the cost.
//! `cargo run --release -p corral-anomaly --example cpu_throughput`
use corral_anomaly::{DetectorConfig, SeriesDetector};
use std::hint::black_box;

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn noise(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

fn main() {
    let config = DetectorConfig::default();
    let n: u64 = 10_000_000;
    let t0 = 1_700_000_000_000i64;
    for series in [1u64, 10_000] {
        let values: Vec<f64> = (0..1_000_000u64)
            .map(|i| {
                let phase = (i / series % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
                100.0 + 30.0 * phase.sin() + 3.0 * noise(i)
            })
            .collect();
        let mut detectors = vec![SeriesDetector::new(); series as usize];
        let start = cpu_ns();
        let mut sum = 0.0;
        for i in 0..n {
            let s = (i % series) as usize;
            let t = t0 + (i / series) as i64 * 60_000;
            sum += detectors[s].score(&config, t, values[(i % 1_000_000) as usize]);
        }
        let spent = (cpu_ns() - start) as f64 / 1e9;
        black_box(sum);
        println!(
            "{series:>6} series: {n} samples in {spent:.3} CPU-s = {:.2} M samples per CPU-second ({} bytes per series)",
            n as f64 / spent / 1e6,
            SeriesDetector::BYTES
        );
    }
}
