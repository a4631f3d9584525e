//! `corral run`: consume alerts, correlate, produce incident updates.
//!
//! One correlation thread owns an [`Engine`] per assigned input partition. Delivery:
//!
//! * at-least-once (default): every produced message (update, dead letter, checkpoint) carries
//!   the epoch it was produced in. A checkpoint of a partition's engine (snapshot + next offset)
//!   closes an epoch; the partition's offset is committed only once the broker has acknowledged
//!   every message of that epoch and all earlier ones. After a crash the engine restarts from the
//!   checkpoint and re-reads the records after it: updates may repeat, nothing is lost.
//! * exactly-once: each batch is one Kafka transaction holding its updates, dead letters, the
//!   checkpoints of the partitions it touched and their offsets (`send_offsets_to_transaction`).
//!
//! Rebalances: on revoke the partitions are checkpointed and committed before they are handed
//! over; on assign their engines are restored from the state topic before any record is read.

use crate::config::{Delivery, Partitioning, ServiceConfig};
use crate::decode::{DecodeError, DecodeStage, DecodedBatch, Decoder, RawBatch, RawRecord};
use crate::domain::DomainMap;
use crate::metrics::Metrics;
use crate::state::{read_checkpoints, state_key, Checkpoint};
use corral_core::engine::EngineConfig;
use corral_core::{
    ConfigError, Engine, EngineSnapshot, EngineStats, IncidentUpdate, Millis, RuleSet,
    TopologyIndex,
};
use corral_formats::write_update_json;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Makes the learned-baselines model of a new engine (one per partition engine).
pub type AnomalyFactory =
    Arc<dyn Fn() -> Result<Box<dyn corral_core::anomaly::AnomalyModel>, String> + Send + Sync>;

/// Rules, topology, topology domains and learned baselines, swapped as one on reload.
#[derive(Clone)]
pub struct Loaded {
    pub rules: Arc<RuleSet>,
    pub topology: Arc<TopologyIndex>,
    pub domains: Arc<DomainMap>,
    /// None: no models configured (neutral anomaly scores).
    pub anomaly: Option<AnomalyFactory>,
}

/// Loads rules and topology from where the config says (called at start and on every reload).
pub type Loader = Arc<dyn Fn() -> Result<Loaded, Vec<ConfigError>> + Send + Sync>;

/// What the HTTP server, signal handlers and the correlation thread share.
pub struct Control {
    pub metrics: Metrics,
    pub shutdown: AtomicBool,
    pub ready: AtomicBool,
    loader: Loader,
    current: Mutex<Loaded>,
    /// Set by a successful reload; the correlation thread installs it between records.
    pending: Mutex<Option<Loaded>>,
    /// Decision latency of every incident update (bounded sample, for the load harness).
    pub latencies: Mutex<Vec<LatencySample>>,
}

/// One incident update's decision latency, split where corral hands the update to librdkafka.
#[derive(Clone, Copy, Debug)]
pub struct LatencySample {
    /// When the record that caused the update was consumed (or the engine released it).
    pub consumed: Instant,
    /// Consumed → update handed to the producer: corral's own share, in µs.
    pub handoff_us: u32,
    /// Consumed → update acknowledged by the broker (exactly-once: its transaction committed),
    /// in µs.
    pub total_us: u32,
}

const MAX_LATENCY_SAMPLES: usize = 2_000_000;

/// Records per batch handed to the decode thread: large enough that the hand-off costs little
/// per record, small enough that a record does not wait long behind the others of its batch
/// (bench-kafka --rate 100000: consumed → update queued p50 1.1-1.3 ms with 64, 3.3-3.8 ms with
/// 256, for about 0.4 µs more CPU per alert; the backlog drain stays near 300,000 alerts/s).
const STAGE_BATCH_RECORDS: usize = 64;
/// Decoded batches waiting for the correlation thread at most.
const STAGE_BATCHES_IN_FLIGHT: usize = 2;

impl Control {
    pub fn new(loader: Loader) -> Result<Arc<Control>, Vec<ConfigError>> {
        let loaded = loader()?;
        Ok(Arc::new(Control {
            metrics: Metrics::new(),
            shutdown: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            loader,
            current: Mutex::new(loaded),
            pending: Mutex::new(None),
            latencies: Mutex::new(Vec::new()),
        }))
    }

    /// Loads rules and topology again. When they are invalid the running ones stay in force.
    pub fn reload(&self) -> Result<(), Vec<ConfigError>> {
        match (self.loader)() {
            Ok(l) => {
                *lock(&self.current) = l.clone();
                *lock(&self.pending) = Some(l);
                self.metrics.config_last_reload_successful.set(1);
                tracing::info!("rules and topology reloaded");
                Ok(())
            }
            Err(errors) => {
                self.metrics.config_last_reload_successful.set(0);
                for e in &errors {
                    tracing::error!(error = %e, "reload rejected; keeping the running rules and topology");
                }
                Err(errors)
            }
        }
    }

    /// One decision latency: record consumed at `received`, its update handed to the producer
    /// at `queued`, delivered now.
    fn observe_latency(&self, received: Instant, queued: Instant) {
        let secs = received.elapsed().as_secs_f64();
        self.metrics.processing_latency.observe(secs);
        let micros = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
        let mut l = lock(&self.latencies);
        if l.len() < MAX_LATENCY_SAMPLES {
            l.push(LatencySample {
                consumed: received,
                handoff_us: micros(queued.saturating_duration_since(received)),
                total_us: micros(received.elapsed()),
            });
        }
    }

    pub fn current(&self) -> Loaded {
        lock(&self.current).clone()
    }

    fn take_pending(&self) -> Option<Loaded> {
        lock(&self.pending).take()
    }

    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
    }

    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// A poisoned lock only means another thread panicked while holding it; the data is still the
/// best we have, and the service must keep going (or shut down cleanly).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Producer acknowledgements
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SentKind {
    Update,
    DeadLetter,
    Checkpoint,
}

struct Sent {
    epoch: u64,
    /// When the input record that caused this message was consumed.
    received: Instant,
    /// When it was handed to the producer.
    queued: Instant,
    kind: SentKind,
}

#[derive(Default)]
struct AckState {
    /// Epoch → messages produced in it and not yet acknowledged.
    outstanding: BTreeMap<u64, u64>,
    failed: Option<String>,
}

struct AckContext {
    control: Arc<Control>,
    /// Shared by the checkpoint writer's producer (at-least-once), whose messages count in the
    /// same epochs.
    state: Arc<Mutex<AckState>>,
    /// Exactly-once: an update is decided when its transaction commits (read_committed readers
    /// see it then), not when the broker acknowledges its write; see `Pipeline::txn_updates`.
    latency_at_commit: bool,
}

impl AckContext {
    /// Counted before the message is handed to librdkafka: the polling thread may deliver its
    /// report before `send` even returns.
    fn sent(&self, epoch: u64) {
        *lock(&self.state).outstanding.entry(epoch).or_insert(0) += 1;
    }

    /// Takes back a `sent` whose message librdkafka refused.
    fn unsent(&self, epoch: u64) {
        let mut st = lock(&self.state);
        if let Some(n) = st.outstanding.get_mut(&epoch) {
            *n -= 1;
            if *n == 0 {
                st.outstanding.remove(&epoch);
            }
        }
    }

    /// True when every message of `epoch` and of all earlier epochs was acknowledged.
    fn acked_through(&self, epoch: u64) -> bool {
        lock(&self.state)
            .outstanding
            .first_key_value()
            .is_none_or(|(e, _)| *e > epoch)
    }

    fn failure(&self) -> Option<String> {
        lock(&self.state).failed.clone()
    }

    /// A message could not be produced: nothing more may be committed.
    fn fail(&self, why: String) {
        let mut st = lock(&self.state);
        if st.failed.is_none() {
            st.failed = Some(why);
        }
    }
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = Box<Sent>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<Sent>) {
        let mut st = lock(&self.state);
        match result {
            Ok(_) => {
                if let Some(n) = st.outstanding.get_mut(&sent.epoch) {
                    *n -= 1;
                    if *n == 0 {
                        st.outstanding.remove(&sent.epoch);
                    }
                }
                drop(st);
                if sent.kind == SentKind::Update {
                    self.control.metrics.updates_produced.inc();
                    if !self.latency_at_commit {
                        self.control.observe_latency(sent.received, sent.queued);
                    }
                }
            }
            Err((e, _)) => {
                // The epoch stays outstanding forever: its offsets are never committed.
                if st.failed.is_none() {
                    st.failed = Some(format!("{:?} message not delivered: {e}", sent.kind));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State checkpoints, encoded and produced beside the correlation thread
// ---------------------------------------------------------------------------------------------

/// One partition's checkpoint: its engine's state copied at the end of `epoch`.
struct CheckpointJob {
    /// Manifest key of the partition (`state_key`).
    key: String,
    id: u64,
    epoch: u64,
    next_offset: i64,
    slot: u8,
    snapshot: EngineSnapshot,
}

impl CheckpointJob {
    /// The state topic records (chunks, then the manifest).
    fn records(&self) -> Vec<(String, Vec<u8>)> {
        Checkpoint {
            next_offset: self.next_offset,
            snapshot: self.snapshot.encode(),
            slot: self.slot,
        }
        .records(&self.key, self.id)
    }
}

/// Encodes checkpoints (JSON of the whole state: tens of milliseconds for a large one) and
/// produces them, in the order submitted, on a thread of its own. Each submitted job holds its
/// epoch open (one `sent` taken by the submitter) until all its records are handed to the
/// producer, so that no offset is committed before its checkpoint is acknowledged.
struct CheckpointWriter {
    producer: Arc<ThreadedProducer<AckContext>>,
    jobs: Option<std::sync::mpsc::Sender<CheckpointJob>>,
    /// Jobs submitted and not yet produced.
    pending: Arc<(Mutex<usize>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CheckpointWriter {
    /// `producer` is the writer's own (its acknowledgements counted in the correlation producer's
    /// epochs): a checkpoint is megabytes, and the broker handles one request per connection at
    /// a time, so on the correlation producer's connection every update produced after it would
    /// wait for the broker to write it.
    fn spawn(
        producer: ThreadedProducer<AckContext>,
        topic: String,
    ) -> std::io::Result<CheckpointWriter> {
        let (tx, rx) = std::sync::mpsc::channel::<CheckpointJob>();
        let pending = Arc::new((Mutex::new(0usize), std::sync::Condvar::new()));
        let done = pending.clone();
        let producer = Arc::new(producer);
        let own = producer.clone();
        let thread = std::thread::Builder::new()
            .name("corral-checkpoint".into())
            .spawn(move || {
                let producer = own;
                for job in rx {
                    produce_checkpoint(&producer, &topic, &job);
                    // Releases the epoch held by the submitter.
                    producer.context().unsent(job.epoch);
                    let (count, changed) = &*done;
                    *lock(count) -= 1;
                    changed.notify_all();
                }
            })?;
        Ok(CheckpointWriter {
            producer,
            jobs: Some(tx),
            pending,
            thread: Some(thread),
        })
    }

    fn submit(&self, job: CheckpointJob) -> Result<(), String> {
        let jobs = self.jobs.as_ref().ok_or("checkpoint writer stopped")?;
        *lock(&self.pending.0) += 1;
        jobs.send(job).map_err(|_| {
            *lock(&self.pending.0) -= 1;
            "checkpoint writer stopped".to_string()
        })
    }

    /// Waits until every submitted checkpoint is handed to the producer and sent.
    fn flush(&self) -> Result<(), String> {
        let (count, changed) = &*self.pending;
        let mut n = lock(count);
        while *n > 0 {
            n = changed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        drop(n);
        self.producer
            .flush(Duration::from_secs(60))
            .map_err(|e| format!("checkpoint producer flush: {e}"))
    }
}

impl Drop for CheckpointWriter {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Produces one checkpoint's records; waits while the producer queue is full. A refused record
/// fails the run (nothing more is committed).
fn produce_checkpoint(producer: &ThreadedProducer<AckContext>, topic: &str, job: &CheckpointJob) {
    let ack = producer.context();
    for (key, value) in job.records() {
        let now = Instant::now();
        let sent = Sent {
            epoch: job.epoch,
            received: now,
            queued: now,
            kind: SentKind::Checkpoint,
        };
        let mut record = BaseRecord::with_opaque_to(topic, Box::new(sent))
            .key(key.as_bytes())
            .payload(&value);
        ack.sent(job.epoch);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => {
                    ack.unsent(job.epoch);
                    ack.fail(format!("produce to {topic}: {e}"));
                    return;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Consumer context: rebalances and lag
// ---------------------------------------------------------------------------------------------

struct CorralConsumerContext {
    control: Arc<Control>,
    pipeline: OnceLock<Arc<Mutex<Pipeline>>>,
    topic: String,
}

impl ClientContext for CorralConsumerContext {
    fn stats(&self, statistics: Statistics) {
        if let Some(t) = statistics.topics.get(&self.topic) {
            for (p, s) in &t.partitions {
                // librdkafka's consumer_lag counts from the consumer's own commits; offsets
                // committed through transactions (exactly-once) leave it at -1, so fall back to
                // the last stable offset minus the next offset to be read.
                let lag = if s.consumer_lag >= 0 {
                    s.consumer_lag
                } else if s.app_offset >= 0 && s.ls_offset >= 0 {
                    (s.ls_offset - s.app_offset).max(0)
                } else {
                    -1
                };
                if *p >= 0 && lag >= 0 {
                    self.control
                        .metrics
                        .consumer_lag
                        .get_or_create(&vec![
                            ("topic".to_string(), self.topic.clone()),
                            ("partition".to_string(), p.to_string()),
                        ])
                        .set(lag);
                }
            }
        }
    }
}

impl ConsumerContext for CorralConsumerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let (Rebalance::Revoke(tpl), Some(p)) = (rebalance, self.pipeline.get()) {
            let parts: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
            tracing::info!(partitions = ?parts, "partitions revoked");
            self.control.ready.store(false, Ordering::SeqCst);
            lock(p).on_revoke(consumer, &parts);
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match (rebalance, self.pipeline.get()) {
            (Rebalance::Assign(tpl), Some(p)) => {
                let parts: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
                tracing::info!(partitions = ?parts, "partitions assigned");
                let mut pl = lock(p);
                pl.on_assign(consumer, &parts);
                let ok = pl.fatal.is_none() && !pl.partitions.is_empty();
                self.control.ready.store(ok, Ordering::SeqCst);
            }
            (Rebalance::Error(e), _) => tracing::warn!(error = %e, "rebalance error"),
            _ => {}
        }
    }
}

type CorralConsumer = BaseConsumer<CorralConsumerContext>;

// ---------------------------------------------------------------------------------------------
// The correlation pipeline
// ---------------------------------------------------------------------------------------------

struct PartitionState {
    engine: Engine,
    /// Offset of the next record to process.
    next_offset: i64,
    /// Records below this offset are already in the restored state.
    skip_below: i64,
    max_event_time: Option<Millis>,
    last_record_at: Instant,
    last_idle_advance: Instant,
    /// Changed since its last checkpoint.
    dirty: bool,
    touched_in_batch: bool,
    stats_seen: EngineStats,
    /// Chunk slot of the next checkpoint (the other one holds the last complete checkpoint).
    next_slot: u8,
    /// At-least-once: when this partition's next periodic checkpoint is due. The partitions'
    /// checkpoints are spread over the interval, so that the correlation thread copies one
    /// engine's state at a time instead of all of them at once.
    checkpoint_due_at: Instant,
}

struct Pipeline {
    cfg: Arc<ServiceConfig>,
    control: Arc<Control>,
    /// The topic correlated from: the input topic, or the repartition topic.
    topic: String,
    /// Its own thread serves delivery reports as they arrive, so acknowledgements (and the
    /// latency measured from them) never wait for the correlation loop.
    producer: Arc<ThreadedProducer<AckContext>>,
    /// At-least-once: encodes and produces state checkpoints beside the correlation thread.
    checkpoints: Option<CheckpointWriter>,
    eos: bool,
    txn_open: bool,
    /// Exactly-once: when the records behind the open transaction's updates were consumed, and
    /// when the updates were handed to the producer.
    txn_updates: Vec<(Instant, Instant)>,
    /// Polled records not yet handed to the decode thread.
    staged: RawBatch,
    decode: DecodeStage,
    loaded: Loaded,
    partitions: BTreeMap<i32, PartitionState>,
    epoch: u64,
    pending_commits: VecDeque<(u64, Vec<(i32, i64)>)>,
    out: Vec<IncidentUpdate>,
    /// One update's JSON, reused from update to update (the encoder writes into it).
    update_json: Vec<u8>,
    fatal: Option<String>,
    batch_records: usize,
    batch_started: Option<Instant>,
    /// `alerts_received_total{source}` handles, so the hot path does not build label sets.
    checkpoint_seq: u64,
    start_nanos: u64,
    source_counters: rustc_hash::FxHashMap<
        compact_str::CompactString,
        prometheus_client::metrics::counter::Counter,
    >,
}

impl Pipeline {
    fn new_engine(&self, partition: i32) -> Result<Engine, String> {
        let mut engine = Engine::with_config(
            self.loaded.rules.clone(),
            self.loaded.topology.clone(),
            EngineConfig {
                // Several engines write to one output topic: ids must not collide.
                id_prefix: format!("inc-p{partition}"),
            },
        );
        if let Some(make) = &self.loaded.anomaly {
            engine.set_anomaly_model(make()?);
        }
        Ok(engine)
    }

    fn set_fatal(&mut self, why: String) {
        tracing::error!(error = %why, "stopping: delivery guarantee at risk");
        if self.fatal.is_none() {
            self.fatal = Some(why);
        }
        self.control.request_shutdown();
    }

    fn on_assign(&mut self, _consumer: &CorralConsumer, parts: &[i32]) {
        let group = self.cfg.kafka.group_id.clone();
        let keys: Vec<String> = parts
            .iter()
            .map(|p| state_key(&group, &self.topic, *p))
            .collect();
        let found = match read_checkpoints(
            &self.cfg.consumer_options(),
            &self.cfg.kafka.topics.state,
            &keys,
            Duration::from_secs(60),
        ) {
            Ok(f) => f,
            Err(e) => {
                self.set_fatal(format!("cannot restore correlation state: {e}"));
                return;
            }
        };
        let interval = Duration::from_millis(self.cfg.processing.checkpoint_interval_ms);
        let assigned = parts.len().max(1) as u32;
        for (i, (p, key)) in parts.iter().zip(&keys).enumerate() {
            let mut engine = match self.new_engine(*p) {
                Ok(e) => e,
                Err(e) => {
                    self.set_fatal(format!("models: {e}"));
                    return;
                }
            };
            let mut skip_below = 0;
            let mut next_slot = 0;
            if let Some(cp) = found.get(key) {
                next_slot = cp.slot ^ 1;
                if let Err(e) = engine.restore(&cp.snapshot) {
                    self.set_fatal(format!("state of partition {p} cannot be restored: {e}"));
                    return;
                }
                skip_below = cp.next_offset;
                tracing::info!(
                    partition = p,
                    next_offset = cp.next_offset,
                    bytes = cp.snapshot.len(),
                    "state restored"
                );
            } else {
                tracing::info!(partition = p, "no checkpoint; starting with empty state");
            }
            let stats_seen = engine.stats().clone();
            let now = Instant::now();
            self.partitions.insert(
                *p,
                PartitionState {
                    max_event_time: engine.now(),
                    engine,
                    next_offset: skip_below,
                    skip_below,
                    last_record_at: now,
                    last_idle_advance: now,
                    dirty: false,
                    touched_in_batch: false,
                    stats_seen,
                    next_slot,
                    checkpoint_due_at: now + interval * (i as u32 + 1) / assigned,
                },
            );
        }
    }

    fn on_revoke(&mut self, consumer: &CorralConsumer, parts: &[i32]) {
        if self.fatal.is_some() {
            // Nothing may be committed once a delivery failed.
            for p in parts {
                self.partitions.remove(p);
            }
            return;
        }
        // The records of these partitions still in the decode stage belong in the checkpoint.
        self.ingest_all();
        if self.fatal.is_some() {
            for p in parts {
                self.partitions.remove(p);
            }
            return;
        }
        if self.eos {
            self.finish_batch(consumer);
        } else {
            self.end_batch_updates();
            self.checkpoint(Some(parts));
            self.drain_and_commit(consumer, CommitMode::Sync);
        }
        for p in parts {
            self.partitions.remove(p);
        }
    }

    fn ensure_txn(&mut self) {
        if self.eos && !self.txn_open {
            if let Err(e) = self.producer.begin_transaction() {
                self.set_fatal(format!("begin transaction: {e}"));
                return;
            }
            self.txn_open = true;
        }
    }

    /// Produces one message; waits (serving acknowledgements) while the producer queue is full.
    fn send(
        &mut self,
        topic: &str,
        key: &[u8],
        payload: &[u8],
        headers: Option<OwnedHeaders>,
        sent: Sent,
    ) {
        let epoch = sent.epoch;
        let mut record = BaseRecord::with_opaque_to(topic, Box::new(sent))
            .key(key)
            .payload(payload);
        if let Some(h) = headers {
            record = record.headers(h);
        }
        self.producer.context().sent(epoch);
        loop {
            match self.producer.send(record) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    // Backpressure: nothing is consumed until the broker takes more.
                    record = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => {
                    self.producer.context().unsent(epoch);
                    self.set_fatal(format!("produce to {topic}: {e}"));
                    return;
                }
            }
        }
    }

    fn emit_updates(&mut self, received: Instant) {
        if self.out.is_empty() {
            return;
        }
        let out = std::mem::take(&mut self.out);
        let mut json = std::mem::take(&mut self.update_json);
        let topic = self.cfg.kafka.topics.output.clone();
        for u in &out {
            let queued = Instant::now();
            // The replay's encoder: the same bytes as serde_json, several times faster, and it
            // cannot fail.
            json.clear();
            write_update_json(u, &mut json);
            self.send(
                &topic,
                u.dedup_key.as_bytes(),
                &json,
                None,
                Sent {
                    epoch: self.epoch,
                    received,
                    queued,
                    kind: SentKind::Update,
                },
            );
            if self.eos {
                self.txn_updates.push((received, queued));
            }
        }
        self.update_json = json;
        self.out = out;
        self.out.clear();
    }

    fn dead_letter(&mut self, raw: &RawBatch, r: &RawRecord, err: &DecodeError) {
        self.control.metrics.dead_lettered(err.kind);
        tracing::warn!(partition = r.partition, offset = r.offset, reason = %err.message, "record dead-lettered");
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "corral.error",
                value: Some(err.message.as_bytes()),
            })
            .insert(Header {
                key: "corral.error.kind",
                value: Some(err.kind.as_bytes()),
            })
            .insert(Header {
                key: "corral.source.topic",
                value: Some(self.topic.as_bytes()),
            })
            .insert(Header {
                key: "corral.source.partition",
                value: Some(r.partition.to_string().as_bytes()),
            })
            .insert(Header {
                key: "corral.source.offset",
                value: Some(r.offset.to_string().as_bytes()),
            });
        let topic = self.cfg.kafka.topics.dead_letter.clone();
        let key = raw.key(r).unwrap_or_default();
        let payload = raw.payload(r).unwrap_or_default();
        self.send(
            &topic,
            key,
            payload,
            Some(headers),
            Sent {
                epoch: self.epoch,
                received: r.received,
                queued: Instant::now(),
                kind: SentKind::DeadLetter,
            },
        );
    }

    /// Takes a polled record into the decode stage; full batches go to the decode thread.
    fn stage(&mut self, msg: &BorrowedMessage<'_>, received: Instant) {
        self.staged.push(
            msg.partition(),
            msg.offset(),
            msg.key(),
            msg.payload(),
            received,
        );
        if self.staged.len() >= STAGE_BATCH_RECORDS {
            self.dispatch_staged();
        }
    }

    /// Hands the staged records to the decode thread (waiting for the oldest batch in flight
    /// when enough are, which bounds memory and latency).
    fn dispatch_staged(&mut self) {
        if self.staged.is_empty() {
            return;
        }
        while self.decode.in_flight() >= STAGE_BATCHES_IN_FLIGHT && self.fatal.is_none() {
            self.ingest_next(true);
        }
        let raw = std::mem::take(&mut self.staged);
        if let Err(e) = self.decode.submit(raw) {
            self.set_fatal(e);
        }
    }

    /// Correlates the oldest decoded batch (waiting for it when `wait`). False when there was
    /// none.
    fn ingest_next(&mut self, wait: bool) -> bool {
        match self.decode.next(wait) {
            Ok(Some(batch)) => {
                self.ingest(batch);
                true
            }
            Ok(None) => false,
            Err(e) => {
                self.set_fatal(e);
                false
            }
        }
    }

    /// Correlates every decoded batch that is ready, without waiting.
    fn ingest_ready(&mut self) {
        while self.fatal.is_none() && self.ingest_next(false) {}
    }

    /// Correlates every record polled so far: before a batch ends for lack of input, before
    /// partitions are revoked and before shutdown, so that checkpoints cover all of them.
    fn ingest_all(&mut self) {
        self.dispatch_staged();
        while self.fatal.is_none() && self.ingest_next(true) {}
    }

    /// Records polled from here on are in the decode stage, not yet in any engine.
    fn staged_or_decoding(&self) -> bool {
        !self.staged.is_empty() || self.decode.in_flight() > 0
    }

    fn ingest(&mut self, batch: DecodedBatch) {
        let DecodedBatch {
            raw,
            alerts,
            results,
        } = batch;
        let mut alerts = alerts.into_iter();
        let mut start = 0;
        for (r, (end, err)) in raw.records().iter().zip(results) {
            let count = end - start;
            start = end;
            let p = r.partition;
            let usable = match self.partitions.get(&p) {
                // Records below the restored checkpoint are already in the state.
                Some(ps) => r.offset >= ps.skip_below,
                None => {
                    // A record of a partition whose assignment we have not seen: it will be
                    // re-read by whoever owns it (its offset is not committed here).
                    tracing::warn!(
                        partition = p,
                        offset = r.offset,
                        "record for an unassigned partition ignored"
                    );
                    false
                }
            };
            if !usable {
                alerts.by_ref().take(count).for_each(drop);
                continue;
            }
            self.ensure_txn();
            self.control.metrics.records_consumed.inc();
            if self.batch_started.is_none() {
                self.batch_started = Some(r.received);
            }
            self.batch_records += 1;
            // A bad record is dead-lettered; the good alerts of a partly bad one are still used.
            if let Some(e) = &err {
                self.dead_letter(&raw, r, e);
            }
            if count > 0 {
                let mut out = std::mem::take(&mut self.out);
                let ps = self.partitions.get_mut(&p).expect("checked above");
                for a in alerts.by_ref().take(count) {
                    match self.source_counters.get(&a.source) {
                        Some(c) => {
                            c.inc();
                        }
                        None => {
                            let c = self.control.metrics.received_counter(&a.source);
                            c.inc();
                            self.source_counters.insert(a.source.clone(), c);
                        }
                    }
                    let t = a.event_time();
                    ps.max_event_time = Some(ps.max_event_time.map_or(t, |m| m.max(t)));
                    ps.engine.ingest(a, &mut out);
                }
                self.out = out;
                self.emit_updates(r.received);
            }
            let ps = self.partitions.get_mut(&p).expect("checked above");
            ps.next_offset = r.offset + 1;
            ps.dirty = true;
            ps.touched_in_batch = true;
            ps.last_record_at = r.received;
        }
    }

    /// Brings every touched engine's clock to the newest event time it saw, so that coalesced
    /// updates due by then go out with this batch.
    fn end_batch_updates(&mut self) {
        let now = Instant::now();
        let parts: Vec<i32> = self
            .partitions
            .iter()
            .filter(|(_, s)| s.touched_in_batch)
            .map(|(p, _)| *p)
            .collect();
        for p in parts {
            let mut out = std::mem::take(&mut self.out);
            let ps = self.partitions.get_mut(&p).expect("listed");
            ps.touched_in_batch = false;
            if let Some(t) = ps.max_event_time {
                ps.engine.advance_to(t, &mut out);
            }
            self.out = out;
            self.emit_updates(now);
        }
    }

    /// On a quiet partition, event time follows the wall clock so that holds, coalesced updates
    /// and expiries still fire.
    fn idle_advance(&mut self) {
        let idle = self.cfg.processing.idle_advance_ms;
        if idle == 0 {
            return;
        }
        let now = Instant::now();
        let parts: Vec<i32> = self
            .partitions
            .iter()
            .filter(|(_, s)| {
                s.max_event_time.is_some()
                    && now.duration_since(s.last_record_at) >= Duration::from_millis(idle)
                    && now.duration_since(s.last_idle_advance) >= Duration::from_millis(200)
            })
            .map(|(p, _)| *p)
            .collect();
        for p in parts {
            let mut out = std::mem::take(&mut self.out);
            let ps = self.partitions.get_mut(&p).expect("listed");
            ps.last_idle_advance = now;
            let elapsed = now.duration_since(ps.last_record_at).as_millis() as Millis;
            let target = ps.max_event_time.unwrap_or(0).saturating_add(elapsed);
            let before = ps.engine.stats().updates_emitted;
            ps.engine.advance_to(target, &mut out);
            if ps.engine.stats().updates_emitted != before || !out.is_empty() {
                ps.dirty = true;
            }
            let had_output = !out.is_empty();
            self.out = out;
            if had_output {
                self.ensure_txn();
                self.emit_updates(now);
            }
        }
    }

    /// Writes the state of the given partitions (all when None) that changed since their last
    /// checkpoint, and queues their offsets for commit once everything up to here is acked.
    fn checkpoint(&mut self, only: Option<&[i32]>) -> Vec<(i32, i64)> {
        let topic = self.cfg.kafka.topics.state.clone();
        let group = self.cfg.kafka.group_id.clone();
        let mut offsets = Vec::new();
        let parts: Vec<i32> = self
            .partitions
            .iter()
            .filter(|(p, s)| s.dirty && only.is_none_or(|o| o.contains(p)))
            .map(|(p, _)| *p)
            .collect();
        let next_due =
            Instant::now() + Duration::from_millis(self.cfg.processing.checkpoint_interval_ms);
        for p in parts {
            let ps = self.partitions.get_mut(&p).expect("listed");
            ps.dirty = false;
            ps.checkpoint_due_at = next_due;
            // Only the copy of the state is taken here; its encoding, the costly part, is the
            // writer's (at-least-once), so that records do not wait behind it.
            let snapshot = ps.engine.snapshot_state();
            let (next_offset, slot) = (ps.next_offset, ps.next_slot);
            ps.next_slot ^= 1;
            offsets.push((p, next_offset));
            let key = state_key(&group, &self.topic, p);
            // Unique per checkpoint: tells its chunks from stale ones of the same slot.
            self.checkpoint_seq += 1;
            let id = (u64::from(std::process::id()) << 40) ^ self.start_nanos ^ self.checkpoint_seq;
            let job = CheckpointJob {
                key,
                id,
                epoch: self.epoch,
                next_offset,
                slot,
                snapshot,
            };
            match &self.checkpoints {
                Some(writer) => {
                    // Holds the epoch open until the writer has produced every chunk.
                    self.producer.context().sent(self.epoch);
                    if let Err(e) = writer.submit(job) {
                        self.producer.context().unsent(self.epoch);
                        self.set_fatal(e);
                    }
                }
                None => {
                    for (k, v) in job.records() {
                        let now = Instant::now();
                        self.send(
                            &topic,
                            k.as_bytes(),
                            &v,
                            None,
                            Sent {
                                epoch: job.epoch,
                                received: now,
                                queued: now,
                                kind: SentKind::Checkpoint,
                            },
                        );
                    }
                }
            }
            self.control.metrics.checkpoints_written.inc();
        }
        if !self.eos && !offsets.is_empty() {
            self.pending_commits
                .push_back((self.epoch, offsets.clone()));
        }
        self.epoch += 1;
        offsets
    }

    /// At-least-once: the changed partitions whose periodic checkpoint is due.
    fn due_checkpoints(&self) -> Vec<i32> {
        let now = Instant::now();
        self.partitions
            .iter()
            .filter(|(_, s)| s.dirty && now >= s.checkpoint_due_at)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Commits the offsets of every checkpoint whose messages are all acknowledged.
    fn commit_acked(&mut self, consumer: &CorralConsumer, mode: CommitMode) {
        if let Some(f) = self.producer.context().failure() {
            self.set_fatal(f);
            return;
        }
        let mut tpl = TopicPartitionList::new();
        let mut latest: BTreeMap<i32, i64> = BTreeMap::new();
        while let Some((epoch, _)) = self.pending_commits.front() {
            if !self.producer.context().acked_through(*epoch) {
                break;
            }
            let (_, offsets) = self.pending_commits.pop_front().expect("front");
            for (p, o) in offsets {
                latest.insert(p, o);
            }
        }
        for (p, o) in &latest {
            if self.partitions.contains_key(p) {
                let _ = tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*o));
            }
        }
        if tpl.count() > 0 {
            if let Err(e) = consumer.commit(&tpl, mode) {
                // A failed commit only means the records after the previous commit are read
                // again after a restart: the checkpoint tells what to skip.
                tracing::warn!(error = %e, "offset commit failed");
            }
        }
    }

    /// Waits until every produced message is acknowledged, then commits what they cover.
    fn drain_and_commit(&mut self, consumer: &CorralConsumer, mode: CommitMode) {
        if let Some(Err(e)) = self.checkpoints.as_ref().map(CheckpointWriter::flush) {
            self.set_fatal(e);
            return;
        }
        if let Err(e) = self.producer.flush(Duration::from_secs(60)) {
            self.set_fatal(format!("producer flush: {e}"));
            return;
        }
        // flush returns once librdkafka's queues are empty; the last reports may still be in
        // the polling thread's hands for a moment.
        let ack = self.producer.context();
        let until = Instant::now() + Duration::from_secs(10);
        while !ack.acked_through(self.epoch) && ack.failure().is_none() && Instant::now() < until {
            std::thread::sleep(Duration::from_micros(200));
        }
        self.commit_acked(consumer, mode);
    }

    /// Closes the batch. Exactly-once: one transaction with updates, checkpoints and offsets.
    fn finish_batch(&mut self, consumer: &CorralConsumer) {
        self.end_batch_updates();
        self.batch_records = 0;
        self.batch_started = None;
        if self.eos {
            if !self.txn_open {
                return;
            }
            let offsets = self.checkpoint(None);
            if self.fatal.is_some() {
                return;
            }
            let mut tpl = TopicPartitionList::new();
            for (p, o) in &offsets {
                let _ = tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*o));
            }
            let result: Result<(), String> = (|| {
                if tpl.count() > 0 {
                    let meta = consumer
                        .group_metadata()
                        .ok_or_else(|| "consumer group metadata unavailable".to_string())?;
                    self.producer
                        .send_offsets_to_transaction(&tpl, &meta, Duration::from_secs(30))
                        .map_err(|e| format!("send offsets: {e}"))?;
                }
                self.producer
                    .commit_transaction(Duration::from_secs(60))
                    .map_err(|e| format!("commit: {e}"))
            })();
            self.txn_open = false;
            let decided = std::mem::take(&mut self.txn_updates);
            if result.is_ok() {
                for (received, queued) in decided {
                    self.control.observe_latency(received, queued);
                }
            }
            if let Err(e) = result {
                let _ = self.producer.abort_transaction(Duration::from_secs(30));
                self.set_fatal(format!(
                    "transaction failed (aborted; restart resumes from the last commit): {e}"
                ));
            }
        } else {
            let due = self.due_checkpoints();
            if !due.is_empty() {
                self.checkpoint(Some(&due));
            } else {
                self.epoch += 1;
            }
            self.commit_acked(consumer, CommitMode::Async);
        }
    }

    fn apply_reload(&mut self, loaded: Loaded) {
        for ps in self.partitions.values_mut() {
            ps.engine
                .reload(loaded.rules.clone(), loaded.topology.clone());
        }
        self.loaded = loaded;
    }

    fn refresh_metrics(&mut self) {
        let mut active = 0usize;
        let mut open = 0usize;
        let mut alerts = 0u64;
        let mut opened = 0u64;
        for ps in self.partitions.values_mut() {
            active += ps.engine.active_alerts();
            open += ps.engine.open_incidents();
            let now = ps.engine.stats().clone();
            self.control.metrics.add_engine_delta(&ps.stats_seen, &now);
            alerts += now.alerts;
            opened += now.incidents_opened;
            ps.stats_seen = now;
        }
        let m = &self.control.metrics;
        m.active_alerts.set(active as i64);
        m.open_incidents.set(open as i64);
        if alerts > 0 {
            m.compression_ratio.set(1.0 - opened as f64 / alerts as f64);
        }
    }

    fn in_flight(&self) -> usize {
        self.producer.in_flight_count().max(0) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// Service entry point
// ---------------------------------------------------------------------------------------------

/// Identifies this process among the group's (exactly-once transactional id, logs).
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub instance_id: String,
}

fn client_config(options: &BTreeMap<String, String>) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (k, v) in options {
        c.set(k, v);
    }
    c
}

fn consumer_config(cfg: &ServiceConfig, group: &str) -> ClientConfig {
    let mut opts = BTreeMap::new();
    opts.insert("auto.offset.reset".to_string(), "earliest".to_string());
    opts.insert("statistics.interval.ms".to_string(), "1000".to_string());
    opts.extend(cfg.consumer_options());
    let mut c = client_config(&opts);
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed");
    c
}

fn producer_config(cfg: &ServiceConfig, transactional_id: Option<&str>) -> ClientConfig {
    let mut opts = BTreeMap::new();
    opts.insert("enable.idempotence".to_string(), "true".to_string());
    // No linger: an update goes out at once when the connection is idle, and librdkafka still
    // batches what accumulates while earlier requests are in flight (the backlog case), so
    // throughput holds while decision latency loses the linger (bench-kafka: p50 3.0-3.5 ms at
    // 2 ms linger, 1.7-1.9 ms at 0, at 20,000 alerts/s).
    opts.insert("linger.ms".to_string(), "0".to_string());
    opts.insert("compression.type".to_string(), "lz4".to_string());
    // An update lists every member of its incident: a storm's incident can pass 1 MB. The
    // output topic is created to take it (OUTPUT_MAX_MESSAGE_BYTES).
    opts.insert(
        "message.max.bytes".to_string(),
        OUTPUT_MAX_MESSAGE_BYTES.to_string(),
    );
    opts.insert(
        "queue.buffering.max.messages".to_string(),
        cfg.processing
            .max_in_flight
            .clamp(1, 10_000_000)
            .to_string(),
    );
    if transactional_id.is_some() {
        // A crashed process's open transaction blocks read_committed readers until it times out.
        opts.insert("transaction.timeout.ms".to_string(), "10000".to_string());
    }
    opts.extend(cfg.producer_options());
    let mut c = client_config(&opts);
    if let Some(id) = transactional_id {
        c.set("transactional.id", id);
    }
    c
}

/// Largest incident update corral produces (librdkafka `message.max.bytes`, and the output
/// topic's `max.message.bytes` when corral creates it).
pub const OUTPUT_MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Creates the topics corral writes (and the input topic) when they are missing. The state
/// topic is compacted: only each partition's newest checkpoint matters.
pub fn ensure_topics(cfg: &ServiceConfig, rt: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        client_config(&cfg.producer_options()).create()?;
    let t = &cfg.kafka.topics;
    let md = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(30))?;
    let exists = |name: &str| {
        md.topics()
            .iter()
            .any(|x| x.name() == name && x.error().is_none())
    };
    let input_partitions = md
        .topics()
        .iter()
        .find(|x| x.name() == t.input)
        .map(|x| x.partitions().len() as i32)
        .filter(|n| *n > 0);
    let mut wanted: Vec<NewTopic> = Vec::new();
    let default_parts = input_partitions.unwrap_or(4);
    if !exists(&t.input) {
        wanted.push(NewTopic::new(
            &t.input,
            default_parts,
            TopicReplication::Fixed(-1),
        ));
    }
    if !exists(&t.output) {
        wanted.push(NewTopic::new(
            &t.output,
            default_parts,
            TopicReplication::Fixed(-1),
        ));
    }
    if !exists(&t.dead_letter) {
        wanted.push(NewTopic::new(
            &t.dead_letter,
            1,
            TopicReplication::Fixed(-1),
        ));
    }
    if !exists(&t.state) {
        wanted.push(
            NewTopic::new(&t.state, 1, TopicReplication::Fixed(-1))
                .set("cleanup.policy", "compact")
                .set("min.compaction.lag.ms", "0"),
        );
    }
    if cfg.input.partitioning == Partitioning::Repartition && !exists(&t.repartition) {
        wanted.push(NewTopic::new(
            &t.repartition,
            default_parts,
            TopicReplication::Fixed(-1),
        ));
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let results = rt.block_on(admin.create_topics(wanted.iter(), &AdminOptions::new()))?;
    for r in results {
        match r {
            Ok(name) => tracing::info!(topic = %name, "topic created"),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %name, "topic already exists")
            }
            Err((name, code)) => anyhow::bail!("cannot create topic {name}: {code}"),
        }
    }
    Ok(())
}

/// Fetches the partitions and leaders of the topics corral writes into the producer's metadata
/// cache before the first record is read. Otherwise the first updates after a start (a burst:
/// every incident opens then) wait in librdkafka for that round trip.
fn warm_up_producer(producer: &ThreadedProducer<AckContext>, cfg: &ServiceConfig) {
    let t = &cfg.kafka.topics;
    for topic in [&t.output, &t.dead_letter, &t.state] {
        if let Err(e) = producer
            .client()
            .fetch_metadata(Some(topic), Duration::from_secs(10))
        {
            // Not fatal: librdkafka fetches it again on the first send.
            tracing::warn!(topic = %topic, error = %e, "producer metadata not fetched at start");
        }
    }
}

/// What a run did, for the load harness and logs.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub records: u64,
}

/// Runs the correlation loop until `control.shutdown` is set (SIGTERM) or a delivery guarantee
/// is at risk (then returns an error without committing anything past what was acknowledged).
pub fn run_correlator(
    cfg: Arc<ServiceConfig>,
    control: Arc<Control>,
    opts: &RunOptions,
) -> anyhow::Result<RunSummary> {
    let eos = cfg.delivery == Delivery::ExactlyOnce;
    let (topic, format) = match cfg.input.partitioning {
        Partitioning::AsProduced => (cfg.kafka.topics.input.clone(), cfg.input.format.clone()),
        Partitioning::Repartition => (cfg.kafka.topics.repartition.clone(), "native".to_string()),
    };
    let decoder = Decoder::new(&format).map_err(anyhow::Error::msg)?;
    let txn_id = eos.then(|| {
        let prefix = cfg
            .kafka
            .transactional_id
            .clone()
            .unwrap_or_else(|| cfg.kafka.group_id.clone());
        format!("{prefix}-{}", opts.instance_id)
    });
    let producer: Arc<ThreadedProducer<AckContext>> = Arc::new(
        producer_config(&cfg, txn_id.as_deref()).create_with_context(AckContext {
            control: control.clone(),
            state: Arc::new(Mutex::new(AckState::default())),
            latency_at_commit: eos,
        })?,
    );
    if eos {
        producer.init_transactions(Duration::from_secs(60))?;
    }
    warm_up_producer(&producer, &cfg);
    let context = CorralConsumerContext {
        control: control.clone(),
        pipeline: OnceLock::new(),
        topic: topic.clone(),
    };
    let consumer: CorralConsumer =
        consumer_config(&cfg, &cfg.kafka.group_id).create_with_context(context)?;
    let pipeline = Arc::new(Mutex::new(Pipeline {
        cfg: cfg.clone(),
        control: control.clone(),
        topic: topic.clone(),
        checkpoints: if eos {
            // Exactly-once: a checkpoint belongs to its transaction, produced before its commit.
            None
        } else {
            let own: ThreadedProducer<AckContext> = producer_config(&cfg, None)
                .create_with_context(AckContext {
                    control: control.clone(),
                    state: producer.context().state.clone(),
                    latency_at_commit: false,
                })?;
            Some(CheckpointWriter::spawn(
                own,
                cfg.kafka.topics.state.clone(),
            )?)
        },
        producer,
        eos,
        txn_open: false,
        txn_updates: Vec::new(),
        staged: RawBatch::default(),
        decode: DecodeStage::new(decoder, cfg.processing.decode_thread)?,
        loaded: control.current(),
        partitions: BTreeMap::new(),
        epoch: 1,
        pending_commits: VecDeque::new(),
        out: Vec::new(),
        update_json: Vec::new(),
        fatal: None,
        batch_records: 0,
        batch_started: None,
        source_counters: Default::default(),
        checkpoint_seq: 0,
        start_nanos: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    }));
    let _ = consumer.context().pipeline.set(pipeline.clone());
    consumer.subscribe(&[&topic])?;
    tracing::info!(topic = %topic, group = %cfg.kafka.group_id, delivery = ?cfg.delivery, instance = %opts.instance_id, "consuming");

    // Exactly-once batches are transactions, each with checkpoints: fewer and larger.
    let (linger, batch_max) = if eos {
        (
            Duration::from_millis(cfg.processing.transaction_interval_ms),
            cfg.processing.transaction_max_records,
        )
    } else {
        (
            Duration::from_millis(cfg.processing.batch_linger_ms),
            cfg.processing.batch_max_records,
        )
    };
    let max_in_flight = cfg.processing.max_in_flight;
    let mut last_metrics = Instant::now();
    let mut last_housekeeping = Instant::now();
    let mut records = 0u64;
    let mut batch_open = false;
    let mut decoding = false;
    while !control.is_shutdown() {
        // The pipeline lock is never held across consumer.poll: rebalance callbacks run in it.
        // While records are in the decode stage, poll without waiting: they must not wait.
        let timeout = match (decoding, batch_open) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 50,
        };
        let polled = consumer.poll(Duration::from_millis(timeout));
        let now = Instant::now();
        let got_none = polled.is_none();
        let mut pl = lock(&pipeline);
        match polled {
            Some(Ok(msg)) => {
                pl.stage(&msg, now);
                records += 1;
                pl.ingest_ready();
            }
            Some(Err(e)) => tracing::warn!(error = %e, "consumer error"),
            // Nothing more to read right now: correlate everything polled so far.
            None => pl.ingest_all(),
        }
        let batch_due = pl.batch_records >= batch_max
            || pl
                .batch_started
                .is_some_and(|s| now.duration_since(s) >= linger)
            || (got_none && pl.batch_records > 0 && !eos);
        if batch_due {
            pl.finish_batch(&consumer);
            // Backpressure: while too much output is unacknowledged, read nothing (the producer's
            // thread serves the acknowledgements meanwhile).
            while pl.in_flight() >= max_in_flight && pl.fatal.is_none() && !control.is_shutdown() {
                std::thread::sleep(Duration::from_millis(2));
                pl.commit_acked(&consumer, CommitMode::Async);
            }
        }
        // Housekeeping between records at most every 20 ms: reloads, idle clocks, commits.
        if pl.batch_records == 0
            || now.duration_since(last_housekeeping) >= Duration::from_millis(20)
        {
            last_housekeeping = now;
            if let Some(l) = control.take_pending() {
                pl.finish_batch(&consumer);
                pl.apply_reload(l);
            }
            if pl.batch_records == 0 && !pl.staged_or_decoding() {
                pl.idle_advance();
                if pl.txn_open
                    || (!pl.eos && !pl.pending_commits.is_empty())
                    || (!pl.eos && !pl.due_checkpoints().is_empty())
                {
                    pl.finish_batch(&consumer);
                }
            }
            if now.duration_since(last_metrics) >= Duration::from_secs(1) {
                pl.refresh_metrics();
                last_metrics = now;
            }
        }
        if let Some(f) = &pl.fatal {
            anyhow::bail!("{f}");
        }
        batch_open = pl.batch_records > 0;
        decoding = pl.staged_or_decoding();
    }
    // Graceful stop: drain in-flight work, checkpoint, commit; then leave the group.
    {
        let mut pl = lock(&pipeline);
        pl.ingest_all();
        if pl.fatal.is_none() {
            pl.finish_batch(&consumer);
            if !pl.eos {
                pl.checkpoint(None);
                pl.drain_and_commit(&consumer, CommitMode::Sync);
            }
        }
        if let Some(f) = &pl.fatal {
            anyhow::bail!("{f}");
        }
        pl.refresh_metrics();
        pl.partitions.clear();
    }
    control.ready.store(false, Ordering::SeqCst);
    consumer.unsubscribe();
    drop(consumer);
    tracing::info!(records, "stopped");
    Ok(RunSummary { records })
}
