//! `corral demo`: replays the shipped demo fixture (compiled into the binary, no files or broker
//! needed) through the default rules and prints the incidents it finds.

use crate::input;
use anyhow::Result;
use corral_core::incident::EventAction;
use corral_core::{Engine, IncidentUpdate, RuleSet, TopologyFile, TopologyIndex};
use corral_formats::{decode_stream, Format};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

const ALERTS: &str = include_str!("../../../../fixtures/demo/alerts.alertmanager.ndjson");
const TOPOLOGY: &str = include_str!("../../../../fixtures/demo/topology.yaml");

#[derive(clap::Args)]
pub struct Args {
    /// Print every incident update as NDJSON (SPEC §4) instead of the summary table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let rules = Arc::new(
        RuleSet::from_yaml(input::DEFAULT_RULES, input::DEFAULT_RULES_NAME)
            .map_err(input::config_errors)?,
    );
    let topo = TopologyFile::parse(TOPOLOGY, "fixtures/demo/topology.yaml")
        .map_err(input::config_errors)?;
    let topology = Arc::new(TopologyIndex::build(&topo));
    let started = Instant::now();
    let mut engine = Engine::new(rules, topology);
    let mut updates: Vec<IncidentUpdate> = Vec::new();
    let mut dead = 0u64;
    let stats = decode_stream(
        &Format::Alertmanager,
        ALERTS.as_bytes(),
        |a| engine.ingest(a, &mut updates),
        |_| dead += 1,
    )?;
    engine.finish(&mut updates);
    let secs = started.elapsed().as_secs_f64();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for u in &updates {
            serde_json::to_writer(&mut out, u)?;
            out.write_all(b"\n")?;
        }
    } else {
        let mut last: BTreeMap<&str, &IncidentUpdate> = BTreeMap::new();
        for u in &updates {
            last.insert(u.dedup_key.as_str(), u);
        }
        last.retain(|_, u| u.payload.custom_details.merged_into.is_none());
        writeln!(
            out,
            "{:<24} {:<9} {:<8} {:>6} {:<28} summary",
            "incident", "status", "severity", "alerts", "root cause (confidence)"
        )?;
        for (id, u) in &last {
            let d = &u.payload.custom_details;
            let status = match u.event_action {
                EventAction::Trigger => "open",
                EventAction::Resolve => "resolved",
            };
            let root = format!("{} ({:.2})", d.root_cause.resource, d.root_cause.confidence);
            writeln!(
                out,
                "{id:<24} {status:<9} {:<8} {:>6} {root:<28} {}",
                u.payload.severity.as_str(),
                d.alert_count,
                u.payload.summary
            )?;
        }
    }
    let s = engine.stats();
    let incidents = updates
        .iter()
        .map(|u| u.dedup_key.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    eprintln!(
        "\n{} webhook payloads, {} alert events, {} distinct alerts -> {} incidents \
         ({:.1}% of alerts folded away); {} updates; {} dead letters; {:.0} ms",
        stats.records,
        s.events,
        s.alerts,
        incidents,
        100.0 * (1.0 - incidents as f64 / s.alerts.max(1) as f64),
        updates.len(),
        dead,
        secs * 1000.0
    );
    Ok(ExitCode::SUCCESS)
}
