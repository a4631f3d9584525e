//! Alert-rate baselines: alerts per minute for one resource or service, as an exponentially
//! weighted mean and variance over closed minutes (silent minutes count as zero). Constant
//! memory per key; deterministic in event time.

use serde::{Deserialize, Serialize};

const MINUTE_MS: i64 = 60_000;

/// Alerts-per-minute profile of one key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RateBaseline {
    /// Minute (epoch ms / 60 000) being counted, and its count so far.
    minute: i64,
    count: u32,
    /// EW mean and variance of alerts per closed minute.
    mean: f64,
    var: f64,
    /// Closed minutes learned (capped), and alert occurrences seen.
    minutes: u32,
    alerts: u64,
}

impl RateBaseline {
    /// Counts one alert occurrence at event time `t_ms`. Closes the minutes in between;
    /// `alpha` is the weight of one minute (1 / memory in minutes).
    pub fn observe(&mut self, t_ms: i64, alpha: f64) {
        let m = t_ms.div_euclid(MINUTE_MS);
        if self.alerts == 0 {
            self.minute = m;
        } else if m > self.minute {
            self.close_until(m, alpha);
        }
        // A late occurrence (m < current minute) counts in the current minute: the rate
        // profile needs the count, not the exact minute.
        self.count = self.count.saturating_add(1);
        self.alerts += 1;
    }

    /// Closes minutes up to (not including) minute `m`.
    fn close_until(&mut self, m: i64, alpha: f64) {
        let count = self.count as f64;
        self.learn(count, alpha);
        let mut silent = m - self.minute - 1;
        // A silent minute pulls mean and variance toward zero; after ~12 memories both are
        // negligible, so long gaps cost a bounded number of steps.
        let cap = (12.0 / alpha).ceil() as i64;
        if silent > cap {
            silent = cap;
        }
        for _ in 0..silent {
            self.learn(0.0, alpha);
        }
        self.minute = m;
        self.count = 0;
    }

    fn learn(&mut self, x: f64, alpha: f64) {
        // Early minutes learn faster, so a short history still gives a fair mean.
        let a = alpha.max(1.0 / (self.minutes as f64 + 1.0));
        let d = x - self.mean;
        self.mean += a * d;
        self.var = (1.0 - a) * (self.var + a * d * d);
        self.minutes = self.minutes.saturating_add(1);
    }

    /// Brings the closed minutes up to event time `t_ms` without counting an alert.
    pub fn advance_to(&mut self, t_ms: i64, alpha: f64) {
        let m = t_ms.div_euclid(MINUTE_MS);
        if self.alerts > 0 && m > self.minute {
            self.close_until(m, alpha);
        }
    }

    /// Usual alerts per minute.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Variance of alerts per minute.
    pub fn variance(&self) -> f64 {
        self.var
    }

    /// Closed minutes behind the profile.
    pub fn minutes(&self) -> u32 {
        self.minutes
    }

    pub fn alerts(&self) -> u64 {
        self.alerts
    }
}

/// How far an observed rate departs from a summed baseline, as a z-like statistic: the
/// excess over the usual rate in standard errors of a `minutes`-long average (Poisson noise
/// plus the profile's own spread).
pub fn rate_excess(observed_per_minute: f64, minutes: f64, expected: f64, variance: f64) -> f64 {
    let minutes = minutes.max(1.0);
    // 0.25: even a silent key may produce one alert by chance in a minute or so.
    let se = ((variance + expected) / minutes + 0.25).sqrt();
    ((observed_per_minute - expected) / se).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_is_learned_and_silence_counts_as_zero() {
        let mut b = RateBaseline::default();
        // Two alerts every minute for 600 minutes.
        for m in 0..600i64 {
            b.observe(m * MINUTE_MS, 1.0 / 120.0);
            b.observe(m * MINUTE_MS + 30_000, 1.0 / 120.0);
        }
        b.advance_to(600 * MINUTE_MS, 1.0 / 120.0);
        assert!((b.mean() - 2.0).abs() < 1e-6, "{}", b.mean());
        assert!(b.variance() < 1e-6);
        // An hour of silence brings the mean well down: e^(-60/120) ≈ 0.61.
        b.advance_to(660 * MINUTE_MS, 1.0 / 120.0);
        assert!((b.mean() - 2.0 * (1.0 - 1.0 / 120.0f64).powi(60)).abs() < 1e-3);
        assert_eq!(b.alerts(), 1200);
    }

    #[test]
    fn long_gaps_are_bounded_and_late_alerts_are_counted() {
        let mut b = RateBaseline::default();
        b.observe(0, 0.01);
        b.observe(10_000_000 * MINUTE_MS, 0.01);
        assert!(b.mean() < 1e-3);
        b.observe(5 * MINUTE_MS, 0.01);
        assert_eq!(b.alerts(), 3);
    }

    #[test]
    fn excess_is_zero_at_baseline_and_grows_with_the_burst() {
        assert_eq!(rate_excess(1.0, 10.0, 2.0, 1.0), 0.0);
        let small = rate_excess(5.0, 5.0, 2.0, 1.0);
        let large = rate_excess(50.0, 5.0, 2.0, 1.0);
        assert!(small > 0.0 && large > 5.0 * small);
        // The same burst is less unusual for a key that is usually noisy.
        assert!(rate_excess(20.0, 5.0, 10.0, 30.0) < rate_excess(20.0, 5.0, 0.1, 0.1));
    }
}
