//! Integration tests of `corral run` against a real Kafka broker (scripts/kafka.sh start).
//!
//! The broker address comes from CORRAL_KAFKA_BOOTSTRAP; when it is unset the tests start the
//! broker themselves with `scripts/kafka.sh start`, and fail with the reason when that fails
//! (`support/kafka_broker.rs`). They never pass without having run.
//!
//! The service runs in child processes (this test binary re-executed on the ignored
//! `child_process_hook` test), so that a test can SIGKILL it mid-stream, SIGTERM it, SIGHUP it
//! and run two of them in one consumer group.

use corral_core::engine::EngineConfig;
use corral_core::incident::{EventAction, IncidentUpdate};
use corral_core::model::{Alert, Status};
use corral_core::{Engine, RuleSet, TopologyFile, TopologyIndex};
use corral_kafka::domain::DomainMap;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/kafka_broker.rs"]
mod kafka_broker;
use http_client::http;

const T0: i64 = 1_764_036_000_000;

/// Two racks that share nothing (two topology domains) and an island.
const TOPO: &str = r#"
nodes:
  - {id: tor-a, kind: switch}
  - {id: host-a1, kind: host}
  - {id: host-a2, kind: host}
  - {id: esx-1, kind: hypervisor}
  - {id: db-1, kind: database, service: payroll}
  - {id: payroll-api, kind: service, service: payroll}
  - {id: tor-b, kind: switch}
  - {id: host-b1, kind: host}
  - {id: host-b2, kind: host}
  - {id: web-b, kind: service, service: shop}
  - {id: island, kind: host}
edges:
  - {from: host-a1, to: tor-a, type: part_of}
  - {from: host-a2, to: tor-a, type: part_of}
  - {from: esx-1, to: host-a1, type: runs_on}
  - {from: db-1, to: esx-1, type: runs_on}
  - {from: payroll-api, to: db-1, type: depends_on}
  - {from: host-b1, to: tor-b, type: part_of}
  - {from: host-b2, to: tor-b, type: part_of}
  - {from: web-b, to: host-b1, type: runs_on}
"#;

/// Every change is emitted at once, so the expected output is exactly what an uninterrupted
/// engine produces from the same records.
const RULES: &str = "settings: {update_interval: 0s, allowed_lateness: 10s}\n";

fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    format!(
        "t{t}-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A consumed message: its headers and payload.
type Record = (Vec<(String, String)>, Vec<u8>);

struct Env {
    bootstrap: String,
    dir: tempfile::TempDir,
    prefix: String,
}

impl Env {
    fn new(name: &str, input_partitions: i32) -> Env {
        let bootstrap = kafka_broker::bootstrap();
        let env = Env {
            bootstrap,
            dir: tempfile::tempdir().unwrap(),
            prefix: unique(name),
        };
        std::fs::write(env.dir.path().join("topology.yaml"), TOPO).unwrap();
        std::fs::write(env.dir.path().join("rules.yaml"), RULES).unwrap();
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &env.bootstrap)
            .create()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let input = env.topic("alerts");
        for r in rt
            .block_on(admin.create_topics(
                [&NewTopic::new(
                    &input,
                    input_partitions,
                    TopicReplication::Fixed(1),
                )],
                &AdminOptions::new(),
            ))
            .unwrap()
        {
            r.unwrap();
        }
        env
    }

    fn topic(&self, role: &str) -> String {
        format!("{}.{role}", self.prefix)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a service config; returns its path and the HTTP port.
    fn config(&self, name: &str, delivery: &str, extra: &str) -> (PathBuf, u16) {
        let port = free_port();
        let yaml = format!(
            "kafka:
  bootstrap_servers: '{b}'
  group_id: {p}.group
  topics: {{input: {p}.alerts, output: {p}.incidents, dead_letter: {p}.dlq, state: {p}.state, repartition: {p}.repartition}}
  consumer: {{session.timeout.ms: 6000, heartbeat.interval.ms: 500}}
delivery: {delivery}
rules: rules.yaml
topology: topology.yaml
input: {{format: native}}
http: {{listen: '127.0.0.1:{port}', token_env: CORRAL_TEST_TOKEN}}
processing: {{batch_max_records: 50, batch_linger_ms: 5, checkpoint_interval_ms: 100, transaction_interval_ms: 20, transaction_max_records: 50, idle_advance_ms: 0}}
{extra}",
            b = self.bootstrap,
            p = self.prefix
        );
        let path = self.path(name);
        std::fs::write(&path, yaml).unwrap();
        (path, port)
    }

    fn produce(&self, alerts: &[Alert]) {
        self.produce_raw(
            alerts
                .iter()
                .map(|a| (domain_key(a), serde_json::to_vec(a).unwrap())),
        );
    }

    fn produce_raw(&self, records: impl IntoIterator<Item = (String, Vec<u8>)>) {
        let p: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("enable.idempotence", "true")
            .set("linger.ms", "1")
            .create()
            .unwrap();
        let topic = self.topic("alerts");
        for (k, v) in records {
            p.send(BaseRecord::to(&topic).key(&k).payload(&v)).unwrap();
        }
        p.flush(Duration::from_secs(30)).unwrap();
    }

    /// Every message of a topic (read_committed), waiting until `done` holds or the timeout.
    fn read_until(
        &self,
        role: &str,
        timeout: Duration,
        done: impl Fn(&[Vec<u8>]) -> bool,
    ) -> Vec<Vec<u8>> {
        self.read_messages(role, timeout, |msgs| {
            done(&msgs.iter().map(|m| m.1.clone()).collect::<Vec<_>>())
        })
        .into_iter()
        .map(|m| m.1)
        .collect()
    }

    /// (headers, payload) of every message, in partition then offset order.
    fn read_messages(
        &self,
        role: &str,
        timeout: Duration,
        done: impl Fn(&[Record]) -> bool,
    ) -> Vec<Record> {
        let topic = self.topic(role);
        let deadline = Instant::now() + timeout;
        loop {
            let msgs = self.read_all(&topic);
            if done(&msgs) || Instant::now() > deadline {
                return msgs;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn read_all(&self, topic: &str) -> Vec<Record> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", unique("reader"))
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .create()
            .unwrap();
        let md = match c.fetch_metadata(Some(topic), Duration::from_secs(10)) {
            Ok(m) => m,
            Err(_) => return Vec::new(),
        };
        let parts: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        let mut out: BTreeMap<(i32, i64), Record> = BTreeMap::new();
        let mut tpl = TopicPartitionList::new();
        let mut ends = BTreeMap::new();
        for p in parts {
            let (lo, hi) = c
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap();
            if hi > lo {
                ends.insert(p, hi);
                tpl.add_partition_offset(topic, p, Offset::Beginning)
                    .unwrap();
            }
        }
        if ends.is_empty() {
            return Vec::new();
        }
        c.assign(&tpl).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ends.is_empty() && Instant::now() < deadline {
            match c.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let headers = m
                        .headers()
                        .map(|h| {
                            h.iter()
                                .map(|x| {
                                    (
                                        x.key.to_string(),
                                        String::from_utf8_lossy(x.value.unwrap_or_default())
                                            .into_owned(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    out.insert(
                        (m.partition(), m.offset()),
                        (headers, m.payload().unwrap_or_default().to_vec()),
                    );
                    if ends
                        .get(&m.partition())
                        .is_some_and(|h| m.offset() + 1 >= *h)
                    {
                        ends.remove(&m.partition());
                    }
                }
                Some(Err(e)) if reconnects_by_itself(&e) => {
                    eprintln!("read {topic}: {e} (librdkafka reconnects; waiting)");
                }
                Some(Err(e)) => panic!("read {topic}: {e}"),
                None => {
                    // Transaction markers sit at the end: position tells when we are there.
                    if let Ok(pos) = c.position() {
                        for e in pos.elements() {
                            if let Offset::Offset(o) = e.offset() {
                                if ends.get(&e.partition()).is_some_and(|h| o >= *h) {
                                    ends.remove(&e.partition());
                                }
                            }
                        }
                    }
                }
            }
        }
        out.into_values().collect()
    }

    fn committed(&self, partition: i32) -> Option<i64> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", format!("{}.group", self.prefix))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.topic("alerts"), partition);
        let got = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
        match got.elements()[0].offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        }
    }
}

fn domain_map() -> DomainMap {
    DomainMap::build(&TopologyFile::parse(TOPO, "topology.yaml").unwrap())
}

fn domain_key(a: &Alert) -> String {
    thread_local!(static MAP: DomainMap = domain_map());
    MAP.with(|m| m.domain_of(a))
}

fn alert(secs: i64, name: &str, resource: &str, status: Status) -> Alert {
    let mut a = Alert::firing(name, resource, T0 + secs * 1000);
    a.fingerprint = format!("{name}@{resource}").into();
    a.status = status;
    if status == Status::Resolved {
        a.ends_at = Some(a.starts_at);
    }
    a
}

fn fire(secs: i64, name: &str, resource: &str) -> Alert {
    alert(secs, name, resource, Status::Firing)
}

/// A storm over both racks and the island: `n` occurrences, event time moving forward.
fn storm(n: usize, from_secs: i64) -> Vec<Alert> {
    let resources = [
        "host-a1",
        "esx-1",
        "db-1",
        "payroll-api",
        "host-a2",
        "host-b1",
        "host-b2",
        "web-b",
        "island",
    ];
    let names = ["Down", "Latency", "Errors"];
    (0..n)
        .map(|i| {
            let r = resources[(i * 7) % resources.len()];
            let name = names[(i / 3) % names.len()];
            let status = if i % 11 == 10 {
                Status::Resolved
            } else {
                Status::Firing
            };
            alert(from_secs + i as i64 / 4, name, r, status)
        })
        .collect()
}

fn updates(raw: &[Vec<u8>]) -> Vec<IncidentUpdate> {
    raw.iter()
        .map(|b| serde_json::from_slice(b).expect("incident update JSON"))
        .collect()
}

/// The last update of each incident.
fn final_states(ups: &[IncidentUpdate]) -> BTreeMap<String, IncidentUpdate> {
    let mut m = BTreeMap::new();
    for u in ups {
        m.insert(u.dedup_key.to_string(), u.clone());
    }
    m
}

/// What one uninterrupted engine per input partition makes of the same records.
fn expected_updates(alerts: &[Alert], partitions: i32) -> Vec<IncidentUpdate> {
    let rules = Arc::new(RuleSet::from_yaml(RULES, "rules.yaml").unwrap());
    let topo = Arc::new(TopologyIndex::build(
        &TopologyFile::parse(TOPO, "t").unwrap(),
    ));
    let mut engines: BTreeMap<i32, Engine> = BTreeMap::new();
    let mut out = Vec::new();
    for a in alerts {
        let p = partition_of(&domain_key(a), partitions);
        let e = engines.entry(p).or_insert_with(|| {
            Engine::with_config(
                rules.clone(),
                topo.clone(),
                EngineConfig {
                    id_prefix: format!("inc-p{p}"),
                },
            )
        });
        e.ingest(a.clone(), &mut out);
    }
    out
}

/// librdkafka's default partitioner for keyed records (consistent_random: CRC32 of the key).
fn partition_of(key: &str, partitions: i32) -> i32 {
    (crc32(key.as_bytes()) % partitions as u32) as i32
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

struct Service {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Service {
    fn start(env: &Env, config: &Path, port: u16, instance: &str) -> Service {
        let log = env.path(&format!("{instance}-{}.log", unique("run")));
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_process_hook",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CORRAL_TEST_CHILD_CONFIG", config)
            .env("CORRAL_TEST_CHILD_INSTANCE", instance)
            .env("CORRAL_TEST_TOKEN", "s3cret")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let s = Service { child, port, log };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = http(self.port, "GET", "/readyz", &[], b"") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "service not ready; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// SIGTERM and wait for a clean exit.
    fn stop(mut self) {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "service exited with {status}; log:\n{}",
                    self.log_text()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "service did not stop; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn metrics(&self) -> String {
        http(self.port, "GET", "/metrics", &[], b"").unwrap().1
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Not a test: the entry point of the service child processes above.
#[test]
#[ignore = "entry point of child processes started by the other tests"]
fn child_process_hook() {
    let Some(config) = std::env::var_os("CORRAL_TEST_CHILD_CONFIG") else {
        return;
    };
    tracing_subscriber_init();
    let config = PathBuf::from(config);
    let cfg = corral_kafka::ServiceConfig::load(&config).unwrap_or_else(|e| panic!("{e:?}"));
    let loader = corral_kafka::runner::file_loader(cfg.rules.clone(), cfg.topology.clone());
    let control = corral_kafka::Control::new(loader).unwrap_or_else(|e| panic!("{e:?}"));
    let opts = corral_kafka::RunOptions {
        instance_id: std::env::var("CORRAL_TEST_CHILD_INSTANCE").unwrap_or_default(),
    };
    let code = match corral_kafka::runner::run_service(
        cfg,
        control,
        opts,
        corral_kafka::runner::Mode::Service,
        true,
    ) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("service failed: {e:#}");
            3
        }
    };
    std::process::exit(code);
}

fn tracing_subscriber_init() {
    // The same JSON logs as `corral run`, on stderr (the test keeps them in a file).
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .try_init();
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn end_to_end_incidents_for_a_fixture() {
    let env = Env::new("e2e", 2);
    let (config, port) = env.config("corral.yaml", "at_least_once", "");
    let alerts = vec![
        fire(0, "HostDown", "host-a1"),
        fire(20, "VMDown", "esx-1"),
        fire(40, "DatabaseDown", "db-1"),
        fire(50, "HighErrorRate", "payroll-api"),
        fire(30, "DiskFull", "host-b2"),
        fire(35, "DiskFull", "host-b2"),
    ];
    env.produce(&alerts);
    let svc = Service::start(&env, &config, port, "e2e");
    let raw = env.read_until("incidents", Duration::from_secs(60), |m| {
        let f = final_states(&updates(m));
        f.values()
            .map(|u| u.payload.custom_details.alert_count)
            .sum::<usize>()
            == 5
    });
    let finals = final_states(&updates(&raw));
    assert_eq!(finals.len(), 2, "{finals:#?}");
    let big = finals
        .values()
        .find(|u| u.payload.custom_details.alert_count == 4)
        .expect("the rack A failure is one incident");
    assert_eq!(big.payload.custom_details.root_cause.resource, "host-a1");
    let small = finals
        .values()
        .find(|u| u.payload.custom_details.alert_count == 1)
        .unwrap();
    assert_eq!(
        small.payload.custom_details.alerts,
        vec!["DiskFull@host-b2".to_string()]
    );
    assert!(
        finals.keys().all(|k| k.starts_with("inc-p")),
        "{:?}",
        finals.keys()
    );
    // Incident updates are keyed by dedup_key.
    // Engine figures and librdkafka's lag statistics reach /metrics within a second or so.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut m = svc.metrics();
    while !(m.contains("corral_alerts_deduplicated_total 1")
        && m.contains("corral_kafka_consumer_lag{"))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
        m = svc.metrics();
    }
    assert!(m.contains("corral_alerts_deduplicated_total 1"), "{m}");
    assert!(m.contains("corral_incidents_opened_total 2"), "{m}");
    assert!(
        m.contains("corral_alerts_received_total{source=\"native\"} 6"),
        "{m}"
    );
    assert!(m.contains("corral_config_last_reload_successful 1"), "{m}");
    assert!(m.contains("corral_kafka_consumer_lag{"), "{m}");
    assert_eq!(http(port, "GET", "/healthz", &[], b"").unwrap().0, 200);
    svc.stop();
    // The graceful stop committed everything it consumed.
    let committed: i64 = (0..2).filter_map(|p| env.committed(p)).sum();
    assert_eq!(committed, 6);
}

#[test]
fn poison_message_lands_in_the_dead_letter_topic_and_the_offset_moves_past_it() {
    let env = Env::new("dlq", 1);
    let (config, port) = env.config("corral.yaml", "at_least_once", "");
    let good1 = serde_json::to_vec(&fire(0, "HostDown", "island")).unwrap();
    let good2 = serde_json::to_vec(&fire(5, "DiskFull", "island")).unwrap();
    env.produce_raw(vec![
        ("k".to_string(), good1),
        ("poison-key".to_string(), b"{\"this is\": not json".to_vec()),
        ("k".to_string(), good2),
    ]);
    let svc = Service::start(&env, &config, port, "dlq");
    let dlq = env.read_messages("dlq", Duration::from_secs(60), |m| !m.is_empty());
    assert_eq!(dlq.len(), 1);
    let (headers, payload) = &dlq[0];
    assert_eq!(payload.as_slice(), b"{\"this is\": not json");
    let h: BTreeMap<_, _> = headers.iter().cloned().collect();
    assert!(h["corral.error"].starts_with("native: "), "{h:?}");
    assert_eq!(h["corral.error.kind"], "parse");
    assert_eq!(h["corral.source.offset"], "1");
    let raw = env.read_until("incidents", Duration::from_secs(60), |m| {
        final_states(&updates(m))
            .values()
            .any(|u| u.payload.custom_details.alert_count == 2)
    });
    assert!(final_states(&updates(&raw))
        .values()
        .any(|u| u.payload.custom_details.alert_count == 2));
    let m = svc.metrics();
    assert!(
        m.contains("corral_records_dead_lettered_total{reason=\"parse\"} 1"),
        "{m}"
    );
    svc.stop();
    assert_eq!(
        env.committed(0),
        Some(3),
        "the offset moved past the poison record"
    );
}

/// Produces the first half of `all`, starts the service, kills it with SIGKILL once it is
/// mid-stream (some output, not all input consumed), produces the rest and starts it again.
fn crash_mid_stream_and_restart(
    env: &Env,
    config: &Path,
    port: u16,
    name: &str,
    all: &[Alert],
) -> Service {
    let (first, second) = all.split_at(all.len() / 2);
    env.produce(first);
    let svc = Service::start(env, config, port, name);
    let _ = env.read_until("incidents", Duration::from_secs(60), |m| m.len() >= 20);
    svc.kill9();
    env.produce(second);
    Service::start(env, config, port, name)
}

/// Kill -9 mid-stream, restart: every alert is in an incident, final states equal an
/// uninterrupted run (updates may repeat: at-least-once).
#[test]
fn at_least_once_survives_kill_9_mid_stream() {
    let env = Env::new("alo", 2);
    let (config, port) = env.config("corral.yaml", "at_least_once", "");
    let all = storm(3000, 0);
    let svc = crash_mid_stream_and_restart(&env, &config, port, "alo", &all);
    let expected = final_states(&expected_updates(&all, 2));
    let raw = env.read_until("incidents", Duration::from_secs(120), |m| {
        final_states(&updates(m)) == expected
    });
    let got = final_states(&updates(&raw));
    let fingerprints: BTreeSet<String> = all.iter().map(|a| a.fingerprint.to_string()).collect();
    let in_incidents: BTreeSet<String> = got
        .values()
        .flat_map(|u| {
            u.payload
                .custom_details
                .alerts
                .iter()
                .map(|a| a.to_string())
        })
        .collect();
    assert_eq!(fingerprints, in_incidents, "no alert may be lost");
    assert_eq!(
        got, expected,
        "final incident states equal an uninterrupted run"
    );
    svc.stop();
}

/// Exactly-once: kill -9 mid-stream, restart; the committed output is exactly what an
/// uninterrupted run produces: no duplicate and no missing update.
#[test]
fn exactly_once_has_no_duplicate_updates_across_a_crash() {
    let env = Env::new("eos", 2);
    let (config, port) = env.config("corral.yaml", "exactly_once", "");
    let all = storm(3000, 0);
    let svc = crash_mid_stream_and_restart(&env, &config, port, "eos", &all);
    let expected = expected_updates(&all, 2);
    let raw = env.read_until("incidents", Duration::from_secs(120), |m| {
        m.len() >= expected.len()
    });
    // Anything more would show up now.
    std::thread::sleep(Duration::from_secs(2));
    let raw2 = env.read_until("incidents", Duration::from_secs(1), |_| true);
    assert_eq!(raw.len(), raw2.len());
    let got = updates(&raw2);
    let by_key = |v: &[IncidentUpdate]| {
        let mut m: BTreeMap<String, Vec<IncidentUpdate>> = BTreeMap::new();
        for u in v {
            m.entry(u.dedup_key.to_string())
                .or_default()
                .push(u.clone());
        }
        m
    };
    let (g, e) = (by_key(&got), by_key(&expected));
    assert_eq!(g.len(), e.len());
    for (k, ups) in &e {
        assert_eq!(g.get(k).map(Vec::len), Some(ups.len()), "updates of {k}");
        assert_eq!(g.get(k), Some(ups), "updates of {k}");
    }
    assert_eq!(got.len(), expected.len(), "no duplicate updates");
    svc.stop();
}

/// Two processes in one group: the second joins mid-stream and takes partitions over from the
/// first (which checkpoints them on revoke); then the first leaves. Nothing is lost.
#[test]
fn rebalance_between_two_processes_loses_nothing() {
    let env = Env::new("rebalance", 4);
    let (config_a, port_a) = env.config("a.yaml", "at_least_once", "");
    let (config_b, port_b) = env.config("b.yaml", "at_least_once", "");
    let all = storm(4000, 0);
    let (first, rest) = all.split_at(1500);
    let (second, third) = rest.split_at(1500);
    env.produce(first);
    let a = Service::start(&env, &config_a, port_a, "a");
    let _ = env.read_until("incidents", Duration::from_secs(60), |m| m.len() >= 20);
    let b = Service::start(&env, &config_b, port_b, "b");
    env.produce(second);
    let _ = env.read_until("incidents", Duration::from_secs(60), |m| m.len() >= 40);
    a.stop();
    env.produce(third);
    let expected = final_states(&expected_updates(&all, 4));
    let raw = env.read_until("incidents", Duration::from_secs(120), |m| {
        final_states(&updates(m)) == expected
    });
    let got = final_states(&updates(&raw));
    assert_eq!(
        got, expected,
        "final incident states equal one uninterrupted engine per partition"
    );
    assert!(b.log_text().contains("partitions assigned"));
    b.stop();
}

#[test]
fn invalid_config_on_reload_keeps_the_service_running_with_the_old_config() {
    let env = Env::new("reload", 1);
    let (config, port) = env.config("corral.yaml", "at_least_once", "");
    let svc = Service::start(&env, &config, port, "reload");
    env.produce(&[fire(0, "HostDown", "host-b1")]);
    let _ = env.read_until("incidents", Duration::from_secs(60), |m| !m.is_empty());

    // Broken rules: the reload is refused with the file and line, the old rules stay.
    std::fs::write(
        env.path("rules.yaml"),
        "settings:\n  update_interval: soon\n  bogus: 1\n",
    )
    .unwrap();
    let auth = [("Authorization", "Bearer s3cret")];
    assert_eq!(
        http(port, "POST", "/-/reload", &[], b"").unwrap().0,
        401,
        "reload needs the token"
    );
    let (status, body) = http(port, "POST", "/-/reload", &auth, b"").unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("rules.yaml:"), "{body}");
    assert!(svc
        .metrics()
        .contains("corral_config_last_reload_successful 0"));
    svc.signal("-HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(http(port, "GET", "/healthz", &[], b"").unwrap().0, 200);

    // Still correlating with the old rules.
    env.produce(&[fire(10, "ServiceDown", "web-b")]);
    let raw = env.read_until("incidents", Duration::from_secs(60), |m| {
        final_states(&updates(m))
            .values()
            .any(|u| u.payload.custom_details.alert_count == 2)
    });
    assert!(final_states(&updates(&raw))
        .values()
        .any(|u| u.payload.custom_details.alert_count == 2));

    // A valid file is taken.
    std::fs::write(env.path("rules.yaml"), RULES).unwrap();
    let (status, body) = http(port, "POST", "/-/reload", &auth, b"").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(svc
        .metrics()
        .contains("corral_config_last_reload_successful 1"));
    svc.stop();
}

#[test]
fn http_ingest_validates_authenticates_and_produces_to_the_input_topic() {
    let env = Env::new("ingest", 1);
    let (config, port) = env.config(
        "corral.yaml",
        "at_least_once",
        "http: {listen: '127.0.0.1:PORT', token_env: CORRAL_TEST_TOKEN, max_body_bytes: 2000}\n",
    );
    // The extra http section replaces the default one: rewrite the listen port into it.
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .lines()
        .filter(|l| !l.starts_with("http: {listen: '127.0.0.1:") || l.contains("PORT"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("PORT", &port.to_string());
    std::fs::write(&config, text).unwrap();
    let svc = Service::start(&env, &config, port, "ingest");
    let auth = [("Authorization", "Bearer s3cret")];
    let body = serde_json::to_vec(&fire(0, "HostDown", "host-a2")).unwrap();
    assert_eq!(
        http(port, "POST", "/ingest/native", &[], &body).unwrap().0,
        401
    );
    assert_eq!(
        http(
            port,
            "POST",
            "/ingest/native",
            &[("Authorization", "Bearer nope")],
            &body
        )
        .unwrap()
        .0,
        401
    );
    let (status, text) = http(port, "POST", "/ingest/native", &auth, b"{\"name\": 1}").unwrap();
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("parse"), "{text}");
    assert_eq!(
        http(port, "POST", "/ingest/native", &auth, &vec![b' '; 5000])
            .unwrap()
            .0,
        413
    );
    assert_eq!(
        http(port, "POST", "/ingest/nosuchformat", &auth, &body)
            .unwrap()
            .0,
        404
    );
    let (status, text) = http(port, "POST", "/ingest/native", &auth, &body).unwrap();
    assert_eq!(status, 202, "{text}");
    let raw = env.read_until("incidents", Duration::from_secs(60), |m| !m.is_empty());
    let finals = final_states(&updates(&raw));
    assert_eq!(finals.len(), 1);
    assert_eq!(
        finals
            .values()
            .next()
            .unwrap()
            .payload
            .custom_details
            .alerts,
        vec!["HostDown@host-a2".to_string()]
    );
    assert!(finals
        .values()
        .all(|u| u.event_action == EventAction::Trigger));
    svc.stop();
}

/// Producers key records by fingerprint, scattering one failure over every partition; with
/// `input.partitioning: repartition` corral re-keys them by topology domain first, so each
/// failure is still correlated as one incident.
#[test]
fn repartition_brings_a_domain_together_when_producers_key_otherwise() {
    let env = Env::new("repart", 4);
    let (config, port) = env.config("corral.yaml", "at_least_once", "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "input: {format: native}",
        "input: {format: native, partitioning: repartition}",
    );
    std::fs::write(&config, text).unwrap();
    let alerts = vec![
        fire(0, "HostDown", "host-a1"),
        fire(2, "VMDown", "esx-1"),
        fire(4, "DatabaseDown", "db-1"),
        fire(6, "HighErrorRate", "payroll-api"),
        fire(8, "LinkDown", "host-a2"),
        fire(1, "DiskFull", "host-b2"),
        fire(3, "ServiceDown", "web-b"),
        fire(5, "Unreachable", "host-b1"),
    ];
    // Keyed by fingerprint: the rack A alerts land on different input partitions.
    let keys: BTreeSet<i32> = alerts
        .iter()
        .map(|a| partition_of(&a.fingerprint, 4))
        .collect();
    assert!(keys.len() > 1, "the fixture must scatter over partitions");
    env.produce_raw(
        alerts
            .iter()
            .map(|a| (a.fingerprint.to_string(), serde_json::to_vec(a).unwrap())),
    );
    env.produce_raw(vec![("x".to_string(), b"garbage".to_vec())]);
    // The grouping one engine makes of the same alerts in event-time order.
    let mut in_order = alerts.clone();
    in_order.sort_by_key(|a| a.starts_at);
    let grouping = |ups: &[IncidentUpdate]| -> BTreeSet<BTreeSet<String>> {
        final_states(ups)
            .values()
            .filter(|u| u.payload.custom_details.merged_into.is_none())
            .map(|u| {
                u.payload
                    .custom_details
                    .alerts
                    .iter()
                    .map(|a| a.to_string())
                    .collect()
            })
            .collect()
    };
    let expected = grouping(&expected_updates(&in_order, 1));
    assert!(
        expected.iter().any(|g| g.len() >= 4),
        "the fixture must make a multi-alert incident: {expected:?}"
    );
    let svc = Service::start(&env, &config, port, "repart");
    let raw = env.read_until("incidents", Duration::from_secs(60), |m| {
        grouping(&updates(m)) == expected
    });
    let groups = grouping(&updates(&raw));
    assert_eq!(groups, expected);
    let dlq = env.read_messages("dlq", Duration::from_secs(30), |m| !m.is_empty());
    assert_eq!(
        dlq.len(),
        1,
        "the repartition stage dead-letters bad records"
    );
    svc.stop();
}

/// librdkafka reports a dropped broker connection (an idle socket closed, a stall on a loaded
/// machine) as a consumption error and reconnects on its own: worth a line on stderr, not a
/// failure. The reader's deadline still fails a test whose broker never comes back.
fn reconnects_by_itself(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown)
    )
}
