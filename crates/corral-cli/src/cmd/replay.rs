//! `corral replay`: the whole pipeline over files (or stdin) at full speed in event time.

use crate::input;
use crate::pipeline::{self, InputDeadLetter};
use anyhow::{Context, Result};
use corral_core::{Alert, AlertHead, Engine, IncidentUpdate};
use corral_formats::UpdateLines;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: input::InputArgs,
    /// Write incident updates here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write records that could not be parsed here (NDJSON: input, record, reason, raw).
    #[arg(long)]
    pub dead_letter: Option<PathBuf>,
    /// Print the run's figures to stderr as JSON.
    #[arg(long)]
    pub stats: bool,
    /// Correlation strategy: corral, or a reference strategy to compare against
    /// (alertmanager: group_by labels and timers, no topology; alec: ALEC-style DBSCAN).
    #[arg(long, default_value = "corral", value_parser = ["corral", "alertmanager", "alec"])]
    pub strategy: String,
}

/// The figures `--stats` prints.
#[derive(Serialize)]
struct RunStats {
    strategy: String,
    alerts: u64,
    events: u64,
    incidents: u64,
    updates: u64,
    compression: f64,
    event_compression: f64,
    dead_letters: u64,
    late_events: u64,
    suppressed: u64,
    /// Of `suppressed`, alerts kept out by `chronic_above` rules (learned chronic noise).
    chronic_suppressed: u64,
    seconds: f64,
    alerts_per_second: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    engine: Option<corral_core::EngineStats>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let rules =
        Arc::new(input::load_rules(args.input.rules.as_deref()).map_err(input::config_errors)?);
    let topology = Arc::new(
        input::load_topology(args.input.topology.as_deref()).map_err(input::config_errors)?,
    );
    // Updates are encoded straight into `UpdateLines`' buffer, which goes to the file or stdout
    // in chunks: no `BufWriter` (and no copy into one) in between.
    let mut out: UpdateLines<Box<dyn Write>> = UpdateLines::new(match &args.output {
        Some(p) => Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(io::stdout().lock()),
    });
    let mut dead_out: Option<BufWriter<File>> = match &args.dead_letter {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let mut dead_count = 0u64;
    let mut dead_shown = 0u64;
    let mut on_dead = |d: InputDeadLetter| {
        dead_count += 1;
        match dead_out.as_mut() {
            Some(w) => {
                // A failed write of a dead letter is reported once at the end via flush.
                let _ = serde_json::to_writer(&mut *w, &d).map(|_| w.write_all(b"\n"));
            }
            None => {
                // Never silent: without --dead-letter the first few go to stderr.
                if dead_shown < 20 {
                    eprintln!("dead letter: {}:{}: {}", d.input, d.record, d.reason);
                    dead_shown += 1;
                }
            }
        }
    };

    let started = Instant::now();
    let mut updates = 0u64;
    let mut incidents = std::collections::HashSet::new();
    // Each update is encoded by corral-formats' hand-written encoder (serde_json's bytes,
    // without its byte-by-byte escaping) into the buffer of `out`.
    let mut write_update = |u: &IncidentUpdate, out: &mut UpdateLines<Box<dyn Write>>| {
        updates += 1;
        if !incidents.contains(u.dedup_key.as_str()) {
            incidents.insert(u.dedup_key.clone());
        }
        out.write(u)
    };

    let (events, alerts, engine_stats) = if args.strategy == "corral" {
        let mut engine = Engine::new(rules, topology);
        if let Some(model) = input::load_model(args.input.models.as_deref())? {
            engine.set_anomaly_model(model);
        }
        let mut batch: Vec<IncidentUpdate> = Vec::with_capacity(64);
        let mut write_err: Option<io::Error> = None;
        let mut correlate = Correlate {
            engine: &mut engine,
            batch: &mut batch,
            emit: |u: &IncidentUpdate| {
                if let Err(e) = write_update(u, &mut out) {
                    write_err.get_or_insert(e);
                }
            },
            on_dead: &mut on_dead,
        };
        pipeline::stream_inputs_to(&args.input.inputs, &args.input.format, &mut correlate)?;
        engine.finish(&mut batch);
        for u in batch.drain(..) {
            write_update(&u, &mut out)?;
        }
        if let Some(e) = write_err {
            return Err(e).context("writing incidents");
        }
        let s = engine.stats().clone();
        (s.events, s.alerts, Some(s))
    } else {
        let decoded = pipeline::decode_all(&args.input.inputs, &args.input.format)?;
        for d in decoded.dead {
            on_dead(d);
        }
        let events = decoded.alerts.len() as u64;
        let alerts = decoded
            .alerts
            .iter()
            .map(|a| a.fingerprint.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len() as u64;
        let produced = match args.strategy.as_str() {
            "alertmanager" => {
                corral_quality::strategies::alertmanager_style(&decoded.alerts, &Default::default())
            }
            _ => corral_quality::strategies::alec_style(
                &decoded.alerts,
                &topology,
                &Default::default(),
            ),
        };
        for u in &produced {
            write_update(u, &mut out)?;
        }
        (events, alerts, None)
    };
    out.flush().context("writing incidents")?;
    if let Some(w) = dead_out.as_mut() {
        w.flush().context("writing dead letters")?;
    }
    if dead_count > 0 && args.dead_letter.is_none() {
        eprintln!(
            "{dead_count} record(s) could not be parsed; pass --dead-letter FILE to keep them all"
        );
    }

    if args.stats {
        let seconds = started.elapsed().as_secs_f64();
        let n = incidents.len() as u64;
        let ratio = |total: u64| {
            if total == 0 {
                0.0
            } else {
                1.0 - n as f64 / total as f64
            }
        };
        let stats = RunStats {
            strategy: args.strategy.clone(),
            alerts,
            events,
            incidents: n,
            updates,
            compression: round4(ratio(alerts)),
            event_compression: round4(ratio(events)),
            dead_letters: dead_count,
            late_events: engine_stats.as_ref().map_or(0, |s| s.late_events),
            suppressed: engine_stats.as_ref().map_or(0, |s| s.suppressed_total()),
            chronic_suppressed: engine_stats
                .as_ref()
                .map_or(0, |s| s.chronic_suppressed_total()),
            seconds: round4(seconds),
            alerts_per_second: if seconds > 0.0 {
                (events as f64 / seconds).round()
            } else {
                0.0
            },
            engine: engine_stats,
        };
        eprintln!("{}", serde_json::to_string_pretty(&stats)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The engine as the decoder's sink: plain repeats are taken by their head (the alert is never
/// built), everything else whole; each update is emitted as soon as it is made.
struct Correlate<'a, E, D> {
    engine: &'a mut Engine,
    batch: &'a mut Vec<IncidentUpdate>,
    emit: E,
    on_dead: D,
}

impl<E: FnMut(&IncidentUpdate), D: FnMut(InputDeadLetter)> Correlate<'_, E, D> {
    fn emit_batch(&mut self) {
        // Most occurrences make no update: no `Drain` to set up and drop for them (as the
        // bench's pipeline).
        if self.batch.is_empty() {
            return;
        }
        // Encoded where they lie, then dropped: draining moved each (~530 bytes) out first.
        for u in self.batch.iter() {
            (self.emit)(u);
        }
        self.batch.clear();
    }
}

impl<E: FnMut(&IncidentUpdate), D: FnMut(InputDeadLetter)> pipeline::InputSink
    for Correlate<'_, E, D>
{
    fn repeat(&mut self, head: &AlertHead<'_>) -> bool {
        let taken = self.engine.ingest_repeat(head, self.batch);
        self.emit_batch();
        taken
    }

    fn alert(&mut self, alert: Alert) {
        self.engine.ingest(alert, self.batch);
        self.emit_batch();
    }

    fn dead(&mut self, dead: InputDeadLetter) {
        (self.on_dead)(dead)
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
