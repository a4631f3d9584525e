//! Turning one Kafka record into normalized alerts. Everything that is not an alert is an error
//! with a reason, which the service sends to the dead-letter topic.

use corral_core::Alert;
use corral_formats::Format;
use std::ops::Range;
use std::sync::mpsc;
use std::time::Instant;

/// A record's payload decoder for one configured input format (SPEC §2, `corral_formats`).
#[derive(Clone, Debug)]
pub struct Decoder {
    /// None: `auto`, detected per record.
    format: Option<Format>,
}

/// Why a record could not be used; `kind` is the metric label, `message` goes in the DLQ header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: &'static str,
    pub message: String,
}

impl Decoder {
    pub fn new(format: &str) -> Result<Decoder, String> {
        Ok(Decoder {
            format: Format::from_name(format)?,
        })
    }

    pub fn format_name(&self) -> &str {
        self.format.as_ref().map_or("auto", Format::name)
    }

    /// Appends the alerts of one record. On `Err` the alerts of the record's good parts are
    /// still appended (a bad alert never costs its neighbours) and the error says what was bad;
    /// the caller dead-letters the record with that reason.
    pub fn decode(&self, payload: Option<&[u8]>, out: &mut Vec<Alert>) -> Result<(), DecodeError> {
        let Some(bytes) = payload.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) else {
            return Err(DecodeError {
                kind: "empty",
                message: "record has no payload".into(),
            });
        };
        let detected;
        let format = match &self.format {
            Some(f) => f,
            None => {
                detected = corral_formats::detect(bytes).map_err(|why| DecodeError {
                    kind: "unknown_format",
                    message: why,
                })?;
                &detected
            }
        };
        let start = out.len();
        match corral_formats::parse_record(format, bytes, out) {
            Ok(()) if out.len() == start => Err(DecodeError {
                kind: "empty",
                message: format!("{format} record holds no alert"),
            }),
            Ok(()) => Ok(()),
            Err(message) => Err(DecodeError {
                kind: if out.len() > start {
                    "partial"
                } else {
                    "parse"
                },
                message: format!("{format}: {message}"),
            }),
        }
    }
}

/// One polled record, copied out of librdkafka's buffer so that another thread can decode it.
#[derive(Clone, Debug)]
pub struct RawRecord {
    pub partition: i32,
    pub offset: i64,
    /// When the record was consumed (decision latency starts here).
    pub received: Instant,
    key: Option<Range<usize>>,
    payload: Option<Range<usize>>,
}

/// Records polled in a row; their keys and payloads share one buffer (one allocation per
/// batch instead of two per record).
#[derive(Debug, Default)]
pub struct RawBatch {
    bytes: Vec<u8>,
    records: Vec<RawRecord>,
}

impl RawBatch {
    pub fn push(
        &mut self,
        partition: i32,
        offset: i64,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        received: Instant,
    ) {
        let mut copy = |b: &[u8]| {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(b);
            start..self.bytes.len()
        };
        let key = key.map(&mut copy);
        let payload = payload.map(&mut copy);
        self.records.push(RawRecord {
            partition,
            offset,
            received,
            key,
            payload,
        });
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn records(&self) -> &[RawRecord] {
        &self.records
    }

    pub fn key(&self, r: &RawRecord) -> Option<&[u8]> {
        r.key.clone().map(|k| &self.bytes[k])
    }

    pub fn payload(&self, r: &RawRecord) -> Option<&[u8]> {
        r.payload.clone().map(|p| &self.bytes[p])
    }
}

/// A batch after decoding: record `i` gave `alerts[ends[i-1]..ends[i]]` (good alerts of a
/// partly bad record included) and, when it is bad, why.
#[derive(Debug)]
pub struct DecodedBatch {
    pub raw: RawBatch,
    pub alerts: Vec<Alert>,
    pub results: Vec<(usize, Option<DecodeError>)>,
}

impl Decoder {
    pub fn decode_batch(&self, raw: RawBatch) -> DecodedBatch {
        let mut alerts = Vec::with_capacity(raw.len());
        let mut results = Vec::with_capacity(raw.len());
        for r in raw.records() {
            let err = self.decode(raw.payload(r), &mut alerts).err();
            results.push((alerts.len(), err));
        }
        DecodedBatch {
            raw,
            alerts,
            results,
        }
    }
}

/// Decodes batches on a thread of its own, in the order they were submitted, so that parsing
/// runs beside correlation (the service's two busiest stages) instead of before it.
pub struct DecodeWorker {
    to_worker: Option<mpsc::Sender<RawBatch>>,
    from_worker: mpsc::Receiver<DecodedBatch>,
    in_flight: usize,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Where batches are decoded: on the worker thread, or at once on the caller's.
pub enum DecodeStage {
    Thread(DecodeWorker),
    Inline {
        decoder: Decoder,
        done: std::collections::VecDeque<DecodedBatch>,
    },
}

impl DecodeStage {
    pub fn new(decoder: Decoder, on_thread: bool) -> std::io::Result<DecodeStage> {
        Ok(if on_thread {
            DecodeStage::Thread(DecodeWorker::spawn(decoder)?)
        } else {
            DecodeStage::Inline {
                decoder,
                done: Default::default(),
            }
        })
    }

    pub fn in_flight(&self) -> usize {
        match self {
            DecodeStage::Thread(w) => w.in_flight(),
            DecodeStage::Inline { done, .. } => done.len(),
        }
    }

    pub fn submit(&mut self, raw: RawBatch) -> Result<(), String> {
        match self {
            DecodeStage::Thread(w) => w.submit(raw),
            DecodeStage::Inline { decoder, done } => {
                done.push_back(decoder.decode_batch(raw));
                Ok(())
            }
        }
    }

    /// The oldest decoded batch, waiting for it when `wait`; None when there is none (yet).
    pub fn next(&mut self, wait: bool) -> Result<Option<DecodedBatch>, String> {
        match self {
            DecodeStage::Thread(w) if wait => w.wait_next(),
            DecodeStage::Thread(w) => w.try_next(),
            DecodeStage::Inline { done, .. } => Ok(done.pop_front()),
        }
    }
}

impl DecodeWorker {
    pub fn spawn(decoder: Decoder) -> std::io::Result<DecodeWorker> {
        let (to_worker, batches) = mpsc::channel::<RawBatch>();
        let (done, from_worker) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("corral-decode".into())
            .spawn(move || {
                for raw in batches {
                    if done.send(decoder.decode_batch(raw)).is_err() {
                        return;
                    }
                }
            })?;
        Ok(DecodeWorker {
            to_worker: Some(to_worker),
            from_worker,
            in_flight: 0,
            thread: Some(thread),
        })
    }

    /// Batches submitted and not yet taken back.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    pub fn submit(&mut self, raw: RawBatch) -> Result<(), String> {
        let sender = self.to_worker.as_ref().ok_or(WORKER_GONE)?;
        sender.send(raw).map_err(|_| WORKER_GONE.to_string())?;
        self.in_flight += 1;
        Ok(())
    }

    /// The oldest decoded batch if it is ready.
    pub fn try_next(&mut self) -> Result<Option<DecodedBatch>, String> {
        if self.in_flight == 0 {
            return Ok(None);
        }
        match self.from_worker.try_recv() {
            Ok(b) => {
                self.in_flight -= 1;
                Ok(Some(b))
            }
            Err(mpsc::TryRecvError::Empty) => Ok(None),
            Err(mpsc::TryRecvError::Disconnected) => Err(WORKER_GONE.to_string()),
        }
    }

    /// The oldest decoded batch, waiting for it; None when nothing is in flight.
    pub fn wait_next(&mut self) -> Result<Option<DecodedBatch>, String> {
        if self.in_flight == 0 {
            return Ok(None);
        }
        let b = self
            .from_worker
            .recv()
            .map_err(|_| WORKER_GONE.to_string())?;
        self.in_flight -= 1;
        Ok(Some(b))
    }
}

const WORKER_GONE: &str = "the decode thread stopped";

impl Drop for DecodeWorker {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop.
        self.to_worker = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_one_native_object_or_an_array() {
        let d = Decoder::new("native").unwrap();
        let mut out = Vec::new();
        let one = br#"{"source":"zabbix","name":"Down","status":"firing","severity":"critical","resource":"db","starts_at":"2026-11-25T02:00:00Z"}"#;
        d.decode(Some(one), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert!(
            !out[0].fingerprint.is_empty(),
            "fingerprint computed when absent"
        );
        let two = br#"[{"fingerprint":"f1","source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1},
                       {"fingerprint":"f2","source":"s","name":"n","status":"resolved","severity":"info","resource":"r","starts_at":2}]"#;
        d.decode(Some(two), &mut out).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].fingerprint, "f2");
    }

    #[test]
    fn a_bad_part_keeps_its_good_neighbours() {
        let d = Decoder::new("native").unwrap();
        let mut out = Vec::new();
        let mixed = br#"[{"fingerprint":"f1","source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1},
                         {"fingerprint":"f2"}]"#;
        let e = d.decode(Some(mixed), &mut out).unwrap_err();
        assert_eq!(e.kind, "partial");
        assert!(e.message.contains("[1]"), "{}", e.message);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn bad_records_give_a_reason() {
        let d = Decoder::new("native").unwrap();
        let mut out = Vec::new();
        let e = d.decode(Some(b"{not json"), &mut out).unwrap_err();
        assert_eq!(e.kind, "parse");
        assert!(e.message.starts_with("native: "), "{}", e.message);
        assert!(out.is_empty());
        assert_eq!(d.decode(None, &mut out).unwrap_err().kind, "empty");
        assert_eq!(d.decode(Some(b"  \n"), &mut out).unwrap_err().kind, "empty");
        assert_eq!(
            d.decode(Some(&[0xff, 0xfe]), &mut out).unwrap_err().kind,
            "parse"
        );
    }

    #[test]
    fn auto_detects_per_record_and_says_why_when_it_cannot() {
        let d = Decoder::new("auto").unwrap();
        let mut out = Vec::new();
        let am = br#"{"version":"4","status":"firing","receiver":"corral","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","groupKey":"{}","truncatedAlerts":0,
          "alerts":[{"status":"firing","labels":{"alertname":"HostDown","instance":"db-1:9100","severity":"critical"},"annotations":{},"startsAt":"2026-11-25T02:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"abc"}]}"#;
        d.decode(Some(am), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].source, "alertmanager");
        let e = d.decode(Some(b"hello there"), &mut out).unwrap_err();
        assert_eq!(e.kind, "unknown_format");
        assert!(!e.message.is_empty());
    }

    #[test]
    fn unknown_format_is_refused() {
        assert!(Decoder::new("nope").is_err());
    }

    fn native(fingerprint: &str, t: i64) -> Vec<u8> {
        format!(r#"{{"fingerprint":"{fingerprint}","source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":{t}}}"#).into_bytes()
    }

    #[test]
    fn inline_and_threaded_stages_decode_alike() {
        let now = Instant::now();
        let batch = || {
            let mut raw = RawBatch::default();
            raw.push(0, 0, None, Some(&native("a", 1)), now);
            raw.push(0, 1, None, Some(b"nope"), now);
            raw.push(0, 2, None, Some(&native("b", 2)), now);
            raw
        };
        let mut got = Vec::new();
        for on_thread in [false, true] {
            let mut stage = DecodeStage::new(Decoder::new("native").unwrap(), on_thread).unwrap();
            stage.submit(batch()).unwrap();
            stage.submit(batch()).unwrap();
            assert_eq!(stage.in_flight(), 2);
            let mut summary = Vec::new();
            while let Some(b) = stage.next(true).unwrap() {
                let fps: Vec<String> = b.alerts.iter().map(|a| a.fingerprint.to_string()).collect();
                let errs: Vec<Option<&str>> = b
                    .results
                    .iter()
                    .map(|(_, e)| e.as_ref().map(|e| e.kind))
                    .collect();
                summary.push((fps, errs));
            }
            assert_eq!(stage.in_flight(), 0);
            got.push(summary);
        }
        assert_eq!(got[0], got[1]);
        assert_eq!(got[0].len(), 2);
        assert_eq!(got[0][0].0, vec!["a", "b"]);
        assert_eq!(got[0][0].1, vec![None, Some("parse"), None]);
    }

    #[test]
    fn raw_batches_keep_keys_and_payloads_apart() {
        let now = Instant::now();
        let mut b = RawBatch::default();
        b.push(3, 10, Some(b"k1"), Some(b"payload-1"), now);
        b.push(3, 11, None, None, now);
        b.push(1, 7, Some(b""), Some(b"p3"), now);
        assert_eq!(b.len(), 3);
        let r = b.records();
        assert_eq!((r[0].partition, r[0].offset), (3, 10));
        assert_eq!(b.key(&r[0]), Some(&b"k1"[..]));
        assert_eq!(b.payload(&r[0]), Some(&b"payload-1"[..]));
        assert_eq!((b.key(&r[1]), b.payload(&r[1])), (None, None));
        assert_eq!(b.key(&r[2]), Some(&b""[..]));
        assert_eq!(b.payload(&r[2]), Some(&b"p3"[..]));
    }

    #[test]
    fn the_worker_decodes_batches_in_order_and_reports_bad_records() {
        let mut w = DecodeWorker::spawn(Decoder::new("native").unwrap()).unwrap();
        let now = Instant::now();
        for batch in 0..5i64 {
            let mut raw = RawBatch::default();
            for i in 0..100i64 {
                let n = batch * 100 + i;
                let payload = if n % 37 == 0 {
                    b"{broken".to_vec()
                } else {
                    native(&format!("f{n}"), n)
                };
                raw.push(0, n, None, Some(&payload), now);
            }
            w.submit(raw).unwrap();
        }
        assert_eq!(w.in_flight(), 5);
        let mut seen = 0i64;
        while let Some(b) = w.wait_next().unwrap() {
            let mut start = 0;
            for (r, (end, err)) in b.raw.records().iter().zip(&b.results) {
                assert_eq!(r.offset, seen, "batches come back in order");
                if seen % 37 == 0 {
                    assert_eq!(err.as_ref().map(|e| e.kind), Some("parse"));
                    assert_eq!(*end, start);
                } else {
                    assert!(err.is_none());
                    assert_eq!(*end, start + 1);
                    assert_eq!(b.alerts[start].fingerprint, format!("f{seen}"));
                }
                start = *end;
                seen += 1;
            }
            assert_eq!(start, b.alerts.len());
        }
        assert_eq!(seen, 500);
        assert_eq!(w.in_flight(), 0);
        assert!(w.try_next().unwrap().is_none());
    }
}
