//! The seam between the correlation core and learned baselines (`corral-anomaly`). The core
//! asks these questions; the anomaly crate answers them from models trained on history. With no
//! model loaded, [`NoBaseline`] answers neutrally.

use crate::model::{Alert, Millis, Str};

/// Learned baselines as the engine sees them. Implementations must be deterministic in event
/// time (no wall clock) so that replay equals live.
pub trait AnomalyModel: Send {
    /// Every accepted alert occurrence, to keep alert-rate baselines current.
    fn observe_alert(&mut self, alert: &Alert);

    /// False when `observe_alert` ignores what it is given, which lets the engine take a plain
    /// repeat without the whole alert ([`crate::Engine::ingest_repeat`]).
    fn observes_alerts(&self) -> bool {
        true
    }

    /// A metric sample (`value` set). Returns a synthetic `Anomaly` alert when the sample's
    /// score crosses the threshold, else `None`.
    fn observe_metric(&mut self, sample: &Alert) -> Option<Alert>;

    /// How far an incident's burst departs from normal for its resources and services, in [0, 1].
    fn incident_score(&self, burst: &Burst<'_>) -> f64;

    /// How chronic an alert is, in [0, 1]: 1 means it fires constantly at baseline (noise).
    fn chronic_noise(&self, alert: &Alert) -> f64;

    /// The learned group of alert names that tend to fire together with `name` (from
    /// co-occurrence in history), if any. The engine uses it as a weak relation for alerts on
    /// resources the topology does not know, like a shared service.
    fn cooccurrence_group(&self, _name: &str) -> Option<u32> {
        None
    }
}

/// What the engine knows of an incident's alert burst.
pub struct Burst<'a> {
    /// Sorted and unique, as the update reports them.
    pub resources: &'a [Str],
    pub services: &'a [Str],
    pub alert_count: usize,
    pub event_count: u64,
    pub first_seen: Millis,
    pub last_seen: Millis,
}

/// No learned baselines: every burst scores by size alone, nothing is chronic.
#[derive(Default)]
pub struct NoBaseline;

impl AnomalyModel for NoBaseline {
    fn observe_alert(&mut self, _alert: &Alert) {}

    fn observes_alerts(&self) -> bool {
        false
    }

    fn observe_metric(&mut self, _sample: &Alert) -> Option<Alert> {
        None
    }

    fn incident_score(&self, burst: &Burst<'_>) -> f64 {
        // Without history, a wider burst is more unusual: 1 alert ≈ 0.1, 10 ≈ 0.5, 100+ ≈ 0.9.
        let n = burst.alert_count.max(1) as f64;
        (0.1 + 0.4 * n.log10()).clamp(0.0, 1.0)
    }

    fn chronic_noise(&self, _alert: &Alert) -> f64 {
        0.0
    }
}
