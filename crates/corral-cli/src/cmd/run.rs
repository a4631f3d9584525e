//! `corral run --config corral.yaml`: the Kafka service (SPEC §7, §8).

use crate::input;
use corral_core::{ConfigError, TopologyFile, TopologyIndex};
use corral_kafka::domain::DomainMap;
use corral_kafka::runner::{run_service, Mode};
use corral_kafka::service::AnomalyFactory;
use corral_kafka::{Control, Loaded, Loader, RunOptions, ServiceConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Service configuration (YAML); see corral.example.yaml.
    #[arg(long)]
    pub config: PathBuf,
    /// This process's identity in the consumer group (exactly-once transactional id). Give each
    /// process of one group its own, stable across restarts. Default: the host name.
    #[arg(long, env = "CORRAL_INSTANCE_ID")]
    pub instance_id: Option<String>,
}

/// Loads rules and topology from the paths in the config (at start and on every reload).
pub fn loader(cfg: &ServiceConfig) -> Loader {
    let rules_path = cfg.rules.clone();
    let topology_path = cfg.topology.clone();
    let models_path = cfg.models.clone();
    Arc::new(move || {
        let mut errors: Vec<ConfigError> = Vec::new();
        let rules = input::load_rules(rules_path.as_deref())
            .map_err(|e| errors.extend(e))
            .ok();
        let topology = match &topology_path {
            None => Some(TopologyFile::default()),
            Some(p) => input::load_topology_file(p)
                .map_err(|e| errors.extend(e))
                .ok(),
        };
        // Models are checked here (so a bad model fails the start or the reload) and loaded
        // again for every partition engine, each of which learns on its own.
        let anomaly: Option<AnomalyFactory> = match &models_path {
            None => None,
            Some(dir) => match corral_anomaly::load_models(dir) {
                Ok(_) => {
                    let dir = dir.clone();
                    Some(Arc::new(move || {
                        corral_anomaly::load_models(&dir).map_err(|e| e.to_string())
                    }))
                }
                Err(e) => {
                    errors.push(ConfigError {
                        file: dir.display().to_string(),
                        line: None,
                        message: format!("models: {e}"),
                    });
                    None
                }
            },
        };
        match (rules, topology) {
            (Some(rules), Some(file)) if errors.is_empty() => Ok(Loaded {
                rules: Arc::new(rules),
                topology: Arc::new(TopologyIndex::build(&file)),
                domains: Arc::new(DomainMap::build(&file)),
                anomaly,
            }),
            _ => Err(errors),
        }
    })
}

pub fn instance_id(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "corral".to_string())
}

pub fn start(
    config: &std::path::Path,
    instance: Option<String>,
    mode: Mode,
) -> anyhow::Result<ExitCode> {
    let cfg = ServiceConfig::load(config).map_err(input::config_errors)?;
    let control = Control::new(loader(&cfg)).map_err(input::config_errors)?;
    let opts = RunOptions {
        instance_id: instance_id(instance),
    };
    run_service(cfg, control, opts, mode, true)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    start(&args.config, args.instance_id, Mode::Service)
}
