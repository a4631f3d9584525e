//! Incident updates written as NDJSON, each encoded straight into the buffer that goes to the
//! writer: no per-update copy out of a scratch vector into a `BufWriter`, and one write call
//! per chunk instead of one per update. The chunk is small enough to stay in the cache while
//! it fills (a 1 MiB `BufWriter` buffer did not: its copies were ~5% of a replay's cycles).

use crate::update_json::JsonOut;
use corral_core::IncidentUpdate;
use std::io::{self, Write};

/// Bytes gathered before they are handed to the writer.
const CHUNK_BYTES: usize = 128 * 1024;

/// NDJSON incident updates into `W`, buffered: call [`UpdateLines::flush`] (or
/// [`UpdateLines::into_inner`]) at the end, as with a `BufWriter`.
pub struct UpdateLines<W: Write> {
    /// Initialised to its whole length, which is room for the encoder's whole-word stores:
    /// only `buf[..filled]` is output, the rest holds zeros or bytes already written out.
    buf: Vec<u8>,
    filled: usize,
    inner: W,
}

impl<W: Write> UpdateLines<W> {
    pub fn new(inner: W) -> UpdateLines<W> {
        UpdateLines {
            // Room for one large update past the chunk size without growing.
            buf: vec![0; CHUNK_BYTES + 64 * 1024],
            filled: 0,
            inner,
        }
    }

    /// Appends `update` and its newline; hands the buffer to the writer once it holds a chunk.
    /// On a write error the buffered updates are dropped (the error is the caller's to report).
    pub fn write(&mut self, update: &IncidentUpdate) -> io::Result<()> {
        let mut json = JsonOut::at(&mut self.buf, self.filled);
        json.update(update);
        json.byte(b'\n');
        self.filled = json.end();
        if self.filled >= CHUNK_BYTES {
            self.write_buffered()
        } else {
            Ok(())
        }
    }

    /// Writes what is buffered and flushes the writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_buffered()?;
        self.inner.flush()
    }

    /// Flushes, then gives the writer back.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.inner)
    }

    fn write_buffered(&mut self) -> io::Result<()> {
        let written = self.inner.write_all(&self.buf[..self.filled]);
        self.filled = 0;
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update_json::write_update_json;
    use corral_core::incident::{Details, EventAction, Payload, RootCause};
    use corral_core::Severity;

    fn update(id: usize, summary_bytes: usize) -> IncidentUpdate {
        IncidentUpdate {
            event_action: EventAction::Trigger,
            dedup_key: format!("inc-{id}").into(),
            payload: Payload {
                summary: "s".repeat(summary_bytes),
                source: "db-4".into(),
                severity: Severity::Critical,
                timestamp: "2026-11-25T02:11:07Z".into(),
                component: "db-4".into(),
                group: Default::default(),
                class: "DatabaseDown".into(),
                custom_details: Details {
                    incident_id: format!("inc-{id}").into(),
                    alerts: vec!["fp1".into()],
                    alert_count: 1,
                    event_count: 1,
                    resources: ["db-4".into()].into(),
                    services: [].into(),
                    root_cause: RootCause {
                        resource: "db-4".into(),
                        fingerprint: Some("fp1".into()),
                        name: Some("DatabaseDown".into()),
                        confidence: 0.5,
                        reason: "alone".into(),
                    },
                    impacted_services: [].into(),
                    anomaly_score: 0.0,
                    rules: [].into(),
                    merged_from: Vec::new(),
                    merged_into: None,
                    first_seen: "2026-11-25T02:11:07Z".into(),
                    last_seen: "2026-11-25T02:11:07Z".into(),
                    explanation: Vec::new(),
                },
            },
        }
    }

    /// Chunk by chunk, the writer receives exactly the updates' lines in order, whatever their
    /// sizes, and nothing is held back after `into_inner`.
    #[test]
    fn the_writer_gets_every_line_in_order() {
        let updates: Vec<IncidentUpdate> = (0..400)
            .map(|i| update(i, [0, 10, 3_000, 200_000][i % 4]))
            .collect();
        let mut expected = Vec::new();
        for u in &updates {
            write_update_json(u, &mut expected);
            expected.push(b'\n');
        }
        let mut lines = UpdateLines::new(Vec::new());
        for u in &updates {
            lines.write(u).unwrap();
        }
        assert_eq!(lines.into_inner().unwrap(), expected);
    }

    /// A failed write is reported, and the lines after it still reach a writer that recovers.
    #[test]
    fn a_write_error_is_reported() {
        struct FailOnce(bool, Vec<u8>);
        impl Write for FailOnce {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if std::mem::take(&mut self.0) {
                    return Err(io::Error::other("disk full"));
                }
                self.1.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut lines = UpdateLines::new(FailOnce(true, Vec::new()));
        lines.write(&update(1, 10)).unwrap();
        assert!(lines.flush().is_err());
        lines.write(&update(2, 10)).unwrap();
        let out = lines.into_inner().unwrap().1;
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("inc-2"), "{text}");
    }
}
