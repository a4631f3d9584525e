//! The online per-series detector: scores each metric sample in [0, 1] as it arrives, in
//! constant memory (see [`SeriesDetector::BYTES`]), deterministic in event time.
//!
//! What it looks at, all from exponentially weighted statistics:
//! - **point deviation**: how far the (de-seasonalised) value is from the recent level, in
//!   recent standard deviations;
//! - **level shift**: how far the short-term mean has moved from the long-term level;
//! - **new extremes**: a value beyond everything seen so far (by a margin of the seen range);
//! - **seasonality**: hour-of-day and day-of-week profiles are learned all along; when they
//!   explain enough of the variance (`season_min_gain`), scoring uses the residual against them.
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
    /// Multipliers of the calibrated point, level-shift and volatility statistics (0 disables).
    pub point_weight: f64,
    pub shift_weight: f64,
    pub volatility_weight: f64,
    /// Weights of each sample in the short- and long-term mean absolute change.
    pub alpha_vol_fast: f64,
    pub alpha_vol_slow: f64,
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
            volatility_weight: 0.0,
            alpha_vol_fast: 0.1,
            alpha_vol_slow: 0.01,
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
    /// Previous value and short/long mean absolute change (volatility).
    last: f64,
    vol_fast: f32,
    vol_slow: f32,
    /// Hour-of-week profile of the value around `season_base`.
    season_base: f64,
    #[serde(with = "profile_serde")]
    profile: [f32; PROFILE_SLOTS],
    /// Variance of the value around its level, and of its residual against the profile.
    plain_var: f64,
    season_var: f64,
    /// Whether the profile is used now.
    seasonal: bool,
    calibration: [Calibration; 3],
    /// Strongest recent report, and samples since it.
    last_report: f64,
    since_report: u32,
}

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
            last: 0.0,
            vol_fast: 0.0,
            vol_slow: 0.0,
            season_base: 0.0,
            profile: [0.0; PROFILE_SLOTS],
            plain_var: 0.0,
            season_var: 0.0,
            seasonal: false,
            calibration: [Calibration::default(); 3],
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

    fn profile_slot(config: &DetectorConfig, t_ms: i64) -> usize {
        let slot_ms = config.season_slot_minutes.max(1) as i64 * 60_000;
        let slots =
            (config.season_period_hours as i64 * HOUR_MS / slot_ms).clamp(1, PROFILE_SLOTS as i64);
        // The epoch (a Thursday, midnight UTC) is the origin of every cycle.
        (t_ms.div_euclid(slot_ms).rem_euclid(slots)) as usize
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
        let slot = Self::profile_slot(config, t_ms);
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
            self.last = value;
            self.samples = 1;
            return 0.0;
        }

        // Statistics against the state before this sample.
        let sd = self.var.sqrt().max(1e-9 * (1.0 + self.mean.abs()));
        let point = (residual - self.mean).abs() / sd;
        let alpha_fast = config.alpha_fast;
        let fast = self.fast_mean + alpha_fast * (residual - self.fast_mean);
        let shift = (fast - self.mean).abs() / sd;
        let change = (value - self.last).abs();
        let vol_fast =
            self.vol_fast as f64 + config.alpha_vol_fast * (change - self.vol_fast as f64);
        let vol_slow = self.vol_slow as f64;
        let floor = 1e-9 * (1.0 + self.mean.abs()) + 1e-3 * (self.max - self.min);
        let volatility = ((vol_fast + floor) / (vol_slow + floor)).ln().abs();

        // How unusual each statistic is for this series.
        let ac = config
            .alpha_calibration
            .max(1.0 / (self.samples as f64 + 1.0));
        let z_point = self.calibration[0].z_then_learn(point, ac);
        let z_shift = self.calibration[1].z_then_learn(shift, ac);
        let z_vol = self.calibration[2].z_then_learn(volatility, ac);
        let mut strength = (config.point_weight * z_point)
            .max(config.shift_weight * z_shift)
            .max(config.volatility_weight * z_vol);

        let range = self.max - self.min;
        let tolerance = config.range_tolerance * range;
        if range > 0.0 && (raw_value > self.max + tolerance || raw_value < self.min - tolerance) {
            let beyond = (raw_value - self.max).max(self.min - raw_value) / range;
            strength = strength.max(config.extreme_sigmas + config.extreme_slope * beyond);
        }
        let raw = strength / (strength + config.half_score_sigmas);

        self.min = self.min.min(raw_value);
        self.max = self.max.max(raw_value);
        self.learn(config, slot, expected, value, residual, fast, change);

        if self.samples < config.warmup {
            return 0.0;
        }
        self.gate(config, raw)
    }

    #[allow(clippy::too_many_arguments)]
    fn learn(
        &mut self,
        config: &DetectorConfig,
        slot: usize,
        expected: f64,
        value: f64,
        residual: f64,
        fast: f64,
        change: f64,
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
        self.last = value;
        self.vol_fast += (config.alpha_vol_fast * (change - self.vol_fast as f64)) as f32;
        let av = config.alpha_vol_slow.max(1.0 / (self.samples as f64 + 1.0));
        self.vol_slow += (av * (change - self.vol_slow as f64)) as f32;

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
