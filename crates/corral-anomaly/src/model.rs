//! Learned baselines as one model: per-series metric detectors, alert-rate profiles per
//! resource and per service, chronic-noise statistics per alert. It implements the core's
//! [`AnomalyModel`], learns live as the engine feeds it, and is saved by `corral train` as
//! versioned JSON (`<dir>/baselines.json`, see `docs/anomaly.md`).

use std::collections::BTreeMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};

use corral_core::anomaly::{AnomalyModel, Burst};
use corral_core::model::{compute_fingerprint, Alert, Labels, Severity, Status, Str};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::cooccur::{Cooccurrence, CooccurrenceConfig};
use crate::detector::{DetectorConfig, SeriesDetector};
use crate::noise::NoiseStats;
use crate::rate::{rate_excess, RateBaseline};

/// Version of the model file format. Bump on any incompatible change; loading refuses others.
/// 2: learned co-occurrence groups of alert names (`cooccurrence`).
pub const FORMAT_VERSION: u32 = 2;
/// File name of the model inside a models directory.
pub const MODEL_FILE: &str = "baselines.json";
/// Source and name of the synthetic alerts raised for anomalous metric samples (SPEC §6).
pub const ANOMALY_SOURCE: &str = "corral.anomaly";
pub const ANOMALY_NAME: &str = "Anomaly";
/// Closed minutes before an alert-rate profile is trusted.
pub const MIN_TRUSTED_MINUTES: u32 = 60;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    // I/O errors are part of the message, not a `source`, so that they are printed once.
    #[error("{}: cannot read model: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: cannot write model: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid model: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: model format_version {found} is not supported (this corral reads version {expected}); retrain with `corral train`", path.display())]
    Version {
        path: PathBuf,
        found: String,
        expected: u32,
    },
}

/// Tunables saved with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// The per-series metric detector.
    pub detector: DetectorConfig,
    /// A metric sample scoring at least this raises a synthetic `Anomaly` alert. The default is
    /// the threshold NAB's standard profile chose for the default detector.
    pub metric_threshold: f64,
    /// Memory of the alert-rate profiles, in minutes (one week).
    pub rate_memory_minutes: f64,
    /// Rate excess (standard errors) that scores 0.5 as an incident anomaly.
    pub rate_half_score: f64,
    /// Clustering of alert names by co-occurrence (`corral train`).
    pub cooccurrence: CooccurrenceConfig,
}

impl ModelConfig {
    /// Every problem of the tunables that would make training meaningless.
    pub fn validate(&self) -> Result<(), String> {
        self.cooccurrence.validate()
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            detector: DetectorConfig::default(),
            metric_threshold: 0.62,
            rate_memory_minutes: 7.0 * 24.0 * 60.0,
            rate_half_score: 4.0,
            cooccurrence: CooccurrenceConfig::default(),
        }
    }
}

/// What the model was learned from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingSummary {
    pub inputs: Vec<String>,
    pub alerts: u64,
    pub metric_samples: u64,
    pub anomalies_raised: u64,
    pub skipped_records: u64,
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
}

/// A chronic alert as reported by `corral train`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChronicAlert {
    pub fingerprint: Str,
    pub name: Str,
    pub resource: Str,
    pub occurrences: u64,
    pub active_hours: u32,
    pub span_hours: f64,
    pub score: f64,
}

fn sorted_map<K: Ord + Serialize + Hash + Eq, V: Serialize, S: Serializer>(
    map: &FxHashMap<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    // Sorted keys: the same history always writes the same file.
    let sorted: BTreeMap<&K, &V> = map.iter().collect();
    sorted.serialize(s)
}

/// The learned baselines. Lookups are hash maps keyed by resource, service and fingerprint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineModel {
    pub format_version: u32,
    #[serde(default)]
    pub config: ModelConfig,
    #[serde(default)]
    pub trained: TrainingSummary,
    #[serde(default, serialize_with = "sorted_map")]
    resources: FxHashMap<Str, RateBaseline>,
    #[serde(default, serialize_with = "sorted_map")]
    services: FxHashMap<Str, RateBaseline>,
    #[serde(default, serialize_with = "sorted_map")]
    noise: FxHashMap<Str, NoiseStats>,
    #[serde(default, serialize_with = "sorted_map")]
    series: FxHashMap<Str, SeriesDetector>,
    /// Latest event time seen; rate profiles are closed up to it before scoring.
    #[serde(default)]
    clock: i64,
    /// Groups of alert names that fire together, learned by `corral train`.
    #[serde(default)]
    pub cooccurrence: Cooccurrence,
}

impl BaselineModel {
    pub fn new(config: ModelConfig) -> BaselineModel {
        BaselineModel {
            format_version: FORMAT_VERSION,
            config,
            ..BaselineModel::default()
        }
    }

    fn rate_alpha(&self) -> f64 {
        1.0 / self.config.rate_memory_minutes.max(1.0)
    }

    pub fn resource_baseline(&self, resource: &str) -> Option<&RateBaseline> {
        self.resources.get(resource)
    }

    pub fn service_baseline(&self, service: &str) -> Option<&RateBaseline> {
        self.services.get(service)
    }

    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Alerts whose chronic score is at least `min_score`, noisiest first.
    pub fn chronic_alerts(&self, min_score: f64) -> Vec<ChronicAlert> {
        let mut out: Vec<ChronicAlert> = self
            .noise
            .iter()
            .filter_map(|(fp, n)| {
                let score = n.chronic_score();
                (score >= min_score).then(|| ChronicAlert {
                    fingerprint: fp.clone(),
                    name: n.name.clone(),
                    resource: n.resource.clone(),
                    occurrences: n.occurrences,
                    active_hours: n.active_hours,
                    span_hours: n.span_hours(),
                    score,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.occurrences
                .cmp(&a.occurrences)
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        out
    }

    fn note_time(&mut self, t: i64) {
        self.clock = self.clock.max(t);
        let s = &mut self.trained;
        s.first_event = Some(s.first_event.map_or(t, |f| f.min(t)));
        s.last_event = Some(s.last_event.map_or(t, |l| l.max(t)));
    }

    /// Writes `<dir>/baselines.json`, creating `dir`.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, ModelError> {
        let path = dir.join(MODEL_FILE);
        let write_err = |error| ModelError::Write {
            path: path.clone(),
            error,
        };
        std::fs::create_dir_all(dir).map_err(write_err)?;
        let text = serde_json::to_string(self).map_err(|e| ModelError::Write {
            path: path.clone(),
            error: std::io::Error::other(e),
        })?;
        std::fs::write(&path, text).map_err(write_err)?;
        Ok(path)
    }

    /// Reads a model file, refusing any `format_version` but [`FORMAT_VERSION`].
    pub fn load(path: &Path) -> Result<BaselineModel, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|error| ModelError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::from_json(path, &text)
    }

    /// Parses model text; `path` names it in errors.
    pub fn from_json(path: &Path, text: &str) -> Result<BaselineModel, ModelError> {
        let parse_err = |e: serde_json::Error| ModelError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        // The version is checked before the body, so that an old or newer file is refused
        // with the reason rather than with whatever field no longer matches.
        #[derive(Deserialize)]
        struct Version {
            format_version: Option<serde_json::Value>,
        }
        let version: Version = serde_json::from_str(text).map_err(parse_err)?;
        match version.format_version {
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION as u64) => {}
            other => {
                return Err(ModelError::Version {
                    path: path.to_path_buf(),
                    found: other.map_or_else(|| "missing".to_string(), |v| v.to_string()),
                    expected: FORMAT_VERSION,
                })
            }
        }
        let mut model: BaselineModel = serde_json::from_str(text).map_err(parse_err)?;
        model.cooccurrence.reindex();
        Ok(model)
    }

    /// The synthetic alert for an anomalous sample: same resource and service, labels carry
    /// the score, the series and the metric; one fingerprint per series so that repeated
    /// anomalies of one series merge as repeats of one alert.
    fn synthetic_alert(sample: &Alert, score: f64) -> Alert {
        let identity: Labels = vec![("series".into(), sample.fingerprint.clone())];
        let fingerprint =
            compute_fingerprint(ANOMALY_SOURCE, ANOMALY_NAME, &sample.resource, &identity);
        let mut labels: Labels = vec![
            (
                "anomaly_score".into(),
                compact_str::format_compact!("{score:.3}"),
            ),
            ("metric".into(), sample.name.clone()),
            ("series".into(), sample.fingerprint.clone()),
        ];
        Alert::normalize_labels(&mut labels);
        Alert {
            fingerprint,
            source: ANOMALY_SOURCE.into(),
            name: ANOMALY_NAME.into(),
            status: Status::Firing,
            severity: if score >= 0.9 {
                Severity::Error
            } else {
                Severity::Warning
            },
            resource: sample.resource.clone(),
            service: sample.service.clone(),
            summary: Some(format!(
                "{} on {} departs from its baseline (score {score:.2})",
                sample.name, sample.resource
            )),
            labels,
            annotations: Vec::new(),
            starts_at: sample.starts_at,
            ends_at: None,
            value: sample.value,
        }
    }
}

impl AnomalyModel for BaselineModel {
    fn observe_alert(&mut self, alert: &Alert) {
        let t = alert.event_time();
        self.note_time(t);
        self.trained.alerts += 1;
        let alpha = self.rate_alpha();
        // Resolves say a condition ended; only firing occurrences make an alert rate.
        if alert.status == Status::Firing {
            observe_rate(&mut self.resources, &alert.resource, t, alpha);
            if let Some(service) = &alert.service {
                observe_rate(&mut self.services, service, t, alpha);
            }
        }
        match self.noise.get_mut(&alert.fingerprint) {
            Some(n) => n.observe(t),
            None => {
                self.noise.insert(
                    alert.fingerprint.clone(),
                    NoiseStats::new(&alert.name, &alert.resource, t),
                );
            }
        }
    }

    fn observe_metric(&mut self, sample: &Alert) -> Option<Alert> {
        let value = sample.value?;
        let t = sample.starts_at;
        self.note_time(t);
        self.trained.metric_samples += 1;
        let config = &self.config;
        let detector = match self.series.get_mut(&sample.fingerprint) {
            Some(d) => d,
            None => self.series.entry(sample.fingerprint.clone()).or_default(),
        };
        let score = detector.score(&config.detector, t, value);
        if score >= config.metric_threshold {
            self.trained.anomalies_raised += 1;
            Some(Self::synthetic_alert(sample, score))
        } else {
            None
        }
    }

    fn incident_score(&self, burst: &Burst<'_>) -> f64 {
        let minutes = ((burst.last_seen - burst.first_seen) as f64 / 60_000.0).max(0.0) + 1.0;
        let occurrences = burst.event_count.max(burst.alert_count as u64) as f64;
        let observed = occurrences / minutes;
        let half = self.config.rate_half_score.max(1e-9);
        // The rate profiles stop at their last closed minute; a key silent since then has a
        // mean that is, if anything, a little high, which errs toward a lower score.
        let score_of = |expected: f64, variance: f64| {
            let z = rate_excess(observed, minutes, expected, variance);
            z / (z + half)
        };
        // A profile is trusted after an hour of closed minutes; younger ones would mostly
        // have learned the very burst being judged.
        let sum = |keys: &[Str], map: &FxHashMap<Str, RateBaseline>| {
            keys.iter()
                .fold((0.0, 0.0, 0u32), |(m, v, known), k| match map.get(k) {
                    Some(b) if b.minutes() >= MIN_TRUSTED_MINUTES => {
                        (m + b.mean(), v + b.variance(), known + 1)
                    }
                    _ => (m, v, known),
                })
        };
        let (res_mean, res_var, res_known) = sum(burst.resources, &self.resources);
        let (svc_mean, svc_var, svc_known) = sum(burst.services, &self.services);
        if res_known == 0 && svc_known == 0 {
            // Nothing learned for these keys yet: judge by size, as the core does without a
            // model.
            return corral_core::anomaly::NoBaseline.incident_score(burst);
        }
        let by_resource = score_of(res_mean, res_var);
        // A storm that is normal for the service's alert rate is not made unusual by landing
        // on resources that rarely alert alone: the calmer view wins.
        let score = if svc_known > 0 {
            by_resource.min(score_of(svc_mean, svc_var))
        } else {
            by_resource
        };
        score.clamp(0.0, 1.0)
    }

    fn chronic_noise(&self, alert: &Alert) -> f64 {
        self.noise
            .get(&alert.fingerprint)
            .map_or(0.0, NoiseStats::chronic_score)
    }

    fn cooccurrence_group(&self, name: &str) -> Option<u32> {
        self.cooccurrence.group_of(name)
    }
}

/// Counts an alert in a key's rate profile; looks up before inserting so that the common case
/// does not clone the key.
fn observe_rate(map: &mut FxHashMap<Str, RateBaseline>, key: &Str, t: i64, alpha: f64) {
    match map.get_mut(key) {
        Some(b) => b.observe(t, alpha),
        None => {
            let mut b = RateBaseline::default();
            b.observe(t, alpha);
            map.insert(key.clone(), b);
        }
    }
}

/// Loads the learned baselines of a models directory (`<dir>/baselines.json`), or a model file
/// given directly. A model of another format version is refused.
pub fn load_models(dir: &Path) -> Result<Box<dyn AnomalyModel>, ModelError> {
    let path = if dir.is_dir() {
        dir.join(MODEL_FILE)
    } else {
        dir.to_path_buf()
    };
    Ok(Box::new(BaselineModel::load(&path)?))
}
