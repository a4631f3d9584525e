//! `corral check`: validate rules and topology, listing every error with its file and line.

use crate::input;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Service config file (corral run) to validate with the rules and topology it names.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Rules file or directory (default: the shipped rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Topology file (YAML or JSON).
    #[arg(long)]
    pub topology: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut errors = Vec::new();
    match input::load_rules(args.rules.as_deref()) {
        Ok(rules) => {
            let name = args
                .rules
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
        }
        Err(e) => errors.extend(e),
    }
    if let Some(t) = &args.topology {
        match input::load_topology_file(t) {
            Ok(f) => println!(
                "{}: ok ({} nodes, {} edges)",
                t.display(),
                f.nodes.len(),
                f.edges.len()
            ),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!("{} error(s)", errors.len());
        Ok(ExitCode::from(1))
    }
}
