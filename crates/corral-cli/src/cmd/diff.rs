//! `corral diff [INPUT...] --rules A --against-rules B`: replay the same input with two rule
//! sets and show how the incidents and the SPEC §5 figures move, so that a rule change can be
//! reviewed like a code change. `--against-rules` is the baseline (what runs today), `--rules`
//! the candidate.

use super::explain::Replay;
use crate::input;
use crate::pipeline;
use anyhow::{Context, Result};
use corral_quality::{score, Score, Truth};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// The shared input flags; `--rules` is the candidate rule set (default: the shipped rules),
    /// and `--models` applies to both sides.
    #[command(flatten)]
    pub input: input::InputArgs,
    /// Baseline rules file or directory to compare against.
    #[arg(long)]
    pub against_rules: PathBuf,
    /// Ground truth (SPEC §5) for the quality figures: ARI, AMI, missed incidents, RCA...
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Most moved alerts to list in text output.
    #[arg(long, default_value_t = 20)]
    pub max_moved: usize,
}

/// The figures of one side.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figures {
    pub alerts: usize,
    pub events: usize,
    pub incidents: usize,
    pub alerts_in_incidents: usize,
    pub compression: f64,
    pub event_compression: f64,
    pub suppressed: u64,
    pub merges: u64,
    /// Every SPEC §5 figure, with `--truth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IncidentRef {
    pub id: String,
    pub root_cause: String,
    pub alerts: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Split {
    /// The baseline incident...
    pub baseline: IncidentRef,
    /// ...and the candidate incidents its alerts went to, with how many each.
    pub into: Vec<(IncidentRef, usize)>,
    /// Its alerts that are in no candidate incident.
    pub dropped: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Merge {
    pub candidate: IncidentRef,
    pub from: Vec<(IncidentRef, usize)>,
    pub added: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Moved {
    pub alert: String,
    pub baseline: String,
    pub candidate: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DiffReport {
    pub baseline_rules: String,
    pub candidate_rules: String,
    pub baseline: Figures,
    pub candidate: Figures,
    pub unchanged_incidents: usize,
    pub split: Vec<Split>,
    pub merged: Vec<Merge>,
    /// Candidate incidents made only of alerts that were in no baseline incident.
    pub new_incidents: Vec<IncidentRef>,
    /// Baseline incidents none of whose alerts is in a candidate incident.
    pub gone_incidents: Vec<IncidentRef>,
    /// Alerts whose incident changed beyond a renaming.
    pub moved_alerts: Vec<Moved>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let candidate_rules =
        Arc::new(input::load_rules(args.input.rules.as_deref()).map_err(input::config_errors)?);
    let baseline_rules =
        Arc::new(input::load_rules(Some(&args.against_rules)).map_err(input::config_errors)?);
    let topology = Arc::new(
        input::load_topology(args.input.topology.as_deref()).map_err(input::config_errors)?,
    );
    let truth = match &args.truth {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(Truth::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let decoded = pipeline::decode_all(&args.input.inputs, &args.input.format)?;
    if !decoded.dead.is_empty() {
        eprintln!(
            "{} record(s) could not be parsed (first: {}:{}: {})",
            decoded.dead.len(),
            decoded.dead[0].input,
            decoded.dead[0].record,
            decoded.dead[0].reason
        );
    }
    // A model is consumed by its engine, so each side loads its own copy.
    let models = args.input.models.as_deref();
    let report = diff(
        &decoded.alerts,
        Side {
            name: args.against_rules.display().to_string(),
            rules: baseline_rules,
            model: input::load_model(models)?,
        },
        Side {
            name: args
                .input
                .rules
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| input::DEFAULT_RULES_NAME.to_string()),
            rules: candidate_rules,
            model: input::load_model(models)?,
        },
        topology,
        truth.as_ref(),
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report, args.max_moved));
    }
    Ok(ExitCode::SUCCESS)
}

fn figures(replay: &Replay, alerts: &[corral_core::Alert], truth: Option<&Truth>) -> Figures {
    let events = alerts.iter().filter(|a| a.value.is_none()).count();
    let unique: BTreeSet<&str> = alerts
        .iter()
        .filter(|a| a.value.is_none())
        .map(|a| a.fingerprint.as_str())
        .collect();
    let incidents = replay.finals.ids.len();
    let ratio = |total: usize| {
        if total == 0 {
            0.0
        } else {
            round4(1.0 - incidents as f64 / total as f64)
        }
    };
    let stats = replay.engine.stats();
    Figures {
        alerts: unique.len(),
        events,
        incidents,
        alerts_in_incidents: replay.incident_of.len(),
        compression: ratio(unique.len()),
        event_compression: ratio(events),
        suppressed: stats.suppressed_total(),
        merges: stats.incidents_merged,
        score: truth.map(|t| score(&replay.updates, t, Some(alerts))),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn incident_ref(replay: &Replay, i: usize) -> IncidentRef {
    IncidentRef {
        id: replay.finals.ids[i].clone(),
        root_cause: replay.finals.root_cause[i].0.clone(),
        alerts: replay.finals.members[i].len(),
    }
}

/// One side of a diff: a rule set (and the learned baselines it runs with), by name.
pub struct Side {
    pub name: String,
    pub rules: Arc<corral_core::RuleSet>,
    pub model: Option<Box<dyn corral_core::anomaly::AnomalyModel>>,
}

pub fn diff(
    alerts: &[corral_core::Alert],
    baseline: Side,
    candidate: Side,
    topology: Arc<corral_core::TopologyIndex>,
    truth: Option<&Truth>,
) -> DiffReport {
    let (baseline_name, candidate_name) = (baseline.name, candidate.name);
    let base = Replay::run(alerts, baseline.rules, topology.clone(), baseline.model);
    let cand = Replay::run(alerts, candidate.rules, topology, candidate.model);

    // Overlaps between baseline incident i and candidate incident j.
    let mut overlap: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut base_dropped: BTreeMap<usize, usize> = BTreeMap::new();
    let mut cand_added: BTreeMap<usize, usize> = BTreeMap::new();
    for (fp, &i) in &base.incident_of {
        match cand.incident_of.get(fp) {
            Some(&j) => *overlap.entry((i, j)).or_default() += 1,
            None => *base_dropped.entry(i).or_default() += 1,
        }
    }
    for (fp, &j) in &cand.incident_of {
        if !base.incident_of.contains_key(fp) {
            *cand_added.entry(j).or_default() += 1;
        }
    }
    let mut into: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    let mut from: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for (&(i, j), &n) in &overlap {
        into.entry(i).or_default().push((j, n));
        from.entry(j).or_default().push((i, n));
    }
    let mut unchanged = 0;
    let mut split = Vec::new();
    let mut gone = Vec::new();
    for i in 0..base.finals.ids.len() {
        let targets = into.get(&i).cloned().unwrap_or_default();
        let dropped = base_dropped.get(&i).copied().unwrap_or(0);
        if targets.is_empty() {
            gone.push(incident_ref(&base, i));
            continue;
        }
        if targets.len() == 1 && dropped == 0 {
            let j = targets[0].0;
            let same = from.get(&j).is_some_and(|f| f.len() == 1)
                && cand_added.get(&j).copied().unwrap_or(0) == 0;
            if same {
                unchanged += 1;
            }
            continue;
        }
        let mut targets = targets;
        targets.sort_by_key(|&(j, n)| (std::cmp::Reverse(n), j));
        split.push(Split {
            baseline: incident_ref(&base, i),
            into: targets
                .iter()
                .map(|&(j, n)| (incident_ref(&cand, j), n))
                .collect(),
            dropped,
        });
    }
    let mut merged = Vec::new();
    let mut new_incidents = Vec::new();
    for j in 0..cand.finals.ids.len() {
        let sources = from.get(&j).cloned().unwrap_or_default();
        let added = cand_added.get(&j).copied().unwrap_or(0);
        if sources.is_empty() {
            new_incidents.push(incident_ref(&cand, j));
        } else if sources.len() > 1 || added > 0 {
            let mut sources = sources;
            sources.sort_by_key(|&(i, n)| (std::cmp::Reverse(n), i));
            merged.push(Merge {
                candidate: incident_ref(&cand, j),
                from: sources
                    .iter()
                    .map(|&(i, n)| (incident_ref(&base, i), n))
                    .collect(),
                added,
            });
        }
    }
    // An alert moved when it left the bulk of its baseline incident: its candidate incident is
    // not where most of its baseline companions went (or it is in an incident on one side only).
    let successor = |i: usize| -> Option<usize> {
        into.get(&i)
            .and_then(|t| t.iter().max_by_key(|&&(j, n)| (n, std::cmp::Reverse(j))))
            .map(|&(j, _)| j)
    };
    let predecessor = |j: usize| -> Option<usize> {
        from.get(&j)
            .and_then(|t| t.iter().max_by_key(|&&(i, n)| (n, std::cmp::Reverse(i))))
            .map(|&(i, _)| i)
    };
    let mut moved = Vec::new();
    let all: BTreeSet<&String> = base
        .incident_of
        .keys()
        .chain(cand.incident_of.keys())
        .collect();
    for fp in all {
        let (b, c) = (base.incident_of.get(fp), cand.incident_of.get(fp));
        let is_move = match (b, c) {
            (Some(&i), Some(&j)) => successor(i) != Some(j) || predecessor(j) != Some(i),
            (None, None) => false,
            _ => true,
        };
        if is_move {
            moved.push(Moved {
                alert: cand.label_of(fp),
                baseline: base.placement_of(fp),
                candidate: cand.placement_of(fp),
            });
        }
    }
    DiffReport {
        baseline_rules: baseline_name,
        candidate_rules: candidate_name,
        baseline: figures(&base, alerts, truth),
        candidate: figures(&cand, alerts, truth),
        unchanged_incidents: unchanged,
        split,
        merged,
        new_incidents,
        gone_incidents: gone,
        moved_alerts: moved,
    }
}

/// The largest parts of a split or merge; the rest summed up (`--json` has them all).
fn list_parts(parts: &[(IncidentRef, usize)]) -> Vec<String> {
    const SHOWN: usize = 8;
    let mut out: Vec<String> = parts
        .iter()
        .take(SHOWN)
        .map(|(i, n)| format!("{} ({n})", i.id))
        .collect();
    if parts.len() > SHOWN {
        let rest: usize = parts[SHOWN..].iter().map(|(_, n)| n).sum();
        out.push(format!("{} more incidents ({rest})", parts.len() - SHOWN));
    }
    out
}

fn render_ref(r: &IncidentRef) -> String {
    format!("{} (root {}, {} alerts)", r.id, r.root_cause, r.alerts)
}

pub fn render(r: &DiffReport, max_moved: usize) -> String {
    let mut s = format!(
        "baseline  {}\ncandidate {}\n\n{:<24} {:>10} {:>10} {:>10}\n",
        r.baseline_rules, r.candidate_rules, "figure", "baseline", "candidate", "change"
    );
    let mut row = |name: &str, a: f64, b: f64, integer: bool| {
        let (fa, fb, fd) = if integer {
            (format!("{a}"), format!("{b}"), format!("{:+}", b - a))
        } else {
            (
                format!("{a:.4}"),
                format!("{b:.4}"),
                format!("{:+.4}", b - a),
            )
        };
        let fd = if a == b { "=".to_string() } else { fd };
        s.push_str(&format!("{name:<24} {fa:>10} {fb:>10} {fd:>10}\n"));
    };
    let (a, b) = (&r.baseline, &r.candidate);
    row("alerts", a.alerts as f64, b.alerts as f64, true);
    row("incidents", a.incidents as f64, b.incidents as f64, true);
    row(
        "alerts_in_incidents",
        a.alerts_in_incidents as f64,
        b.alerts_in_incidents as f64,
        true,
    );
    row("compression", a.compression, b.compression, false);
    row(
        "event_compression",
        a.event_compression,
        b.event_compression,
        false,
    );
    row("suppressed", a.suppressed as f64, b.suppressed as f64, true);
    row("merges", a.merges as f64, b.merges as f64, true);
    if let (Some(x), Some(y)) = (&a.score, &b.score) {
        row("ari", x.ari, y.ari, false);
        row("ami", x.ami, y.ami, false);
        row("pair_precision", x.pair_precision, y.pair_precision, false);
        row("pair_recall", x.pair_recall, y.pair_recall, false);
        row(
            "missed_incidents",
            x.missed_incidents as f64,
            y.missed_incidents as f64,
            true,
        );
        row(
            "fragmented_incidents",
            x.fragmented_incidents as f64,
            y.fragmented_incidents as f64,
            true,
        );
        row(
            "noise_in_incidents",
            x.noise_in_incidents,
            y.noise_in_incidents,
            false,
        );
        row(
            "rca_top1",
            x.rca_top1.unwrap_or(0.0),
            y.rca_top1.unwrap_or(0.0),
            false,
        );
        row(
            "ideal_compression",
            x.ideal_compression,
            y.ideal_compression,
            false,
        );
    }
    s.push_str(&format!(
        "\nincidents: {} unchanged, {} split, {} merged, {} new, {} gone\n",
        r.unchanged_incidents,
        r.split.len(),
        r.merged.len(),
        r.new_incidents.len(),
        r.gone_incidents.len()
    ));
    for sp in &r.split {
        let parts = list_parts(&sp.into);
        s.push_str(&format!(
            "split:  {} → {}{}\n",
            render_ref(&sp.baseline),
            parts.join(", "),
            if sp.dropped > 0 {
                format!(", {} in no incident", sp.dropped)
            } else {
                String::new()
            }
        ));
    }
    for m in &r.merged {
        let parts = list_parts(&m.from);
        s.push_str(&format!(
            "merged: {} ← {}{}\n",
            render_ref(&m.candidate),
            parts.join(", "),
            if m.added > 0 {
                format!(", {} from no incident", m.added)
            } else {
                String::new()
            }
        ));
    }
    for n in &r.new_incidents {
        s.push_str(&format!("new:    {}\n", render_ref(n)));
    }
    for g in &r.gone_incidents {
        s.push_str(&format!("gone:   {}\n", render_ref(g)));
    }
    if !r.moved_alerts.is_empty() {
        s.push_str(&format!("moved alerts ({}):\n", r.moved_alerts.len()));
        for m in r.moved_alerts.iter().take(max_moved) {
            s.push_str(&format!(
                "  {}: {} → {}\n",
                m.alert, m.baseline, m.candidate
            ));
        }
        if r.moved_alerts.len() > max_moved {
            s.push_str(&format!(
                "  ... {} more (--max-moved, or --json for all)\n",
                r.moved_alerts.len() - max_moved
            ));
        }
    }
    s
}
