//! Correlation state checkpoints in the compacted state topic (`corral.state`).
//!
//! Per input partition, a *manifest* record keyed `<group>/<input topic>/<partition>` holds the
//! offset of the first input record the snapshot has not seen, and points at the snapshot's
//! *chunks* (records of at most [`CHUNK_BYTES`], keyed `<manifest key>/<slot>/<index>`, so that
//! a large state fits Kafka's message size limit). Checkpoints alternate between two slots and
//! the manifest is written after its chunks: a crash in the middle of a checkpoint leaves the
//! previous one whole. Compaction keeps only the newest record of each key. A process that is
//! assigned a partition restores its engine from there and skips input below the checkpoint
//! offset, so records are neither lost nor counted twice in the state.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const MANIFEST_MAGIC: &[u8; 4] = b"CRM2";
const CHUNK_MAGIC: &[u8; 4] = b"CRC2";
/// Chunk payload size: well under Kafka's default 1 MB message limit.
pub const CHUNK_BYTES: usize = 512 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Offset of the first input record not reflected in `snapshot`.
    pub next_offset: i64,
    pub snapshot: Vec<u8>,
    /// Which of the two chunk slots holds it (the next checkpoint uses the other).
    pub slot: u8,
}

pub fn state_key(group: &str, topic: &str, partition: i32) -> String {
    format!("{group}/{topic}/{partition}")
}

fn chunk_key(manifest_key: &str, slot: u8, index: u32) -> String {
    format!("{manifest_key}/{slot}/{index}")
}

impl Checkpoint {
    /// The records to produce, in order (chunks, then the manifest), as (key, value).
    /// `id` tells this checkpoint's chunks from stale ones of earlier checkpoints.
    pub fn records(&self, manifest_key: &str, id: u64) -> Vec<(String, Vec<u8>)> {
        let chunks: Vec<&[u8]> = if self.snapshot.is_empty() {
            vec![&[]]
        } else {
            self.snapshot.chunks(CHUNK_BYTES).collect()
        };
        let count = chunks.len() as u32;
        let mut out = Vec::with_capacity(chunks.len() + 1);
        for (i, c) in chunks.into_iter().enumerate() {
            let mut v = Vec::with_capacity(20 + c.len());
            v.extend_from_slice(CHUNK_MAGIC);
            v.extend_from_slice(&id.to_be_bytes());
            v.extend_from_slice(&(i as u32).to_be_bytes());
            v.extend_from_slice(&count.to_be_bytes());
            v.extend_from_slice(c);
            out.push((chunk_key(manifest_key, self.slot, i as u32), v));
        }
        let mut m = Vec::with_capacity(33);
        m.extend_from_slice(MANIFEST_MAGIC);
        m.extend_from_slice(&self.next_offset.to_be_bytes());
        m.extend_from_slice(&id.to_be_bytes());
        m.push(self.slot);
        m.extend_from_slice(&count.to_be_bytes());
        m.extend_from_slice(&(self.snapshot.len() as u64).to_be_bytes());
        out.push((manifest_key.to_string(), m));
        out
    }

    /// Puts a checkpoint back together from the newest value of each key.
    pub fn assemble(
        manifest_key: &str,
        manifest: &[u8],
        chunks: &FxHashMap<String, Vec<u8>>,
    ) -> Result<Checkpoint, String> {
        if manifest.len() != 33 || &manifest[..4] != MANIFEST_MAGIC {
            return Err(format!("{manifest_key}: not a corral checkpoint manifest"));
        }
        let next_offset = i64::from_be_bytes(manifest[4..12].try_into().expect("8 bytes"));
        let id = u64::from_be_bytes(manifest[12..20].try_into().expect("8 bytes"));
        let slot = manifest[20];
        let count = u32::from_be_bytes(manifest[21..25].try_into().expect("4 bytes"));
        let total = u64::from_be_bytes(manifest[25..33].try_into().expect("8 bytes"));
        if next_offset < 0 {
            return Err(format!(
                "{manifest_key}: checkpoint offset {next_offset} is negative"
            ));
        }
        let mut snapshot = Vec::with_capacity(total.min(1 << 32) as usize);
        for i in 0..count {
            let key = chunk_key(manifest_key, slot, i);
            let c = chunks
                .get(&key)
                .ok_or_else(|| format!("{key}: chunk {i} of {count} is missing"))?;
            if c.len() < 20
                || &c[..4] != CHUNK_MAGIC
                || c[4..12] != id.to_be_bytes()
                || c[12..16] != i.to_be_bytes()
                || c[16..20] != count.to_be_bytes()
            {
                return Err(format!("{key}: chunk does not belong to checkpoint {id}"));
            }
            snapshot.extend_from_slice(&c[20..]);
        }
        if snapshot.len() as u64 != total {
            return Err(format!(
                "{manifest_key}: snapshot is {} bytes, the manifest says {total}",
                snapshot.len()
            ));
        }
        Ok(Checkpoint {
            next_offset,
            snapshot,
            slot,
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
    let wanted_set: rustc_hash::FxHashSet<&str> = wanted.iter().map(String::as_str).collect();
    let wanted = &wanted_set;
    let mut latest: FxHashMap<String, Vec<u8>> = FxHashMap::default();
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
            // Chunk keys are `<manifest key>/<slot>/<index>`.
            let base = key.rsplitn(3, '/').nth(2).unwrap_or(key);
            if wanted.contains(key) || wanted.contains(base) {
                match msg.payload() {
                    // A tombstone forgets the partition's state.
                    None | Some([]) => {
                        latest.remove(key);
                    }
                    Some(p) => {
                        latest.insert(key.to_string(), p.to_vec());
                    }
                }
            }
        }
        if msg.offset() + 1 >= end.get(&msg.partition()).copied().unwrap_or(0) {
            end.remove(&msg.partition());
        }
    }
    for key in wanted_set {
        if let Some(m) = latest.get(key) {
            let cp = Checkpoint::assemble(key, m, &latest).map_err(|e| ReadError {
                message: format!("state topic {state_topic}: {e}"),
                corrupt: true,
            })?;
            found.insert(key.to_string(), cp);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latest(records: &[(String, Vec<u8>)]) -> FxHashMap<String, Vec<u8>> {
        records.iter().cloned().collect()
    }

    #[test]
    fn large_checkpoints_are_chunked_and_round_trip() {
        let snapshot: Vec<u8> = (0..(CHUNK_BYTES * 2 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        let c = Checkpoint {
            next_offset: 1234567,
            snapshot,
            slot: 1,
        };
        let recs = c.records("g/alerts/3", 42);
        assert_eq!(recs.len(), 4, "three chunks and a manifest");
        assert!(recs.iter().all(|(_, v)| v.len() <= CHUNK_BYTES + 20));
        assert_eq!(recs.last().unwrap().0, "g/alerts/3");
        let m = &recs.last().unwrap().1;
        assert_eq!(
            Checkpoint::assemble("g/alerts/3", m, &latest(&recs)).unwrap(),
            c
        );
        let empty = Checkpoint {
            next_offset: 0,
            snapshot: Vec::new(),
            slot: 0,
        };
        let recs = empty.records("k", 1);
        assert_eq!(
            Checkpoint::assemble("k", &recs.last().unwrap().1, &latest(&recs)).unwrap(),
            empty
        );
    }

    #[test]
    fn a_checkpoint_cut_short_leaves_the_previous_one_whole() {
        let old = Checkpoint {
            next_offset: 10,
            snapshot: vec![1; CHUNK_BYTES + 5],
            slot: 0,
        };
        let new = Checkpoint {
            next_offset: 20,
            snapshot: vec![2; CHUNK_BYTES * 3],
            slot: 1,
        };
        let mut log = old.records("k", 1);
        let new_recs = new.records("k", 2);
        // Crash after the first chunk of the new checkpoint, before its manifest.
        log.push(new_recs[0].clone());
        let state = latest(&log);
        assert_eq!(Checkpoint::assemble("k", &state["k"], &state).unwrap(), old);
        // A stale chunk of an older checkpoint in the same slot is detected, not used.
        let mut state = latest(&new_recs);
        let stale = Checkpoint {
            next_offset: 5,
            snapshot: vec![9; 3],
            slot: 1,
        }
        .records("k", 7);
        state.insert(stale[0].0.clone(), stale[0].1.clone());
        let err = Checkpoint::assemble("k", &state["k"], &state).unwrap_err();
        assert!(err.contains("does not belong"), "{err}");
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let none = FxHashMap::default();
        assert!(Checkpoint::assemble("k", b"xx", &none)
            .unwrap_err()
            .contains("not a corral"));
        let c = Checkpoint {
            next_offset: 3,
            snapshot: vec![1, 2, 3],
            slot: 0,
        };
        let recs = c.records("k", 9);
        let err = Checkpoint::assemble("k", &recs.last().unwrap().1, &none).unwrap_err();
        assert!(err.contains("missing"), "{err}");
    }
}
