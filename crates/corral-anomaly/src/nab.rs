//! The Numenta Anomaly Benchmark (NAB): corpus loading, result files in NAB's layout, and a
//! Rust implementation of NAB's published scoring rules (windows, probation, scaled-sigmoid
//! weighting, per-profile threshold optimisation over the whole corpus, normalisation against
//! the null and perfect detectors).
//!
//! Scoring follows NAB's `sweeper.py`: each row gets a "sweep score". Inside a labelled window
//! it is the scaled sigmoid of its relative position (earliest row = the full `A_TP`), outside
//! it is `A_FP` times the scaled sigmoid of its distance past the previous window (−`A_FP` far
//! from any window). Rows in the probationary period are not scored. For a threshold, a window
//! counts the best (earliest) flagged row in it, or −`A_FN` if none is flagged; flagged rows
//! outside windows add their (negative) sweep scores.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::detector::{DetectorConfig, SeriesDetector};

/// NAB's application profiles: the weights of true positives, false positives, true negatives
/// and false negatives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostProfile {
    pub name: &'static str,
    pub tp_weight: f64,
    pub fp_weight: f64,
    pub tn_weight: f64,
    pub fn_weight: f64,
}

pub const STANDARD: CostProfile = CostProfile {
    name: "standard",
    tp_weight: 1.0,
    fp_weight: 0.11,
    tn_weight: 1.0,
    fn_weight: 1.0,
};
pub const REWARD_LOW_FP_RATE: CostProfile = CostProfile {
    name: "reward_low_FP_rate",
    tp_weight: 1.0,
    fp_weight: 0.22,
    tn_weight: 1.0,
    fn_weight: 1.0,
};
pub const REWARD_LOW_FN_RATE: CostProfile = CostProfile {
    name: "reward_low_FN_rate",
    tp_weight: 1.0,
    fp_weight: 0.11,
    tn_weight: 1.0,
    fn_weight: 2.0,
};
pub const PROFILES: [CostProfile; 3] = [STANDARD, REWARD_LOW_FP_RATE, REWARD_LOW_FN_RATE];

/// Share of each file that is the probationary period, and NAB's cap of 0.15 × 5000 = 750 rows.
pub const PROBATION_PERCENT: f64 = 0.15;
const PROBATION_CAP_ROWS: f64 = PROBATION_PERCENT * 5000.0;

#[derive(Debug, thiserror::Error)]
pub enum NabError {
    // The I/O error is part of the message, not a `source`, so that it is printed once.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Labels { path: PathBuf, message: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> NabError + '_ {
    move |error| NabError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// One NAB data file with its labelled anomaly windows.
#[derive(Clone, Debug)]
pub struct NabFile {
    /// Folder under `data/`, e.g. `realKnownCause`.
    pub category: String,
    /// File name without `.csv`, e.g. `nyc_taxi`.
    pub name: String,
    /// Timestamps as written in the file (kept to write results unchanged).
    pub raw_timestamps: Vec<String>,
    /// Timestamps in epoch seconds (UTC, as NAB's naive timestamps).
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// Labelled windows as inclusive (start, end) epoch seconds.
    pub windows: Vec<(i64, i64)>,
}

impl NabFile {
    /// `category/name.csv`, the key NAB's label files use.
    pub fn key(&self) -> String {
        format!("{}/{}.csv", self.category, self.name)
    }

    /// Row index ranges (inclusive) of the windows. As NAB does, a window runs from the first
    /// row stamped with its start to the first row stamped with its end (a few NAB files have
    /// timestamps that step back); when no row carries the exact stamp, the nearest row inside
    /// the window is used. Windows that cover no row are dropped.
    pub fn window_rows(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::with_capacity(self.windows.len());
        for &(start, end) in &self.windows {
            let ts = &self.timestamps;
            let left = ts
                .iter()
                .position(|&t| t == start)
                .or_else(|| ts.iter().position(|&t| t >= start && t <= end));
            let right = ts
                .iter()
                .position(|&t| t == end)
                .or_else(|| ts.iter().rposition(|&t| t >= start && t <= end));
            if let (Some(l), Some(r)) = (left, right) {
                if r >= l {
                    out.push((l, r));
                }
            }
        }
        out
    }

    /// 1 for rows inside a labelled window, else 0 (the `label` column of NAB result files).
    pub fn labels(&self) -> Vec<u8> {
        let mut labels = vec![0u8; self.values.len()];
        for (l, r) in self.window_rows() {
            labels[l..=r].fill(1);
        }
        labels
    }
}

/// Parses NAB timestamps: `YYYY-MM-DD HH:MM:SS` with optional fractional seconds.
pub fn parse_nab_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let fmt = if s.contains('.') {
        "%Y-%m-%d %H:%M:%S%.f"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    chrono::NaiveDateTime::parse_from_str(s, fmt)
        .ok()
        .map(|d| d.and_utc().timestamp())
}

/// Columns of a NAB data file: raw timestamps, epoch seconds, values.
pub type NabColumns = (Vec<String>, Vec<i64>, Vec<f64>);

/// Parses one NAB data file (`timestamp,value` with a header line).
pub fn parse_nab_csv(path: &Path, text: &str) -> Result<NabColumns, NabError> {
    let parse_err = |line: usize, message: String| NabError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim().starts_with("timestamp") => {}
        Some((_, header)) => {
            return Err(parse_err(
                1,
                format!("expected header `timestamp,value`, found {header:?}"),
            ))
        }
        None => return Err(parse_err(1, "empty file".into())),
    }
    let (mut raw, mut ts, mut vs) = (Vec::new(), Vec::new(), Vec::new());
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.splitn(3, ',');
        let (Some(t), Some(v)) = (cols.next(), cols.next()) else {
            return Err(parse_err(
                i + 1,
                format!("expected `timestamp,value`, found {line:?}"),
            ));
        };
        let secs = parse_nab_timestamp(t)
            .ok_or_else(|| parse_err(i + 1, format!("invalid timestamp {t:?}")))?;
        let value: f64 = v
            .trim()
            .parse()
            .map_err(|_| parse_err(i + 1, format!("invalid value {v:?}")))?;
        raw.push(t.trim().to_string());
        ts.push(secs);
        vs.push(value);
    }
    Ok((raw, ts, vs))
}

/// The NAB corpus: `<root>/data/<category>/<file>.csv` and `<root>/labels/combined_windows.json`.
pub struct NabCorpus {
    pub files: Vec<NabFile>,
}

impl NabCorpus {
    pub fn load(root: &Path) -> Result<NabCorpus, NabError> {
        let labels_path = root.join("labels").join("combined_windows.json");
        let labels_text = std::fs::read_to_string(&labels_path).map_err(io_err(&labels_path))?;
        let labels: BTreeMap<String, Vec<Vec<String>>> = serde_json::from_str(&labels_text)
            .map_err(|e| NabError::Labels {
                path: labels_path.clone(),
                message: e.to_string(),
            })?;
        let mut files = Vec::with_capacity(labels.len());
        for (key, windows) in &labels {
            let Some((category, file)) = key.split_once('/') else {
                return Err(NabError::Labels {
                    path: labels_path.clone(),
                    message: format!("label key {key:?} is not `category/file.csv`"),
                });
            };
            let path = root.join("data").join(category).join(file);
            let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
            let (raw_timestamps, timestamps, values) = parse_nab_csv(&path, &text)?;
            let mut parsed = Vec::with_capacity(windows.len());
            for w in windows {
                let bad = || NabError::Labels {
                    path: labels_path.clone(),
                    message: format!("{key}: window {w:?} is not two timestamps"),
                };
                if w.len() != 2 {
                    return Err(bad());
                }
                let start = parse_nab_timestamp(&w[0]).ok_or_else(bad)?;
                let end = parse_nab_timestamp(&w[1]).ok_or_else(bad)?;
                parsed.push((start, end));
            }
            files.push(NabFile {
                category: category.to_string(),
                name: file.trim_end_matches(".csv").to_string(),
                raw_timestamps,
                timestamps,
                values,
                windows: parsed,
            });
        }
        Ok(NabCorpus { files })
    }

    pub fn window_count(&self) -> usize {
        self.files.iter().map(|f| f.windows.len()).sum()
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// NAB's scaled sigmoid: 0.98661 at relative position −1 (window start), 0 at the window end,
/// −0.98661 one window width past it, −1 from 3 widths on.
pub fn scaled_sigmoid(relative_position: f64) -> f64 {
    if relative_position >= 3.0 {
        -1.0
    } else {
        2.0 * sigmoid(-5.0 * relative_position) - 1.0
    }
}

/// Where a scorable row stands relative to the labelled windows, before profile weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RowClass {
    /// Inside window `window` (index over the whole scoring run); `weight` is the unweighted
    /// true-positive credit of a detection at this row (1.0 at the window's first row).
    InWindow { window: u32, weight: f64 },
    /// Outside every window; `weight` is the unweighted (negative) false-positive cost.
    Outside { weight: f64 },
}

impl RowClass {
    fn sweep_score(self, profile: &CostProfile) -> f64 {
        match self {
            RowClass::InWindow { weight, .. } => weight * profile.tp_weight,
            RowClass::Outside { weight } => weight * profile.fp_weight,
        }
    }
}

pub fn probationary_length(rows: usize) -> usize {
    (PROBATION_PERCENT * rows as f64)
        .floor()
        .min(PROBATION_CAP_ROWS) as usize
}

/// Classifies every row of a file. Rows of the probationary period are `None`. Window ids start
/// at `first_window_id`. Returns the classes and the number of windows.
pub fn classify_rows(
    rows: usize,
    window_rows: &[(usize, usize)],
    first_window_id: u32,
) -> (Vec<Option<RowClass>>, u32) {
    let max_tp = scaled_sigmoid(-1.0);
    let probation = probationary_length(rows);
    let mut out = Vec::with_capacity(rows);
    let mut next_window = 0usize;
    let mut current: Option<(u32, usize, f64)> = None; // (id, right index, width)
    let mut previous: Option<(usize, f64)> = None; // (right index, width)
    for i in 0..rows {
        if current.is_none() {
            if let Some(&(left, right)) = window_rows.get(next_window) {
                if i == left {
                    let id = first_window_id + next_window as u32;
                    current = Some((id, right, (right - left + 1) as f64));
                    next_window += 1;
                }
            }
        }
        let class = match current {
            Some((id, right, width)) => {
                let position = -((right - i + 1) as f64) / width;
                RowClass::InWindow {
                    window: id,
                    weight: scaled_sigmoid(position) / max_tp,
                }
            }
            None => {
                let position = match previous {
                    None => 3.0,
                    // A one-row window has no width to measure distance by: treat as far.
                    Some((_, width)) if width <= 1.0 => 3.0,
                    Some((right, width)) => (i - right) as f64 / (width - 1.0),
                };
                RowClass::Outside {
                    weight: scaled_sigmoid(position),
                }
            }
        };
        out.push((i >= probation).then_some(class));
        if let Some((_, right, width)) = current {
            if i == right {
                previous = Some((right, width));
                current = None;
            }
        }
    }
    (out, window_rows.len() as u32)
}

/// One file's anomaly scores ready for scoring.
pub struct ScoredFile<'a> {
    pub file: &'a NabFile,
    pub scores: &'a [f64],
}

/// Outcome of one file at the chosen threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct FileOutcome {
    pub key: String,
    pub score: f64,
    pub tp: usize,
    pub fn_: usize,
    pub fp: usize,
}

/// A profile's result over the corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileResult {
    pub profile: &'static str,
    pub threshold: f64,
    pub raw_score: f64,
    pub null_score: f64,
    pub perfect_score: f64,
    /// 100·(S − S_null)/(S_perfect − S_null).
    pub normalized: f64,
    pub windows_detected: usize,
    pub windows_missed: usize,
    pub false_positive_rows: usize,
    pub files: Vec<FileOutcome>,
}

struct Prepared {
    rows: Vec<(f64, RowClass)>,
    windows: u32,
    per_file: Vec<(usize, usize, u32, u32)>, // (row start, row end, first window, window count)
}

fn prepare(files: &[ScoredFile<'_>]) -> Prepared {
    let mut rows = Vec::new();
    let mut per_file = Vec::with_capacity(files.len());
    let mut windows = 0u32;
    for f in files {
        let start = rows.len();
        let (classes, count) = classify_rows(f.scores.len(), &f.file.window_rows(), windows);
        for (score, class) in f.scores.iter().zip(classes) {
            if let Some(class) = class {
                rows.push((*score, class));
            }
        }
        per_file.push((start, rows.len(), windows, count));
        windows += count;
    }
    Prepared {
        rows,
        windows,
        per_file,
    }
}

/// Score of a set of rows flagged at `threshold` (score ≥ threshold), with counts.
fn score_at(
    rows: &[(f64, RowClass)],
    first_window: u32,
    window_count: u32,
    threshold: f64,
    profile: &CostProfile,
) -> (f64, usize, usize) {
    let mut best = vec![-profile.fn_weight; window_count as usize];
    let mut detected = vec![false; window_count as usize];
    let mut fp_total = 0.0;
    let mut fp = 0usize;
    for &(score, class) in rows {
        if score < threshold {
            continue;
        }
        match class {
            RowClass::InWindow { window, .. } => {
                let w = (window - first_window) as usize;
                best[w] = best[w].max(class.sweep_score(profile));
                detected[w] = true;
            }
            RowClass::Outside { .. } => {
                fp += 1;
                fp_total += class.sweep_score(profile);
            }
        }
    }
    let tp = detected.iter().filter(|d| **d).count();
    (fp_total + best.iter().sum::<f64>(), tp, fp)
}

/// Scores the corpus for one profile: finds the threshold that maximises the summed score of
/// all files (as NAB's optimiser does), then scores each file at it and normalises.
pub fn score_corpus(files: &[ScoredFile<'_>], profile: &CostProfile) -> ProfileResult {
    let prepared = prepare(files);
    let total_windows: usize = files.iter().map(|f| f.file.window_rows().len()).sum();

    // Sweep thresholds from the highest score down; the score at a threshold counts every row
    // whose anomaly score is at least that threshold.
    let mut order: Vec<usize> = (0..prepared.rows.len()).collect();
    order.sort_by(|&a, &b| prepared.rows[b].0.total_cmp(&prepared.rows[a].0));
    let mut best_window = vec![-profile.fn_weight; prepared.windows as usize];
    let mut total = -profile.fn_weight * prepared.windows as f64;
    let mut best = (1.1, total);
    let mut k = 0;
    while k < order.len() {
        let threshold = prepared.rows[order[k]].0;
        while k < order.len() && prepared.rows[order[k]].0 == threshold {
            let class = prepared.rows[order[k]].1;
            let sweep = class.sweep_score(profile);
            match class {
                RowClass::InWindow { window, .. } => {
                    let slot = &mut best_window[window as usize];
                    if sweep > *slot {
                        total += sweep - *slot;
                        *slot = sweep;
                    }
                }
                RowClass::Outside { .. } => total += sweep,
            }
            k += 1;
        }
        if total > best.1 {
            best = (threshold, total);
        }
    }
    let threshold = best.0;

    let mut outcomes = Vec::with_capacity(files.len());
    let (mut raw, mut tp_sum, mut fp_sum) = (0.0, 0, 0);
    for (f, &(start, end, first, count)) in files.iter().zip(&prepared.per_file) {
        let (score, tp, fp) =
            score_at(&prepared.rows[start..end], first, count, threshold, profile);
        raw += score;
        tp_sum += tp;
        fp_sum += fp;
        outcomes.push(FileOutcome {
            key: f.file.key(),
            score,
            tp,
            fn_: count as usize - tp,
            fp,
        });
    }
    let null_score = -profile.fn_weight * total_windows as f64;
    let perfect_score = profile.tp_weight * total_windows as f64;
    let normalized = if perfect_score > null_score {
        100.0 * (raw - null_score) / (perfect_score - null_score)
    } else {
        0.0
    };
    ProfileResult {
        profile: profile.name,
        threshold,
        raw_score: raw,
        null_score,
        perfect_score,
        normalized,
        windows_detected: tp_sum,
        windows_missed: prepared.windows as usize - tp_sum,
        false_positive_rows: fp_sum,
        files: outcomes,
    }
}

/// Runs one detector configuration over a file: a fresh detector per series, every sample
/// scored as it arrives (timestamps in milliseconds, as corral's event time).
pub fn run_detector(config: &DetectorConfig, file: &NabFile) -> Vec<f64> {
    let mut detector = SeriesDetector::new();
    file.timestamps
        .iter()
        .zip(&file.values)
        .map(|(&t, &v)| detector.score(config, t * 1000, v))
        .collect()
}

/// Runs one detector configuration over every file of the corpus, in corpus order.
pub fn run_corpus(config: &DetectorConfig, corpus: &NabCorpus) -> Vec<Vec<f64>> {
    corpus
        .files
        .iter()
        .map(|f| run_detector(config, f))
        .collect()
}

/// Scores a corpus's anomaly scores (one vector per file, in corpus order) under every
/// profile of [`PROFILES`], in that order.
pub fn score_profiles(corpus: &NabCorpus, scores: &[Vec<f64>]) -> Vec<ProfileResult> {
    let scored: Vec<ScoredFile<'_>> = corpus
        .files
        .iter()
        .zip(scores)
        .map(|(file, scores)| ScoredFile { file, scores })
        .collect();
    PROFILES.iter().map(|p| score_corpus(&scored, p)).collect()
}

/// Writes one file's results in NAB's layout: `<out>/<detector>/<category>/<detector>_<file>.csv`.
pub fn write_results(
    out: &Path,
    detector: &str,
    file: &NabFile,
    scores: &[f64],
) -> Result<PathBuf, NabError> {
    let dir = out.join(detector).join(&file.category);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let path = dir.join(format!("{detector}_{}.csv", file.name));
    let labels = file.labels();
    let mut text = String::with_capacity(file.values.len() * 40);
    text.push_str("timestamp,value,anomaly_score,label\n");
    for i in 0..file.values.len() {
        let _ = writeln!(
            text,
            "{},{},{},{}",
            file.raw_timestamps[i], file.values[i], scores[i], labels[i]
        );
    }
    std::fs::write(&path, text).map_err(io_err(&path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic file of `rows` rows, one minute apart, with windows given as row ranges.
    fn file(rows: usize, windows: &[(usize, usize)]) -> NabFile {
        let t0 = 1_400_000_000i64;
        let timestamps: Vec<i64> = (0..rows as i64).map(|i| t0 + 60 * i).collect();
        NabFile {
            category: "test".into(),
            name: "f".into(),
            raw_timestamps: timestamps.iter().map(|t| t.to_string()).collect(),
            values: vec![0.0; rows],
            windows: windows
                .iter()
                .map(|&(l, r)| (timestamps[l], timestamps[r]))
                .collect(),
            timestamps,
        }
    }

    fn spikes(rows: usize, at: &[usize]) -> Vec<f64> {
        let mut s = vec![0.0; rows];
        for &i in at {
            s[i] = 1.0;
        }
        s
    }

    #[test]
    fn scaled_sigmoid_matches_nab_reference_points() {
        assert!((scaled_sigmoid(-1.0) - 0.986_614_3).abs() < 1e-6);
        assert!((scaled_sigmoid(-0.5) - 0.848_283_6).abs() < 1e-6);
        assert!(scaled_sigmoid(0.0).abs() < 1e-12);
        assert!((scaled_sigmoid(1.0) + 0.986_614_3).abs() < 1e-6);
        assert_eq!(scaled_sigmoid(3.0), -1.0);
    }

    #[test]
    fn probation_is_fifteen_percent_capped_at_750_rows() {
        assert_eq!(probationary_length(100), 15);
        assert_eq!(probationary_length(4032), 604);
        assert_eq!(probationary_length(22695), 750);
    }

    #[test]
    fn detection_at_window_start_scores_full_true_positive() {
        let f = file(100, &[(40, 49)]);
        let scores = spikes(100, &[40]);
        let r = score_corpus(
            &[ScoredFile {
                file: &f,
                scores: &scores,
            }],
            &STANDARD,
        );
        assert_eq!(r.threshold, 1.0);
        assert!((r.raw_score - 1.0).abs() < 1e-12);
        assert!((r.normalized - 100.0).abs() < 1e-9);
        assert_eq!((r.windows_detected, r.false_positive_rows), (1, 0));
    }

    #[test]
    fn late_detection_is_weighted_by_the_sigmoid() {
        // Last row of a 10-row window: position −1/10, 2·σ(0.5) − 1 = 0.2449187, over
        // maxTP 0.9866143 → 0.2482407.
        let f = file(100, &[(40, 49)]);
        let scores = spikes(100, &[49]);
        let r = score_corpus(
            &[ScoredFile {
                file: &f,
                scores: &scores,
            }],
            &STANDARD,
        );
        assert!((r.raw_score - 0.248_240_7).abs() < 1e-6, "{}", r.raw_score);
        // Normalised against null −1 and perfect +1.
        assert!((r.normalized - 100.0 * (0.248_240_7 + 1.0) / 2.0).abs() < 1e-4);
    }

    #[test]
    fn false_positives_cost_by_distance_and_profile() {
        // Row 20 precedes every window: full cost −A_FP. Row 55 is 6 rows past a 10-row window:
        // position 6/9, 2·σ(−3.3333) − 1 = −0.9311096, times A_FP.
        let f = file(100, &[(40, 49)]);
        let scores = spikes(100, &[20, 40, 55]);
        let expected_std = 1.0 - 0.11 - 0.11 * 0.931_109_6;
        let r = score_corpus(
            &[ScoredFile {
                file: &f,
                scores: &scores,
            }],
            &STANDARD,
        );
        assert!((r.raw_score - expected_std).abs() < 1e-6, "{}", r.raw_score);
        assert_eq!(r.false_positive_rows, 2);
        let low_fp = score_corpus(
            &[ScoredFile {
                file: &f,
                scores: &scores,
            }],
            &REWARD_LOW_FP_RATE,
        );
        assert!((low_fp.raw_score - (1.0 - 0.22 - 0.22 * 0.931_109_6)).abs() < 1e-6);
    }

    #[test]
    fn only_the_earliest_detection_in_a_window_counts_and_probation_is_ignored() {
        let f = file(100, &[(40, 49)]);
        // Row 10 is in the probationary period (15 rows); rows 45..49 are later than 44.
        let scores = spikes(100, &[10, 44, 45, 46, 47, 48, 49]);
        let r = score_corpus(
            &[ScoredFile {
                file: &f,
                scores: &scores,
            }],
            &STANDARD,
        );
        // Row 44: position −6/10 → 2·σ(3) − 1 = 0.9051483, over maxTP → 0.9174287.
        assert!((r.raw_score - 0.917_428_7).abs() < 1e-6, "{}", r.raw_score);
        assert_eq!(r.false_positive_rows, 0);
    }

    #[test]
    fn missed_windows_cost_fn_weight_per_profile() {
        let f = file(100, &[(40, 49), (70, 79)]);
        let scores = spikes(100, &[70]);
        let std = score_corpus(
            &[ScoredFile {
                file: &f,
                scores: &scores,
            }],
            &STANDARD,
        );
        assert!((std.raw_score - 0.0).abs() < 1e-12);
        assert!((std.normalized - 50.0).abs() < 1e-9);
        let low_fn = score_corpus(
            &[ScoredFile {
                file: &f,
                scores: &scores,
            }],
            &REWARD_LOW_FN_RATE,
        );
        assert!((low_fn.raw_score - (1.0 - 2.0)).abs() < 1e-12);
        // Null −4, perfect +2: 100·(−1 + 4)/6 = 50.
        assert!((low_fn.normalized - 50.0).abs() < 1e-9);
    }

    #[test]
    fn threshold_is_optimised_over_the_whole_corpus() {
        // File a: the window start scores 0.9, a false positive scores 0.95.
        // File b: the window start scores 0.6.
        // Threshold 0.95 → −0.11 − 2 ; 0.9 → 1 − 0.11 − 1 = −0.11 ; 0.6 → 2 − 0.11 = 1.89.
        let a = file(100, &[(40, 49)]);
        let b = file(100, &[(60, 69)]);
        let mut sa = vec![0.0; 100];
        sa[40] = 0.9;
        sa[20] = 0.95;
        let mut sb = vec![0.0; 100];
        sb[60] = 0.6;
        let r = score_corpus(
            &[
                ScoredFile {
                    file: &a,
                    scores: &sa,
                },
                ScoredFile {
                    file: &b,
                    scores: &sb,
                },
            ],
            &STANDARD,
        );
        assert_eq!(r.threshold, 0.6);
        assert!((r.raw_score - 1.89).abs() < 1e-12);
        assert_eq!(r.files[0].fp, 1);
        assert_eq!(r.files[1].tp, 1);
    }

    #[test]
    fn null_detector_scores_zero_and_files_without_windows_count_only_false_positives() {
        let a = file(100, &[(40, 49)]);
        let quiet = file(100, &[]);
        let zeros = vec![0.5; 100];
        let r = score_corpus(
            &[
                ScoredFile {
                    file: &a,
                    scores: &zeros,
                },
                ScoredFile {
                    file: &quiet,
                    scores: &zeros,
                },
            ],
            &STANDARD,
        );
        assert_eq!(r.threshold, 1.1);
        assert!(r.normalized.abs() < 1e-12);
    }

    #[test]
    fn nab_csv_errors_name_the_line() {
        let err = parse_nab_csv(
            Path::new("x.csv"),
            "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n",
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "x.csv:3: invalid value \"abc\"");
        let (_, ts, vs) = parse_nab_csv(
            Path::new("x.csv"),
            "timestamp,value\n2014-01-01 00:00:00,1.5\n",
        )
        .unwrap();
        assert_eq!(ts, vec![1_388_534_400]);
        assert_eq!(vs, vec![1.5]);
        assert_eq!(
            parse_nab_timestamp("2014-01-01 00:00:00.000000"),
            Some(1_388_534_400)
        );
    }

    #[test]
    fn results_are_written_in_nab_layout_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = file(6, &[(2, 3)]);
        f.category = "realKnownCause".into();
        f.name = "nyc_taxi".into();
        let path =
            write_results(dir.path(), "corral", &f, &[0.0, 0.1, 0.9, 0.2, 0.0, 0.5]).unwrap();
        assert_eq!(
            path,
            dir.path().join("corral/realKnownCause/corral_nyc_taxi.csv")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "timestamp,value,anomaly_score,label");
        assert_eq!(lines.len(), 7);
        let labels: Vec<&str> = lines[1..]
            .iter()
            .map(|l| l.rsplit(',').next().unwrap())
            .collect();
        assert_eq!(labels, ["0", "0", "1", "1", "0", "0"]);
        assert!(lines[3].ends_with(",0.9,1"));
    }

    #[test]
    fn windows_follow_nab_when_timestamps_step_back() {
        // Rows: 0, 60, 120, 60, 120, 180 seconds; a window from 60 to 120 runs from the first
        // row stamped 60 to the first row stamped 120, as NAB's `timestamps.index` does.
        let mut f = file(6, &[]);
        f.timestamps = vec![0, 60, 120, 60, 120, 180];
        f.windows = vec![(60, 120)];
        assert_eq!(f.window_rows(), vec![(1, 2)]);
        // A window between rows still covers the rows inside it.
        f.windows = vec![(100, 170)];
        assert_eq!(f.window_rows(), vec![(2, 4)]);
    }
}
