//! `corral train [INPUT...] --out DIR`: learns baselines (metric series, alert rates per
//! resource and service, chronic noise) from historical alert and metric files (any input format)
//! into `DIR/baselines.json`.

use crate::pipeline;
use anyhow::{Context, Result};
use corral_anomaly::{ModelConfig, Trainer};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Alert and metric files (`-` or none: stdin).
    inputs: Vec<PathBuf>,
    /// Models directory to write (`baselines.json` inside).
    #[arg(long)]
    out: PathBuf,
    /// Input format: auto, native, alertmanager, ... or mapping:FILE (SPEC §2).
    #[arg(long, default_value = "auto")]
    format: String,
    /// Model tunables as JSON (fields of ModelConfig, e.g. '{"metric_threshold":0.7}').
    #[arg(long)]
    config: Option<String>,
    /// Fail when any record is rejected (by default rejected records are listed and skipped).
    #[arg(long)]
    strict: bool,
    /// Chronic score from which alerts are listed in the report.
    #[arg(long, default_value_t = 0.5)]
    chronic_min: f64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let config: ModelConfig = match &args.config {
        Some(text) => serde_json::from_str(text).context("parsing --config")?,
        None => ModelConfig::default(),
    };
    let decoded = pipeline::decode_all(&args.inputs, &args.format)?;
    for d in &decoded.dead {
        eprintln!("corral: rejected {}:{}: {}", d.input, d.record, d.reason);
    }
    if args.strict && !decoded.dead.is_empty() {
        anyhow::bail!(
            "{} record(s) rejected; no model written (--strict)",
            decoded.dead.len()
        );
    }
    let mut trainer = Trainer::new(config).map_err(|e| anyhow::anyhow!("--config: {e}"))?;
    let names: Vec<String> = pipeline::inputs_or_stdin(&args.inputs)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    trainer.add_alerts(&names.join(","), decoded.alerts);
    let (mut model, _) = trainer.finish();
    model.trained.skipped_records = decoded.dead.len() as u64;
    let rejected = decoded.dead.len();
    let path = model.save(&args.out)?;
    let t = &model.trained;
    eprintln!(
        "trained {}: {} alerts, {} metric samples ({} series, {} anomalies), {} resources, {} services, {} rejected",
        path.display(),
        t.alerts,
        t.metric_samples,
        model.series_count(),
        t.anomalies_raised,
        model.resource_count(),
        model.service_count(),
        rejected
    );
    let groups = &model.cooccurrence.groups;
    eprintln!(
        "alert names that fire together (linfa DBSCAN over {} names with enough onsets): {} group(s)",
        model.cooccurrence.names_considered,
        groups.len()
    );
    for (i, g) in groups.iter().enumerate().take(20) {
        let names: Vec<&str> = g.iter().map(|n| n.as_str()).collect();
        eprintln!("  group {i}: {}", names.join(", "));
    }
    let chronic = model.chronic_alerts(args.chronic_min);
    if !chronic.is_empty() {
        eprintln!(
            "chronic alerts (score >= {}): {}",
            args.chronic_min,
            chronic.len()
        );
        for c in chronic.iter().take(20) {
            eprintln!(
                "  {:<28} {:<24} {:>8} occurrences, active {:>5} of {:>5} h, score {:.2}",
                c.name, c.resource, c.occurrences, c.active_hours, c.span_hours, c.score
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
