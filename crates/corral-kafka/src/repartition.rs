//! Re-keying by topology domain (`input.partitioning: repartition`).
//!
//! Monitors key their records by whatever they like (host, alert id, nothing). Correlation needs
//! every alert of one topology domain (connected component) in one engine, so this stage decodes
//! the input, and produces each alert in native form to the repartition topic keyed by its
//! domain; Kafka's key hashing then sends a domain to one partition and so to one process. Bad
//! records go to the dead-letter topic here. Offsets of the input are committed after the batch's
//! messages are acknowledged (at-least-once; a repeated alert occurrence is deduplicated by the
//! engine, which keys alerts by fingerprint).

use crate::config::ServiceConfig;
use crate::decode::Decoder;
use crate::service::Control;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct FailFlag {
    failed: AtomicBool,
    reason: Mutex<Option<String>>,
}

impl ClientContext for FailFlag {}

impl ProducerContext for FailFlag {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.store(true, Ordering::SeqCst);
            let mut r = self.reason.lock().unwrap_or_else(|p| p.into_inner());
            r.get_or_insert_with(|| e.to_string());
        }
    }
}

/// Runs until shutdown. Returns an error (without committing) when a message was not delivered.
pub fn run_repartitioner(cfg: Arc<ServiceConfig>, control: Arc<Control>) -> anyhow::Result<()> {
    let decoder = Decoder::new(&cfg.input.format).map_err(anyhow::Error::msg)?;
    let mut cc = rdkafka::ClientConfig::new();
    cc.set("auto.offset.reset", "earliest");
    for (k, v) in cfg.consumer_options() {
        cc.set(k, v);
    }
    cc.set("group.id", format!("{}.repartition", cfg.kafka.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let consumer: BaseConsumer = cc.create()?;
    let mut pc = rdkafka::ClientConfig::new();
    pc.set("enable.idempotence", "true").set("linger.ms", "2");
    for (k, v) in cfg.producer_options() {
        pc.set(k, v);
    }
    let producer: BaseProducer<FailFlag> = pc.create_with_context(FailFlag::default())?;
    let t = &cfg.kafka.topics;
    consumer.subscribe(&[&t.input])?;
    let mut alerts = Vec::new();
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut batch_start: Option<Instant> = None;
    let linger = Duration::from_millis(cfg.processing.batch_linger_ms.max(5));
    let mut domains = control.current().domains;
    let mut batch = 0usize;
    loop {
        let stopping = control.is_shutdown();
        if !stopping {
            if let Some(r) = consumer.poll(Duration::from_millis(20)) {
                match r {
                    Err(e) => tracing::warn!(error = %e, "repartition consumer error"),
                    Ok(msg) => {
                        batch_start.get_or_insert_with(Instant::now);
                        batch += 1;
                        alerts.clear();
                        let decoded = decoder.decode(msg.payload(), &mut alerts);
                        // The good alerts of a partly bad record go on; the record is dead-lettered.
                        for a in &alerts {
                            let key = domains.domain_of(a);
                            let body = serde_json::to_vec(a)?;
                            send(
                                &producer,
                                BaseRecord::to(&t.repartition)
                                    .key(key.as_bytes())
                                    .payload(&body),
                            )?;
                        }
                        if let Err(e) = decoded {
                            control.metrics.dead_lettered(e.kind);
                            let part = msg.partition().to_string();
                            let off = msg.offset().to_string();
                            let headers = OwnedHeaders::new()
                                .insert(Header {
                                    key: "corral.error",
                                    value: Some(e.message.as_bytes()),
                                })
                                .insert(Header {
                                    key: "corral.error.kind",
                                    value: Some(e.kind.as_bytes()),
                                })
                                .insert(Header {
                                    key: "corral.source.topic",
                                    value: Some(msg.topic().as_bytes()),
                                })
                                .insert(Header {
                                    key: "corral.source.partition",
                                    value: Some(part.as_bytes()),
                                })
                                .insert(Header {
                                    key: "corral.source.offset",
                                    value: Some(off.as_bytes()),
                                });
                            let key = msg.key().unwrap_or_default();
                            let payload = msg.payload().unwrap_or_default();
                            send(
                                &producer,
                                BaseRecord::to(&t.dead_letter)
                                    .key(key)
                                    .payload(payload)
                                    .headers(headers),
                            )?;
                        }
                        next.insert(msg.partition(), msg.offset() + 1);
                    }
                }
            }
        }
        let due = batch >= cfg.processing.batch_max_records
            || batch_start.is_some_and(|s| s.elapsed() >= linger)
            || stopping;
        if due && !next.is_empty() {
            producer.flush(Duration::from_secs(60))?;
            if producer.context().failed.load(Ordering::SeqCst) {
                let why = producer
                    .context()
                    .reason
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                control.request_shutdown();
                anyhow::bail!(
                    "repartition: message not delivered: {}",
                    why.unwrap_or_default()
                );
            }
            let mut tpl = TopicPartitionList::new();
            for (p, o) in &next {
                tpl.add_partition_offset(&t.input, *p, Offset::Offset(*o))?;
            }
            if let Err(e) = consumer.commit(
                &tpl,
                if stopping {
                    CommitMode::Sync
                } else {
                    CommitMode::Async
                },
            ) {
                tracing::warn!(error = %e, "repartition offset commit failed");
            }
            next.clear();
            batch = 0;
            batch_start = None;
            // Domains follow reloads of the topology.
            domains = control.current().domains;
        }
        if stopping {
            return Ok(());
        }
        producer.poll(Duration::ZERO);
    }
}

fn send(
    producer: &BaseProducer<FailFlag>,
    mut record: BaseRecord<'_, [u8], [u8]>,
) -> anyhow::Result<()> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((
                rdkafka::error::KafkaError::MessageProduction(
                    rdkafka::types::RDKafkaErrorCode::QueueFull,
                ),
                r,
            )) => {
                record = r;
                producer.poll(Duration::from_millis(50));
            }
            Err((e, _)) => anyhow::bail!("repartition produce: {e}"),
        }
    }
}
