//! corral-formats: bytes in, normalized [`Alert`]s out (SPEC §2), and the reverse for incidents.
//!
//! * [`Format`] names an input format; [`Format::from_name`] reads `--format`, [`detect`] guesses
//!   one from a sample and says why when it cannot.
//! * [`parse_record`] decodes one record (a Kafka message, an HTTP body, a line).
//! * [`decode_stream`] decodes a whole file or stdin record by record in constant memory, sending
//!   every bad record to a dead-letter callback with its reason: nothing is dropped silently.

mod common;
mod detect;
mod fast_json;
mod input;
mod json_path;
pub mod mapping;
pub mod output;
mod plain;
mod stream;
pub mod time;
pub mod topology_import;
mod update_json;
mod update_lines;

pub use common::{MAX_LABELS, MAX_VALUE_BYTES};
pub use detect::{detect, detect_stream};
pub use stream::{
    decode_stream, decode_stream_to, DeadLetter, DecodeStats, Sink, MAX_RECORD_BYTES,
};

use common::{for_each_payload, Problems};
use corral_core::Alert;
pub use mapping::Mapping;
pub use output::{encode, OutputFormat};
use std::fmt;
use std::sync::Arc;
pub use update_json::write_update_json;
pub use update_lines::UpdateLines;

/// An input format of SPEC §2.
#[derive(Clone, Debug, PartialEq)]
pub enum Format {
    /// corral's normalized alert, one JSON object per line (SPEC §1).
    Native,
    /// Prometheus Alertmanager webhook, version "4".
    Alertmanager,
    /// Grafana unified alerting webhook, version "1".
    Grafana,
    /// The webhook media type shipped in `integrations/zabbix/`.
    Zabbix,
    /// Icinga 2 API event stream (`StateChange`, `Notification`, `CheckResult`).
    Icinga2,
    /// The notify command shipped in `integrations/nagios/` (Nagios, and Icinga 2 notifications).
    Nagios,
    /// The webhook payload template shipped in `integrations/datadog/`.
    Datadog,
    /// CloudWatch alarm via SNS.
    CloudWatch,
    /// Azure Monitor common alert schema.
    Azure,
    /// Google Cloud Monitoring webhook incident.
    Gcp,
    /// Dynatrace problem notification (custom webhook).
    Dynatrace,
    /// Splunk webhook alert action.
    Splunk,
    /// CloudEvents 1.0 JSON with the alert in `data`.
    CloudEvents,
    /// OpenNMS ALEC `alarms.xml`: every `<event>` is one occurrence.
    Alec,
    /// Any JSON, through a YAML field mapping (`mapping:FILE`).
    Mapping(Arc<Mapping>),
}

impl Format {
    /// Every format name `--format` accepts (besides `auto` and `mapping:FILE`).
    pub const NAMES: &'static [&'static str] = &[
        "native",
        "alertmanager",
        "grafana",
        "zabbix",
        "icinga2",
        "nagios",
        "datadog",
        "cloudwatch",
        "azure",
        "gcp",
        "dynatrace",
        "splunk",
        "cloudevents",
        "alec",
    ];

    /// Reads a `--format` value: `Ok(None)` for `auto`, an error listing the choices otherwise.
    pub fn from_name(name: &str) -> Result<Option<Format>, String> {
        if let Some(path) = name.trim().strip_prefix("mapping:") {
            return Mapping::load(std::path::Path::new(path))
                .map(|m| Some(Format::Mapping(Arc::new(m))));
        }
        let f = match name.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => return Ok(None),
            "native" | "ndjson" => Format::Native,
            "alertmanager" | "am" | "prometheus" => Format::Alertmanager,
            "grafana" => Format::Grafana,
            "zabbix" => Format::Zabbix,
            "icinga2" | "icinga" => Format::Icinga2,
            "nagios" => Format::Nagios,
            "datadog" => Format::Datadog,
            "cloudwatch" | "sns" => Format::CloudWatch,
            "azure" => Format::Azure,
            "gcp" | "google" | "stackdriver" => Format::Gcp,
            "dynatrace" => Format::Dynatrace,
            "splunk" => Format::Splunk,
            "cloudevents" => Format::CloudEvents,
            "alec" | "opennms" => Format::Alec,
            other => {
                return Err(format!(
                    "unknown format {other:?}; expected auto, {}, or mapping:FILE",
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
            Format::Grafana => "grafana",
            Format::Zabbix => "zabbix",
            Format::Icinga2 => "icinga2",
            Format::Nagios => "nagios",
            Format::Datadog => "datadog",
            Format::CloudWatch => "cloudwatch",
            Format::Azure => "azure",
            Format::Gcp => "gcp",
            Format::Dynatrace => "dynatrace",
            Format::Splunk => "splunk",
            Format::CloudEvents => "cloudevents",
            Format::Alec => "alec",
            Format::Mapping(m) => &m.name,
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

pub(crate) fn parse_into(
    format: &Format,
    record: &[u8],
    out: &mut Vec<Alert>,
    problems: &mut Problems,
) {
    if record.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let each: fn(&[u8], &str, &mut Vec<Alert>, &mut Problems) = match format {
        Format::Alec => return input::alec::parse(record, "", out, problems),
        Format::Mapping(m) => {
            return for_each_payload(record, problems, |payload, ctx, problems| {
                m.apply(payload, ctx, out, problems)
            })
        }
        Format::Native => input::native::parse,
        Format::Alertmanager => input::alertmanager::parse,
        Format::Grafana => input::grafana::parse,
        Format::Zabbix => input::zabbix::parse,
        Format::Icinga2 => input::icinga2::parse,
        Format::Nagios => input::nagios::parse,
        Format::Datadog => input::datadog::parse,
        Format::CloudWatch => input::cloudwatch::parse,
        Format::Azure => input::azure::parse,
        Format::Gcp => input::gcp::parse,
        Format::Dynatrace => input::dynatrace::parse,
        Format::Splunk => input::splunk::parse,
        Format::CloudEvents => input::cloudevents::parse,
    };
    for_each_payload(record, problems, |payload, ctx, problems| {
        each(payload, ctx, out, problems)
    });
}
