//! The online per-series detector: scores each metric sample in [0, 1] as it arrives, in
//! constant memory (see [`SeriesDetector::BYTES`]), deterministic in event time.
//!
//! What it looks at, all from exponentially weighted statistics:
//! - **point deviation**: how far the (de-seasonalised) value is from the recent level, in
//!   recent standard deviations;
//! - **level shift**: how far the short-term mean has moved from the long-term level;
//! - **calibration**: each of these is judged against the series' own history of it (z of its
//!   logarithm), so that a series that routinely jumps does not alarm on every jump;
//! - **new extremes**: a value beyond everything seen so far (by a margin of the seen range);
//! - **seasonality**: a profile of the cycle (a day in 15-minute slots by default, or a week)
//!   is learned all along; when it explains enough of the variance (`season_min_gain`),
//!   scoring uses the residual against it, so a daily peak is normal and a missing one is not.
//!
//! Then, as an operator would want: a burst of anomalous samples reports its first (or a
//! stronger) sample at full score and damps the weaker repeats for `suppress` samples, so one
//! episode is one signal, not a wall of them. During the warm-up every score is 0 and
//! [`SeriesDetector::warming_up`] says so.

use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;

/// Tunables of the detector; one configuration serves every series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Samples learned before any score is given.
    pub warmup: u32,
    /// Weight of each sample in the long-term level and spread.
    pub alpha_level: f64,
    /// Weight of each sample in the short-term mean (level-shift detection).
    pub alpha_fast: f64,
    /// Weight of each sample in the seasonal profile.
    pub alpha_season: f64,
    /// Length of one profile slot in minutes, and of the whole cycle in hours (daily 24,
    /// weekly 168); at most 96 slots.
    pub season_slot_minutes: u32,
    pub season_period_hours: u32,
    /// The seasonal profile is used when it leaves at most this share of the variance.
    pub season_min_gain: f64,
    /// A new extreme must exceed the seen range by this share of it.
    pub range_tolerance: f64,
    /// Strength (calibrated z) that a new extreme counts as, plus `extreme_slope` per seen
    /// range it goes beyond the old extreme.
    pub extreme_sigmas: f64,
    pub extreme_slope: f64,
    /// Multipliers of the calibrated point and level-shift statistics (0 disables).
    pub point_weight: f64,
    pub shift_weight: f64,
    /// Deviations are winsorised at this many standard deviations when updating the spread,
    /// so that one spike does not blind the detector to the next.
    pub clip_sigmas: f64,
    /// Model `ln(1 + x)` instead of `x` while every value seen is non-negative (counts, bytes,
    /// latencies: multiplicative noise becomes additive).
    pub log_nonnegative: bool,
    /// Samples after a reported anomaly during which weaker scores are damped.
    pub suppress: u32,
    /// Factor applied to damped scores.
    pub damp: f64,
    /// Strength mapped to a score of 0.5.
    pub half_score_sigmas: f64,
    /// Weight of each sample in the series' own distribution of each statistic (calibration).
    pub alpha_calibration: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            warmup: 150,
            alpha_level: 0.01,
            alpha_fast: 0.1,
            alpha_season: 0.2,
            season_slot_minutes: 15,
            season_period_hours: 24,
            season_min_gain: 0.5,
            range_tolerance: 0.01,
            extreme_sigmas: 10.0,
            extreme_slope: 3.0,
            point_weight: 1.0,
            shift_weight: 1.0,
            clip_sigmas: 4.0,
            log_nonnegative: false,
            suppress: 200,
            damp: 0.5,
            half_score_sigmas: 6.0,
            alpha_calibration: 0.01,
        }
    }
}

/// Running mean and variance of one statistic's logarithm: what is usual for this series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Calibration {
    mean: f32,
    var: f32,
}

impl Calibration {
    /// z of `ln(1 + x)` against the usual, then learns from it.
    fn z_then_learn(&mut self, x: f64, alpha: f64) -> f64 {
        let d = x.ln_1p();
        let mean = self.mean as f64;
        let var = self.var as f64;
        let z = (d - mean) / var.sqrt().max(1e-3);
        let dd = d - mean;
        self.mean = (mean + alpha * dd) as f32;
        self.var = ((1.0 - alpha) * (var + alpha * dd * dd)) as f32;
        z.max(0.0)
    }
}

/// Slots of the seasonal profile: a day at 15 minutes, or a week at 2 hours (84 used).
const PROFILE_SLOTS: usize = 96;

/// Per-series state. Plain numbers only: no heap, no history buffer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesDetector {
    samples: u32,
    /// Long-term level and variance of the residual, and its short-term mean.
    mean: f64,
    var: f64,
    fast_mean: f64,
    /// Range of values seen so far.
    min: f64,
    max: f64,
    /// Seasonal profile (a day by default) of the value around `season_base`.
    season_base: f64,
    #[serde(with = "profile_serde")]
    profile: [f32; PROFILE_SLOTS],
    /// Variance of the value around its level, and of its residual against the profile.
    plain_var: f64,
    season_var: f64,
    /// Whether the profile is used now.
    seasonal: bool,
    /// Slot of the latest sample and the start of that slot (a cache).
    slot: u8,
    slot_start: i64,
    calibration: [Calibration; 2],
    /// Strongest recent report, and samples since it.
    last_report: f64,
    since_report: u32,
}

// The memory budget per series: a few hundred bytes, checked at compile time.
const _: () = assert!(SeriesDetector::BYTES <= 600);

mod profile_serde {
    use super::PROFILE_SLOTS;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f32; PROFILE_SLOTS], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f32; PROFILE_SLOTS], D::Error> {
        let v: Vec<f32> = Vec::deserialize(d)?;
        v.try_into().map_err(|v: Vec<f32>| {
            D::Error::custom(format!(
                "profile has {} slots, expected {PROFILE_SLOTS}",
                v.len()
            ))
        })
    }
}

impl SeriesDetector {
    /// Bytes of state per series.
    pub const BYTES: usize = std::mem::size_of::<SeriesDetector>();

    pub fn new() -> SeriesDetector {
        SeriesDetector {
            samples: 0,
            mean: 0.0,
            var: 0.0,
            fast_mean: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            season_base: 0.0,
            profile: [0.0; PROFILE_SLOTS],
            plain_var: 0.0,
            season_var: 0.0,
            seasonal: false,
            slot: 0,
            slot_start: i64::MAX,
            calibration: [Calibration::default(); 2],
            last_report: 0.0,
            since_report: u32::MAX,
        }
    }

    pub fn samples(&self) -> u32 {
        self.samples
    }

    pub fn warming_up(&self, config: &DetectorConfig) -> bool {
        self.samples < config.warmup
    }

    /// Whether the seasonal profile is in use for this series now.
    pub fn seasonal(&self) -> bool {
        self.seasonal
    }

    fn profile_slot(&mut self, config: &DetectorConfig, t_ms: i64) -> usize {
        let slot_ms = config.season_slot_minutes.max(1) as i64 * 60_000;
        // Most samples land in the slot of the previous one: skip the divisions then.
        if t_ms >= self.slot_start && t_ms - self.slot_start < slot_ms {
            return self.slot as usize;
        }
        let slots =
            (config.season_period_hours as i64 * HOUR_MS / slot_ms).clamp(1, PROFILE_SLOTS as i64);
        // The epoch (a Thursday, midnight UTC) is the origin of every cycle.
        let n = t_ms.div_euclid(slot_ms);
        self.slot_start = n * slot_ms;
        self.slot = n.rem_euclid(slots) as u8;
        self.slot as usize
    }

    /// Scores one sample at event time `t_ms` and learns from it. Non-finite values score 0
    /// and are not learned.
    pub fn score(&mut self, config: &DetectorConfig, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        let raw_value = value;
        let value = if config.log_nonnegative && value >= 0.0 && self.min >= 0.0 {
            value.ln_1p()
        } else {
            value
        };
        let slot = self.profile_slot(config, t_ms);
        let expected = self.season_base + self.profile[slot] as f64;
        let residual = if self.seasonal {
            value - expected
        } else {
            value
        };

        if self.samples == 0 {
            self.mean = residual;
            self.fast_mean = residual;
            self.season_base = value;
            self.min = raw_value;
            self.max = raw_value;
            self.samples = 1;
            return 0.0;
        }

        // Statistics against the state before this sample.
        let sd = self.var.sqrt().max(1e-9 * (1.0 + self.mean.abs()));
        let point = (residual - self.mean).abs() / sd;
        let alpha_fast = config.alpha_fast;
        let fast = self.fast_mean + alpha_fast * (residual - self.fast_mean);
        let shift = (fast - self.mean).abs() / sd;

        // How unusual each statistic is for this series.
        let ac = config
            .alpha_calibration
            .max(1.0 / (self.samples as f64 + 1.0));
        let z_point = self.calibration[0].z_then_learn(point, ac);
        let z_shift = self.calibration[1].z_then_learn(shift, ac);
        let mut strength = (config.point_weight * z_point).max(config.shift_weight * z_shift);

        let range = self.max - self.min;
        let tolerance = config.range_tolerance * range;
        if range > 0.0 && (raw_value > self.max + tolerance || raw_value < self.min - tolerance) {
            let beyond = (raw_value - self.max).max(self.min - raw_value) / range;
            strength = strength.max(config.extreme_sigmas + config.extreme_slope * beyond);
        }
        let raw = strength / (strength + config.half_score_sigmas);

        self.min = self.min.min(raw_value);
        self.max = self.max.max(raw_value);
        self.learn(config, slot, expected, value, residual, fast);

        if self.samples < config.warmup {
            return 0.0;
        }
        self.gate(config, raw)
    }

    fn learn(
        &mut self,
        config: &DetectorConfig,
        slot: usize,
        expected: f64,
        value: f64,
        residual: f64,
        fast: f64,
    ) {
        // Warm-up learns faster so that the first scores rest on a fair estimate.
        let a = config.alpha_level.max(1.0 / (self.samples as f64 + 1.0));
        let sd = self.var.sqrt();
        let limit = config.clip_sigmas * sd;
        let dev = residual - self.mean;
        let clipped = if self.samples > 10 && sd > 0.0 {
            dev.clamp(-limit, limit)
        } else {
            dev
        };
        self.mean += a * clipped;
        self.var = (1.0 - a) * (self.var + a * clipped * clipped);
        self.fast_mean = fast;

        // The profile learns from the raw value whether or not it is in use.
        let base_dev = value - self.season_base;
        self.plain_var = (1.0 - a) * (self.plain_var + a * base_dev * base_dev);
        let season_dev = value - expected;
        self.season_var = (1.0 - a) * (self.season_var + a * season_dev * season_dev);
        self.season_base += a * base_dev;
        self.profile[slot] += (config.alpha_season * season_dev) as f32;
        self.samples = self.samples.saturating_add(1);

        let was_seasonal = self.seasonal;
        self.seasonal = self.samples > config.warmup
            && self.season_var < config.season_min_gain * self.plain_var;
        if self.seasonal != was_seasonal {
            // The residual changes meaning: restart the level statistics on the new residual.
            let new_residual = if self.seasonal {
                value - expected
            } else {
                value
            };
            self.mean = new_residual;
            self.fast_mean = new_residual;
            self.var = if self.seasonal {
                self.season_var
            } else {
                self.plain_var
            };
        }
    }

    fn gate(&mut self, config: &DetectorConfig, raw: f64) -> f64 {
        self.since_report = self.since_report.saturating_add(1);
        // The bar a new report must clear decays linearly to zero over `suppress` samples.
        let left = 1.0 - self.since_report as f64 / config.suppress.max(1) as f64;
        let bar = self.last_report * left.max(0.0);
        if raw > bar {
            self.last_report = raw;
            self.since_report = 0;
            raw
        } else {
            raw * config.damp
        }
    }
}

impl Default for SeriesDetector {
    fn default() -> Self {
        SeriesDetector::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    /// Deterministic noise in [-1, 1]: splitmix64 of the index, mean of two uniforms.
    fn noise(i: i64) -> f64 {
        let mix = |mut z: u64| {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let u = |z: u64| (z >> 11) as f64 / (1u64 << 53) as f64;
        u(mix(i as u64)) + u(mix(i as u64 ^ 0xdead_beef)) - 1.0
    }

    #[test]
    fn warm_up_scores_zero_and_is_reported() {
        let c = DetectorConfig::default();
        let mut d = SeriesDetector::new();
        for i in 0..c.warmup as i64 - 1 {
            let v = if i % 17 == 0 { 1e6 } else { noise(i) };
            assert_eq!(d.score(&c, i * MINUTE, v), 0.0);
            assert!(d.warming_up(&c));
        }
        d.score(&c, c.warmup as i64 * MINUTE, 0.0);
        assert!(!d.warming_up(&c));
    }

    #[test]
    fn a_spike_scores_high_and_its_repeats_are_damped() {
        let c = DetectorConfig::default();
        let mut d = SeriesDetector::new();
        let mut alarms = 0;
        let mut normal_max: f64 = 0.0;
        for i in 0..3000 {
            let s = d.score(&c, i * MINUTE, 100.0 + 5.0 * noise(i));
            if i > 1000 {
                normal_max = normal_max.max(s);
                alarms += (s >= 0.62) as u32;
            }
        }
        // Bounded noise: at most a rare new extreme by a hair.
        assert!(alarms <= 2, "{alarms} alarms on noise");
        let spike = d.score(&c, 3000 * MINUTE, 180.0);
        let again = d.score(&c, 3001 * MINUTE, 170.0);
        assert!(
            spike > 0.8 && spike > normal_max + 0.1,
            "spike {spike}, noise {normal_max}"
        );
        assert!(again < spike * 0.75, "repeat {again}");
    }

    #[test]
    fn a_level_shift_is_detected() {
        let c = DetectorConfig::default();
        let mut d = SeriesDetector::new();
        // A level inside the seen range (no new extreme) that the series never held for long.
        for i in 0..2000 {
            let base = if i % 500 == 0 { 130.0 } else { 100.0 };
            d.score(&c, i * MINUTE, base + 2.0 * noise(i));
        }
        let best = (2000..2060)
            .map(|i| d.score(&c, i * MINUTE, 120.0 + 2.0 * noise(i)))
            .fold(0.0, f64::max);
        assert!(best > 0.62, "{best}");
    }

    #[test]
    fn daily_seasonality_is_detected_and_used() {
        let c = DetectorConfig::default();
        let mut d = SeriesDetector::new();
        let day = 24 * 60;
        let daily =
            |i: i64| 50.0 + 40.0 * ((i % day) as f64 / day as f64 * std::f64::consts::TAU).sin();
        let mut late_max: f64 = 0.0;
        // Five-minute samples over ten days.
        for k in 0..(10 * day / 5) {
            let i = k * 5;
            let s = d.score(&c, i * MINUTE, daily(i) + noise(i));
            if k > 4 * day / 5 {
                late_max = late_max.max(s);
            }
        }
        assert!(d.seasonal());
        assert!(late_max < 0.62, "{late_max}");
        // The peak hour without its peak: well inside the seen range, yet anomalous.
        let i = 10 * day + day / 4;
        let missing_peak = (0..6)
            .map(|k| d.score(&c, (i + 5 * k) * MINUTE, 50.0 + noise(i + k)))
            .fold(0.0, f64::max);
        assert!(missing_peak > 0.62, "{missing_peak}");

        let mut flat = SeriesDetector::new();
        for k in 0..3000 {
            flat.score(&c, k * 5 * MINUTE, 50.0 + noise(k));
        }
        assert!(!flat.seasonal());
    }

    #[test]
    fn non_finite_samples_are_ignored_and_scoring_is_deterministic() {
        let c = DetectorConfig::default();
        let run = || {
            let mut d = SeriesDetector::new();
            let mut out = Vec::new();
            for i in 0..1000 {
                let v = if i == 400 {
                    f64::NAN
                } else {
                    10.0 + noise(i) + if i == 700 { 9.0 } else { 0.0 }
                };
                out.push(d.score(&c, i * MINUTE, v));
            }
            (out, d.samples())
        };
        let (a, n) = run();
        assert_eq!(n, 999);
        assert_eq!(a[400], 0.0);
        assert_eq!(a, run().0);
        assert!(a[700] > 0.62);
    }
}
