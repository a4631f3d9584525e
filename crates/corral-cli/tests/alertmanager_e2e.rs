//! End to end with a real monitor: Prometheus Alertmanager (Debian's `prometheus-alertmanager`
//! package, with `amtool`) sends its webhooks to the HTTP ingest of a real `corral run`, which
//! correlates them through a real Kafka broker.
//!
//! The Alertmanager configuration is the shipped receiver snippet
//! (`integrations/alertmanager/receiver.yaml`) with its URL, token file and timers filled in, so
//! the test also shows that the snippet is what Alertmanager accepts. Alerts are pushed with
//! `amtool alert add`, firing and then resolved; the test asserts the incidents on the output
//! topic (members by Alertmanager's own fingerprints, root cause), then their resolve updates.
//!
//! Nothing here skips: a missing Alertmanager or amtool fails the test with how to install them,
//! and the broker is started when `CORRAL_KAFKA_BOOTSTRAP` is unset (`support/kafka_broker.rs`).

#[path = "../../corral-kafka/tests/support/http_client.rs"]
mod http_client;
#[path = "../../corral-kafka/tests/support/kafka_broker.rs"]
mod kafka_broker;
use http_client::http;

use corral_core::incident::{EventAction, IncidentUpdate};
use corral_core::model::format_event_time;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A rack behind one top-of-rack switch, a database on one of its hosts, and an unrelated host.
const TOPOLOGY: &str = r#"
nodes:
  - {id: tor-a, kind: switch}
  - {id: host-a1, kind: host}
  - {id: host-a2, kind: host}
  - {id: db-1, kind: database, service: payroll}
  - {id: island, kind: host}
edges:
  - {from: host-a1, to: tor-a, type: part_of}
  - {from: host-a2, to: tor-a, type: part_of}
  - {from: db-1, to: host-a1, type: runs_on}
"#;

/// Every change is emitted at once, and an incident whose alerts all resolved closes after one
/// quiet second. Timers fire once the watermark (newest event time minus `allowed_lateness`)
/// passes them, and with no more input event time follows the wall clock (`idle_advance_ms`,
/// as in production), so the resolve comes about three seconds after the last resolved alert.
const RULES: &str = "settings: {update_interval: 0s, resolve_hold: 1s, allowed_lateness: 2s}
groupings:
  - {name: topology, window: 5m, max_hops: 2}
";

/// The alerts pushed with amtool, in order of their start: (alertname, instance label, severity,
/// seconds before now). `instance` carries exporter ports, as Prometheus sets it; corral strips
/// them. All but `DiskFull` are on the rack.
const ALERTS: [(&str, &str, &str, i64); 5] = [
    ("SwitchDown", "tor-a", "critical", 60),
    ("NodeDown", "host-a1:9100", "critical", 50),
    ("NodeDown", "host-a2:9100", "critical", 48),
    ("DiskFull", "island:9100", "warning", 45),
    ("MySQLDown", "db-1:9104", "error", 40),
];

const DEADLINE: Duration = Duration::from_secs(90);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An executable named by an environment variable, else the first of `names` on PATH.
fn find_tool(env_var: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "this test needs {} on PATH (or {env_var} set to it) and does not skip without it: \
         install Debian's package with `apt-get install prometheus-alertmanager` \
         (scripts/test-all.sh installs it), which ships `prometheus-alertmanager` and `amtool`",
        names.join(" or ")
    );
}

/// A child process that is killed when the test ends, however it ends.
struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn spawn(name: String, command: &mut Command, log: PathBuf) -> Daemon {
        let child = command
            .stdout(std::fs::File::create(log.with_extension("stdout")).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Daemon { name, child, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log when the process has exited.
    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "{} exited with {status}; its log:\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    /// Polls `GET path` until it answers 200.
    fn wait_http_ok(&mut self, port: u16, path: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok((200, _)) = http(port, "GET", path, &[], b"") {
                return;
            }
            self.assert_alive();
            assert!(
                Instant::now() < deadline,
                "{} did not answer 200 on {path}; its log:\n{}",
                self.name,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shipped receiver snippet made into a whole Alertmanager config for this test: a root
/// route to a receiver that sends nothing, the snippet's `corral` route and receiver pointing at
/// this corral, and timers short enough for a test.
fn alertmanager_config(corral_port: u16, token_file: &Path) -> String {
    let snippet_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../integrations/alertmanager/receiver.yaml"
    );
    let snippet = std::fs::read_to_string(snippet_path).unwrap();
    let mut config: Value = serde_norway::from_str(&snippet).unwrap();
    let route = &mut config["route"];
    route["receiver"] = Value::from("discard");
    let corral_route = &mut route["routes"][0];
    assert_eq!(corral_route["receiver"], Value::from("corral"), "{snippet}");
    corral_route["group_wait"] = Value::from("1s");
    corral_route["group_interval"] = Value::from("1s");
    let Value::Sequence(receivers) = &mut config["receivers"] else {
        panic!("the snippet has no receivers list:\n{snippet}");
    };
    let webhook = &mut receivers[0]["webhook_configs"][0];
    let shipped_url = webhook["url"].as_str().unwrap().to_string();
    assert!(
        shipped_url.ends_with("/ingest/alertmanager"),
        "{shipped_url}"
    );
    webhook["url"] = Value::from(format!(
        "http://127.0.0.1:{corral_port}/ingest/alertmanager"
    ));
    webhook["http_config"]["authorization"]["credentials_file"] =
        Value::from(token_file.display().to_string());
    let mut discard = serde_norway::Mapping::new();
    discard.insert(Value::from("name"), Value::from("discard"));
    receivers.push(Value::Mapping(discard));
    serde_norway::to_string(&config).unwrap()
}

/// Runs amtool against the Alertmanager and asserts it succeeded.
fn amtool(amtool: &Path, am_port: u16, args: &[String]) {
    let out = Command::new(amtool)
        .arg(format!("--alertmanager.url=http://127.0.0.1:{am_port}"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "amtool {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `amtool alert add` arguments for one of ALERTS; `ends_at` resolves it.
fn add_alert_args(
    (name, instance, severity, _): (&str, &str, &str, i64),
    starts_at: i64,
    ends_at: Option<i64>,
) -> Vec<String> {
    let mut args = vec![
        "alert".to_string(),
        "add".to_string(),
        format!("alertname={name}"),
        format!("instance={instance}"),
        format!("severity={severity}"),
        "job=e2e".to_string(),
        format!("--start={}", format_event_time(starts_at)),
        format!("--annotation=summary={name} on {instance}"),
    ];
    if let Some(end) = ends_at {
        args.push(format!("--end={}", format_event_time(end)));
    }
    args
}

/// Alertmanager's fingerprint of each alert, keyed by (alertname, instance), from its API.
fn alertmanager_fingerprints(am_port: u16) -> BTreeMap<(String, String), String> {
    let (status, body) = http(am_port, "GET", "/api/v2/alerts", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let alerts: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    alerts
        .iter()
        .map(|a| {
            let label = |k: &str| a["labels"][k].as_str().unwrap_or_default().to_string();
            (
                (label("alertname"), label("instance")),
                a["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Reads the output topic from the beginning, accumulating incident updates.
struct IncidentReader {
    consumer: BaseConsumer,
    updates: Vec<IncidentUpdate>,
}

impl IncidentReader {
    fn new(bootstrap: &str, topic: &str) -> IncidentReader {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("{topic}.reader"))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .unwrap();
        let mut assignment = TopicPartitionList::new();
        for t in metadata.topics() {
            assert!(t.error().is_none(), "output topic {topic}: {:?}", t.error());
            for p in t.partitions() {
                assignment
                    .add_partition_offset(topic, p.id(), Offset::Beginning)
                    .unwrap();
            }
        }
        assert!(
            assignment.count() > 0,
            "output topic {topic} has no partitions"
        );
        consumer.assign(&assignment).unwrap();
        IncidentReader {
            consumer,
            updates: Vec::new(),
        }
    }

    /// The last update of each incident once `done` holds for them; panics at the deadline.
    fn final_states_until(
        &mut self,
        daemons: &mut [Daemon],
        what: &str,
        done: impl Fn(&BTreeMap<String, IncidentUpdate>) -> bool,
    ) -> BTreeMap<String, IncidentUpdate> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            while let Some(message) = self.consumer.poll(Duration::from_millis(200)) {
                let message = match message {
                    Ok(m) => m,
                    Err(e) if reconnects_by_itself(&e) => {
                        eprintln!("output consumer: {e} (librdkafka reconnects; waiting)");
                        continue;
                    }
                    Err(e) => panic!("reading {what}: {e}"),
                };
                let payload = message.payload().unwrap_or_default();
                let update: IncidentUpdate = serde_json::from_slice(payload).unwrap_or_else(|e| {
                    panic!(
                        "not an incident update ({e}): {}",
                        String::from_utf8_lossy(payload)
                    )
                });
                assert_eq!(
                    message.key(),
                    Some(update.dedup_key.as_bytes()),
                    "updates are keyed by dedup_key"
                );
                self.updates.push(update);
            }
            let finals = self.final_states();
            if done(&finals) {
                return finals;
            }
            for d in daemons.iter_mut() {
                d.assert_alive();
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = daemons
                    .iter()
                    .map(|d| format!("{}'s log:\n{}", d.name, d.log_text()))
                    .collect();
                panic!(
                    "timed out waiting for {what}; incident updates so far:\n{:#?}\n{}",
                    self.updates,
                    logs.join("\n")
                );
            }
        }
    }

    fn final_states(&self) -> BTreeMap<String, IncidentUpdate> {
        // Updates of one incident share its key, so they are in order within one partition.
        let mut finals = BTreeMap::new();
        for u in &self.updates {
            finals.insert(u.dedup_key.to_string(), u.clone());
        }
        finals
    }
}

fn members(u: &IncidentUpdate) -> BTreeSet<String> {
    u.payload
        .custom_details
        .alerts
        .iter()
        .map(|a| a.to_string())
        .collect()
}

/// One Alertmanager: firing alerts become the expected incidents, resolved ones resolve them.
#[test]
fn alertmanager_webhooks_become_incidents_and_resolve() {
    let metrics = scenario("one", 1);
    // Five firing and five resolved notifications (more only if Alertmanager retried one).
    assert!(
        metric(
            &metrics,
            "corral_alerts_received_total{source=\"alertmanager\"}"
        ) >= Some(10.0),
        "{metrics}"
    );
}

/// An Alertmanager pair that does not share notification state (each gets every alert, as HA
/// pairs do when their gossip is cut) sends every notification twice: corral deduplicates them
/// by Alertmanager's fingerprint, so the incidents are the same as with one.
#[test]
fn duplicate_webhooks_from_an_alertmanager_pair_make_the_same_incidents() {
    let metrics = scenario("pair", 2);
    assert!(
        metric(
            &metrics,
            "corral_alerts_received_total{source=\"alertmanager\"}"
        ) >= Some(20.0),
        "{metrics}"
    );
    // The second copy of each firing alert is a repeat.
    assert!(
        metric(&metrics, "corral_alerts_deduplicated_total") >= Some(5.0),
        "{metrics}"
    );
}

/// The value of a metric line `NAME VALUE` (NAME with its labels, if any).
fn metric(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// Runs corral and `alertmanagers` Alertmanagers, pushes every alert to each of them, asserts
/// the incidents and their resolves; returns corral's final /metrics.
fn scenario(name: &str, alertmanagers: usize) -> String {
    let alertmanager = find_tool(
        "CORRAL_ALERTMANAGER_BIN",
        &["prometheus-alertmanager", "alertmanager"],
    );
    let amtool_bin = find_tool("CORRAL_AMTOOL_BIN", &["amtool"]);
    let bootstrap = kafka_broker::bootstrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let prefix = format!("am-e2e-{}-{}-{name}", now_ms(), std::process::id());
    let topic = |role: &str| format!("{prefix}.{role}");

    // Kafka: the input topic (corral creates the others after it).
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let input_topic = topic("alerts");
    let input = NewTopic::new(&input_topic, 2, TopicReplication::Fixed(1));
    for result in runtime
        .block_on(admin.create_topics([&input], &AdminOptions::new()))
        .unwrap()
    {
        result.unwrap();
    }

    // corral run, HTTP ingest behind a bearer token read from a file.
    let token = format!("e2e-{}-{}", now_ms(), std::process::id());
    std::fs::write(path("corral.token"), format!("{token}\n")).unwrap();
    std::fs::write(path("topology.yaml"), TOPOLOGY).unwrap();
    std::fs::write(path("rules.yaml"), RULES).unwrap();
    let corral_port = free_port();
    let corral_config = format!(
        "kafka:
  bootstrap_servers: '{bootstrap}'
  group_id: {prefix}.group
  topics: {{input: {alerts}, output: {incidents}, dead_letter: {dlq}, state: {state}, repartition: {repartition}}}
  consumer: {{session.timeout.ms: 6000, heartbeat.interval.ms: 500}}
input: {{format: native}}
rules: rules.yaml
topology: topology.yaml
http: {{listen: '127.0.0.1:{corral_port}', token_file: corral.token}}
processing: {{checkpoint_interval_ms: 500, idle_advance_ms: 500}}
",
        alerts = topic("alerts"),
        incidents = topic("incidents"),
        dlq = topic("dlq"),
        state = topic("state"),
        repartition = topic("repartition"),
    );
    std::fs::write(path("corral.yaml"), corral_config).unwrap();
    let mut corral_command = Command::new(env!("CARGO_BIN_EXE_corral"));
    corral_command
        .arg("run")
        .arg("--config")
        .arg(path("corral.yaml"))
        .arg("--instance-id")
        .arg("am-e2e")
        .env("CORRAL_LOG", "info");
    let mut corral = Daemon::spawn(
        "corral run".to_string(),
        &mut corral_command,
        path("corral.log"),
    );
    corral.wait_http_ok(corral_port, "/readyz");
    // The ingest endpoint refuses a request without the token: Alertmanager must send it.
    let (status, _) = http(corral_port, "POST", "/ingest/alertmanager", &[], b"{}").unwrap();
    assert_eq!(status, 401);

    // Alertmanager with the shipped receiver, checked by amtool first.
    std::fs::write(
        path("alertmanager.yml"),
        alertmanager_config(corral_port, &path("corral.token")),
    )
    .unwrap();
    let check = Command::new(&amtool_bin)
        .arg("check-config")
        .arg(path("alertmanager.yml"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "amtool check-config refused the config built from the shipped snippet:\n{}{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr),
        std::fs::read_to_string(path("alertmanager.yml")).unwrap()
    );
    let mut ams: Vec<(Daemon, u16)> = Vec::new();
    for i in 0..alertmanagers {
        let am_port = free_port();
        let mut am_command = Command::new(&alertmanager);
        am_command
            .arg(format!(
                "--config.file={}",
                path("alertmanager.yml").display()
            ))
            .arg(format!(
                "--storage.path={}",
                path(&format!("am-data-{i}")).display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            // Lone instances: no gossip listener to collide with other runs, no shared state.
            .arg("--cluster.listen-address=")
            .arg("--log.level=debug");
        let log = path(&format!("alertmanager-{i}.log"));
        let mut am = Daemon::spawn(format!("alertmanager {i}"), &mut am_command, log);
        am.wait_http_ok(am_port, "/-/ready");
        ams.push((am, am_port));
    }
    let am_ports: Vec<u16> = ams.iter().map(|a| a.1).collect();
    let mut daemons: Vec<Daemon> = vec![corral];
    daemons.extend(ams.into_iter().map(|a| a.0));

    // Fire every alert.
    let pushed_at = now_ms();
    let starts: Vec<i64> = ALERTS.iter().map(|a| pushed_at - a.3 * 1000).collect();
    for &am_port in &am_ports {
        for (alert, start) in ALERTS.iter().zip(&starts) {
            amtool(&amtool_bin, am_port, &add_alert_args(*alert, *start, None));
        }
    }
    // Alertmanager's fingerprint is a hash of the labels: every instance agrees on it.
    let fingerprints = alertmanager_fingerprints(am_ports[0]);
    for &am_port in &am_ports[1..] {
        assert_eq!(alertmanager_fingerprints(am_port), fingerprints);
    }
    let fingerprint = |name: &str, instance: &str| -> String {
        fingerprints
            .get(&(name.to_string(), instance.to_string()))
            .unwrap_or_else(|| panic!("Alertmanager has no {name} on {instance}: {fingerprints:?}"))
            .clone()
    };
    let rack: BTreeSet<String> = ALERTS
        .iter()
        .filter(|a| a.0 != "DiskFull")
        .map(|a| fingerprint(a.0, a.1))
        .collect();
    let island: BTreeSet<String> = [fingerprint("DiskFull", "island:9100")].into();
    assert_eq!(rack.len(), 4, "distinct alerts have distinct fingerprints");

    let mut reader = IncidentReader::new(&bootstrap, &topic("incidents"));
    let fired = reader.final_states_until(&mut daemons, "the two incidents", |finals| {
        let sets: Vec<_> = finals.values().map(members).collect();
        sets.contains(&rack) && sets.contains(&island)
    });
    // Exactly two incidents, each holding exactly its alerts: the rack failure as one, rooted at
    // the switch, and the unrelated disk on its own.
    assert_eq!(fired.len(), 2, "{fired:#?}");
    let rack_incident = fired.values().find(|u| members(u) == rack).unwrap();
    let details = &rack_incident.payload.custom_details;
    assert_eq!(rack_incident.event_action, EventAction::Trigger);
    assert_eq!(details.root_cause.resource, "tor-a", "{rack_incident:#?}");
    assert_eq!(details.root_cause.name.as_deref(), Some("SwitchDown"));
    assert_eq!(
        details.root_cause.fingerprint.as_deref(),
        Some(fingerprint("SwitchDown", "tor-a").as_str())
    );
    let resources: BTreeSet<&str> = details.resources.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        resources,
        BTreeSet::from(["tor-a", "host-a1", "host-a2", "db-1"])
    );
    assert_eq!(details.alert_count, 4);
    assert_eq!(
        rack_incident.payload.severity,
        corral_core::model::Severity::Critical
    );
    assert!(
        details.services.iter().any(|s| s == "payroll"),
        "{details:#?}"
    );
    let island_incident = fired.values().find(|u| members(u) == island).unwrap();
    assert_eq!(
        island_incident.payload.custom_details.root_cause.resource,
        "island"
    );
    assert_eq!(
        island_incident.payload.severity,
        corral_core::model::Severity::Warning
    );

    // Resolve every alert: same labels and start, an end in the past.
    let resolved_at = now_ms() - 1000;
    for &am_port in &am_ports {
        for (alert, start) in ALERTS.iter().zip(&starts) {
            amtool(
                &amtool_bin,
                am_port,
                &add_alert_args(*alert, *start, Some(resolved_at)),
            );
        }
    }
    let resolved = reader.final_states_until(&mut daemons, "both incidents to resolve", |finals| {
        finals.len() == 2
            && finals
                .values()
                .all(|u| u.event_action == EventAction::Resolve)
    });
    // The same two incidents (same dedup keys) resolve, still listing every member.
    assert_eq!(
        resolved.keys().collect::<Vec<_>>(),
        fired.keys().collect::<Vec<_>>()
    );
    let resolved_sets: BTreeSet<BTreeSet<String>> = resolved.values().map(members).collect();
    assert_eq!(
        resolved_sets,
        BTreeSet::from([rack.clone(), island.clone()])
    );

    // Every record was good (no dead letters) and corral's figures agree. They reach /metrics
    // within about a second of the updates.
    let deadline = Instant::now() + DEADLINE;
    let metrics = loop {
        let (status, metrics) = http(corral_port, "GET", "/metrics", &[], b"").unwrap();
        assert_eq!(status, 200, "{metrics}");
        if metric(&metrics, "corral_incidents_resolved_total") == Some(2.0)
            || Instant::now() > deadline
        {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        metric(&metrics, "corral_incidents_opened_total"),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "corral_incidents_resolved_total"),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "corral_open_incidents"),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("corral_records_dead_lettered_total{") && !l.ends_with(" 0")),
        "{metrics}"
    );
    for d in &mut daemons {
        d.assert_alive();
    }

    // Passed: stop them all and drop this run's topics (a failed run keeps them to look at).
    drop(daemons);
    let roles = ["alerts", "incidents", "dlq", "state"].map(topic);
    let names: Vec<&str> = roles.iter().map(String::as_str).collect();
    for result in runtime
        .block_on(admin.delete_topics(&names, &AdminOptions::new()))
        .unwrap()
    {
        result.unwrap_or_else(|(name, e)| panic!("deleting topic {name}: {e}"));
    }
    metrics
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
