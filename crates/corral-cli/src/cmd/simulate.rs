//! `corral simulate`: write alert storms with ground truth (SPEC §5) for `corral score`.
//!
//! `--suite NAME` writes every scenario of a named suite into `OUT/<scenario>/` (or only the one
//! `--scenario` names); without it the knobs below describe one scenario written into `OUT`.

use anyhow::{bail, Context};
use corral_quality::sim::{self, suite, write, NodeRole, ScenarioConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write alerts.ndjson, topology.yaml, truth.ndjson and scenario.json into.
    #[arg(long)]
    pub out: PathBuf,
    /// A named suite: `standard` (10 scenarios up to ~1M events) or `smoke`.
    #[arg(long)]
    pub suite: Option<String>,
    /// With --suite, only this scenario of it.
    #[arg(long, requires = "suite")]
    pub scenario: Option<String>,
    /// List the scenarios of --suite and exit.
    #[arg(long, requires = "suite")]
    pub list: bool,
    /// Seed of the random stream: the same seed always writes the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use this topology (SPEC §3 YAML or JSON) instead of generating one.
    #[arg(long)]
    pub topology: Option<PathBuf>,
    /// Scenario knobs from a YAML or JSON file (fields as in scenario.json's `config`).
    #[arg(long, conflicts_with = "suite")]
    pub config: Option<PathBuf>,
    /// Also write alerts.alertmanager.ndjson: the Alertmanager-sourced events as webhook payloads.
    #[arg(long)]
    pub alertmanager_webhook: bool,
    #[command(flatten)]
    pub knobs: Knobs,
}

/// One flag per knob; unset flags keep the default (or the --config file's value).
#[derive(clap::Args, Default)]
pub struct Knobs {
    /// Scenario name (prefix of truth incident ids).
    #[arg(long)]
    pub name: Option<String>,
    /// Nodes of the generated topology.
    #[arg(long)]
    pub nodes: Option<usize>,
    #[arg(long)]
    pub span_minutes: Option<u32>,
    /// Start of the span, RFC 3339.
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub failures: Option<usize>,
    /// Probability that an impacted node alerts.
    #[arg(long)]
    pub propagation: Option<f64>,
    /// Probability that impact passes to each dependent.
    #[arg(long)]
    pub spread: Option<f64>,
    #[arg(long)]
    pub max_hops: Option<u8>,
    #[arg(long)]
    pub max_blast: Option<usize>,
    /// Per-hop delay range in seconds, `MIN,MAX`.
    #[arg(long, value_parser = parse_range)]
    pub hop_delay_s: Option<(u32, u32)>,
    /// Failure duration range in minutes, `MIN,MAX`.
    #[arg(long, value_parser = parse_range)]
    pub failure_minutes: Option<(u32, u32)>,
    /// Re-notification interval of firing alerts, seconds (0: none).
    #[arg(long)]
    pub repeat_interval_s: Option<u32>,
    #[arg(long)]
    pub ha_duplicate_rate: Option<f64>,
    #[arg(long)]
    pub flap_rate: Option<f64>,
    #[arg(long)]
    pub overlap_rate: Option<f64>,
    #[arg(long)]
    pub chronic_noisy_checks: Option<usize>,
    #[arg(long)]
    pub one_offs_per_hour: Option<f64>,
    #[arg(long)]
    pub cmdb_gap_rate: Option<f64>,
    #[arg(long)]
    pub alias_rate: Option<f64>,
    #[arg(long)]
    pub late_rate: Option<f64>,
    /// Extra delay range of late events in seconds, `MIN,MAX`.
    #[arg(long, value_parser = parse_range)]
    pub late_delay_s: Option<(u32, u32)>,
    #[arg(long)]
    pub jitter_ms: Option<u32>,
    /// Alerts never resolve.
    #[arg(long)]
    pub no_resolves: bool,
    /// Layers failures start on, comma separated: switch, interface, hypervisor, host,
    /// database, service_instance, service, other.
    #[arg(long, value_delimiter = ',', value_parser = parse_role)]
    pub roots: Option<Vec<NodeRole>>,
}

fn parse_range(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("expected MIN,MAX, got {s:?}"))?;
    let p = |x: &str| x.trim().parse::<u32>().map_err(|e| format!("{x:?}: {e}"));
    Ok((p(a)?, p(b)?))
}

fn parse_role(s: &str) -> Result<NodeRole, String> {
    NodeRole::parse(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = NodeRole::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown layer {s:?}; one of {}", names.join(", "))
    })
}

impl Knobs {
    fn apply(&self, c: &mut ScenarioConfig) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { c.$f = v.clone(); } )* };
        }
        set!(
            name,
            nodes,
            span_minutes,
            start,
            failures,
            propagation,
            spread,
            max_hops,
            max_blast,
            hop_delay_s,
            failure_minutes,
            repeat_interval_s,
            ha_duplicate_rate,
            flap_rate,
            overlap_rate,
            chronic_noisy_checks,
            one_offs_per_hour,
            cmdb_gap_rate,
            alias_rate,
            late_rate,
            late_delay_s,
            jitter_ms,
            roots
        );
        if self.no_resolves {
            c.resolves = false;
        }
    }
}

fn load_config(path: &Path) -> anyhow::Result<ScenarioConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let cfg = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
    } else {
        serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
    };
    Ok(cfg)
}

fn one(cfg: &ScenarioConfig, args: &Args, dir: &Path) -> anyhow::Result<()> {
    let topology = match &args.topology {
        Some(p) => Some(crate::input::load_topology_file(p).map_err(crate::input::config_errors)?),
        None => None,
    };
    let s = sim::generate(cfg, args.seed, topology).map_err(|errs| {
        for e in &errs {
            eprintln!("{}: {e}", cfg.name);
        }
        anyhow::anyhow!("{} invalid scenario knob(s)", errs.len())
    })?;
    write::write_scenario(&s, dir, args.alertmanager_webhook)?;
    let st = &s.stats;
    println!(
        "{}: {} events, {} alerts, {} truth incidents, {} noise alerts, {} nodes -> {}",
        cfg.name,
        st.events,
        st.alerts,
        st.truth_incidents,
        st.noise_alerts,
        s.topology.nodes.len(),
        dir.display()
    );
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.suite {
        let Some(mut scenarios) = suite::suite(name) else {
            bail!(
                "unknown suite {name:?}; known: {}",
                suite::SUITES.join(", ")
            );
        };
        if args.list {
            for c in &scenarios {
                println!(
                    "{}\t{} nodes\t{} min\t{} failures",
                    c.name, c.nodes, c.span_minutes, c.failures
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(only) = &args.scenario {
            scenarios.retain(|c| &c.name == only);
            if scenarios.is_empty() {
                bail!("suite {name:?} has no scenario {only:?} (see --list)");
            }
        }
        for mut c in scenarios {
            // Knob flags still apply on top of a suite scenario, e.g. a smaller --nodes.
            let keep_name = c.name.clone();
            args.knobs.apply(&mut c);
            c.name = keep_name;
            let dir = args.out.join(&c.name);
            one(&c, &args, &dir)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut cfg = match &args.config {
        Some(p) => load_config(p)?,
        None => ScenarioConfig::default(),
    };
    args.knobs.apply(&mut cfg);
    one(&cfg, &args, &args.out)?;
    Ok(ExitCode::SUCCESS)
}
