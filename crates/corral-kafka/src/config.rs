//! The service configuration (`corral run --config corral.yaml`). Unknown keys are errors, and
//! every error of the file is reported at once with its line, like `corral check` does for rules.

use corral_core::yaml_pos::{ConfigError, ErrorSink};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Every key has a default, so a config may leave the section out (a local broker).
    #[serde(default)]
    pub kafka: KafkaConfig,
    #[serde(default)]
    pub delivery: Delivery,
    #[serde(default)]
    pub input: InputConfig,
    /// Rules file or directory; the shipped rules when absent.
    #[serde(default)]
    pub rules: Option<PathBuf>,
    #[serde(default)]
    pub topology: Option<PathBuf>,
    #[serde(default)]
    pub models: Option<PathBuf>,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub processing: ProcessingConfig,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`; may also be given in `consumer`/`producer` maps.
    #[serde(default = "default_bootstrap")]
    pub bootstrap_servers: String,
    #[serde(default = "default_group")]
    pub group_id: String,
    #[serde(default)]
    pub topics: Topics,
    /// librdkafka options for every client (security.protocol, sasl.*, ssl.*, ...).
    #[serde(default)]
    pub common: BTreeMap<String, ConfigValue>,
    /// librdkafka consumer options; override `common`.
    #[serde(default)]
    pub consumer: BTreeMap<String, ConfigValue>,
    /// librdkafka producer options; override `common`.
    #[serde(default)]
    pub producer: BTreeMap<String, ConfigValue>,
    /// Prefix of the transactional id in exactly-once mode; the process adds its instance id.
    #[serde(default)]
    pub transactional_id: Option<String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            bootstrap_servers: default_bootstrap(),
            group_id: default_group(),
            topics: Topics::default(),
            common: BTreeMap::new(),
            consumer: BTreeMap::new(),
            producer: BTreeMap::new(),
            transactional_id: None,
        }
    }
}

/// librdkafka takes strings; YAML users write numbers and booleans too.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl ConfigValue {
    pub fn as_kafka_string(&self) -> String {
        match self {
            ConfigValue::Str(s) => s.clone(),
            ConfigValue::Int(i) => i.to_string(),
            ConfigValue::Float(f) => f.to_string(),
            ConfigValue::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topics {
    #[serde(default = "default_input")]
    pub input: String,
    #[serde(default = "default_output")]
    pub output: String,
    #[serde(default = "default_dlq")]
    pub dead_letter: String,
    #[serde(default = "default_state")]
    pub state: String,
    #[serde(default = "default_repartition")]
    pub repartition: String,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            input: default_input(),
            output: default_output(),
            dead_letter: default_dlq(),
            state: default_state(),
            repartition: default_repartition(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    #[default]
    AtLeastOnce,
    ExactlyOnce,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// An input format name of SPEC §2 (`auto`, `native`, `alertmanager`, ...).
    #[serde(default = "default_format")]
    pub format: String,
    #[serde(default)]
    pub partitioning: Partitioning,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            format: default_format(),
            partitioning: Partitioning::default(),
        }
    }
}

/// How related alerts reach the same process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Partitioning {
    /// Producers already key alerts by topology domain (or there is one input partition).
    #[default]
    AsProduced,
    /// corral re-keys every alert by its topology domain into the repartition topic and
    /// correlates from there.
    Repartition,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Bearer token for `POST /ingest/*` and `POST /-/reload`: a file holding it...
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// ...or the name of an environment variable holding it.
    #[serde(default)]
    pub token_env: Option<String>,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
            token_file: None,
            token_env: None,
            max_body_bytes: default_max_body(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessingConfig {
    /// Most records taken in one batch (one transaction in exactly-once mode).
    #[serde(default = "default_batch_max")]
    pub batch_max_records: usize,
    /// Longest a batch waits to fill, in ms; bounds decision latency.
    #[serde(default = "default_batch_linger")]
    pub batch_linger_ms: u64,
    /// How often correlation state is checkpointed to the state topic (at-least-once), in ms.
    #[serde(default = "default_checkpoint")]
    pub checkpoint_interval_ms: u64,
    /// Output messages not yet acknowledged above which consumption pauses (backpressure).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Exactly-once: how long one transaction collects records (ms). Each commit also
    /// checkpoints the partitions it touched, so transactions are longer than at-least-once
    /// batches; updates become visible to read_committed readers when it commits.
    #[serde(default = "default_txn_interval")]
    pub transaction_interval_ms: u64,
    /// Exactly-once: most records in one transaction.
    #[serde(default = "default_txn_max")]
    pub transaction_max_records: usize,
    /// When a partition sees no record for this long (ms), its event-time clock advances with
    /// the wall clock so that holds and expiries still fire on a quiet stream. 0 disables it.
    #[serde(default = "default_idle_advance")]
    pub idle_advance_ms: u64,
    /// Decode records on a thread of their own, beside correlation (true), or on the
    /// correlation thread (false: one busy thread instead of two, for one-core hosts).
    #[serde(default = "default_decode_thread")]
    pub decode_thread: bool,
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        ProcessingConfig {
            batch_max_records: default_batch_max(),
            batch_linger_ms: default_batch_linger(),
            checkpoint_interval_ms: default_checkpoint(),
            max_in_flight: default_max_in_flight(),
            transaction_interval_ms: default_txn_interval(),
            transaction_max_records: default_txn_max(),
            idle_advance_ms: default_idle_advance(),
            decode_thread: default_decode_thread(),
        }
    }
}

fn default_decode_thread() -> bool {
    true
}
fn default_bootstrap() -> String {
    "127.0.0.1:9092".into()
}
fn default_group() -> String {
    "corral".into()
}
fn default_input() -> String {
    "alerts".into()
}
fn default_output() -> String {
    "incidents".into()
}
fn default_dlq() -> String {
    "corral.dlq".into()
}
fn default_state() -> String {
    "corral.state".into()
}
fn default_repartition() -> String {
    "corral.repartition".into()
}
fn default_format() -> String {
    "auto".into()
}
fn default_listen() -> String {
    "127.0.0.1:9464".into()
}
fn default_max_body() -> usize {
    4 << 20
}
fn default_batch_max() -> usize {
    20_000
}
fn default_batch_linger() -> u64 {
    5
}
fn default_checkpoint() -> u64 {
    5_000
}
fn default_max_in_flight() -> usize {
    200_000
}
fn default_txn_interval() -> u64 {
    500
}
fn default_txn_max() -> usize {
    200_000
}
fn default_idle_advance() -> u64 {
    1_000
}

/// Options corral sets itself; overriding them would break its delivery guarantees.
const RESERVED_CONSUMER: &[&str] = &[
    "enable.auto.commit",
    "enable.auto.offset.store",
    "group.id",
    "isolation.level",
];
const RESERVED_PRODUCER: &[&str] = &["transactional.id"];

impl ServiceConfig {
    /// Reads and validates a config file. Relative paths inside it are taken from its folder.
    pub fn load(path: &Path) -> Result<ServiceConfig, Vec<ConfigError>> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![ConfigError {
                file: name.clone(),
                line: None,
                message: format!("cannot read: {e}"),
            }]
        })?;
        let mut cfg = ServiceConfig::parse(&text, &name)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.rules, &mut cfg.topology, &mut cfg.models] {
            if let Some(rel) = p.as_mut().filter(|p| p.is_relative()) {
                *rel = base.join(&*rel);
            }
        }
        if let Some(rel) = cfg.http.token_file.as_mut().filter(|p| p.is_relative()) {
            *rel = base.join(&*rel);
        }
        Ok(cfg)
    }

    pub fn parse(text: &str, file: &str) -> Result<ServiceConfig, Vec<ConfigError>> {
        let mut sink = ErrorSink::new(file, text);
        let cfg: ServiceConfig = match serde_norway::from_str(text) {
            Ok(c) => c,
            Err(e) => {
                sink.yaml(&e);
                return Err(sink.into_errors());
            }
        };
        cfg.validate(&mut sink);
        sink.finish(cfg)
    }

    fn validate(&self, sink: &mut ErrorSink) {
        let k = &self.kafka;
        if k.bootstrap_servers.trim().is_empty() {
            sink.at("kafka.bootstrap_servers", "must not be empty");
        }
        if k.group_id.trim().is_empty() {
            sink.at("kafka.group_id", "must not be empty");
        }
        let t = &k.topics;
        let names = [
            ("input", &t.input),
            ("output", &t.output),
            ("dead_letter", &t.dead_letter),
            ("state", &t.state),
            ("repartition", &t.repartition),
        ];
        for (i, (field, name)) in names.iter().enumerate() {
            if let Err(why) = valid_topic_name(name) {
                sink.at(
                    &format!("kafka.topics.{field}"),
                    format!("topic {name:?}: {why}"),
                );
            }
            for (other, other_name) in &names[..i] {
                if name == other_name {
                    sink.at(
                        &format!("kafka.topics.{field}"),
                        format!(
                            "topic {name:?} is also the {other} topic; each role needs its own"
                        ),
                    );
                }
            }
        }
        for key in RESERVED_CONSUMER {
            for map in ["common", "consumer"] {
                let m = if map == "common" {
                    &k.common
                } else {
                    &k.consumer
                };
                if m.contains_key(*key) {
                    sink.at(
                        &format!("kafka.{map}.{key}"),
                        format!("{key} is set by corral to keep its delivery guarantee"),
                    );
                }
            }
        }
        for key in RESERVED_PRODUCER {
            if k.producer.contains_key(*key) || k.common.contains_key(*key) {
                sink.at(
                    &format!("kafka.producer.{key}"),
                    "transactional.id is set by corral; use kafka.transactional_id for its prefix",
                );
            }
        }
        for (map_name, map) in [
            ("common", &k.common),
            ("consumer", &k.consumer),
            ("producer", &k.producer),
        ] {
            for (key, value) in map {
                if key.trim().is_empty() || key.contains(char::is_whitespace) {
                    sink.at(
                        &format!("kafka.{map_name}"),
                        format!("invalid option name {key:?}"),
                    );
                }
                if let ConfigValue::Str(s) = value {
                    if s.contains('\n') {
                        sink.at(&format!("kafka.{map_name}.{key}"), "value must be one line");
                    }
                }
            }
        }
        let idempotence_off = k
            .producer
            .get("enable.idempotence")
            .is_some_and(|v| v.as_kafka_string() == "false");
        if self.delivery == Delivery::ExactlyOnce && idempotence_off {
            sink.at(
                "kafka.producer.enable.idempotence",
                "exactly_once delivery needs an idempotent producer",
            );
        }
        if self.input.format.trim().is_empty() {
            sink.at(
                "input.format",
                "must name a format (auto, native, alertmanager, ...)",
            );
        }
        if self.http.listen.parse::<SocketAddr>().is_err() {
            sink.at(
                "http.listen",
                format!(
                    "{:?} is not an address:port such as 127.0.0.1:9464",
                    self.http.listen
                ),
            );
        }
        if self.http.token_file.is_some() && self.http.token_env.is_some() {
            sink.at("http.token_env", "set token_file or token_env, not both");
        }
        if self.http.max_body_bytes == 0 {
            sink.at("http.max_body_bytes", "must be at least 1");
        }
        let p = &self.processing;
        if p.batch_max_records == 0 {
            sink.at("processing.batch_max_records", "must be at least 1");
        }
        if p.max_in_flight < p.batch_max_records {
            sink.at(
                "processing.max_in_flight",
                "must be at least processing.batch_max_records",
            );
        }
        if p.transaction_interval_ms == 0 || p.transaction_max_records == 0 {
            sink.at(
                "processing",
                "transaction_interval_ms and transaction_max_records must be at least 1",
            );
        }
        if p.checkpoint_interval_ms == 0 {
            sink.at("processing.checkpoint_interval_ms", "must be at least 1");
        }
    }

    /// librdkafka options for the consumer: common, then consumer overrides.
    pub fn consumer_options(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert(
            "bootstrap.servers".into(),
            self.kafka.bootstrap_servers.clone(),
        );
        for (k, v) in self.kafka.common.iter().chain(&self.kafka.consumer) {
            m.insert(k.clone(), v.as_kafka_string());
        }
        m
    }

    pub fn producer_options(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert(
            "bootstrap.servers".into(),
            self.kafka.bootstrap_servers.clone(),
        );
        for (k, v) in self.kafka.common.iter().chain(&self.kafka.producer) {
            m.insert(k.clone(), v.as_kafka_string());
        }
        m
    }
}

/// Kafka's own rule: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
fn valid_topic_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("must not be empty");
    }
    if name.len() > 249 {
        return Err("longer than 249 characters");
    }
    if name == "." || name == ".." {
        return Err("'.' and '..' are not topic names");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("only letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_takes_spec_defaults() {
        let cfg = ServiceConfig::parse("kafka: {bootstrap_servers: 'b:9092'}\n", "c.yaml").unwrap();
        assert_eq!(cfg.kafka.topics.input, "alerts");
        assert_eq!(cfg.kafka.topics.output, "incidents");
        assert_eq!(cfg.kafka.topics.dead_letter, "corral.dlq");
        assert_eq!(cfg.kafka.topics.state, "corral.state");
        assert_eq!(cfg.kafka.group_id, "corral");
        assert_eq!(cfg.delivery, Delivery::AtLeastOnce);
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let err = ServiceConfig::parse("kafka:\n  bootstrap_servers: x\n  topicz: {}\n", "c.yaml")
            .unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].line, Some(3));
        assert!(err[0].message.contains("topicz"), "{}", err[0].message);
    }

    #[test]
    fn every_validation_error_is_listed_with_its_line() {
        let src = "\
kafka:
  bootstrap_servers: b:9092
  topics:
    input: 'bad topic'
    output: alerts
  consumer:
    enable.auto.commit: true
http:
  listen: nowhere
processing:
  batch_max_records: 0
";
        let err = ServiceConfig::parse(src, "c.yaml").unwrap_err();
        let lines: Vec<_> = err.iter().map(|e| (e.line, e.message.clone())).collect();
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == Some(4) && m.contains("only letters")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == Some(7) && m.contains("enable.auto.commit")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == Some(9) && m.contains("nowhere")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == Some(11) && m.contains("at least 1")),
            "{lines:?}"
        );
        assert_eq!(err.len(), 4, "{lines:?}");
    }

    #[test]
    fn librdkafka_options_pass_through_with_overrides() {
        let src = "\
kafka:
  bootstrap_servers: b:9093
  common: {security.protocol: SASL_SSL, sasl.mechanism: SCRAM-SHA-512, ssl.ca.location: /ca.pem}
  consumer: {fetch.min.bytes: 1024, security.protocol: SSL}
  producer: {linger.ms: 5, enable.idempotence: true}
";
        let cfg = ServiceConfig::parse(src, "c.yaml").unwrap();
        let c = cfg.consumer_options();
        assert_eq!(c["security.protocol"], "SSL");
        assert_eq!(c["fetch.min.bytes"], "1024");
        assert_eq!(c["sasl.mechanism"], "SCRAM-SHA-512");
        let p = cfg.producer_options();
        assert_eq!(p["security.protocol"], "SASL_SSL");
        assert_eq!(p["linger.ms"], "5");
        assert_eq!(p["enable.idempotence"], "true");
        assert_eq!(p["bootstrap.servers"], "b:9093");
    }

    #[test]
    fn duplicate_topic_roles_are_rejected() {
        let src = "kafka: {topics: {input: a, output: a}}\n";
        let err = ServiceConfig::parse(src, "c.yaml").unwrap_err();
        assert!(err[0].message.contains("also the input topic"), "{err:?}");
    }
}
