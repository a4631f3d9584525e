//! corral-formats: bytes in, normalized [`Alert`]s out (SPEC §2), and the reverse for incidents.
//!
//! * [`Format`] names an input format; [`Format::from_name`] reads `--format`, [`detect`] guesses
//!   one from a sample and says why when it cannot.
//! * [`parse_record`] decodes one record (a Kafka message, an HTTP body, a line).
//! * [`decode_stream`] decodes a whole file or stdin record by record in constant memory, sending
//!   every bad record to a dead-letter callback with its reason: nothing is dropped silently.

mod common;
mod detect;
mod input;
mod stream;
pub mod time;

pub use common::{MAX_LABELS, MAX_VALUE_BYTES};
pub use detect::{detect, detect_stream};
pub use stream::{decode_stream, DeadLetter, DecodeStats, MAX_RECORD_BYTES};

use common::{for_each_payload, Problems};
use corral_core::Alert;
use std::fmt;

/// An input format of SPEC §2.
#[derive(Clone, Debug, PartialEq)]
pub enum Format {
    /// corral's normalized alert, one JSON object per line (SPEC §1).
    Native,
    /// Prometheus Alertmanager webhook, version "4".
    Alertmanager,
}

impl Format {
    /// Every format name `--format` accepts (besides `auto` and `mapping:FILE`).
    pub const NAMES: &'static [&'static str] = &["native", "alertmanager"];

    /// Reads a `--format` value: `Ok(None)` for `auto`, an error listing the choices otherwise.
    pub fn from_name(name: &str) -> Result<Option<Format>, String> {
        let f = match name.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => return Ok(None),
            "native" | "ndjson" => Format::Native,
            "alertmanager" | "am" | "prometheus" => Format::Alertmanager,
            other => {
                return Err(format!(
                    "unknown format {other:?}; expected auto, {}",
                    Format::NAMES.join(", ")
                ))
            }
        };
        Ok(Some(f))
    }

    /// The name `from_name` accepts for this format.
    pub fn name(&self) -> &str {
        match self {
            Format::Native => "native",
            Format::Alertmanager => "alertmanager",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Decodes one record into zero or more alerts, appended to `out`.
///
/// A record may be one payload or a JSON array of payloads. On `Err`, the reason names every bad
/// part (`[2].alerts[1]: missing field ...`) and `out` still receives the alerts of the good
/// parts, so that a single bad alert never costs its neighbours. Blank records give no alert.
pub fn parse_record(format: &Format, record: &[u8], out: &mut Vec<Alert>) -> Result<(), String> {
    let mut problems = Problems::default();
    parse_into(format, record, out, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.into_reason())
    }
}

fn parse_into(format: &Format, record: &[u8], out: &mut Vec<Alert>, problems: &mut Problems) {
    if record.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let each: fn(&[u8], &str, &mut Vec<Alert>, &mut Problems) = match format {
        Format::Native => input::native::parse,
        Format::Alertmanager => input::alertmanager::parse,
    };
    for_each_payload(record, problems, |payload, ctx, problems| {
        each(payload, ctx, out, problems)
    });
}
