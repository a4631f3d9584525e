//! Correlation state checkpoints in the compacted state topic (`corral.state`).
//!
//! One record per input partition, keyed `<group>/<input topic>/<partition>`: the engine's
//! snapshot and the offset of the first input record it has not seen. Compaction keeps only the
//! newest checkpoint of each partition. A process that is assigned a partition restores its
//! engine from that record and skips input below the checkpoint offset, so records are neither
//! lost nor counted twice in the state.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const MAGIC: &[u8; 4] = b"CRL1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Offset of the first input record not reflected in `snapshot`.
    pub next_offset: i64,
    pub snapshot: Vec<u8>,
}

pub fn state_key(group: &str, topic: &str, partition: i32) -> String {
    format!("{group}/{topic}/{partition}")
}

impl Checkpoint {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(12 + self.snapshot.len());
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&self.next_offset.to_be_bytes());
        v.extend_from_slice(&self.snapshot);
        v
    }

    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, String> {
        if bytes.len() < 12 || &bytes[..4] != MAGIC {
            return Err("not a corral checkpoint (bad magic or too short)".into());
        }
        let mut off = [0u8; 8];
        off.copy_from_slice(&bytes[4..12]);
        let next_offset = i64::from_be_bytes(off);
        if next_offset < 0 {
            return Err(format!("checkpoint offset {next_offset} is negative"));
        }
        Ok(Checkpoint {
            next_offset,
            snapshot: bytes[12..].to_vec(),
        })
    }
}

/// Reads the whole state topic and returns the newest checkpoint of each wanted key.
/// `options` are the consumer's librdkafka options (security settings included). Transient
/// broker errors (a topic just created has no leader yet, a leader moves) are retried until
/// `timeout`.
pub fn read_checkpoints(
    options: &BTreeMap<String, String>,
    state_topic: &str,
    wanted: &[String],
    timeout: Duration,
) -> Result<FxHashMap<String, Checkpoint>, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match read_once(options, state_topic, wanted, timeout) {
            Ok(found) => return Ok(found),
            // A corrupt checkpoint does not get better by reading it again.
            Err(e) if e.corrupt => return Err(e.message),
            Err(e) if Instant::now() >= deadline => return Err(e.message),
            Err(e) => {
                tracing::warn!(error = %e.message, "reading the state topic; retrying");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

struct ReadError {
    message: String,
    corrupt: bool,
}

impl From<String> for ReadError {
    fn from(message: String) -> Self {
        ReadError {
            message,
            corrupt: false,
        }
    }
}

fn read_once(
    options: &BTreeMap<String, String>,
    state_topic: &str,
    wanted: &[String],
    timeout: Duration,
) -> Result<FxHashMap<String, Checkpoint>, ReadError> {
    let mut cfg = ClientConfig::new();
    for (k, v) in options {
        cfg.set(k, v);
    }
    cfg.set("group.id", "corral.state-reader")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("isolation.level", "read_committed");
    let consumer: BaseConsumer = cfg.create().map_err(|e| format!("state reader: {e}"))?;
    let md = consumer
        .fetch_metadata(Some(state_topic), timeout)
        .map_err(|e| format!("state topic metadata: {e}"))?;
    let partitions: Vec<i32> = md
        .topics()
        .iter()
        .filter(|t| t.name() == state_topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut found = FxHashMap::default();
    if partitions.is_empty() {
        return Ok(found);
    }
    let mut tpl = TopicPartitionList::new();
    let mut end: FxHashMap<i32, i64> = FxHashMap::default();
    for &p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(state_topic, p, timeout)
            .map_err(|e| format!("state topic watermarks: {e}"))?;
        if high > low {
            end.insert(p, high);
            tpl.add_partition_offset(state_topic, p, Offset::Beginning)
                .map_err(|e| e.to_string())?;
        }
    }
    if end.is_empty() {
        return Ok(found);
    }
    consumer
        .assign(&tpl)
        .map_err(|e| format!("state reader assign: {e}"))?;
    let deadline = Instant::now() + timeout;
    let wanted: rustc_hash::FxHashSet<&str> = wanted.iter().map(String::as_str).collect();
    while !end.is_empty() {
        if Instant::now() > deadline {
            return Err(format!(
                "state topic {state_topic}: not read to its end within {timeout:?}"
            )
            .into());
        }
        let Some(r) = consumer.poll(Duration::from_millis(200)) else {
            // With read_committed the high watermark may sit past the last stable offset
            // (control records); position tells when nothing more will come.
            if let Ok(pos) = consumer.position() {
                for e in pos.elements() {
                    if let Offset::Offset(o) = e.offset() {
                        if end.get(&e.partition()).is_some_and(|h| o >= *h) {
                            end.remove(&e.partition());
                        }
                    }
                }
            }
            continue;
        };
        let msg = r.map_err(|e| format!("state topic read: {e}"))?;
        if let Some(key) = msg.key().and_then(|k| std::str::from_utf8(k).ok()) {
            if wanted.contains(key) {
                match msg.payload() {
                    // A tombstone forgets the partition's state.
                    None | Some([]) => {
                        found.remove(key);
                    }
                    Some(p) => match Checkpoint::decode(p) {
                        Ok(c) => {
                            found.insert(key.to_string(), c);
                        }
                        Err(e) => {
                            return Err(ReadError {
                                message: format!(
                                    "state topic {state_topic} offset {}: {e}",
                                    msg.offset()
                                ),
                                corrupt: true,
                            })
                        }
                    },
                }
            }
        }
        if msg.offset() + 1 >= end.get(&msg.partition()).copied().unwrap_or(0) {
            end.remove(&msg.partition());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trips() {
        let c = Checkpoint {
            next_offset: 1234567,
            snapshot: b"{\"state\":1}".to_vec(),
        };
        assert_eq!(Checkpoint::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(Checkpoint::decode(b"xx").unwrap_err().contains("magic"));
        let mut bad = b"CRL1".to_vec();
        bad.extend_from_slice(&(-5i64).to_be_bytes());
        assert!(Checkpoint::decode(&bad).unwrap_err().contains("negative"));
    }
}
