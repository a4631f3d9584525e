//! `corral score` (SPEC §5): how well emitted incidents match the ground truth.
//!
//! Conventions, where SPEC §5 leaves a choice:
//! - the alert universe is every fingerprint of the alert stream (when given), of the truth and
//!   of the incidents; an alert emitted in several unrelated incidents counts for the one whose
//!   final update lists it first in file order (the incident that announced it);
//! - figures that need event times or alert occurrences (`events`, `event_compression`,
//!   `time_to_incident_*`) are `null` without `--alerts`;
//! - `rca_top1` counts truth incidents that name a root cause; a truth incident's root cause
//!   matches when the best-overlapping incident names its resource (or its fingerprint), or,
//!   given the topology, another name of the same node;
//! - pair precision and recall are 1 when there is no pair to get wrong.

use crate::clustering::{adjusted_mutual_information, adjusted_rand_index, Contingency};
use crate::truth::Truth;
use corral_core::incident::IncidentUpdate;
use corral_core::model::{parse_event_time, Alert};
use corral_core::topology::TopologyIndex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// Every figure of SPEC §5, as printed by `corral score`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Score {
    pub alerts: usize,
    pub events: Option<u64>,
    pub incidents: usize,
    pub truth_incidents: usize,
    pub noise_alerts: usize,
    pub compression: f64,
    pub ideal_compression: f64,
    pub event_compression: Option<f64>,
    pub ari: f64,
    pub ami: f64,
    pub pair_precision: f64,
    pub pair_recall: f64,
    pub missed_incidents: usize,
    pub fragmented_incidents: usize,
    /// `fragmented_incidents` over truth incidents.
    pub fragmented_share: f64,
    pub noise_in_incidents: f64,
    pub rca_top1: Option<f64>,
    /// Truth incidents that name a root cause (the denominator of `rca_top1`).
    pub rca_scored: usize,
    pub time_to_incident_p50_s: Option<f64>,
    pub time_to_incident_p99_s: Option<f64>,
    /// Alerts that are members of some emitted incident (the rest were suppressed or held).
    pub alerts_in_incidents: usize,
    /// The truth incidents counted in `missed_incidents`, for diagnosis.
    pub missed: Vec<String>,
    /// The truth incidents counted in `fragmented_incidents`, with how many incidents each spans.
    pub fragmented: Vec<(String, usize)>,
}

/// The final membership of emitted incidents after following merges.
#[derive(Debug, Default)]
pub struct FinalIncidents {
    /// Canonical incident ids, in order of first update.
    pub ids: Vec<String>,
    /// Members of each canonical incident, in the order its updates listed them.
    pub members: Vec<Vec<String>>,
    /// Root-cause resource and fingerprint each canonical incident names last.
    pub root_cause: Vec<(String, Option<String>)>,
    /// Event time (ms) of each alert's first appearance in any update, by fingerprint.
    pub first_emitted_ms: FxHashMap<String, i64>,
}

/// Folds a stream of updates into final incidents: the last update of each incident wins, and an
/// incident named in another's `merged_from` (or closed with `merged_into`) joins that one.
pub fn final_incidents(updates: &[IncidentUpdate]) -> FinalIncidents {
    let mut order: Vec<&str> = Vec::new();
    let mut last: FxHashMap<&str, &IncidentUpdate> = FxHashMap::default();
    let mut first_emitted_ms: FxHashMap<String, i64> = FxHashMap::default();
    for u in updates {
        let id = u.incident_id();
        if !last.contains_key(id) {
            order.push(id);
        }
        last.insert(id, u);
        let ts = parse_event_time(&u.payload.timestamp);
        if let Some(ts) = ts {
            for fp in &u.payload.custom_details.alerts {
                first_emitted_ms.entry(fp.to_string()).or_insert(ts);
            }
        }
    }
    // parent[i] = the incident that absorbed i.
    let mut parent: FxHashMap<&str, &str> = FxHashMap::default();
    for &id in &order {
        let d = &last[id].payload.custom_details;
        for m in &d.merged_from {
            if m != id && last.contains_key(m.as_str()) {
                parent.insert(m.as_str(), id);
            }
        }
        if let Some(into) = &d.merged_into {
            if into != id && last.contains_key(into.as_str()) {
                parent.entry(id).or_insert(into.as_str());
            }
        }
    }
    let root_of = |start: &str| -> String {
        let mut id = start.to_string();
        // Bounded walk: a merge cycle in bad input must not loop forever.
        for _ in 0..=order.len() {
            match parent.get(id.as_str()) {
                Some(&p) => id = p.to_string(),
                None => break,
            }
        }
        id
    };
    let mut out = FinalIncidents {
        first_emitted_ms,
        ..Default::default()
    };
    let mut index: FxHashMap<String, usize> = FxHashMap::default();
    for &id in &order {
        let root = root_of(id);
        if !index.contains_key(&root) {
            index.insert(root.clone(), out.ids.len());
            out.ids.push(root.clone());
            out.members.push(Vec::new());
            let rc = &last[root.as_str()].payload.custom_details.root_cause;
            out.root_cause.push((
                rc.resource.to_string(),
                rc.fingerprint.as_deref().map(str::to_owned),
            ));
        }
    }
    let mut seen: Vec<FxHashSet<String>> = vec![FxHashSet::default(); out.ids.len()];
    for &id in &order {
        let k = index[&root_of(id)];
        for fp in &last[id].payload.custom_details.alerts {
            if seen[k].insert(fp.to_string()) {
                out.members[k].push(fp.to_string());
            }
        }
    }
    out
}

/// Scores incidents against the truth; `alerts` is the input stream when known.
pub fn score(updates: &[IncidentUpdate], truth: &Truth, alerts: Option<&[Alert]>) -> Score {
    score_with_topology(updates, truth, alerts, None)
}

/// As [`score`]; with a topology, a root cause named by an alias of the right node (an IP, an
/// FQDN) counts as the same resource, in either direction.
pub fn score_with_topology(
    updates: &[IncidentUpdate],
    truth: &Truth,
    alerts: Option<&[Alert]>,
    topology: Option<&TopologyIndex>,
) -> Score {
    let fin = final_incidents(updates);

    // The alert universe, with a dense index per fingerprint.
    let mut fps: Vec<String> = Vec::new();
    let mut idx: FxHashMap<String, usize> = FxHashMap::default();
    let mut add = |fp: &str, fps: &mut Vec<String>| {
        if !idx.contains_key(fp) {
            idx.insert(fp.to_string(), fps.len());
            fps.push(fp.to_string());
        }
    };
    let mut resource_of: FxHashMap<&str, &str> = FxHashMap::default();
    let mut first_seen_ms: FxHashMap<&str, i64> = FxHashMap::default();
    if let Some(alerts) = alerts {
        for a in alerts {
            add(&a.fingerprint, &mut fps);
            resource_of
                .entry(a.fingerprint.as_str())
                .or_insert(a.resource.as_str());
            let t = first_seen_ms
                .entry(a.fingerprint.as_str())
                .or_insert(a.starts_at);
            *t = (*t).min(a.starts_at);
        }
    }
    let mut truth_fps: Vec<(&String, &usize)> = truth.incident_of.iter().collect();
    truth_fps.sort_unstable();
    for (fp, _) in &truth_fps {
        add(fp, &mut fps);
    }
    for m in &fin.members {
        for fp in m {
            add(fp, &mut fps);
        }
    }
    let n = fps.len();
    let dense: FxHashMap<&str, usize> = fps
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();

    // Predicted label: the canonical incident, first claim wins; unclaimed alerts are singletons.
    const NONE: usize = usize::MAX;
    let mut predicted = vec![NONE; n];
    for (k, m) in fin.members.iter().enumerate() {
        for fp in m {
            let i = dense[fp.as_str()];
            if predicted[i] == NONE {
                predicted[i] = k;
            }
        }
    }
    let incident_count = fin.ids.len();
    let mut truth_label = vec![NONE; n];
    for (fp, &t) in &truth.incident_of {
        truth_label[dense[fp.as_str()]] = t;
    }
    let in_incident: Vec<bool> = predicted.iter().map(|&p| p != NONE).collect();
    // Singletons get labels beyond every real id so that each stands alone.
    let pred_labels: Vec<usize> = predicted
        .iter()
        .enumerate()
        .map(|(i, &p)| if p == NONE { incident_count + i } else { p })
        .collect();
    let truth_labels: Vec<usize> = truth_label
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if t == NONE {
                truth.incidents.len() + i
            } else {
                t
            }
        })
        .collect();
    let table = Contingency::from_labels(&truth_labels, &pred_labels);
    let pairs = table.pair_counts();

    let truth_count = truth.incidents.len();
    let noise_alerts = truth_label.iter().filter(|&&t| t == NONE).count();

    // Per truth incident: emitted incidents touched, overlap sizes.
    let mut overlap: Vec<FxHashMap<usize, usize>> = vec![FxHashMap::default(); truth_count];
    for i in 0..n {
        if truth_label[i] != NONE && predicted[i] != NONE {
            *overlap[truth_label[i]].entry(predicted[i]).or_insert(0) += 1;
        }
    }
    // Alerts of a truth incident may sit in an emitted incident beside their first claim too.
    for (k, m) in fin.members.iter().enumerate() {
        for fp in m {
            if let Some(&t) = truth.incident_of.get(fp.as_str()) {
                overlap[t].entry(k).or_insert(0);
            }
        }
    }
    let mut missed = Vec::new();
    let mut fragmented = Vec::new();
    for (t, o) in overlap.iter().enumerate() {
        if o.is_empty() {
            missed.push(truth.incidents[t].clone());
        } else if o.len() > 1 {
            fragmented.push((truth.incidents[t].clone(), o.len()));
        }
    }

    // Noise placed with real alerts.
    let mut has_real = vec![false; incident_count];
    for i in 0..n {
        if truth_label[i] != NONE && predicted[i] != NONE {
            has_real[predicted[i]] = true;
        }
    }
    let noise_with_real = (0..n)
        .filter(|&i| truth_label[i] == NONE && predicted[i] != NONE && has_real[predicted[i]])
        .count();

    // Root cause: the best-overlapping incident (most shared alerts, then earliest).
    let mut rca_scored = 0usize;
    let mut rca_hits = 0usize;
    for (t, o) in overlap.iter().enumerate() {
        let roots = &truth.root_causes[t];
        if roots.is_empty() {
            continue;
        }
        rca_scored += 1;
        let best = o
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(&k, _)| k);
        let Some(k) = best else { continue };
        let (res, rc_fp) = &fin.root_cause[k];
        let same_resource = |truth_res: &str| {
            truth_res == res.as_str()
                || topology.is_some_and(|t| match (t.resolve(truth_res), t.resolve(res)) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                })
        };
        let hit = roots.iter().any(|fp| {
            rc_fp.as_deref() == Some(fp.as_str())
                || resource_of
                    .get(fp.as_str())
                    .is_some_and(|r| same_resource(r))
        });
        if hit {
            rca_hits += 1;
        }
    }

    // Time to incident: first alert of a truth incident → first update containing any of them.
    let (p50, p99) = if alerts.is_some() {
        let mut first_alert = vec![i64::MAX; truth_count];
        let mut first_update = vec![i64::MAX; truth_count];
        for (fp, &t) in &truth.incident_of {
            if let Some(&ms) = first_seen_ms.get(fp.as_str()) {
                first_alert[t] = first_alert[t].min(ms);
            }
            if let Some(&ms) = fin.first_emitted_ms.get(fp.as_str()) {
                first_update[t] = first_update[t].min(ms);
            }
        }
        let mut delays: Vec<f64> = (0..truth_count)
            .filter(|&t| first_alert[t] != i64::MAX && first_update[t] != i64::MAX)
            .map(|t| (first_update[t] - first_alert[t]).max(0) as f64 / 1000.0)
            .collect();
        delays.sort_by(|a, b| a.total_cmp(b));
        (percentile(&delays, 0.50), percentile(&delays, 0.99))
    } else {
        (None, None)
    };

    let ratio = |num: usize, den: usize| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    let events = alerts.map(|a| a.len() as u64);
    Score {
        alerts: n,
        events,
        incidents: incident_count,
        truth_incidents: truth_count,
        noise_alerts,
        compression: if n == 0 {
            0.0
        } else {
            1.0 - ratio(incident_count, n)
        },
        ideal_compression: if n == 0 {
            0.0
        } else {
            1.0 - ratio(truth_count + noise_alerts, n)
        },
        event_compression: events.map(|e| {
            if e == 0 {
                0.0
            } else {
                1.0 - incident_count as f64 / e as f64
            }
        }),
        ari: adjusted_rand_index(&table),
        ami: adjusted_mutual_information(&table),
        pair_precision: pairs.precision(),
        pair_recall: pairs.recall(),
        missed_incidents: missed.len(),
        fragmented_incidents: fragmented.len(),
        fragmented_share: ratio(fragmented.len(), truth_count),
        noise_in_incidents: ratio(noise_with_real, noise_alerts),
        rca_top1: (rca_scored > 0).then(|| ratio(rca_hits, rca_scored)),
        rca_scored,
        time_to_incident_p50_s: p50,
        time_to_incident_p99_s: p99,
        alerts_in_incidents: in_incident.iter().filter(|&&b| b).count(),
        missed,
        fragmented,
    }
}

/// The quality targets of the standard suite (issue 3): what `corral score --targets` checks.
/// Returns one line per missed target; empty when all are met.
pub fn missed_targets(s: &Score) -> Vec<String> {
    let mut out = Vec::new();
    if s.missed_incidents > 0 {
        out.push(format!(
            "missed_incidents {} > 0 ({:?})",
            s.missed_incidents, s.missed
        ));
    }
    let gap = s.ideal_compression - s.compression;
    if gap > 0.02 {
        out.push(format!(
            "compression {:.4} more than 2 points below ideal {:.4}",
            s.compression, s.ideal_compression
        ));
    }
    if s.ideal_compression >= 0.97 && s.compression < 0.95 {
        out.push(format!(
            "compression {:.4} < 0.95 with ideal >= 0.97",
            s.compression
        ));
    }
    if s.fragmented_share > 0.05 {
        out.push(format!("fragmented {:.4} > 0.05", s.fragmented_share));
    }
    if s.noise_in_incidents > 0.05 {
        out.push(format!(
            "noise_in_incidents {:.4} > 0.05",
            s.noise_in_incidents
        ));
    }
    if s.ari < 0.9 {
        out.push(format!("ari {:.4} < 0.9", s.ari));
    }
    if let Some(r) = s.rca_top1 {
        if r < 0.9 {
            out.push(format!("rca_top1 {r:.4} < 0.9"));
        }
    }
    out
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::{AlertFacts, IncidentDraft};
    use crate::truth::TruthRecord;
    use corral_core::incident::EventAction;

    fn alert(fp: &str, resource: &str, t: i64) -> Alert {
        let mut a = Alert::firing("X", resource, t);
        a.fingerprint = fp.into();
        a
    }

    fn update(
        id: &str,
        members: &[&Alert],
        root: &str,
        at: i64,
        merged_from: &[&str],
    ) -> IncidentUpdate {
        let mut d = IncidentDraft::new(id.into(), "test");
        for a in members {
            d.add(&AlertFacts::of(a));
        }
        let mut u = d.update(EventAction::Trigger, at, vec![]);
        u.payload.custom_details.root_cause.resource = root.into();
        u.payload.custom_details.root_cause.fingerprint = None;
        u.payload.custom_details.merged_from = merged_from.iter().map(|s| (*s).into()).collect();
        u
    }

    fn truth() -> Truth {
        let r = |fp: &str, inc: &str, root: bool| TruthRecord {
            fingerprint: fp.into(),
            incident: inc.into(),
            root_cause: root,
        };
        Truth::from_records([
            r("a1", "I1", true),
            r("a2", "I1", false),
            r("a3", "I1", false),
            r("b1", "I2", true),
            r("b2", "I2", false),
        ])
        .unwrap()
    }

    /// a1..a3 on r1..r3 (I1, root a1), b1 b2 on r4 r5 (I2, root b1), n1 n2 noise.
    fn stream() -> Vec<Alert> {
        vec![
            alert("a1", "r1", 0),
            alert("a2", "r2", 5_000),
            alert("a3", "r3", 8_000),
            alert("b1", "r4", 50_000),
            alert("b2", "r5", 55_000),
            alert("n1", "r9", 10_000),
            alert("n2", "r8", 20_000),
            alert("a1", "r1", 0), // a repeat: one more event, no new alert
        ]
    }

    #[test]
    fn hand_worked_scores() {
        let s = stream();
        let (a1, a2, a3, b1, b2, n1) = (&s[0], &s[1], &s[2], &s[3], &s[4], &s[5]);
        // X = {a1,a2,n1} rooted on r1, Y = {a3}, Z = {b1,b2} rooted on r5 (wrong).
        let updates = vec![
            update("X", &[a1, a2], "r1", 30_000, &[]),
            update("Y", &[a3], "r3", 40_000, &[]),
            update("Z", &[b1, b2], "r5", 100_000, &[]),
            update("X", &[a1, a2, n1], "r1", 60_000, &[]),
        ];
        let sc = score(&updates, &truth(), Some(&s));
        assert_eq!(sc.alerts, 7);
        assert_eq!(sc.events, Some(8));
        assert_eq!(sc.incidents, 3);
        assert_eq!(sc.truth_incidents, 2);
        assert_eq!(sc.noise_alerts, 2);
        assert!((sc.compression - 4.0 / 7.0).abs() < 1e-12);
        assert!((sc.ideal_compression - 3.0 / 7.0).abs() < 1e-12);
        assert!((sc.event_compression.unwrap() - 5.0 / 8.0).abs() < 1e-12);
        // tp = {a1a2, b1b2}, predicted pairs 3 + 1, truth pairs 3 + 1; 21 pairs in all, so
        // ARI = 2(2·15 − 2·2) / (4·17 + 4·17) = 52/136.
        assert!((sc.ari - 52.0 / 136.0).abs() < 1e-12);
        // scikit-learn 1.9.1: adjusted_mutual_info_score([0,0,0,1,1,2,3], [0,0,1,2,2,0,3]).
        assert!((sc.ami - 0.47691869953589183).abs() < 1e-12);
        assert_eq!(sc.pair_precision, 0.5);
        assert_eq!(sc.pair_recall, 0.5);
        assert_eq!(sc.missed_incidents, 0);
        assert_eq!(sc.fragmented_incidents, 1);
        assert_eq!(sc.fragmented, vec![("I1".to_string(), 2)]);
        assert_eq!(sc.noise_in_incidents, 0.5);
        assert_eq!(sc.rca_scored, 2);
        assert_eq!(sc.rca_top1, Some(0.5));
        // I1: first alert at 0, first update with it at 30 s; I2: 50 s → 100 s.
        assert_eq!(sc.time_to_incident_p50_s, Some(30.0));
        assert_eq!(sc.time_to_incident_p99_s, Some(50.0));
        assert_eq!(sc.alerts_in_incidents, 6);
    }

    #[test]
    fn merged_incidents_count_as_one_and_missed_ones_are_named() {
        let s = stream();
        let (a1, a2, a3, n1) = (&s[0], &s[1], &s[2], &s[5]);
        let updates = vec![
            update("Y", &[a3], "r3", 40_000, &[]),
            update("X", &[a1, a2, a3, n1], "r1", 60_000, &["Y"]),
        ];
        let sc = score(&updates, &truth(), Some(&s));
        assert_eq!(sc.incidents, 1);
        assert_eq!(sc.fragmented_incidents, 0);
        assert_eq!(sc.missed_incidents, 1);
        assert_eq!(sc.missed, vec!["I2".to_string()]);
        assert_eq!(sc.rca_top1, Some(0.5));
        // Predicted X,X,X,{b1},{b2},X,{n2} against I1,I1,I1,I2,I2,{n1},{n2}:
        // tp 3, fp 3 (a·n1 pairs), fn 1 (b1b2), tn 14.
        let expected = 2.0 * (3.0 * 14.0 - 1.0 * 3.0)
            / ((3.0 + 1.0) * (1.0 + 14.0) + (3.0 + 3.0) * (3.0 + 14.0));
        assert!(
            (sc.ari - expected).abs() < 1e-12,
            "{} vs {expected}",
            sc.ari
        );
    }

    #[test]
    fn root_cause_named_by_alias_matches_with_the_topology() {
        let s = stream();
        let topo = corral_core::TopologyFile::parse(
            "nodes:\n  - {id: host-1, aliases: [r1]}\n  - {id: r4}\n",
            "t.yaml",
        )
        .unwrap();
        let topo = TopologyIndex::build(&topo);
        let updates = vec![
            update("P", &[&s[0], &s[1], &s[2]], "host-1", 1_000, &[]),
            update("Q", &[&s[3], &s[4]], "r4", 60_000, &[]),
        ];
        assert_eq!(score(&updates, &truth(), Some(&s)).rca_top1, Some(0.5));
        let sc = score_with_topology(&updates, &truth(), Some(&s), Some(&topo));
        assert_eq!(sc.rca_top1, Some(1.0));
    }

    #[test]
    fn perfect_grouping_scores_perfectly_without_alerts_file() {
        let s = stream();
        let updates = vec![
            update("P", &[&s[0], &s[1], &s[2]], "r1", 1_000, &[]),
            update("Q", &[&s[3], &s[4]], "r4", 60_000, &[]),
        ];
        let t = truth();
        // Without the stream, root causes match by fingerprint only.
        let mut u = updates.clone();
        u[0].payload.custom_details.root_cause.fingerprint = Some("a1".into());
        u[1].payload.custom_details.root_cause.fingerprint = Some("b1".into());
        let sc = score(&u, &t, None);
        assert_eq!(sc.alerts, 5);
        assert_eq!(sc.events, None);
        assert_eq!(sc.ari, 1.0);
        assert!((sc.ami - 1.0).abs() < 1e-9);
        assert_eq!(sc.rca_top1, Some(1.0));
        assert_eq!(sc.compression, sc.ideal_compression);
        assert_eq!(sc.time_to_incident_p99_s, None);
        // With the stream, noise alerts left alone are singletons: grouping still perfect, and
        // leaving noise out of every incident compresses beyond the ideal (SPEC §5).
        let sc = score(&updates, &t, Some(&s));
        assert_eq!(sc.ari, 1.0);
        assert_eq!(sc.noise_in_incidents, 0.0);
        assert!((sc.compression - 5.0 / 7.0).abs() < 1e-12);
        assert!((sc.ideal_compression - 3.0 / 7.0).abs() < 1e-12);
    }
}
