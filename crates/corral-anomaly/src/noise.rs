//! Chronic-noise statistics per alert (fingerprint): in how many of the hours and days of its
//! observed life it fired. An alert that fires in most hours for days on end is noise at
//! baseline: it should not be named a root cause, and rules may suppress it.

use corral_core::model::Str;
use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;

/// Evidence needed before an alert can be called chronic: three days of observed life.
pub const CHRONIC_MIN_SPAN_HOURS: f64 = 72.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseStats {
    pub name: Str,
    pub resource: Str,
    /// First and last hour (epoch ms / 3 600 000) with an occurrence.
    pub first_hour: i64,
    pub last_hour: i64,
    /// Distinct hours and days with an occurrence.
    pub active_hours: u32,
    pub active_days: u32,
    pub occurrences: u64,
}

impl NoiseStats {
    pub fn new(name: &str, resource: &str, t_ms: i64) -> NoiseStats {
        let h = t_ms.div_euclid(HOUR_MS);
        NoiseStats {
            name: name.into(),
            resource: resource.into(),
            first_hour: h,
            last_hour: h,
            active_hours: 1,
            active_days: 1,
            occurrences: 1,
        }
    }

    /// Counts one more occurrence at `t_ms`. Occurrences arrive in event-time order; a late one
    /// inside an hour already counted adds to the occurrences only.
    pub fn observe(&mut self, t_ms: i64) {
        self.occurrences += 1;
        let h = t_ms.div_euclid(HOUR_MS);
        if h > self.last_hour {
            if h.div_euclid(24) > self.last_hour.div_euclid(24) {
                self.active_days += 1;
            }
            self.active_hours += 1;
            self.last_hour = h;
        } else if h < self.first_hour {
            self.first_hour = h;
            self.active_hours += 1;
        }
    }

    pub fn span_hours(&self) -> f64 {
        (self.last_hour - self.first_hour + 1) as f64
    }

    /// In [0, 1]: 1 when the alert fired in at least half the hours of at least three days of
    /// life, or on nearly every day of a week or more (a daily job's noise); scaled down while
    /// the evidence is shorter than three days.
    pub fn chronic_score(&self) -> f64 {
        let span = self.span_hours();
        let hour_share = self.active_hours as f64 / span;
        let days = (self.last_hour.div_euclid(24) - self.first_hour.div_euclid(24) + 1) as f64;
        let day_share = self.active_days as f64 / days;
        let hourly = ((hour_share - 0.05) / 0.45).clamp(0.0, 1.0);
        let daily = if days >= 7.0 {
            ((day_share - 0.5) / 0.4).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let evidence = (span / CHRONIC_MIN_SPAN_HOURS).min(1.0);
        hourly.max(daily) * evidence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_firing_every_hour_for_days_is_chronic() {
        let mut s = NoiseStats::new("DiskAlmostFull", "db1", 0);
        for h in 1..(24 * 5) {
            s.observe(h * HOUR_MS + 120_000);
        }
        assert_eq!(s.active_hours, 120);
        assert_eq!(s.active_days, 5);
        assert_eq!(s.chronic_score(), 1.0);
    }

    #[test]
    fn a_one_day_outage_is_not_chronic() {
        let mut s = NoiseStats::new("Down", "db1", 0);
        for m in 1..(24 * 60) {
            s.observe(m * 60_000);
        }
        // Fired in every hour, but only for a day: a third of the evidence needed.
        assert!((s.chronic_score() - 24.0 / 72.0).abs() < 1e-9);
    }

    #[test]
    fn a_rare_alert_over_weeks_is_not_chronic_but_a_daily_one_is() {
        let mut rare = NoiseStats::new("Down", "db1", 0);
        rare.observe(20 * 24 * HOUR_MS);
        assert_eq!(rare.chronic_score(), 0.0);
        let mut daily = NoiseStats::new("BackupLate", "db1", 2 * HOUR_MS);
        for d in 1..14 {
            daily.observe(d * 24 * HOUR_MS + 2 * HOUR_MS);
        }
        assert_eq!(daily.active_days, 14);
        assert_eq!(daily.chronic_score(), 1.0);
    }
}
