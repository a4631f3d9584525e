//! `corral check`: validate a service config (`--config`, as `corral run` reads it) and the rules,
//! topology and models it names or the command line gives, listing every error with its file and
//! line, then lint the rules (rules that can never match, shadowed rules, labels nothing carries, windows
//! longer than the alert expiry, maintenance windows in the past). Warnings fail the check only
//! with `--strict`.

use crate::input;
use crate::pipeline;
use anyhow::bail;
use corral_core::lint::{lint, LintContext};
use corral_core::model::parse_event_time;
use corral_kafka::ServiceConfig;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Service config file (corral run) to validate with the rules, topology and models it names
    /// (`--rules`, `--topology` and `--models` take precedence over the config's).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Rules file or directory (default: the config's, else the shipped rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Topology file (YAML or JSON).
    #[arg(long)]
    pub topology: Option<PathBuf>,
    /// Trained models directory (or `baselines.json`) the rules will run with: validated, and
    /// `chronic_above` suppress rules are not flagged as unable to suppress.
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// Alert files whose labels count as "in use" for the unused-label lint.
    #[arg(long, num_args = 1..)]
    pub fixtures: Vec<PathBuf>,
    /// Format of the fixtures: auto, native, alertmanager, ... or mapping:FILE.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// What counts as now for maintenance windows (RFC 3339 or epoch ms; default: the clock).
    #[arg(long)]
    pub now: Option<String>,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let now = match &args.now {
        Some(s) => match parse_event_time(s) {
            Some(t) => t,
            None => bail!("--now {s:?}: expected RFC 3339 or epoch milliseconds"),
        },
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    };
    let mut errors = Vec::new();
    let mut rules_path = args.rules.clone();
    let mut topology_path = args.topology.clone();
    let mut models_path = args.models.clone();
    // Whether the models the rules run with are known (a config that fails to load names its
    // own, unknown here).
    let mut models_known = true;
    if let Some(path) = &args.config {
        match ServiceConfig::load(path) {
            Ok(cfg) => {
                println!(
                    "{}: ok (service config: group {}, input {}, {:?})",
                    path.display(),
                    cfg.kafka.group_id,
                    cfg.kafka.topics.input,
                    cfg.delivery
                );
                rules_path = rules_path.or(cfg.rules);
                topology_path = topology_path.or(cfg.topology);
                models_path = models_path.or(cfg.models);
            }
            Err(e) => {
                errors.extend(e);
                models_known = models_path.is_some();
            }
        }
    }
    let rules = match input::load_rules(rules_path.as_deref()) {
        Ok(rules) => {
            let name = rules_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| input::DEFAULT_RULES_NAME.into());
            println!(
                "{name}: ok ({} grouping, {} suppress, {} inhibit, {} maintenance, {} severity rules)",
                rules.groupings.len(),
                rules.suppress.len(),
                rules.inhibit.len(),
                rules.maintenance.len(),
                rules.severity.len()
            );
            Some(rules)
        }
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let mut topology = None;
    if let Some(t) = &topology_path {
        match input::load_topology_file(t) {
            Ok(f) => {
                println!(
                    "{}: ok ({} nodes, {} edges)",
                    t.display(),
                    f.nodes.len(),
                    f.edges.len()
                );
                topology = Some(f);
            }
            Err(e) => errors.extend(e),
        }
    }
    if let Some(dir) = &models_path {
        match corral_anomaly::load_models(dir) {
            Ok(_) => println!("{}: ok (trained model)", dir.display()),
            // The model error names the file (and line) itself.
            Err(e) => errors.push(corral_core::yaml_pos::ConfigError {
                file: dir.display().to_string(),
                line: None,
                message: e.to_string(),
            }),
        }
    }
    let fixture_labels = if args.fixtures.is_empty() {
        None
    } else {
        let decoded = pipeline::decode_all(&args.fixtures, &args.format)?;
        for d in &decoded.dead {
            eprintln!(
                "{}:{}: fixture record skipped: {}",
                d.input, d.record, d.reason
            );
        }
        let labels: BTreeSet<String> = decoded
            .alerts
            .iter()
            .flat_map(|a| a.labels.iter().map(|(k, _)| k.to_string()))
            .collect();
        Some(labels)
    };
    let mut warnings = Vec::new();
    if let Some(rules) = &rules {
        warnings = lint(
            rules,
            &LintContext {
                topology: topology.as_ref(),
                fixture_labels: fixture_labels.as_ref(),
                now: Some(now),
                models_loaded: models_known.then_some(models_path.is_some()),
            },
        );
    }
    for w in &warnings {
        eprintln!("{w}");
    }
    for e in &errors {
        eprintln!("{e}");
    }
    if !errors.is_empty() || !warnings.is_empty() {
        eprintln!("{} error(s), {} warning(s)", errors.len(), warnings.len());
    }
    let failed = !errors.is_empty() || (args.strict && !warnings.is_empty());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
