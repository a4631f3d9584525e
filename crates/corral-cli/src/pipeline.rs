//! The replay pipeline shared by `replay`, `explain`, `diff` and `test`: bytes → decode →
//! engine → incident updates, in event time, with dead letters kept and counted.

use anyhow::{Context, Result};
use corral_core::anomaly::AnomalyModel;
use corral_core::{Alert, AlertHead, Engine, IncidentUpdate, RuleSet, TopologyIndex};
use corral_formats::{decode_stream_to, DeadLetter, Format, Sink};
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One input: a path, or stdin for `-`.
pub fn open_input(path: &Path) -> Result<(Box<dyn BufRead>, Option<u64>)> {
    if path == Path::new("-") {
        return Ok((
            Box::new(BufReader::with_capacity(1 << 20, io::stdin().lock())),
            None,
        ));
    }
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = f.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 20, f)), len))
}

/// Resolves `--format` for one input, detecting it when `auto`.
pub fn resolve_format(name: &str, reader: &mut dyn BufRead, input: &Path) -> Result<Format> {
    match Format::from_name(name).map_err(anyhow::Error::msg)? {
        Some(f) => Ok(f),
        None => {
            let sample = reader
                .fill_buf()
                .with_context(|| format!("reading {}", input.display()))?;
            corral_formats::detect(sample).map_err(|why| {
                anyhow::anyhow!("{}: {why} (pass --format to choose)", input.display())
            })
        }
    }
}

/// A dead letter with the input it came from.
#[derive(Debug, serde::Serialize)]
pub struct InputDeadLetter {
    pub input: String,
    pub record: u64,
    pub reason: String,
    pub raw: String,
}

/// Everything a run decoded, in input order.
pub struct Decoded {
    pub alerts: Vec<Alert>,
    pub dead: Vec<InputDeadLetter>,
}

/// Inputs as given on the command line; none means stdin.
pub fn inputs_or_stdin(inputs: &[PathBuf]) -> Vec<PathBuf> {
    if inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        inputs.to_vec()
    }
}

/// Streams every input through `on_alert`, one after the other, reporting dead letters.
/// A progress bar over the input bytes is drawn when stderr is a terminal.
pub fn stream_inputs(
    inputs: &[PathBuf],
    format: &str,
    on_alert: impl FnMut(Alert),
    on_dead: impl FnMut(InputDeadLetter),
) -> Result<u64> {
    struct Callbacks<A, D>(A, D);
    impl<A: FnMut(Alert), D: FnMut(InputDeadLetter)> InputSink for Callbacks<A, D> {
        fn alert(&mut self, alert: Alert) {
            (self.0)(alert)
        }
        fn dead(&mut self, dead: InputDeadLetter) {
            (self.1)(dead)
        }
    }
    stream_inputs_to(inputs, format, &mut Callbacks(on_alert, on_dead))
}

/// What [`stream_inputs_to`] delivers: [`corral_formats::Sink`] with dead letters that name
/// their input.
pub trait InputSink {
    /// See [`corral_formats::Sink::repeat`]: true when the occurrence was taken by its head.
    fn repeat(&mut self, _head: &AlertHead<'_>) -> bool {
        false
    }
    fn alert(&mut self, alert: Alert);
    fn dead(&mut self, dead: InputDeadLetter);
}

/// One input's sink: dead letters get the input's name.
struct Named<'a, S> {
    name: &'a str,
    sink: &'a mut S,
}

impl<S: InputSink> Sink for Named<'_, S> {
    fn repeat(&mut self, head: &AlertHead<'_>) -> bool {
        self.sink.repeat(head)
    }

    fn alert(&mut self, alert: Alert) {
        self.sink.alert(alert)
    }

    fn dead(&mut self, d: DeadLetter) {
        self.sink.dead(InputDeadLetter {
            input: self.name.to_string(),
            record: d.record,
            reason: d.reason,
            raw: d.raw,
        })
    }
}

/// [`stream_inputs`] into a sink that may take plain repeats by their head.
pub fn stream_inputs_to(
    inputs: &[PathBuf],
    format: &str,
    sink: &mut impl InputSink,
) -> Result<u64> {
    let mut bytes = 0;
    for input in inputs_or_stdin(inputs) {
        let (mut reader, len) = open_input(&input)?;
        let fmt = resolve_format(format, &mut reader, &input)?;
        let name = input.display().to_string();
        let progress = progress_bar(len, &name);
        let reader: Box<dyn BufRead> = match &progress {
            Some(pb) => Box::new(BufReader::with_capacity(1 << 20, pb.wrap_read(reader))),
            None => reader,
        };
        let mut named = Named {
            name: &name,
            sink: &mut *sink,
        };
        let stats = decode_stream_to(&fmt, reader, &mut named)
            .with_context(|| format!("reading {name}"))?;
        if let Some(pb) = progress {
            pb.finish_and_clear();
        }
        bytes += stats.bytes;
    }
    Ok(bytes)
}

/// Decodes every input into memory (for commands that replay more than once).
pub fn decode_all(inputs: &[PathBuf], format: &str) -> Result<Decoded> {
    let mut alerts = Vec::new();
    let mut dead = Vec::new();
    stream_inputs(inputs, format, |a| alerts.push(a), |d| dead.push(d))?;
    Ok(Decoded { alerts, dead })
}

fn progress_bar(len: Option<u64>, name: &str) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let pb = match len {
        Some(l) => indicatif::ProgressBar::new(l),
        None => indicatif::ProgressBar::new_spinner(),
    };
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(name.to_string());
    Some(pb)
}

/// Runs alerts through a fresh engine and returns every update.
pub fn correlate(
    alerts: impl IntoIterator<Item = Alert>,
    rules: Arc<RuleSet>,
    topology: Arc<TopologyIndex>,
    model: Option<Box<dyn AnomalyModel>>,
) -> (Vec<IncidentUpdate>, Engine) {
    let mut engine = Engine::new(rules, topology);
    if let Some(model) = model {
        engine.set_anomaly_model(model);
    }
    let mut out = Vec::new();
    for a in alerts {
        engine.ingest(a, &mut out);
    }
    engine.finish(&mut out);
    (out, engine)
}
