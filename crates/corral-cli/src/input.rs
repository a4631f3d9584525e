//! Loading what every command shares: rules (a file, a directory of `*.yaml`, or the shipped
//! default compiled into the binary) and the topology.

use anyhow::{Context, Result};
use corral_core::{ConfigError, RuleSet, TopologyFile, TopologyIndex};
use std::path::{Path, PathBuf};

/// The input flags shared by every command that reads alerts (SPEC §7).
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// Alert files; `-` or none reads stdin.
    pub inputs: Vec<PathBuf>,
    /// Input format: auto, native, alertmanager, ... or mapping:FILE.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Topology file (YAML or JSON, SPEC §3).
    #[arg(long)]
    pub topology: Option<PathBuf>,
    /// Rules file or directory (default: the shipped rules, built in).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Learned baselines written by `corral train`.
    #[arg(long)]
    pub models: Option<PathBuf>,
}

/// The shipped default rule set, compiled in so that `corral` works from any directory.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/default.yaml");
pub const DEFAULT_RULES_NAME: &str = "rules/default.yaml (built in)";

/// Rule files as (name, text): every `*.yaml`/`*.yml` of a directory in name order, or one file.
pub fn rule_sources(path: Option<&Path>) -> Result<Vec<(String, String)>> {
    let Some(path) = path else {
        return Ok(vec![(
            DEFAULT_RULES_NAME.to_string(),
            DEFAULT_RULES.to_string(),
        )]);
    };
    let mut files: Vec<PathBuf> = Vec::new();
    if path.is_dir() {
        for entry in
            std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))?
        {
            let p = entry?.path();
            let is_yaml = matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
            // Rule unit tests live beside the rules as *.test.yaml; they are not rules.
            let is_test = p.to_string_lossy().contains(".test.");
            if p.is_file() && is_yaml && !is_test {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    files
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

pub fn load_rules(path: Option<&Path>) -> Result<RuleSet, Vec<ConfigError>> {
    let sources = rule_sources(path).map_err(|e| {
        vec![ConfigError {
            file: path.map(|p| p.display().to_string()).unwrap_or_default(),
            line: None,
            message: format!("{e:#}"),
        }]
    })?;
    RuleSet::from_sources(&sources)
}

pub fn load_topology_file(path: &Path) -> Result<TopologyFile, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: path.display().to_string(),
            line: None,
            message: format!("cannot read: {e}"),
        }]
    })?;
    TopologyFile::parse(&text, &path.display().to_string())
}

pub fn load_topology(path: Option<&Path>) -> Result<TopologyIndex, Vec<ConfigError>> {
    match path {
        None => Ok(TopologyIndex::empty()),
        Some(p) => load_topology_file(p).map(|f| TopologyIndex::build(&f)),
    }
}

/// Learned baselines from a `corral train` output directory (`--models`), or none.
pub fn load_model(
    dir: Option<&Path>,
) -> Result<Option<Box<dyn corral_core::anomaly::AnomalyModel>>> {
    dir.map(|d| corral_anomaly::load_models(d).map_err(|e| anyhow::anyhow!("{}: {e}", d.display())))
        .transpose()
}

/// Prints configuration errors, one per line, `file:line: message`, and turns them into an error.
pub fn config_errors(errors: Vec<ConfigError>) -> anyhow::Error {
    for e in &errors {
        eprintln!("{e}");
    }
    anyhow::anyhow!("{} configuration error(s)", errors.len())
}
