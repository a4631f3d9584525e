//! `corral train [INPUT...] --out DIR`: learns baselines (metric series, alert rates per
//! resource and service, chronic noise) from historical native NDJSON into `DIR/baselines.json`.

use anyhow::{Context, Result};
use corral_anomaly::{ModelConfig, Trainer};
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Native NDJSON alert and metric files (`-` or none: stdin).
    inputs: Vec<PathBuf>,
    /// Models directory to write (`baselines.json` inside).
    #[arg(long)]
    out: PathBuf,
    /// Input format; training reads the native format.
    #[arg(long, default_value = "native")]
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
    if args.format != "native" {
        anyhow::bail!(
            "train reads --format native (NDJSON of SPEC §1), not {:?}",
            args.format
        );
    }
    let config: ModelConfig = match &args.config {
        Some(text) => serde_json::from_str(text).context("parsing --config")?,
        None => ModelConfig::default(),
    };
    let mut trainer = Trainer::new(config);
    let stdin_only = args.inputs.is_empty() || args.inputs.iter().all(|p| p.as_os_str() == "-");
    if stdin_only {
        trainer.add_ndjson("<stdin>", std::io::stdin().lock())?;
    } else {
        for path in &args.inputs {
            if path.as_os_str() == "-" {
                trainer.add_ndjson("<stdin>", std::io::stdin().lock())?;
                continue;
            }
            let file =
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            trainer
                .add_ndjson(&path.display().to_string(), BufReader::new(file))
                .with_context(|| format!("reading {}", path.display()))?;
        }
    }
    let (model, rejected) = trainer.finish();
    for r in &rejected {
        eprintln!("corral: rejected {r}");
    }
    if args.strict && !rejected.is_empty() {
        anyhow::bail!(
            "{} record(s) rejected; no model written (--strict)",
            rejected.len()
        );
    }
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
        rejected.len()
    );
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
