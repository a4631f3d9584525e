//! Which alert names tend to fire together, learned from history by `corral train` with
//! linfa's DBSCAN. The engine uses the learned groups as a weak relation for alerts on resources
//! the topology does not know (`AnomalyModel::cooccurrence_group`).
//!
//! Each alert name becomes one row of an ndarray matrix: over the training span cut into
//! buckets (`bucket_minutes`), a 1 in every bucket within `spread_buckets` of one of its
//! onsets (an alert starting to fire; repeats of a firing alert are not onsets). Rows are
//! centred on their mean and scaled to unit length, so the Euclidean distance between two rows
//! is √(2 − 2·r), r the Pearson correlation of their onset patterns: DBSCAN with tolerance
//! √(2 − 2·`min_similarity`) groups names whose onsets are correlated at least that much,
//! chained through core names with `min_points` neighbours (self included). Centring matters:
//! a check that fires all day overlaps with every failure by chance, but is not correlated
//! with any. Names with fewer than `min_onsets` onsets are left out (too little evidence), and
//! so are names active in more than `max_active_share` of the buckets: in a history that busy
//! (a storm), firing near them is what every name does, and tells nothing.

use std::collections::BTreeMap;

use corral_core::model::{Alert, Status, Str};
use linfa::traits::Transformer;
use linfa_clustering::Dbscan;
use linfa_nn::distance::L2Dist;
use linfa_nn::CommonNearestNeighbour;
use ndarray::Array2;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Bounds the matrix: a long history gets wider buckets instead of more columns.
const MAX_BUCKETS: i64 = 20_000;
/// A firing alert seen again after this long without a resolve counts as a new onset (its
/// earlier episode would have expired in the engine).
const REFIRE_GAP_MS: i64 = 4 * 3_600_000;

/// Tunables of the co-occurrence clustering (the `cooccurrence` object of the model config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CooccurrenceConfig {
    /// Learn groups at all; `false` writes a model without any.
    pub enabled: bool,
    /// Width of a time bucket, in minutes.
    pub bucket_minutes: u32,
    /// An onset marks its bucket and this many buckets on each side.
    pub spread_buckets: u32,
    /// Correlation of onset patterns at which two names are neighbours.
    pub min_similarity: f64,
    /// DBSCAN's minimum neighbourhood (the name itself included) of a core name; at least 2.
    pub min_points: usize,
    /// Names with fewer onsets in the history are not grouped.
    pub min_onsets: usize,
    /// Names whose onsets (with their spread) cover more than this share of the buckets are not
    /// grouped: saturated, they co-occur with everything.
    pub max_active_share: f64,
}

impl Default for CooccurrenceConfig {
    fn default() -> Self {
        CooccurrenceConfig {
            enabled: true,
            bucket_minutes: 1,
            spread_buckets: 2,
            min_similarity: 0.5,
            min_points: 3,
            min_onsets: 3,
            max_active_share: 0.4,
        }
    }
}

impl CooccurrenceConfig {
    /// Every problem of the configuration, for `corral train --config`.
    pub fn validate(&self) -> Result<(), String> {
        let mut errs = Vec::new();
        if self.bucket_minutes == 0 {
            errs.push("cooccurrence.bucket_minutes must be at least 1".to_string());
        }
        if !(self.min_similarity > -1.0 && self.min_similarity < 1.0) {
            errs.push(format!(
                "cooccurrence.min_similarity must be above -1 and below 1, got {}",
                self.min_similarity
            ));
        }
        if self.min_points < 2 {
            errs.push(format!(
                "cooccurrence.min_points must be at least 2, got {}",
                self.min_points
            ));
        }
        if !(self.max_active_share > 0.0 && self.max_active_share <= 1.0) {
            errs.push(format!(
                "cooccurrence.max_active_share must be above 0 and at most 1, got {}",
                self.max_active_share
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    }
}

/// The learned groups: alert name → group id, and each group's names (for people).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cooccurrence {
    pub groups: Vec<Vec<Str>>,
    /// Names considered (enough onsets), grouped or not.
    pub names_considered: usize,
    #[serde(skip)]
    index: FxHashMap<Str, u32>,
}

impl Cooccurrence {
    /// Builds the lookup after loading (the file stores `groups` only).
    pub fn reindex(&mut self) {
        self.index = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, names)| names.iter().map(move |n| (n.clone(), g as u32)))
            .collect();
    }

    pub fn group_of(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }
}

/// Collects alert onsets per name during training.
#[derive(Default)]
pub struct CooccurrenceLearner {
    /// Fingerprint → (firing, event time of its latest occurrence).
    alerts: FxHashMap<Str, (bool, i64)>,
    onsets: FxHashMap<Str, Vec<i64>>,
}

impl CooccurrenceLearner {
    /// One alert occurrence, in event-time order.
    pub fn observe(&mut self, alert: &Alert) {
        let t = alert.event_time();
        let firing = alert.status == Status::Firing;
        let onset = match self.alerts.get_mut(&alert.fingerprint) {
            Some((was_firing, last)) => {
                let onset = firing && (!*was_firing || t - *last >= REFIRE_GAP_MS);
                *was_firing = firing;
                *last = (*last).max(t);
                onset
            }
            None => {
                self.alerts.insert(alert.fingerprint.clone(), (firing, t));
                firing
            }
        };
        if onset {
            match self.onsets.get_mut(&alert.name) {
                Some(v) => v.push(t),
                None => {
                    self.onsets.insert(alert.name.clone(), vec![t]);
                }
            }
        }
    }

    /// Clusters the names with DBSCAN. Deterministic: names are taken in sorted order and
    /// groups are numbered by their first name.
    pub fn fit(&self, config: &CooccurrenceConfig) -> Result<Cooccurrence, String> {
        config.validate()?;
        let mut names: Vec<(&Str, &Vec<i64>)> = self
            .onsets
            .iter()
            .filter(|(_, v)| v.len() >= config.min_onsets.max(1))
            .collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        let mut learned = Cooccurrence {
            names_considered: names.len(),
            ..Cooccurrence::default()
        };
        if !config.enabled || names.len() < config.min_points {
            return Ok(learned);
        }
        let t0 = names.iter().flat_map(|(_, v)| v.iter()).min().copied();
        let t1 = names.iter().flat_map(|(_, v)| v.iter()).max().copied();
        let (Some(t0), Some(t1)) = (t0, t1) else {
            return Ok(learned);
        };
        let mut bucket_ms = i64::from(config.bucket_minutes) * 60_000;
        if (t1 - t0) / bucket_ms >= MAX_BUCKETS {
            bucket_ms = (t1 - t0) / MAX_BUCKETS + 1;
        }
        let spread = config.spread_buckets as usize;
        let columns = ((t1 - t0) / bucket_ms) as usize + 1 + 2 * spread;
        let mut matrix = Array2::<f64>::zeros((names.len(), columns));
        for (row, (_, onsets)) in names.iter().enumerate() {
            for &t in onsets.iter() {
                let k = ((t - t0) / bucket_ms) as usize;
                for c in k..=k + 2 * spread {
                    matrix[[row, c]] = 1.0;
                }
            }
        }
        // Saturated names leave the matrix before clustering.
        let keep: Vec<usize> = (0..names.len())
            .filter(|&row| {
                let active = matrix.row(row).iter().filter(|&&v| v > 0.0).count();
                active as f64 <= config.max_active_share * columns as f64
            })
            .collect();
        if keep.len() < config.min_points {
            return Ok(learned);
        }
        let names: Vec<(&Str, &Vec<i64>)> = keep.iter().map(|&row| names[row]).collect();
        let mut matrix = matrix.select(ndarray::Axis(0), &keep);
        for row in 0..names.len() {
            let mut r = matrix.row_mut(row);
            let mean = r.mean().unwrap_or(0.0);
            r -= mean;
            let norm = r.dot(&r).sqrt();
            if norm > 0.0 {
                r /= norm;
            }
        }
        let tolerance = (2.0 - 2.0 * config.min_similarity).sqrt();
        let labels = Dbscan::params_with(
            config.min_points,
            L2Dist,
            // Rows are long (one column per bucket): a linear scan beats a k-d tree there.
            CommonNearestNeighbour::LinearSearch,
        )
        .tolerance(tolerance)
        .transform(&matrix)
        .map_err(|e| format!("co-occurrence clustering: {e}"))?;
        let mut by_label: BTreeMap<usize, Vec<Str>> = BTreeMap::new();
        for (row, label) in labels.iter().enumerate() {
            if let Some(l) = label {
                by_label.entry(*l).or_default().push(names[row].0.clone());
            }
        }
        let mut groups: Vec<Vec<Str>> = by_label.into_values().collect();
        groups.sort();
        learned.groups = groups;
        learned.reindex();
        Ok(learned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn fire(learner: &mut CooccurrenceLearner, name: &str, resource: &str, t: i64) {
        let mut a = Alert::firing(name, resource, t);
        a.fingerprint = format!("{name}@{resource}").into();
        learner.observe(&a);
    }

    fn resolve(learner: &mut CooccurrenceLearner, name: &str, resource: &str, t: i64) {
        let mut a = Alert::firing(name, resource, t);
        a.fingerprint = format!("{name}@{resource}").into();
        a.status = Status::Resolved;
        a.ends_at = Some(t);
        learner.observe(&a);
    }

    /// Ten failures an hour apart, each firing a host, a service and an SLO alert within two
    /// minutes; a disk check fires on its own schedule, and a one-off once.
    fn history() -> CooccurrenceLearner {
        let mut l = CooccurrenceLearner::default();
        for i in 0..10 {
            let t = i * 60 * MIN;
            let r = format!("h{i}");
            fire(&mut l, "HostDown", &r, t);
            fire(&mut l, "HighErrorRate", &r, t + MIN);
            fire(&mut l, "SLOBurnRateHigh", &r, t + 2 * MIN);
            // A repeat of a firing alert is not an onset.
            fire(&mut l, "HostDown", &r, t);
            resolve(&mut l, "HostDown", &r, t + 20 * MIN);
            resolve(&mut l, "HighErrorRate", &r, t + 20 * MIN);
            resolve(&mut l, "SLOBurnRateHigh", &r, t + 20 * MIN);
            fire(&mut l, "DiskAlmostFull", "db-9", t + 31 * MIN);
            resolve(&mut l, "DiskAlmostFull", "db-9", t + 40 * MIN);
        }
        fire(&mut l, "CertExpiring", "web-1", 5 * MIN);
        l
    }

    #[test]
    fn names_firing_together_form_one_group() {
        let l = history();
        assert_eq!(l.onsets["HostDown"].len(), 10);
        let c = l.fit(&CooccurrenceConfig::default()).unwrap();
        assert_eq!(
            c.groups,
            vec![vec![
                Str::from("HighErrorRate"),
                Str::from("HostDown"),
                Str::from("SLOBurnRateHigh")
            ]]
        );
        // DiskAlmostFull has enough onsets but fires on its own; CertExpiring has too few.
        assert_eq!(c.names_considered, 4);
        assert_eq!(c.group_of("HostDown"), Some(0));
        assert_eq!(c.group_of("SLOBurnRateHigh"), Some(0));
        assert_eq!(c.group_of("DiskAlmostFull"), None);
        assert_eq!(c.group_of("CertExpiring"), None);
    }

    #[test]
    fn a_refire_after_resolve_is_an_onset_and_so_is_one_after_a_long_silence() {
        let mut l = CooccurrenceLearner::default();
        fire(&mut l, "X", "a", 0);
        fire(&mut l, "X", "a", MIN);
        resolve(&mut l, "X", "a", 2 * MIN);
        fire(&mut l, "X", "a", 3 * MIN);
        fire(&mut l, "X", "a", 3 * MIN + REFIRE_GAP_MS);
        assert_eq!(l.onsets["X"], vec![0, 3 * MIN, 3 * MIN + REFIRE_GAP_MS]);
    }

    #[test]
    fn too_little_history_or_disabled_learns_no_group() {
        let mut l = CooccurrenceLearner::default();
        fire(&mut l, "A", "a", 0);
        fire(&mut l, "B", "a", 0);
        let c = l.fit(&CooccurrenceConfig::default()).unwrap();
        assert!(c.groups.is_empty());
        let off = CooccurrenceConfig {
            enabled: false,
            ..CooccurrenceConfig::default()
        };
        let c = history().fit(&off).unwrap();
        assert!(c.groups.is_empty());
        assert_eq!(c.names_considered, 4);
    }

    #[test]
    fn a_name_firing_all_the_time_is_not_grouped() {
        let mut l = history();
        // A check with an onset every three minutes is active in every bucket: it overlaps
        // each failure, but that says nothing.
        for k in 0..200 {
            fire(&mut l, "Heartbeat", &format!("hb-{k}"), k * 3 * MIN);
        }
        let c = l.fit(&CooccurrenceConfig::default()).unwrap();
        assert_eq!(c.groups.len(), 1);
        assert!(!c.groups[0].contains(&Str::from("Heartbeat")));
        assert_eq!(c.group_of("Heartbeat"), None);
        // Allowed to be saturated, it still does not correlate with the failures.
        let lax = CooccurrenceConfig {
            max_active_share: 1.0,
            ..CooccurrenceConfig::default()
        };
        assert_eq!(l.fit(&lax).unwrap().group_of("Heartbeat"), None);
    }

    #[test]
    fn invalid_configuration_is_refused_with_every_reason() {
        let bad = CooccurrenceConfig {
            bucket_minutes: 0,
            min_similarity: 1.0,
            min_points: 1,
            max_active_share: 0.0,
            ..CooccurrenceConfig::default()
        };
        let err = history().fit(&bad).unwrap_err();
        assert!(err.contains("bucket_minutes must be at least 1"), "{err}");
        assert!(
            err.contains("min_similarity must be above -1 and below 1"),
            "{err}"
        );
        assert!(err.contains("min_points must be at least 2"), "{err}");
        assert!(err.contains("max_active_share must be above 0"), "{err}");
    }

    #[test]
    fn a_long_history_gets_wider_buckets_not_a_huge_matrix() {
        let mut l = CooccurrenceLearner::default();
        // A year of daily co-firing pairs: 525,600 one-minute buckets would be too many.
        for d in 0..365 {
            let t = d * 24 * 60 * MIN;
            for (n, r) in [("A", "x"), ("B", "x"), ("C", "x")] {
                fire(&mut l, n, &format!("{r}{d}"), t);
            }
        }
        let c = l.fit(&CooccurrenceConfig::default()).unwrap();
        assert_eq!(c.groups.len(), 1);
        assert_eq!(c.groups[0].len(), 3);
    }
}
