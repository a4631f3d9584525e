//! Framing a byte stream into records. JSON inputs are one record per line (NDJSON) with a
//! fallback for pretty-printed documents: a line that opens a JSON value without closing it
//! starts a multi-line record that runs until the value closes. Memory stays bounded by the
//! largest record, never by the stream.

use crate::common::Problems;
use crate::input::native::RecentLines;
use crate::{parse_into, Format};
use corral_core::{Alert, AlertHead};
use std::io::{self, BufRead};

/// A record larger than this is dead-lettered without being buffered whole.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Native lines are checked (UTF-8) a chunk of whole lines at a time, up to this many bytes:
/// small enough to stay in the first-level cache while its lines are read.
const CHUNK_BYTES: usize = 16 * 1024;

/// How much of a bad record a dead letter keeps.
const DEAD_LETTER_RAW_BYTES: usize = 2048;

/// A record that could not be decoded (or only partly: see [`crate::parse_record`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// 1-based line number where the record starts (for XML: the 1-based event number).
    pub record: u64,
    /// Why it was rejected, with the position inside the record when there is one.
    pub reason: String,
    /// The first 2 KiB of the record, lossy UTF-8.
    pub raw: String,
}

impl DeadLetter {
    pub fn new(record: u64, reason: impl Into<String>, raw: &[u8]) -> DeadLetter {
        let cut = raw.len().min(DEAD_LETTER_RAW_BYTES);
        DeadLetter {
            record,
            reason: reason.into(),
            raw: String::from_utf8_lossy(&raw[..cut]).into_owned(),
        }
    }
}

/// What a decode run saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Non-blank records read (lines, multi-line documents, XML events).
    pub records: u64,
    /// Alerts decoded: delivered to `on_alert`, or taken by a sink from their head.
    pub alerts: u64,
    /// Dead letters delivered to `on_dead`.
    pub dead_letters: u64,
    /// Bytes read from the input.
    pub bytes: u64,
}

/// Where [`decode_stream_to`] delivers what it decodes, in input order.
pub trait Sink {
    /// Offered an alert's head before the alert is built, for formats that can (native NDJSON
    /// and Alertmanager payloads, one JSON object per line), and only for a record that decodes
    /// without error. True: the
    /// consumer took the occurrence from its head (e.g. [`corral_core::Engine::ingest_repeat`])
    /// and the alert is not built; false: it comes next, whole, through [`Sink::alert`].
    fn repeat(&mut self, _head: &AlertHead<'_>) -> bool {
        false
    }

    fn alert(&mut self, alert: Alert);

    fn dead(&mut self, dead: DeadLetter);
}

/// A [`Sink`] of two closures, which takes no repeat by its head.
struct Callbacks<A, D> {
    on_alert: A,
    on_dead: D,
}

impl<A: FnMut(Alert), D: FnMut(DeadLetter)> Sink for Callbacks<A, D> {
    fn alert(&mut self, alert: Alert) {
        (self.on_alert)(alert)
    }

    fn dead(&mut self, dead: DeadLetter) {
        (self.on_dead)(dead)
    }
}

/// Decodes a whole stream (a file, stdin) record by record: `on_alert` for each alert,
/// `on_dead` for each bad record. Only I/O errors stop it; bad data never does.
pub fn decode_stream(
    format: &Format,
    input: impl BufRead,
    on_alert: impl FnMut(Alert),
    on_dead: impl FnMut(DeadLetter),
) -> io::Result<DecodeStats> {
    decode_stream_to(format, input, &mut Callbacks { on_alert, on_dead })
}

/// [`decode_stream`] into a [`Sink`], which may take plain repeats without their alert being
/// built (the replay's fast path). Records, alerts, dead letters and their order are the same.
pub fn decode_stream_to(
    format: &Format,
    input: impl BufRead,
    sink: &mut impl Sink,
) -> io::Result<DecodeStats> {
    if *format == Format::Alec {
        let sink = std::cell::RefCell::new(sink);
        return crate::input::alec::decode(
            input,
            |a| sink.borrow_mut().alert(a),
            |d| sink.borrow_mut().dead(d),
        );
    }
    let mut input = input;
    let mut stats = DecodeStats::default();
    let mut line = Vec::with_capacity(4096);
    let mut alerts: Vec<Alert> = Vec::with_capacity(64);
    let mut pending = Pending::default();
    let mut line_no: u64 = 0;
    let mut recent = RecentLines::default();
    // Compared once, not per line (`Format` is not a plain enum: `==` is a call).
    let (native, alertmanager) = (*format == Format::Native, *format == Format::Alertmanager);

    // Decodes one line (with its `\n`; `read` says how long it was and whether it was cut;
    // `checked`, when its chunk was checked as UTF-8: its text and the line's place in it).
    let mut on_line = |line: &[u8], read: LineRead, checked: Option<CheckedLine<'_>>| {
        stats.bytes += read.bytes as u64;
        line_no += 1;
        if read.truncated {
            if pending.active() {
                let p = pending.take();
                let reason = unterminated(p.start, "a line too long interrupted it");
                deliver_dead(&mut stats, p.start, reason, &p.buf, sink);
            }
            let reason = format!(
                "record longer than {} MiB, not decoded",
                MAX_RECORD_BYTES / (1024 * 1024)
            );
            stats.records += 1;
            deliver_dead(&mut stats, line_no, reason, line, sink);
            return;
        }
        let (text_start, text_end) = trim_range(line);
        let text = &line[text_start..text_end];

        if pending.active() {
            let fresh_value = line.first().is_some_and(|b| *b == b'{' || *b == b'[');
            if fresh_value {
                // A value opening at column 0 inside a pretty-printed document means the
                // previous one never closed: dead-letter it and start over with this line.
                let p = pending.take();
                let reason = unterminated(p.start, "a new value began at column 0");
                stats.records += 1;
                deliver_dead(&mut stats, p.start, reason, &p.buf, sink);
            } else {
                pending.buf.extend_from_slice(line);
                pending.depth.feed(line);
                if pending.buf.len() > MAX_RECORD_BYTES {
                    let p = pending.take();
                    let reason = format!(
                        "record starting at line {} is longer than {} MiB, not decoded",
                        p.start,
                        MAX_RECORD_BYTES / (1024 * 1024)
                    );
                    stats.records += 1;
                    deliver_dead(&mut stats, p.start, reason, &p.buf, sink);
                } else if pending.depth.closed() {
                    let p = pending.take();
                    let mut problems = Problems::default();
                    parse_into(format, &p.buf, &mut alerts, &mut problems);
                    deliver(&mut stats, p.start, &p.buf, &mut alerts, sink, problems);
                    pending.recycle(p.buf);
                }
                return;
            }
        }
        if text.is_empty() {
            return;
        }
        // Problems are made only for a record not taken by its head: a repeat drops nothing.
        let problems = if alertmanager && text[0] == b'{' {
            // One payload that reads cleanly: its alerts go to the sink head first, in order.
            if let Some(n) = crate::input::alertmanager::deliver_or_repeat(text, sink) {
                stats.records += 1;
                stats.alerts += n;
                return;
            }
            let mut problems = Problems::default();
            parse_into(format, text, &mut alerts, &mut problems);
            problems
        } else if native && text[0] == b'{' {
            // One object: the only record whose alert a sink may take by its head.
            let repeat = |head: &AlertHead<'_>| sink.repeat(head);
            let checked_text =
                checked.and_then(|c| c.chunk.get(c.start + text_start..c.start + text_end));
            let decoded = match checked_text {
                Some(text) => {
                    crate::input::native::parse_checked_or_repeat(text, &mut recent, repeat)
                }
                None => crate::input::native::parse_or_repeat(text, repeat),
            };
            match decoded {
                Ok(Some(alert)) => {
                    alerts.push(alert);
                    Problems::default()
                }
                Ok(None) => {
                    stats.records += 1;
                    stats.alerts += 1;
                    return;
                }
                Err(e) => {
                    let mut problems = Problems::default();
                    problems.push("", e);
                    problems
                }
            }
        } else {
            let mut problems = Problems::default();
            parse_into(format, text, &mut alerts, &mut problems);
            problems
        };
        if !problems.is_empty() && alerts.is_empty() {
            let mut depth = Depth::default();
            depth.feed(text);
            if depth.open() {
                // The start of a pretty-printed value: gather lines until it closes.
                pending.begin(line_no, line, depth);
                return;
            }
        }
        deliver(&mut stats, line_no, text, &mut alerts, sink, problems);
    };

    loop {
        // A line whole in the reader's buffer is decoded where it lies; one that runs past the
        // buffer's end (or past the record limit) is gathered into `line` first.
        let buffered = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if *format == Format::Native {
            let window = &buffered[..buffered.len().min(CHUNK_BYTES)];
            if let Some(last) = memchr::memrchr(b'\n', window) {
                let chunk = &window[..=last];
                decode_chunk(chunk, &mut on_line);
                input.consume(last + 1);
                continue;
            }
        }
        if let Some(end) = memchr::memchr(b'\n', buffered) {
            let bytes = end + 1;
            if bytes <= MAX_RECORD_BYTES {
                let whole = LineRead {
                    bytes,
                    truncated: false,
                };
                on_line(&buffered[..bytes], whole, None);
                input.consume(bytes);
                continue;
            }
        }
        line.clear();
        let read = read_line_capped(&mut input, &mut line, MAX_RECORD_BYTES)?;
        if read.bytes == 0 {
            break;
        }
        on_line(&line, read, None);
    }
    if pending.active() {
        let p = pending.take();
        let reason = unterminated(p.start, "the input ended");
        stats.records += 1;
        deliver_dead(&mut stats, p.start, reason, &p.buf, sink);
    }
    Ok(stats)
}

/// A line of a chunk checked as UTF-8 as a whole: the chunk's text and the line's offset in
/// it (the decoder makes a `str` of the trimmed line only, one char-boundary check of each
/// end). Other offsets are the line's.
#[derive(Clone, Copy)]
struct CheckedLine<'a> {
    chunk: &'a str,
    start: usize,
}

/// Hands the lines of `chunk` (whole lines, the last ending in `\n`) to `on_line`. A chunk
/// that is valid UTF-8 (nearly every one) is checked once and its lines go with its text;
/// otherwise each line goes alone, as lines read one by one do, so that its own UTF-8 error
/// is reported. (A line's quotes are classified only if it is read as JSON: a native line
/// that repeats a recent one but for its time is not, see [`RecentLines`].)
fn decode_chunk(chunk: &[u8], on_line: &mut impl FnMut(&[u8], LineRead, Option<CheckedLine<'_>>)) {
    let whole = |bytes| LineRead {
        bytes,
        truncated: false,
    };
    let checked = simdutf8::basic::from_utf8(chunk).ok();
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', chunk) {
        let line = &chunk[start..=newline];
        let checked = checked.map(|chunk| CheckedLine { chunk, start });
        on_line(line, whole(line.len()), checked);
        start = newline + 1;
    }
}

fn deliver(
    stats: &mut DecodeStats,
    record_no: u64,
    record: &[u8],
    alerts: &mut Vec<Alert>,
    sink: &mut impl Sink,
    problems: Problems,
) {
    stats.records += 1;
    stats.alerts += alerts.len() as u64;
    for a in alerts.drain(..) {
        sink.alert(a);
    }
    if !problems.is_empty() {
        stats.dead_letters += 1;
        sink.dead(DeadLetter::new(record_no, problems.into_reason(), record));
    }
}

fn unterminated(start: u64, why: &str) -> String {
    format!("JSON value starting at line {start} never closed: {why}")
}

fn deliver_dead(
    stats: &mut DecodeStats,
    record: u64,
    reason: String,
    raw: &[u8],
    sink: &mut impl Sink,
) {
    stats.dead_letters += 1;
    sink.dead(DeadLetter::new(record, reason, raw));
}

/// Offsets of `b` without its leading and trailing ASCII whitespace.
fn trim_range(b: &[u8]) -> (usize, usize) {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    (start, end)
}

/// A multi-line record being gathered.
#[derive(Default)]
struct Pending {
    start: u64,
    buf: Vec<u8>,
    depth: Depth,
    active: bool,
}

struct Taken {
    start: u64,
    buf: Vec<u8>,
}

impl Pending {
    fn active(&self) -> bool {
        self.active
    }
    fn begin(&mut self, start: u64, line: &[u8], depth: Depth) {
        self.start = start;
        self.buf.clear();
        self.buf.extend_from_slice(line);
        self.depth = depth;
        self.active = true;
    }
    fn take(&mut self) -> Taken {
        self.active = false;
        self.depth = Depth::default();
        Taken {
            start: self.start,
            buf: std::mem::take(&mut self.buf),
        }
    }
    fn recycle(&mut self, mut buf: Vec<u8>) {
        buf.clear();
        self.buf = buf;
    }
}

/// Bracket depth of JSON text outside strings, fed line by line.
#[derive(Default, Clone, Copy)]
struct Depth {
    depth: i64,
    in_string: bool,
    escaped: bool,
    opened: bool,
}

impl Depth {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    self.opened = true;
                }
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
        }
    }
    fn open(&self) -> bool {
        self.opened && self.depth > 0
    }
    fn closed(&self) -> bool {
        self.opened && self.depth <= 0
    }
}

struct LineRead {
    bytes: usize,
    truncated: bool,
}

/// Reads one line (with its `\n`) into `buf`, keeping at most `max` bytes of it; the rest of an
/// overlong line is skipped without being stored.
fn read_line_capped(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
    let mut total = 0;
    let mut truncated = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if take > room {
            truncated = true;
        }
        buf.extend_from_slice(&chunk[..take.min(room)]);
        total += take;
        r.consume(take);
        if done {
            break;
        }
    }
    Ok(LineRead {
        bytes: total,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(format: &Format, input: &str) -> (Vec<Alert>, Vec<DeadLetter>, DecodeStats) {
        let mut alerts = Vec::new();
        let mut dead = Vec::new();
        let stats = decode_stream(
            format,
            input.as_bytes(),
            |a| alerts.push(a),
            |d| dead.push(d),
        )
        .unwrap();
        (alerts, dead, stats)
    }

    /// Lines of every kind the native decoder tells apart: plain records (and repeats of them
    /// taken as recent lines), escapes, tabs, non-ASCII and invalid UTF-8 (which leaves its chunk to be
    /// read line by line), bad records, blank lines, pretty-printed pieces.
    fn native_lines() -> Vec<&'static [u8]> {
        vec![
            GOOD.as_bytes(), b"", b"   ", b"{\"oops\": 1}", b"not json", b"{", b"  \"source\": \"s\",", b"}",
            b"[", b"]", b"{\"source\":\"s\",\"name\":\"n\",\"status\":\"firing\",",
            b"\"severity\":\"info\",\"resource\":\"r\",\"starts_at\":1}",
            br#"{"fingerprint":"f1","source":"s","name":"n","status":"firing","severity":"info","resource":"r","service":"svc","summary":"a summary long enough to reach past one block of sixty-four bytes","labels":{"a":"1","b":"2"},"annotations":{},"starts_at":"2026-11-25T02:11:07.123Z"}"#,
            br#"  {"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":"2026-11-25T02:11:08Z"}  "#,
            br#"{"source":"s","name":"n\"q","status":"firing","severity":"info","resource":"r","starts_at":1}"#,
            b"{\"source\":\"s\",\t\"name\":\"n\",\"status\":\"firing\",\"severity\":\"info\",\"resource\":\"r\",\"starts_at\":1}",
            "{\"source\":\"s\",\"name\":\"caf\u{e9}\",\"status\":\"firing\",\"severity\":\"info\",\"resource\":\"r\",\"starts_at\":1}".as_bytes(),
            b"{\"source\":\"s\",\"name\":\"n\xff\",\"status\":\"firing\",\"severity\":\"info\",\"resource\":\"r\",\"starts_at\":1}",
            br#"{"source":"s","name":"","status":"firing","severity":"info","resource":"r","starts_at":1}"#,
        ]
    }

    /// Decodes `input` through a reader of `capacity` bytes (`None`: the whole slice).
    fn collect_native(
        input: &[u8],
        capacity: Option<usize>,
    ) -> (Vec<Alert>, Vec<DeadLetter>, DecodeStats) {
        let (mut alerts, mut dead) = (Vec::new(), Vec::new());
        let stats = match capacity {
            None => decode_stream(&Format::Native, input, |a| alerts.push(a), |d| dead.push(d)),
            Some(capacity) => decode_stream(
                &Format::Native,
                io::BufReader::with_capacity(capacity, input),
                |a| alerts.push(a),
                |d| dead.push(d),
            ),
        }
        .unwrap();
        (alerts, dead, stats)
    }

    proptest::proptest! {
        /// Lines decoded where they lie in the reader's buffer, a chunk at a time, give what
        /// lines gathered across buffer ends give: the same alerts, dead letters and counts for
        /// any buffer size.
        #[test]
        fn any_buffer_size_decodes_alike(
            lines in proptest::collection::vec(proptest::sample::select(native_lines()), 0..12),
            capacity in 1..64usize,
            crlf in proptest::bool::ANY,
        ) {
            let input = lines.join(if crlf { &b"\r\n"[..] } else { &b"\n"[..] });
            let whole = collect_native(&input, None);
            let pieces = collect_native(&input, Some(capacity));
            proptest::prop_assert_eq!(whole, pieces);
        }
    }

    /// An input of many chunks decodes as it does line by line (through a reader too small to
    /// hold a whole line, so that no chunk is ever checked as a whole).
    #[test]
    fn many_chunks_decode_as_lines_one_by_one() {
        let kinds = native_lines();
        let mut input = Vec::new();
        for i in 0..2_000 {
            input.extend_from_slice(kinds[(i * 7 + i / 13) % kinds.len()]);
            input.extend_from_slice(if i % 5 == 0 { b"\r\n" } else { b"\n" });
        }
        assert!(input.len() > 4 * CHUNK_BYTES);
        let whole = collect_native(&input, None);
        assert!(whole.0.len() > 500 && whole.1.len() > 100, "{:?}", whole.2);
        assert_eq!(whole, collect_native(&input, Some(5)));
        assert_eq!(whole, collect_native(&input, Some(CHUNK_BYTES + 77)));
    }

    const GOOD: &str = r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1}"#;

    #[test]
    fn ndjson_with_blank_and_bad_lines() {
        let input = format!("{GOOD}\n\n   \n{{\"oops\": 1}}\nnot json\n{GOOD}\r\n");
        let (alerts, dead, stats) = run(&Format::Native, &input);
        assert_eq!(alerts.len(), 2);
        assert_eq!(dead.len(), 2);
        assert_eq!(dead[0].record, 4);
        assert!(
            dead[0].reason.contains("missing field `source`"),
            "{}",
            dead[0].reason
        );
        assert_eq!(dead[0].raw, "{\"oops\": 1}");
        assert_eq!(dead[1].record, 5);
        assert_eq!(stats.records, 4);
        assert_eq!(stats.alerts, 2);
        assert_eq!(stats.dead_letters, 2);
        assert_eq!(stats.bytes, input.len() as u64);
    }

    /// Takes the head of every other alert it is offered, and logs what it receives.
    #[derive(Default)]
    struct EveryOther {
        offered: usize,
        log: Vec<String>,
    }

    impl Sink for EveryOther {
        fn repeat(&mut self, head: &AlertHead<'_>) -> bool {
            self.offered += 1;
            let take = self.offered.is_multiple_of(2);
            if take {
                self.log.push(format!("head {}", head.starts_at));
            }
            take
        }
        fn alert(&mut self, alert: Alert) {
            self.log.push(format!("alert {}", alert.starts_at));
        }
        fn dead(&mut self, dead: DeadLetter) {
            self.log.push(format!("dead {}", dead.record));
        }
    }

    #[test]
    fn a_sink_takes_heads_in_input_order_and_counts_stay_the_same() {
        let line = |t: i64| GOOD.replace("\"starts_at\":1", &format!("\"starts_at\":{t}"));
        let input = format!(
            "{}\n{}\nnot json\n[{},{}]\n{}\n{{\n \"source\": \"s\",\n{}\n",
            line(1),
            line(2),
            line(3),
            line(4),
            line(5),
            line(6)
        );
        let (alerts, dead, stats) = run(&Format::Native, &input);
        let mut sink = EveryOther::default();
        let fast = decode_stream_to(&Format::Native, input.as_bytes(), &mut sink).unwrap();
        assert_eq!(fast, stats);
        assert_eq!((alerts.len(), dead.len()), (6, 2));
        // Arrays and multi-line records are delivered whole; single objects are offered.
        assert_eq!(
            sink.log,
            ["alert 1", "head 2", "dead 3", "alert 3", "alert 4", "alert 5", "dead 6", "head 6"]
        );
    }

    #[test]
    fn pretty_printed_documents_are_gathered() {
        let pretty = "{\n  \"version\": \"4\",\n  \"alerts\": [\n    {\"status\": \"firing\", \"labels\": {\"alertname\": \"A\", \"host\": \"h\"}, \"startsAt\": \"2026-01-01T00:00:00Z\"}\n  ]\n}\n";
        let input = format!("{pretty}{pretty}");
        let (alerts, dead, stats) = run(&Format::Alertmanager, &input);
        assert!(dead.is_empty(), "{dead:?}");
        assert_eq!(alerts.len(), 2);
        assert_eq!(stats.records, 2);
    }

    #[test]
    fn unterminated_value_is_dead_lettered_and_the_next_one_read() {
        let input = format!("{{\n  \"source\": \"s\",\n{GOOD}\n");
        let (alerts, dead, _) = run(&Format::Native, &input);
        assert_eq!(alerts.len(), 1);
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].record, 1);
        assert!(
            dead[0].reason.contains("never closed"),
            "{}",
            dead[0].reason
        );
        let (alerts, dead, _) = run(&Format::Native, "{\n \"a\": [1,\n");
        assert!(alerts.is_empty());
        assert!(dead[0].reason.contains("the input ended"));
    }

    #[test]
    fn overlong_lines_are_refused_without_buffering() {
        let mut buf = Vec::new();
        let long = [b'x'; 100];
        let mut r = io::BufReader::with_capacity(16, &long[..]);
        let read = read_line_capped(&mut r, &mut buf, 10).unwrap();
        assert!(read.truncated);
        assert_eq!(read.bytes, 100);
        assert_eq!(buf.len(), 10);
    }

    #[test]
    fn dead_letter_raw_is_capped_and_lossy() {
        let mut raw = vec![b'a'; 5000];
        raw[0] = 0xff;
        let d = DeadLetter::new(3, "bad", &raw);
        assert!(d.raw.starts_with('\u{fffd}'));
        assert!(d.raw.len() <= 2048 + 2);
    }
}
