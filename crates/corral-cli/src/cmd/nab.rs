//! `corral nab`: runs the default per-series detector over the Numenta Anomaly Benchmark corpus,
//! writes results in NAB's layout and prints the standard, low-FP and low-FN scores.

use anyhow::{Context, Result};
use corral_anomaly::nab::{self, NabCorpus};
use corral_anomaly::DetectorConfig;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// NAB root: holds `data/<category>/*.csv` and `labels/combined_windows.json`.
    #[arg(long)]
    data: PathBuf,
    /// Results folder; files go to `<out>/<detector>/<category>/<detector>_<file>.csv`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Detector name in the results layout (no underscore, as NAB requires).
    #[arg(long, default_value = "corral")]
    detector: String,
    /// Detector configuration as JSON (fields of DetectorConfig); default: the built-in one.
    #[arg(long)]
    config: Option<String>,
    /// Print the scores as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also print each file's standard-profile score and counts.
    #[arg(long)]
    per_file: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.detector.contains('_') || args.detector.is_empty() {
        anyhow::bail!(
            "detector name {:?} must be non-empty and have no underscore",
            args.detector
        );
    }
    let config: DetectorConfig = match &args.config {
        Some(text) => serde_json::from_str(text).context("parsing --config")?,
        None => DetectorConfig::default(),
    };
    let corpus = NabCorpus::load(&args.data)?;
    let scores = nab::run_corpus(&config, &corpus);
    if let Some(out) = &args.out {
        for (f, s) in corpus.files.iter().zip(&scores) {
            nab::write_results(out, &args.detector, f, s)?;
        }
    }
    let results = nab::score_profiles(&corpus, &scores);
    let mut text = String::new();
    if args.json {
        let summary: Vec<_> = results
            .iter()
            .map(|r| {
                serde_json::json!({"profile": r.profile, "score": r.normalized, "threshold": r.threshold,
                    "raw_score": r.raw_score, "windows_detected": r.windows_detected,
                    "windows_missed": r.windows_missed, "false_positive_rows": r.false_positive_rows})
            })
            .collect();
        text.push_str(&serde_json::to_string_pretty(&summary)?);
        text.push('\n');
    } else {
        let _ = writeln!(
            text,
            "NAB corpus: {} files, {} windows; detector {:?}",
            corpus.files.len(),
            corpus.window_count(),
            args.detector
        );
        let _ = writeln!(
            text,
            "{:<20} {:>7} {:>10} {:>6} {:>6} {:>7}",
            "profile", "score", "threshold", "TP", "FN", "FP rows"
        );
        for r in &results {
            let _ = writeln!(
                text,
                "{:<20} {:>7.2} {:>10.5} {:>6} {:>6} {:>7}",
                r.profile,
                r.normalized,
                r.threshold,
                r.windows_detected,
                r.windows_missed,
                r.false_positive_rows
            );
        }
        if args.per_file {
            for f in &results[0].files {
                let _ = writeln!(
                    text,
                    "  {:<60} {:>7.3} tp={} fn={} fp={}",
                    f.key, f.score, f.tp, f.fn_, f.fp
                );
            }
        }
    }
    // A closed pipe (`| head`) is the reader's choice, not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}
