//! `corral score` (SPEC §5): compare emitted incidents with the ground truth and print every
//! figure as one JSON object.
//!
//! `--strategy alertmanager|alec` scores a reference strategy instead: its incidents are computed
//! from `--alerts` (and `--topology` for ALEC), so corral can be set beside what SREs run today.

use anyhow::{bail, Context};
use corral_core::incident::IncidentUpdate;
use corral_core::model::{parse_event_time, Alert};
use corral_core::{Engine, TopologyIndex};
use corral_quality::io::read_ndjson_file;
use corral_quality::plot::{storm_svg, Series};
use corral_quality::strategies::{alec_style, alertmanager_style, AlecConfig, AmStyleConfig};
use corral_quality::{missed_targets, score_with_topology, Truth};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// corral's own engine with --rules (default: the shipped rules) and --topology, in
    /// process: the same incidents `corral replay` writes for the native stream.
    Corral,
    /// Alertmanager grouping: group_by labels, group_wait 30s, group_interval 5m, no topology.
    Alertmanager,
    /// ALEC DBSCAN over time and topology hops, re-clustered every 30 s.
    Alec,
}

#[derive(clap::Args)]
pub struct Args {
    /// Incident updates (SPEC §4), one JSON object per line, as `corral replay` writes them.
    #[arg(
        long,
        required_unless_present = "strategy",
        conflicts_with = "strategy"
    )]
    pub incidents: Option<PathBuf>,
    /// Ground truth: NDJSON {"fingerprint","incident","root_cause"} or ALEC situations.xml.
    #[arg(long)]
    pub truth: PathBuf,
    /// The alert stream (native NDJSON): gives events, resources and times to the figures.
    #[arg(long)]
    pub alerts: Option<PathBuf>,
    /// Score a reference strategy run over --alerts instead of an incidents file.
    #[arg(long, value_enum, requires = "alerts")]
    pub strategy: Option<Strategy>,
    /// Topology (SPEC §3): for --strategy alec and corral, and so that a root cause named by an
    /// alias of the right node counts.
    #[arg(long)]
    pub topology: Option<PathBuf>,
    /// Rules for --strategy corral (file or directory; default: the shipped rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Alertmanager-style group_by labels (`alertname` is the alert name, `...` all labels).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "alertname,cluster,service"
    )]
    pub group_by: Vec<String>,
    /// With --strategy, also write the incidents it produced (NDJSON).
    #[arg(long, requires = "strategy")]
    pub write_incidents: Option<PathBuf>,
    /// Write the JSON here instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// Check the quality targets (missed 0, compression, fragmentation, noise, ARI, RCA) and
    /// exit 1 when one is missed, listing which on stderr.
    #[arg(long)]
    pub targets: bool,
    /// Draw alerts in vs incidents out over event time to this SVG (needs --alerts).
    #[arg(long, requires = "alerts")]
    pub plot: Option<PathBuf>,
    /// Extra incident series for --plot, `NAME=FILE` (repeatable).
    #[arg(long, requires = "plot")]
    pub plot_incidents: Vec<String>,
    /// Name of the scored incidents in the plot legend.
    #[arg(long, default_value = "corral")]
    pub label: String,
}

fn write_ndjson(path: &Path, updates: &[IncidentUpdate]) -> anyhow::Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    for u in updates {
        serde_json::to_writer(&mut w, u)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(())
}

/// Time each incident first appears in a stream of updates.
fn opened_at(updates: &[IncidentUpdate]) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    updates
        .iter()
        .filter(|u| seen.insert(u.incident_id().to_string()))
        .filter_map(|u| parse_event_time(&u.payload.timestamp))
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let truth_text = std::fs::read_to_string(&args.truth)
        .with_context(|| format!("reading {}", args.truth.display()))?;
    let truth = Truth::parse(&truth_text)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", args.truth.display(), e.line, e.message))?;
    let alerts: Option<Vec<Alert>> = match &args.alerts {
        Some(p) => Some(read_ndjson_file(p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let topology: Option<Arc<TopologyIndex>> = match &args.topology {
        Some(p) => Some(Arc::new(
            crate::input::load_topology(Some(p)).map_err(crate::input::config_errors)?,
        )),
        None => None,
    };
    let updates: Vec<IncidentUpdate> = match (args.strategy, &args.incidents) {
        (Some(strategy), _) => {
            let alerts = alerts.as_deref().expect("clap requires --alerts");
            let out = match strategy {
                Strategy::Corral => {
                    let rules = crate::input::load_rules(args.rules.as_deref())
                        .map_err(crate::input::config_errors)?;
                    let topo = topology
                        .clone()
                        .unwrap_or_else(|| Arc::new(TopologyIndex::empty()));
                    let mut engine = Engine::new(Arc::new(rules), topo);
                    let mut out = Vec::new();
                    for a in alerts {
                        engine.ingest(a.clone(), &mut out);
                    }
                    engine.finish(&mut out);
                    out
                }
                Strategy::Alertmanager => {
                    let cfg = AmStyleConfig {
                        group_by: args.group_by.clone(),
                        ..AmStyleConfig::default()
                    };
                    alertmanager_style(alerts, &cfg)
                }
                Strategy::Alec => {
                    let Some(topo) = &topology else {
                        bail!("--strategy alec needs --topology");
                    };
                    alec_style(alerts, topo, &AlecConfig::default())
                }
            };
            if let Some(p) = &args.write_incidents {
                write_ndjson(p, &out)?;
            }
            out
        }
        (None, Some(p)) => read_ndjson_file(p).map_err(anyhow::Error::msg)?,
        (None, None) => bail!("--incidents or --strategy is required"),
    };

    let s = score_with_topology(&updates, &truth, alerts.as_deref(), topology.as_deref());
    let json = if args.pretty {
        serde_json::to_string_pretty(&s)?
    } else {
        serde_json::to_string(&s)?
    };
    match &args.output {
        Some(p) => {
            std::fs::write(p, json + "\n").with_context(|| format!("writing {}", p.display()))?
        }
        None => println!("{json}"),
    }

    if let (Some(svg), Some(alerts)) = (&args.plot, &alerts) {
        let alerts_in = Series {
            name: "alert events".into(),
            times_ms: alerts.iter().map(|a| a.event_time()).collect(),
        };
        let mut series = vec![Series {
            name: args.label.clone(),
            times_ms: opened_at(&updates),
        }];
        for spec in &args.plot_incidents {
            let (name, file) = spec
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--plot-incidents wants NAME=FILE, got {spec:?}"))?;
            let other: Vec<IncidentUpdate> =
                read_ndjson_file(Path::new(file)).map_err(anyhow::Error::msg)?;
            series.push(Series {
                name: name.to_string(),
                times_ms: opened_at(&other),
            });
        }
        let title = format!(
            "{}: {} alert events in, incidents out",
            args.alerts
                .as_ref()
                .and_then(|p| p.parent())
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            alerts.len()
        );
        storm_svg(svg, &title, &alerts_in, &series).map_err(anyhow::Error::msg)?;
    }

    if args.targets {
        let missed = missed_targets(&s);
        if !missed.is_empty() {
            for m in &missed {
                eprintln!("target missed: {m}");
            }
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
