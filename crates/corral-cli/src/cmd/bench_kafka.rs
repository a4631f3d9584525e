//! `corral bench-kafka`: the load harness. Produces N alerts of a synthetic storm into fresh
//! topics of a real broker, runs the service in this process until every alert is consumed and
//! every incident update acknowledged, and reports sustained alerts/s, consumer lag and decision
//! latency (consume → incident update acknowledged by the broker) p50/p99.

use crate::input;
use corral_core::topology::{EdgeSpec, EdgeType, NodeSpec};
use corral_core::{Alert, TopologyFile, TopologyIndex};
use corral_kafka::config::{Delivery, ServiceConfig};
use corral_kafka::domain::DomainMap;
use corral_kafka::runner::{run_service, Mode};
use corral_kafka::{Control, LatencySample, Loaded, RunOptions};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Kafka bootstrap servers.
    #[arg(
        long,
        env = "CORRAL_KAFKA_BOOTSTRAP",
        default_value = "127.0.0.1:19092"
    )]
    pub bootstrap: String,
    /// Alert occurrences to produce.
    #[arg(long, default_value_t = 1_000_000)]
    pub alerts: usize,
    /// Partitions of the input topic.
    #[arg(long, default_value_t = 4)]
    pub partitions: i32,
    /// Topology size: clusters of one service node and nine hosts that depend on it.
    #[arg(long, default_value_t = 1_000)]
    pub clusters: usize,
    /// at_least_once or exactly_once.
    #[arg(long, default_value = "at_least_once")]
    pub delivery: String,
    /// State checkpoint period (processing.checkpoint_interval_ms).
    #[arg(long, default_value_t = 5000)]
    pub checkpoint_interval_ms: u64,
    /// Records per batch (processing.batch_max_records).
    #[arg(long, default_value_t = 20_000)]
    pub batch_max_records: usize,
    /// Longest a batch waits to fill (processing.batch_linger_ms).
    #[arg(long, default_value_t = 5)]
    pub batch_linger_ms: u64,
    /// Decode on a thread beside correlation (processing.decode_thread).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub decode_thread: bool,
    /// Extra librdkafka option of the service's consumer, `key=value` (repeatable).
    #[arg(long = "consumer-option", value_name = "KEY=VALUE")]
    pub consumer_options: Vec<String>,
    /// Extra librdkafka option of the service's producer, `key=value` (repeatable).
    #[arg(long = "producer-option", value_name = "KEY=VALUE")]
    pub producer_options: Vec<String>,
    /// Process id of the broker on this machine: its CPU use while corral consumes is reported.
    #[arg(long)]
    pub broker_pid: Option<u32>,
    /// Produce the alerts at this rate (alerts/s) while the service runs, to measure decision
    /// latency at a steady load; 0: produce them all first and measure draining the backlog.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Write every incident update's latency to this CSV file (ms since the first record was
    /// consumed, consumed → handed to the producer µs, consumed → acknowledged µs), to see when
    /// the slow ones happen.
    #[arg(long)]
    pub latency_csv: Option<std::path::PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux ABI corral builds for.
    Some((utime + stime) / 100.0)
}

/// Seconds the threads of a process have spent on a CPU and runnable but waiting for one,
/// summed over its threads (`/proc/<pid>/task/*/schedstat`): the wait shows CPU contention.
fn sched_seconds(pid: &str) -> Option<(f64, f64)> {
    let threads = thread_sched(pid)?;
    let on_cpu = threads.values().map(|t| t.0).sum();
    let waiting = threads.values().map(|t| t.1).sum();
    Some((on_cpu, waiting))
}

/// Per thread (id, name): seconds on a CPU and runnable but waiting for one.
fn thread_sched(pid: &str) -> Option<BTreeMap<(String, String), (f64, f64)>> {
    let mut out = BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(task) = task else { continue };
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let mut f = text
            .split_whitespace()
            .map(|x| x.parse::<u64>().unwrap_or(0) as f64 / 1e9);
        let on_cpu = f.next().unwrap_or(0.0);
        let waiting = f.next().unwrap_or(0.0);
        let id = task.file_name().to_string_lossy().into_owned();
        out.insert((id, name.trim().to_string()), (on_cpu, waiting));
    }
    Some(out)
}

/// `key=value` options as a YAML flow mapping body (`'k': 'v', ...`), keys and values quoted.
fn yaml_options(base: &[(&str, &str)], extra: &[String]) -> anyhow::Result<String> {
    let mut pairs: Vec<(String, String)> = base
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for o in extra {
        let (k, v) = o
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("option {o:?}: expected KEY=VALUE"))?;
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k.trim().to_string(), v.trim().to_string()));
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}: {}", quote(k), quote(v)))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Small deterministic generator (SplitMix64), so that runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn topology(clusters: usize) -> TopologyFile {
    let mut f = TopologyFile::default();
    for c in 0..clusters {
        let svc = format!("svc-{c}");
        f.nodes.push(NodeSpec {
            id: svc.clone(),
            kind: Some("service".into()),
            service: Some(svc.clone()),
            ..NodeSpec::default()
        });
        for h in 0..9 {
            let host = format!("host-{c}-{h}");
            f.nodes.push(NodeSpec {
                id: host.clone(),
                kind: Some("host".into()),
                service: Some(svc.clone()),
                ..NodeSpec::default()
            });
            f.edges.push(EdgeSpec {
                from: host,
                to: svc.clone(),
                edge_type: EdgeType::DependsOn,
            });
        }
    }
    f
}

/// The synthetic storm and where it goes.
struct Storm {
    producer: BaseProducer,
    topic: String,
    alerts: usize,
    clusters: usize,
    domains: Arc<DomainMap>,
}

impl Storm {
    /// Produces every alert, at `rate` alerts/s when given (else as fast as the broker takes
    /// them), and waits for the broker's acknowledgements. Returns the seconds it took.
    fn produce(&self, rate: Option<f64>) -> anyhow::Result<f64> {
        let mut rng = Rng(42);
        let base: i64 = 1_764_036_000_000;
        let names = [
            "HostDown",
            "HighLatency",
            "DiskFull",
            "ServiceUnavailable",
            "PacketLoss",
        ];
        let start = Instant::now();
        for i in 0..self.alerts {
            if let Some(rate) = rate.filter(|_| i % 64 == 0) {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
            let c = rng.below(self.clusters);
            let resource = if rng.below(10) == 0 {
                format!("svc-{c}")
            } else {
                format!("host-{c}-{}", rng.below(9))
            };
            let name = names[rng.below(names.len())];
            // About 2,000 occurrences per second of event time: a sustained storm.
            let mut a = Alert::firing(name, &resource, base + (i as i64) / 2);
            a.source = "bench".into();
            a.service = Some(format!("svc-{c}").into());
            a.fingerprint = format!("{name}/{resource}").into();
            if rng.below(5) == 0 {
                a.status = corral_core::Status::Resolved;
                a.ends_at = Some(a.starts_at);
            }
            let key = self.domains.domain_of(&a);
            let body = serde_json::to_vec(&a)?;
            let mut rec = BaseRecord::to(&self.topic)
                .key(key.as_bytes())
                .payload(&body);
            loop {
                match self.producer.send(rec) {
                    Ok(()) => break,
                    Err((_, r)) => {
                        rec = r;
                        self.producer.poll(Duration::from_millis(10));
                    }
                }
            }
            if i % 1024 == 0 {
                self.producer.poll(Duration::ZERO);
            }
        }
        self.producer.flush(Duration::from_secs(300))?;
        Ok(start.elapsed().as_secs_f64())
    }
}

/// Waits until every partition of `topic` has a leader.
fn wait_for_leaders(admin: &AdminClient<DefaultClientContext>, topic: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let md = admin
            .inner()
            .fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let ready = md.topics().iter().any(|t| {
            t.name() == topic
                && t.error().is_none()
                && !t.partitions().is_empty()
                && t.partitions()
                    .iter()
                    .all(|p| p.error().is_none() && p.leader() >= 0)
        });
        if ready {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "topic {topic} has no leader after 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Name of the harness's producing thread (`--rate`), to tell its CPU from corral's.
const PACER_THREAD: &str = "bench-producer";

/// Length of the windows the decision latency is also reported by, so that a slow start or a
/// periodic stall shows apart from the steady state.
const LATENCY_WINDOW: Duration = Duration::from_secs(1);

/// Decision latency percentiles (ms) of the run's incident updates.
struct LatencyReport {
    p50: f64,
    p99: f64,
    handoff_p99: f64,
    /// Update handed to librdkafka → acknowledged by the broker.
    producer_to_ack_p99: f64,
    /// p99 of the updates whose records were consumed in each successive window.
    p99_by_window: Vec<f64>,
    /// p99 of the updates whose records were consumed after the first window: the steady state,
    /// without the opening burst (every incident of the storm opens in the first tens of ms).
    steady_p99: f64,
}

impl LatencyReport {
    fn of(samples: &[LatencySample], window: Duration) -> LatencyReport {
        let sorted = |f: &dyn Fn(&LatencySample) -> u32, of: &[&LatencySample]| {
            let mut v: Vec<u32> = of.iter().map(|s| f(s)).collect();
            v.sort_unstable();
            v
        };
        let all: Vec<&LatencySample> = samples.iter().collect();
        let total = sorted(&|s| s.total_us, &all);
        let mut by_window: Vec<Vec<&LatencySample>> = Vec::new();
        if let Some(start) = samples.iter().map(|s| s.consumed).min() {
            for s in samples {
                let i = (s.consumed.duration_since(start).as_secs_f64() / window.as_secs_f64())
                    as usize;
                if by_window.len() <= i {
                    by_window.resize_with(i + 1, Vec::new);
                }
                by_window[i].push(s);
            }
        }
        LatencyReport {
            p50: percentile(&total, 0.50),
            p99: percentile(&total, 0.99),
            handoff_p99: percentile(&sorted(&|s| s.handoff_us, &all), 0.99),
            producer_to_ack_p99: percentile(
                &sorted(&|s| s.total_us.saturating_sub(s.handoff_us), &all),
                0.99,
            ),
            p99_by_window: by_window
                .iter()
                .map(|w| percentile(&sorted(&|s| s.total_us, w), 0.99))
                .collect(),
            steady_p99: percentile(
                &sorted(
                    &|s| s.total_us,
                    &by_window
                        .iter()
                        .skip(1)
                        .flatten()
                        .copied()
                        .collect::<Vec<_>>(),
                ),
                0.99,
            ),
        }
    }
}

fn write_latency_csv(path: &std::path::Path, samples: &[LatencySample]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut sorted: Vec<&LatencySample> = samples.iter().collect();
    sorted.sort_by_key(|s| s.consumed);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "consumed_ms,handoff_us,total_us")?;
    if let Some(start) = sorted.first().map(|s| s.consumed) {
        for s in sorted {
            writeln!(
                w,
                "{:.3},{},{}",
                s.consumed.duration_since(start).as_secs_f64() * 1e3,
                s.handoff_us,
                s.total_us
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i] as f64 / 1000.0
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let delivery = match args.delivery.as_str() {
        "at_least_once" => Delivery::AtLeastOnce,
        "exactly_once" => Delivery::ExactlyOnce,
        other => anyhow::bail!("--delivery {other:?}: use at_least_once or exactly_once"),
    };
    anyhow::ensure!(
        args.clusters > 0 && args.alerts > 0,
        "--alerts and --clusters must be positive"
    );
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let prefix = format!("bench-{run_id}");
    let topo_file = topology(args.clusters);
    let domains = DomainMap::build(&topo_file);
    let rules = input::load_rules(None).map_err(input::config_errors)?;
    let loaded = Loaded {
        rules: Arc::new(rules),
        topology: Arc::new(TopologyIndex::build(&topo_file)),
        domains: Arc::new(domains),
        anomaly: None,
    };
    let consumer_yaml = yaml_options(
        &[
            ("fetch.max.bytes", "52428800"),
            ("max.partition.fetch.bytes", "10485760"),
        ],
        &args.consumer_options,
    )?;
    let producer_yaml = yaml_options(&[], &args.producer_options)?;
    let yaml = format!(
        "kafka:\n  bootstrap_servers: '{b}'\n  group_id: {p}\n  topics: {{input: {p}.alerts, output: {p}.incidents, dead_letter: {p}.dlq, state: {p}.state}}\n  consumer: {{{consumer_yaml}}}\n  producer: {{{producer_yaml}}}\ndelivery: {d}\nhttp: {{listen: '127.0.0.1:0'}}\ninput: {{format: native}}\nprocessing: {{checkpoint_interval_ms: {c}, batch_max_records: {bm}, batch_linger_ms: {bl}, max_in_flight: {mif}, decode_thread: {dt}}}\n",
        b = args.bootstrap,
        p = prefix,
        d = args.delivery,
        c = args.checkpoint_interval_ms,
        bm = args.batch_max_records,
        bl = args.batch_linger_ms,
        dt = args.decode_thread,
        mif = args.batch_max_records.max(200_000),
    );
    let cfg = ServiceConfig::parse(&yaml, "bench").map_err(input::config_errors)?;
    debug_assert_eq!(cfg.delivery, delivery);

    // 1. The input topic and the alerts.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &args.bootstrap)
        .create()?;
    let input_topic = format!("{prefix}.alerts");
    rt.block_on(admin.create_topics(
        [&NewTopic::new(
            &input_topic,
            args.partitions,
            TopicReplication::Fixed(1),
        )],
        &AdminOptions::new(),
    ))?;
    // The service's topics exist before it starts, as in a deployment (the service creates the
    // missing ones at start, and the first writes to a topic created a moment before wait for
    // its leader): the figures are those of a running service, not of topic creation.
    wait_for_leaders(&admin, &input_topic)?;
    corral_kafka::service::ensure_topics(&cfg, &rt)?;
    for t in [
        &cfg.kafka.topics.output,
        &cfg.kafka.topics.dead_letter,
        &cfg.kafka.topics.state,
    ] {
        wait_for_leaders(&admin, t)?;
    }
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &args.bootstrap)
        .set("linger.ms", if args.rate > 0.0 { "5" } else { "20" })
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .set("compression.type", "lz4")
        .create()?;
    let storm = Storm {
        producer,
        topic: input_topic.clone(),
        alerts: args.alerts,
        clusters: args.clusters,
        domains: loaded.domains.clone(),
    };
    let mut pacer = None;
    if args.rate > 0.0 {
        // Produced while the service runs (started below, once it is ready).
        pacer = Some(storm);
    } else {
        let secs = storm.produce(None)?;
        eprintln!(
            "produced {} alerts to {input_topic} in {secs:.1} s ({:.0}/s)",
            args.alerts,
            args.alerts as f64 / secs
        );
    }

    // 2. The service, in this process, until everything is consumed and acknowledged.
    let control =
        Control::new(Arc::new(move || Ok(loaded.clone()))).map_err(input::config_errors)?;
    let service_control = control.clone();
    // Named threads, so that the harness's own work shows apart from corral's in the report.
    let service = std::thread::Builder::new()
        .name("corral-correlate".into())
        .spawn(move || {
            run_service(
                cfg,
                service_control,
                RunOptions {
                    instance_id: "bench".into(),
                },
                Mode::Service,
                false,
            )
        })?;
    let mut pacer_thread = None;
    if let Some(storm) = pacer.take() {
        let ready_by = Instant::now() + Duration::from_secs(60);
        while !control.ready.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < ready_by
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let rate = args.rate;
        pacer_thread = Some(
            std::thread::Builder::new()
                .name(PACER_THREAD.into())
                .spawn(move || storm.produce(Some(rate)))?,
        );
    }
    let m = &control.metrics;
    let broker_cpu = || args.broker_pid.and_then(|p| cpu_seconds(&p.to_string()));
    let mut first: Option<Instant> = None;
    let mut cpu_at_first = (None, None);
    let broker_sched = || args.broker_pid.and_then(|p| sched_seconds(&p.to_string()));
    let mut broker_sched_at_first = None;
    let mut threads_at_first = None;
    let mut max_lag: i64 = 0;
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let consumed = m.records_consumed.get() as usize;
        if consumed > 0 && first.is_none() {
            first = Some(Instant::now());
            cpu_at_first = (cpu_seconds("self"), broker_cpu());
            broker_sched_at_first = broker_sched();
            threads_at_first = thread_sched("self");
        }
        let text = m.encode();
        let lag: i64 = text
            .lines()
            .filter(|l| l.starts_with("corral_kafka_consumer_lag{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
            .sum();
        max_lag = max_lag.max(lag);
        if consumed >= args.alerts {
            break;
        }
        if service.is_finished() || Instant::now() > deadline {
            control.request_shutdown();
            let r = service.join();
            anyhow::bail!(
                "service stopped after {consumed} of {} alerts: {:?}",
                args.alerts,
                r.map(|r| r.err())
            );
        }
    }
    let done = Instant::now();
    let cpu_at_done = (cpu_seconds("self"), broker_cpu());
    let broker_sched_at_done = broker_sched();
    // Per thread while consuming: seconds on a CPU and waiting for one. Measured while the
    // harness's producing thread (--rate) still runs, so that it can be told apart from corral.
    let threads: Vec<(String, (f64, f64))> = match (threads_at_first, thread_sched("self")) {
        (Some(a), Some(b)) => b
            .iter()
            .map(|(k, v)| {
                let before = a.get(k).copied().unwrap_or((0.0, 0.0));
                (k.1.clone(), (v.0 - before.0, v.1 - before.1))
            })
            .collect(),
        _ => Vec::new(),
    };
    let corral_threads = threads.iter().filter(|(name, _)| name != PACER_THREAD);
    let corral_sched = (!threads.is_empty()).then(|| {
        corral_threads
            .clone()
            .fold((0.0, 0.0), |acc, (_, t)| (acc.0 + t.0, acc.1 + t.1))
    });
    let harness_cpu: f64 = threads
        .iter()
        .filter(|(name, _)| name == PACER_THREAD)
        .map(|(_, t)| t.0)
        .sum();
    // The busiest threads of corral while consuming: the busiest one bounds the rate a host
    // without contention would reach.
    let mut busiest: Vec<(String, f64)> = corral_threads
        .map(|(name, t)| (name.clone(), t.0))
        .filter(|(_, s)| *s >= 0.05)
        .collect();
    busiest.sort_by(|x, y| y.1.total_cmp(&x.1));
    if let Some(t) = pacer_thread {
        match t.join() {
            Ok(r) => {
                r?;
            }
            Err(_) => anyhow::bail!("the producing thread panicked"),
        }
    }
    let delta = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| {
        a.zip(b).map(|(a, b)| (b.0 - a.0, b.1 - a.1))
    };
    let broker_sched = delta(broker_sched_at_first, broker_sched_at_done);
    // Incident updates of the last records are acknowledged shortly after.
    let mut last = m.updates_produced.get();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = m.updates_produced.get();
        if now == last {
            break;
        }
        last = now;
    }
    let first = first.unwrap_or(done);
    let secs = done.duration_since(first).as_secs_f64().max(1e-6);
    control.request_shutdown();
    match service.join() {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => anyhow::bail!("service failed: {e:#}"),
        Err(_) => anyhow::bail!("service panicked"),
    }
    let samples = std::mem::take(&mut *control.latencies.lock().unwrap_or_else(|p| p.into_inner()));
    let latency = LatencyReport::of(&samples, LATENCY_WINDOW);
    if let Some(path) = &args.latency_csv {
        write_latency_csv(path, &samples)?;
    }
    let handoff_p99 = latency.handoff_p99;
    // CPU used while consuming: corral (this process) per alert, and the broker's share.
    let corral_cpu = cpu_at_first
        .0
        .zip(cpu_at_done.0)
        .map(|(a, b)| (b - a - harness_cpu).max(0.0));
    let broker_cpu = cpu_at_first.1.zip(cpu_at_done.1).map(|(a, b)| b - a);
    let corral_us_per_alert = corral_cpu.map(|c| c * 1e6 / args.alerts as f64);
    let rate = args.alerts as f64 / secs;
    let (p50, p99) = (latency.p50, latency.p99);
    let opened = m.incidents_opened.get();
    let updates = m.updates_produced.get();
    // Best effort: bench topics are not worth keeping on the broker.
    let _ = rt.block_on(admin.delete_topics(
        &[
            &input_topic,
            &format!("{prefix}.incidents"),
            &format!("{prefix}.dlq"),
            &format!("{prefix}.state"),
        ],
        &AdminOptions::new(),
    ));
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "alerts": args.alerts, "partitions": args.partitions, "delivery": args.delivery,
                "rate": args.rate,
                "seconds": secs, "alerts_per_second": rate, "max_consumer_lag": max_lag,
                "latency_p50_ms": p50, "latency_p99_ms": p99, "incidents_opened": opened,
                "incident_updates": updates, "handoff_p99_ms": handoff_p99,
                "producer_to_ack_p99_ms": latency.producer_to_ack_p99,
                "latency_p99_ms_by_window": latency.p99_by_window,
                "latency_steady_p99_ms": latency.steady_p99,
                "latency_window_seconds": LATENCY_WINDOW.as_secs_f64(),
                "corral_cpu_seconds": corral_cpu, "corral_cpu_us_per_alert": corral_us_per_alert,
                "harness_producer_cpu_seconds": harness_cpu,
                "broker_cpu_seconds": broker_cpu,
                "corral_runqueue_wait_seconds": corral_sched.map(|s| s.1),
                "corral_thread_cpu_seconds": busiest,
                "broker_runqueue_wait_seconds": broker_sched.map(|s| s.1),
            })
        );
    } else {
        println!("alerts            {}", args.alerts);
        println!("delivery          {}", args.delivery);
        println!(
            "sustained         {rate:.0} alerts/s ({secs:.2} s, {} partitions)",
            args.partitions
        );
        println!("max consumer lag  {max_lag}");
        println!(
            "decision latency  p50 {p50:.2} ms, p99 {p99:.2} ms ({} updates)",
            samples.len()
        );
        println!("incidents opened  {opened}, updates {updates}");
        println!(
            "handed to producer p99 {handoff_p99:.2} ms (consumed → update queued in librdkafka)"
        );
        println!(
            "producer to ack   p99 {:.2} ms (update queued → acknowledged by the broker)",
            latency.producer_to_ack_p99
        );
        let windows: Vec<String> = latency
            .p99_by_window
            .iter()
            .map(|p| format!("{p:.1}"))
            .collect();
        println!(
            "latency p99 by {:.0} s of consumption: {} ms",
            LATENCY_WINDOW.as_secs_f64(),
            windows.join(", ")
        );
        println!(
            "steady latency    p99 {:.2} ms (updates of records consumed after the first {:.0} s)",
            latency.steady_p99,
            LATENCY_WINDOW.as_secs_f64()
        );
        if let (Some(c), Some(us)) = (corral_cpu, corral_us_per_alert) {
            let harness = if args.rate > 0.0 {
                format!("; the harness's producer, {harness_cpu:.2} s, not counted")
            } else {
                String::new()
            };
            println!(
                "corral CPU        {c:.2} s while consuming ({us:.2} µs per alert, {:.0} % of one core{harness})",
                100.0 * c / secs
            );
        }
        if let Some((on, wait)) = corral_sched {
            println!(
                "corral threads    {on:.2} s on a CPU, {wait:.2} s runnable but waiting for one"
            );
        }
        if !busiest.is_empty() {
            let list: Vec<String> = busiest
                .iter()
                .map(|(n, s)| format!("{n} {s:.2} s"))
                .collect();
            println!("busiest threads   {}", list.join(", "));
        }
        if let Some((on, wait)) = broker_sched {
            println!(
                "broker threads    {on:.2} s on a CPU, {wait:.2} s runnable but waiting for one"
            );
        }
        if let Some(b) = broker_cpu {
            println!(
                "broker CPU        {b:.2} s while consuming ({:.0} % of one core)",
                100.0 * b / secs
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
