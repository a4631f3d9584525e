//! `native`: corral's own normalized alert (SPEC §1), one JSON object per line. The hot path of
//! every replay: a record is first read by the strict scanner of `fast_json`, and only when that
//! is not sure (escapes, loose types, unknown fields, errors) by serde_json, straight into
//! `CompactString`s with no intermediate value.

use crate::common::{
    finish, utf8, Problems, SeverityField, StatusField, Time, MAX_LABELS, MAX_VALUE_BYTES,
};
use crate::fast_json::{
    self, normalize_raw_labels, owned_labels, KnownNames, LabelText, Scanner, Seen, Span,
};
use crate::plain::{NextQuote, PlainReader};
use crate::time::{parse_time, utc_seconds_or_millis};
use corral_core::model::{fingerprint_of, labels_as_map, Labels, Str};
use corral_core::{Alert, AlertHead, Millis, Severity, Status};
use serde::Deserialize;

#[derive(Deserialize)]
struct NativeRecord {
    #[serde(default)]
    fingerprint: Option<Str>,
    source: Str,
    name: Str,
    status: StatusField,
    severity: SeverityField,
    resource: Str,
    #[serde(default)]
    service: Option<Str>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default, with = "labels_as_map")]
    labels: Labels,
    #[serde(default, with = "labels_as_map")]
    annotations: Labels,
    starts_at: Time,
    #[serde(default)]
    ends_at: Option<Time>,
    #[serde(default)]
    value: Option<f64>,
}

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match parse_one(payload) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

fn parse_one(payload: &[u8]) -> Result<Alert, String> {
    let text = utf8(payload)?;
    // The plain reader where it is sure, as in `parse_or_repeat`.
    let raw = scan_plain(text).or_else(|| scan(text));
    match raw.and_then(RawRecord::into_record) {
        Some(r) => convert(r),
        None => convert(serde_json::from_str::<NativeRecord>(text).map_err(|e| e.to_string())?),
    }
}

/// One record (a single JSON object) decoded for a stream whose consumer takes plain repeats by
/// their head ([`crate::Sink::repeat`]): when the record reads cleanly, `repeat` is offered its
/// head first and the alert is built only if it declines. `Ok(None)`: taken as a repeat.
/// Errors and alerts are exactly those of [`parse`]: the head is offered only for a record that
/// `parse` accepts, with the same fingerprint, status, severity, service and times.
pub(crate) fn parse_or_repeat(
    payload: &[u8],
    repeat: impl FnOnce(&AlertHead<'_>) -> bool,
) -> Result<Option<Alert>, String> {
    let text = utf8(payload)?;
    // Plain lines (printable ASCII, no escapes: nearly all) are read with the quote masks;
    // anything else, or anything that reader is not sure of, by the general scanner.
    parse_text_or_repeat(text, scan_plain(text), repeat)
}

/// [`parse_or_repeat`] for a line of a chunk already checked as UTF-8, with the lines accepted
/// lately (`recent`): a line that is one of them but for its `starts_at` time is offered by
/// its remembered head, with no JSON read at all. Any other line (or one whose head `repeat`
/// declines: it is then built, not offered again) is read in full, as [`parse_or_repeat`]
/// reads it; a plain line whose head is offered is remembered.
pub(crate) fn parse_checked_or_repeat(
    text: &str,
    recent: &mut RecentLines,
    repeat: impl FnOnce(&AlertHead<'_>) -> bool,
) -> Result<Option<Alert>, String> {
    let mut repeat = Some(repeat);
    if let Some(head) = recent.head_of(text.as_bytes()) {
        if repeat.take().is_some_and(|repeat| repeat(&head)) {
            return Ok(None);
        }
    }
    let mut starts_at_text = None;
    let plain = read_plain(PlainReader::new(text), &mut starts_at_text);
    // Remembered only when the plain reader read the whole record (and so placed its time).
    let starts_at_text = starts_at_text.filter(|_| plain.is_some());
    parse_text_or_repeat(text, plain, |head| {
        if let Some(starts_at_text) = starts_at_text {
            recent.remember(text, starts_at_text, head);
        }
        repeat.take().is_some_and(|repeat| repeat(head))
    })
}

/// How many lines [`RecentLines`] keeps: far more than the alerts a burst interleaves.
const RECENT_LINES: usize = 4096;

/// Native lines accepted lately, each with the head it decoded to. A repeat of an alert is
/// nearly always its previous line with another `starts_at`: a line whose bytes equal an
/// accepted plain line's everywhere but inside its `starts_at` string, and whose bytes there
/// spell a time of the fixed UTC shape (digits and separators only: no quote, escape or
/// non-ASCII byte), is that same record but for its start time, so it decodes to the
/// remembered head with the new time. A line that differs anywhere else is read in full.
/// Lines are placed by a hash of a few of their bytes, one per place (a newer one replaces
/// the older); every hit is checked byte for byte.
#[derive(Default)]
pub(crate) struct RecentLines {
    /// Empty until the first line is remembered; then `RECENT_LINES` places.
    lines: Vec<Option<RecentLine>>,
}

struct RecentLine {
    /// The trimmed line, as accepted.
    text: String,
    /// Where its `starts_at` time lies (the string's text, without its quotes).
    starts_at_text: Span,
    fingerprint: Str,
    service: Option<Str>,
    status: Status,
    severity: Severity,
    ends_at: Option<Millis>,
    value: Option<f64>,
}

impl RecentLines {
    /// The place of a line: a hash of the bytes that tell alerts apart where producers write
    /// them (a given fingerprint follows `{"fingerprint":"`; without one, the middle of the
    /// line holds the resource or labels). `None` for a line too short to hash so.
    #[inline(always)]
    fn place_of(text: &[u8]) -> Option<usize> {
        let word = |at: usize| Some(u64::from_le_bytes(*text.get(at..)?.first_chunk::<8>()?));
        let middle = (text.len() / 2).max(32);
        let mixed = word(16)? ^ word(24)?.rotate_left(21) ^ word(middle)?.rotate_left(42);
        // Fibonacci hashing: the top bits of the product, one place each.
        let bits = RECENT_LINES.trailing_zeros();
        Some((mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize)
    }

    /// The head of `text` when it is a remembered line but for its `starts_at` time.
    #[inline(always)]
    fn head_of(&self, text: &[u8]) -> Option<AlertHead<'_>> {
        let recent = self.lines.get(Self::place_of(text)?)?.as_ref()?;
        let known = recent.text.as_bytes();
        let Span { start, end } = recent.starts_at_text;
        if text.len() != known.len()
            || text.get(end..)? != known.get(end..)?
            || text.get(..start)? != known.get(..start)?
        {
            return None;
        }
        Some(AlertHead {
            fingerprint: &recent.fingerprint,
            status: recent.status,
            severity: recent.severity,
            service: recent.service.as_deref(),
            starts_at: utc_seconds_or_millis(text.get(start..end)?)?,
            ends_at: recent.ends_at,
            value: recent.value,
        })
    }

    /// Remembers `text`, a plain line that decoded to `head`, whose `starts_at` is the fixed
    /// UTC shape at `starts_at_text`.
    #[cold]
    fn remember(&mut self, text: &str, starts_at_text: Span, head: &AlertHead<'_>) {
        let Some(place) = Self::place_of(text.as_bytes()) else {
            return;
        };
        if self.lines.is_empty() {
            self.lines.resize_with(RECENT_LINES, || None);
        }
        let Some(slot) = self.lines.get_mut(place) else {
            return;
        };
        // The replaced line's buffer is reused.
        let mut kept = slot.take().map(|recent| recent.text).unwrap_or_default();
        kept.clear();
        kept.push_str(text);
        *slot = Some(RecentLine {
            text: kept,
            starts_at_text,
            fingerprint: Str::from(head.fingerprint),
            service: head.service.map(Str::from),
            status: head.status,
            severity: head.severity,
            ends_at: head.ends_at,
            value: head.value,
        });
    }
}

/// The rest of [`parse_or_repeat`], once the plain reader has read the record (`plain`) or
/// left it to the general scanner (`None`).
#[inline(always)]
fn parse_text_or_repeat(
    text: &str,
    plain: Option<RawRecord<'_>>,
    repeat: impl FnOnce(&AlertHead<'_>) -> bool,
) -> Result<Option<Alert>, String> {
    let by_serde =
        || convert(serde_json::from_str::<NativeRecord>(text).map_err(|e| e.to_string())?);
    let raw = match plain {
        Some(raw) => {
            debug_assert_eq!(Some(&raw), scan(text).as_ref(), "{text}");
            raw
        }
        None => match scan(text) {
            Some(raw) => raw,
            None => return by_serde().map(Some),
        },
    };
    if raw.is_clean() {
        let mut computed = None;
        let Some((fingerprint, service)) = raw.head_strings(&mut computed) else {
            return by_serde().map(Some);
        };
        let head = AlertHead {
            fingerprint,
            status: raw.status.0,
            severity: raw.severity.0,
            service,
            starts_at: raw.starts_at.0,
            ends_at: raw.ends_at.map(|t| t.0),
            value: raw.value,
        };
        if repeat(&head) {
            return Ok(None);
        }
    }
    match raw.into_record() {
        Some(record) => convert(record).map(Some),
        None => by_serde().map(Some),
    }
}

fn convert(r: NativeRecord) -> Result<Alert, String> {
    let a = Alert {
        fingerprint: r.fingerprint.unwrap_or_default(),
        source: r.source,
        name: r.name,
        status: r.status.0,
        severity: r.severity.0,
        resource: r.resource,
        service: r.service.filter(|s| !s.is_empty()),
        summary: r.summary,
        labels: r.labels,
        annotations: r.annotations,
        starts_at: r.starts_at.0,
        ends_at: r.ends_at.map(|t| t.0),
        value: r.value,
    };
    // labels_as_map already sorted both sets.
    finish(a, true)
}

/// A record as the fast scanner reads it: every string by its place in the line (made a `str`
/// only when read, see [`Span`]), labels in input order and still as text. Nothing is
/// allocated until [`RawRecord::into_record`].
#[derive(Debug, PartialEq)]
struct RawRecord<'a> {
    /// The line the spans lie in.
    text: &'a str,
    fingerprint: Option<Span>,
    source: Span,
    name: Span,
    status: StatusField,
    severity: SeverityField,
    resource: Span,
    service: Option<Span>,
    summary: Option<Span>,
    labels: LabelText,
    annotations: LabelText,
    starts_at: Time,
    ends_at: Option<Time>,
    value: Option<f64>,
}

impl<'a> RawRecord<'a> {
    /// A string of the record. `None` only for a span outside the line, which its readers
    /// never make.
    #[inline(always)]
    fn str(&self, span: Span) -> Option<&'a str> {
        span.of(self.text)
    }

    /// The record as serde_json would have read it (labels sorted, last duplicate kept);
    /// `None` only for a span outside the line.
    fn into_record(self) -> Option<NativeRecord> {
        // `Some(None)` for an absent string, `None` for a span outside the line.
        let owned = |span: Option<Span>| match span {
            Some(span) => self.str(span).map(|s| Some(Str::from(s))),
            None => Some(None),
        };
        Some(NativeRecord {
            fingerprint: owned(self.fingerprint)?,
            source: Str::from(self.str(self.source)?),
            name: Str::from(self.str(self.name)?),
            status: self.status,
            severity: self.severity,
            resource: Str::from(self.str(self.resource)?),
            service: owned(self.service)?,
            summary: match self.summary {
                Some(span) => Some(self.str(span)?.to_string()),
                None => None,
            },
            labels: owned_labels(&self.labels.pairs(self.text)?),
            annotations: owned_labels(&self.annotations.pairs(self.text)?),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            value: self.value,
        })
    }

    /// True when `finish` will accept the alert: names present, within every limit. Checked on
    /// the raw pairs: duplicates only shrink a label set, so a raw count within the limit is
    /// within it after normalizing too (and one above it is left to `finish` to judge).
    fn is_clean(&self) -> bool {
        let fits = |s: Span| s.len() <= MAX_VALUE_BYTES;
        let pairs_fit =
            |pairs: &LabelText| pairs.count <= MAX_LABELS && pairs.longest <= MAX_VALUE_BYTES;
        !self.name.is_empty()
            && !self.resource.is_empty()
            && [self.source, self.name, self.resource]
                .into_iter()
                .all(fits)
            && [self.fingerprint, self.service, self.summary]
                .into_iter()
                .all(|s| s.is_none_or(fits))
            && pairs_fit(&self.labels)
            && pairs_fit(&self.annotations)
    }

    /// The fingerprint `finish` computes for a record that gives none.
    fn computed_fingerprint(&self) -> Option<Str> {
        let mut labels = self.labels.pairs(self.text)?;
        normalize_raw_labels(&mut labels);
        Some(fingerprint_of(
            self.str(self.source)?,
            self.str(self.name)?,
            self.str(self.resource)?,
            labels.iter().copied(),
        ))
    }

    /// The head's strings: its fingerprint (given, or computed into `computed`) and its
    /// service (an empty one is none). `None` when the fingerprint cannot be computed here.
    #[inline(always)]
    fn head_strings<'s>(
        &'s self,
        computed: &'s mut Option<Str>,
    ) -> Option<(&'s str, Option<&'a str>)> {
        let service = match self.service.filter(|s| !s.is_empty()) {
            Some(span) => Some(self.str(span)?),
            None => None,
        };
        let fingerprint = match self.fingerprint.filter(|f| !f.is_empty()) {
            Some(given) => self.str(given)?,
            None => computed.insert(self.computed_fingerprint()?).as_str(),
        };
        Some((fingerprint, service))
    }
}

/// A native record's fields, in `NativeRecord`'s order (the order corral and serde write them
/// in). A key's index in [`NATIVE_KEYS`] is its discriminant, also its bit in `scan`'s `Seen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Fingerprint,
    Source,
    Name,
    Status,
    Severity,
    Resource,
    Service,
    Summary,
    Labels,
    Annotations,
    StartsAt,
    EndsAt,
    Value,
}

impl Key {
    const ALL: [Key; 13] = [
        Key::Fingerprint,
        Key::Source,
        Key::Name,
        Key::Status,
        Key::Severity,
        Key::Resource,
        Key::Service,
        Key::Summary,
        Key::Labels,
        Key::Annotations,
        Key::StartsAt,
        Key::EndsAt,
        Key::Value,
    ];
}

const NATIVE_KEY_NAMES: [&str; 13] = [
    "fingerprint",
    "source",
    "name",
    "status",
    "severity",
    "resource",
    "service",
    "summary",
    "labels",
    "annotations",
    "starts_at",
    "ends_at",
    "value",
];

const NATIVE_KEYS: KnownNames<13> = KnownNames::new(NATIVE_KEY_NAMES);

/// [`NATIVE_KEYS`] as the members after the first are written in a compact record: `,"key":`.
const NATIVE_MEMBER_KEYS: KnownNames<13> = KnownNames::compact_members(NATIVE_KEY_NAMES);

/// The record as the fast scanner reads it, or `None` to let serde_json decide (and explain).
/// Inlined so the ~200-byte record is built where the caller keeps it, not copied out.
#[inline(always)]
fn scan(text: &str) -> Option<RawRecord<'_>> {
    let mut s = Scanner::new(text);
    let mut seen = Seen::default();
    let (mut fingerprint, mut source, mut name, mut resource) = (None, None, None, None);
    let (mut status, mut severity, mut starts_at) = (None, None, None);
    let (mut service, mut summary, mut ends_at, mut value) = (None, None, None, None);
    let (mut labels, mut annotations) = (LabelText::default(), LabelText::default());
    // Unknown keys give up: serde skips them, and that (with its checks) is left to it.
    s.object_with_known_keys(&NATIVE_KEYS, |index, s| {
        let key = *Key::ALL.get(index)?;
        seen.first(key as u32)?;
        match key {
            Key::Fingerprint => {
                fingerprint = fast_json::opt_string_span(s)?;
            }
            Key::Source => {
                source = Some(s.string_span()?);
            }
            Key::Name => {
                name = Some(s.string_span()?);
            }
            Key::Status => {
                status = Some(fast_json::status(s)?);
            }
            Key::Severity => {
                severity = Some(fast_json::severity(s)?);
            }
            Key::Resource => {
                resource = Some(s.string_span()?);
            }
            Key::Service => {
                service = fast_json::opt_string_span(s)?;
            }
            Key::Summary => {
                summary = fast_json::opt_string_span(s)?;
            }
            Key::Labels => {
                labels = fast_json::label_text(s)?;
            }
            Key::Annotations => {
                annotations = fast_json::label_text(s)?;
            }
            Key::StartsAt => {
                starts_at = Some(fast_json::time(s)?);
            }
            Key::EndsAt => {
                ends_at = fast_json::opt_time(s)?;
            }
            Key::Value => {
                value = fast_json::opt_f64(s)?;
            }
        }
        Some(())
    })?;
    if !s.at_end() {
        return None;
    }
    Some(RawRecord {
        text,
        fingerprint,
        source: source?,
        name: name?,
        status: status?,
        severity: severity?,
        resource: resource?,
        service,
        summary,
        labels,
        annotations,
        starts_at: starts_at?,
        ends_at,
        value,
    })
}

/// [`scan`] for a plain line (see [`PlainReader`]): the same record, or `None` where the plain
/// reading is not sure (then [`scan`] decides). Every member is read as `scan` reads it: the
/// same fields and types, unknown keys refused.
#[inline(always)]
fn scan_plain(text: &str) -> Option<RawRecord<'_>> {
    read_plain(PlainReader::new(text), &mut None)
}

/// [`scan_plain`] with the reader's quotes found its way (see [`NextQuote`]); sets
/// `starts_at_text` to where the `starts_at` time lies when it is a string of a fixed UTC
/// shape (see [`RecentLines`]).
#[inline(always)]
fn read_plain<'a, Q: NextQuote>(
    mut r: PlainReader<'a, Q>,
    starts_at_text: &mut Option<Span>,
) -> Option<RawRecord<'a>> {
    let (mut fingerprint, mut source, mut name, mut resource) = (None, None, None, None);
    let (mut status, mut severity, mut starts_at) = (None, None, None);
    let (mut service, mut summary, mut ends_at, mut value) = (None, None, None, None);
    let (mut labels, mut annotations) = (LabelText::default(), LabelText::default());
    r.eat(b'{')?;
    let mut next = 0;
    // `{}` has no member and misses the required ones: `scan` and serde say so.
    let mut index = r.known_name(&NATIVE_KEYS, next)?;
    r.eat(b':')?;
    loop {
        // Keys in `NativeRecord`'s order only (the order producers write), so that none can
        // come twice; any other order is left to `scan`.
        if index < next {
            return None;
        }
        next = index + 1;
        let key = *Key::ALL.get(index)?;
        match key {
            Key::Fingerprint => fingerprint = r.opt_string_span()?,
            Key::Source => source = Some(r.string_span()?),
            Key::Name => name = Some(r.string_span()?),
            Key::Status => {
                status = Some(StatusField(
                    *fast_json::STATUSES.get(r.known_name(&fast_json::STATUS_NAMES, 0)?)?,
                ));
            }
            Key::Severity => {
                severity = Some(SeverityField(
                    *Severity::ALL.get(r.known_name(&fast_json::SEVERITY_NAMES, 0)?)?,
                ));
            }
            Key::Resource => resource = Some(r.string_span()?),
            Key::Service => service = r.opt_string_span()?,
            Key::Summary => summary = r.opt_string_span()?,
            Key::Labels => labels = r.label_text()?,
            Key::Annotations => annotations = r.label_text()?,
            Key::StartsAt => {
                let (time, fixed_shape) = plain_time(&mut r)?;
                starts_at = Some(time);
                *starts_at_text = fixed_shape;
            }
            Key::EndsAt => {
                ends_at = if r.null() {
                    None
                } else {
                    Some(plain_time(&mut r)?.0)
                };
            }
            Key::Value => {
                let mut s = r.scanner();
                value = fast_json::opt_f64(&mut s)?;
                r.resume(&s);
            }
        }
        // The next member: `,"key":` in one compare where the record is compact (as serde
        // and corral write it), else token by token.
        index = match r.compact_member_key(&NATIVE_MEMBER_KEYS, next) {
            Some(index) => index,
            None => match r.peek()? {
                b',' => {
                    r.skip_peeked();
                    let index = r.known_name(&NATIVE_KEYS, next)?;
                    r.eat(b':')?;
                    index
                }
                b'}' => {
                    r.skip_peeked();
                    break;
                }
                _ => return None,
            },
        };
    }
    if !r.at_end() {
        return None;
    }
    Some(RawRecord {
        text: r.text(),
        fingerprint,
        source: source?,
        name: name?,
        status: status?,
        severity: severity?,
        resource: resource?,
        service,
        summary,
        labels,
        annotations,
        starts_at: starts_at?,
        ends_at,
        value,
    })
}

/// An event time as [`fast_json::time`] reads it: a string is parsed from its text (which
/// tries the fixed UTC shapes first, as `fast_json::time` does in place), a number by the
/// general scanner. With it, where the string lies when it has a fixed UTC shape.
#[inline(always)]
fn plain_time<Q: NextQuote>(r: &mut PlainReader<'_, Q>) -> Option<(Time, Option<Span>)> {
    if r.peek()? == b'"' {
        let span = r.string_span()?;
        let text = r.text().as_bytes().get(span.start..span.end)?;
        // The fixed UTC shapes inline (what `parse_time` tries first), the rest through it
        // (UTF-8 between two ASCII quotes of a UTF-8 line: `from_utf8` cannot fail).
        if let Some(ms) = utc_seconds_or_millis(text) {
            return Some((Time(ms), Some(span)));
        }
        return Some((Time(parse_time(std::str::from_utf8(text).ok()?)?), None));
    }
    let mut s = r.scanner();
    let time = fast_json::time(&mut s)?;
    r.resume(&s);
    Some((time, None))
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Alert, Severity, Status};

    fn one(line: &str) -> Result<Alert, String> {
        let mut out = Vec::new();
        parse_record(&Format::Native, line.as_bytes(), &mut out)?;
        assert_eq!(out.len(), 1);
        Ok(out.pop().unwrap())
    }

    #[test]
    fn key_names_follow_the_key_order() {
        for (index, key) in super::Key::ALL.into_iter().enumerate() {
            assert_eq!(key as usize, index);
            let name = super::NATIVE_KEYS.name(index);
            let expected = format!("{key:?}").to_lowercase();
            let expected = expected
                .replace("startsat", "starts_at")
                .replace("endsat", "ends_at");
            assert_eq!(name, expected.as_bytes(), "{key:?}");
        }
    }

    #[test]
    fn reads_every_field() {
        let a = one(
            r#"{"fingerprint":"fp-1","source":"zabbix","name":"DiskFull","status":"resolved",
            "severity":"critical","resource":"db-4","service":"payroll","summary":"disk / at 99%",
            "labels":{"mount":"/","dc":"par1"},"annotations":{"runbook":"http://x"},
            "starts_at":"2026-11-25T02:11:07Z","ends_at":1795572727500,"value":99.5}"#,
        )
        .unwrap();
        assert_eq!(a.fingerprint, "fp-1");
        assert_eq!(a.source, "zabbix");
        assert_eq!(a.name, "DiskFull");
        assert_eq!(a.status, Status::Resolved);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.resource, "db-4");
        assert_eq!(a.service.as_deref(), Some("payroll"));
        assert_eq!(a.summary.as_deref(), Some("disk / at 99%"));
        assert_eq!(
            a.labels,
            vec![("dc".into(), "par1".into()), ("mount".into(), "/".into())]
        );
        assert_eq!(a.annotations, vec![("runbook".into(), "http://x".into())]);
        assert_eq!(a.starts_at, 1_795_572_667_000);
        assert_eq!(a.ends_at, Some(1_795_572_727_500));
        assert_eq!(a.value, Some(99.5));
    }

    #[test]
    fn both_time_forms_agree_and_fingerprint_is_computed() {
        let a = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":"2023-11-14T22:13:20Z"}"#).unwrap();
        let b = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1700000000000}"#).unwrap();
        let c = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":"1700000000000"}"#).unwrap();
        assert_eq!(a.starts_at, 1_700_000_000_000);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.fingerprint.len(), 16);
        assert_eq!(
            a.fingerprint,
            corral_core::model::compute_fingerprint("s", "n", "r", &vec![])
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        let e =
            one(r#"{"source":"s","name":"n","status":"firing","severity":"info","starts_at":1}"#)
                .unwrap_err();
        assert!(e.contains("missing field `resource`"), "{e}");
        let e =
            one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r"}"#)
                .unwrap_err();
        assert!(e.contains("missing field `starts_at`"), "{e}");
    }

    #[test]
    fn wrong_types_and_values_are_explained() {
        let e = one(r#"{"source":"s","name":7,"status":"firing","severity":"info","resource":"r","starts_at":1}"#).unwrap_err();
        assert!(e.contains("invalid type: integer `7`"), "{e}");
        let e = one(r#"{"source":"s","name":"n","status":"burning","severity":"info","resource":"r","starts_at":1}"#).unwrap_err();
        assert!(
            e.contains("status \"burning\" is neither firing nor resolved"),
            "{e}"
        );
        let e = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":"tuesday"}"#).unwrap_err();
        assert!(e.contains("invalid timestamp \"tuesday\""), "{e}");
        let e = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1,"labels":{"a":{"b":1}}}"#).unwrap_err();
        assert!(e.contains("label value"), "{e}");
        let e = one(r#"{"source":"s","name":"","status":"firing","severity":"info","resource":"r","starts_at":1}"#).unwrap_err();
        assert!(e.contains("name is empty"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_an_error_with_position() {
        let mut bytes = br#"{"source":"s","name":"n"#.to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(
            br#"","status":"firing","severity":"info","resource":"r","starts_at":1}"#,
        );
        let mut out = Vec::new();
        let e = parse_record(&Format::Native, &bytes, &mut out).unwrap_err();
        assert!(e.contains("line 1 column"), "{e}");
        assert!(out.is_empty());
    }

    #[test]
    fn empty_record_gives_nothing() {
        let mut out = Vec::new();
        parse_record(&Format::Native, b"  \r\n", &mut out).unwrap();
        assert!(out.is_empty());
    }

    /// JSON snippets for a field's value: kept, refused, and ones the fast scanner leaves to
    /// serde_json (escapes, numbers as text, nulls, nested values).
    fn value() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            Just(r#""firing""#.to_string()),
            Just(r#""resolved""#.to_string()),
            Just(r#""critical""#.to_string()),
            Just(r#""info""#.to_string()),
            Just(r#""burning""#.to_string()),
            Just(r#""2026-11-25T02:11:07.5Z""#.to_string()),
            Just(r#""1700000000000""#.to_string()),
            Just(r#""a\"b""#.to_string()),
            Just(r#""caf\u00e9""#.to_string()),
            Just(r#""é ü""#.to_string()),
            Just("\"tab\there\"".to_string()),
            Just(r#""""#.to_string()),
            Just("null".to_string()),
            Just("true".to_string()),
            Just("0".to_string()),
            Just("-0".to_string()),
            Just("1700000000000".to_string()),
            Just("99.5".to_string()),
            Just("1e3".to_string()),
            Just("12.5e99".to_string()),
            Just("18446744073709551616".to_string()),
            Just("01".to_string()),
            Just(r#"{"b":"2","a":"1","a":"3"}"#.to_string()),
            Just(r#"{"port":5432}"#.to_string()),
            Just(r#"{}"#.to_string()),
            Just(r#"[1,2]"#.to_string()),
            "[a-z0-9 -]{0,12}".prop_map(|s| format!("\"{s}\"")),
        ]
    }

    /// `parse_or_repeat` gives what `parse_one` gives, and offers a head only for a record that
    /// decodes, equal to the head of its alert.
    fn head_is_offered_only_for_a_good_record_and_matches_its_alert(
        text: &str,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let whole = super::parse_one(text.as_bytes());
        let mut offered = None;
        let declined = super::parse_or_repeat(text.as_bytes(), |head| {
            offered = Some(format!("{head:?}"));
            false
        });
        proptest::prop_assert_eq!(&declined, &whole.clone().map(Some), "{}", text);
        if let Some(head) = offered {
            let alert = whole
                .as_ref()
                .expect("a head is offered only for a good record");
            proptest::prop_assert_eq!(head, format!("{:?}", alert.head()), "{}", text);
            let taken = super::parse_or_repeat(text.as_bytes(), |_| true);
            proptest::prop_assert_eq!(taken, Ok(None));
        }
        Ok(())
    }

    #[test]
    fn a_good_record_offers_its_head_and_is_built_only_when_declined() {
        let text = r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","service":"","labels":{"b":"2","a":"1","b":"3"},"starts_at":1700000000000}"#;
        let mut heads = Vec::new();
        let declined = super::parse_or_repeat(text.as_bytes(), |h| {
            heads.push(format!("{h:?}"));
            false
        })
        .unwrap()
        .expect("declined: built whole");
        assert_eq!(
            declined.labels,
            vec![("a".into(), "1".into()), ("b".into(), "3".into())]
        );
        assert_eq!(heads, [format!("{:?}", declined.head())]);
        assert_eq!(declined.head().service, None, "an empty service is none");
        assert_eq!(super::parse_or_repeat(text.as_bytes(), |_| true), Ok(None));
        // A bad record is never offered, and errs as `parse` does.
        let bad = r#"{"source":"s","name":"","status":"firing","severity":"info","resource":"r","starts_at":1}"#;
        let e = super::parse_or_repeat(bad.as_bytes(), |_| panic!("not offered")).unwrap_err();
        assert!(e.contains("name is empty"), "{e}");
    }

    /// What `parse_checked_or_repeat` gives for `text` with the lines `recent` keeps, its sink
    /// taking the head or not (`take`): the result and the heads offered.
    fn decode_with_recent(
        text: &str,
        recent: &mut super::RecentLines,
        take: bool,
    ) -> (Result<Option<Alert>, String>, Vec<String>) {
        let mut offered = Vec::new();
        let result = super::parse_checked_or_repeat(text, recent, |head| {
            offered.push(format!("{head:?}"));
            take
        });
        (result, offered)
    }

    /// The same, read in full with no recent lines (`parse_or_repeat`).
    fn decode_alone(text: &str, take: bool) -> (Result<Option<Alert>, String>, Vec<String>) {
        let mut offered = Vec::new();
        let result = super::parse_or_repeat(text.as_bytes(), |head| {
            offered.push(format!("{head:?}"));
            take
        });
        (result, offered)
    }

    #[test]
    fn a_recent_line_is_taken_by_its_head_only_when_its_time_alone_differs() {
        let line = |severity: &str, time: &str| {
            format!(
                r#"{{"fingerprint":"0123456789abcdef","source":"am","name":"HostDown","status":"firing","severity":"{severity}","resource":"host-1","labels":{{"starts_at":"2026-11-25T02:11:07.000Z"}},"starts_at":"{time}"}}"#
            )
        };
        let mut recent = super::RecentLines::default();
        let first = line("critical", "2026-11-25T02:11:07.123Z");
        assert_eq!(
            decode_with_recent(&first, &mut recent, true),
            decode_alone(&first, true)
        );
        // Another time of the same shape: the remembered head, with the new time.
        let later = line("critical", "2026-11-25T02:12:09.456Z");
        let head = recent.head_of(later.as_bytes()).expect("a recent line");
        assert_eq!(
            (head.fingerprint, head.starts_at),
            ("0123456789abcdef", 1_795_572_729_456)
        );
        assert_eq!(
            decode_with_recent(&later, &mut recent, true),
            decode_alone(&later, true)
        );
        // A byte changed elsewhere (even in a label that looks like the time), a time of
        // another shape, or bytes in the time that are not one: read in full.
        let other_label = first.replace("07.000Z", "08.000Z");
        for text in [
            line("error", "2026-11-25T02:11:07.123Z"),
            other_label,
            line("critical", "2026-11-25T02:11:07Z"),
            line("critical", "2026-11-25T02:11:07.12\\"),
            line("critical", "2026-02-30T02:11:07.123Z"),
            line("critical", "2026-11-25T02:11:07.1\"Z"),
        ] {
            assert!(recent.head_of(text.as_bytes()).is_none(), "{text}");
            for take in [true, false] {
                assert_eq!(
                    decode_with_recent(&text, &mut super::RecentLines::default(), take),
                    decode_alone(&text, take),
                    "{text}"
                );
            }
        }
        // A head declined after it was taken from a recent line is not offered again: the
        // alert is built whole, as a full read builds it.
        let (built, offered) = decode_with_recent(&later, &mut recent, false);
        assert_eq!((built, offered), decode_alone(&later, false));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The fast scanner never disagrees with serde_json: whatever it accepts, serde_json
        /// accepts and reads into the same alert.
        #[test]
        fn fast_scan_agrees_with_serde(
            fields in proptest::collection::vec(
                (proptest::sample::select(vec![
                    "fingerprint", "source", "name", "status", "severity", "resource", "service",
                    "summary", "labels", "annotations", "starts_at", "ends_at", "value", "extra",
                ]), value()),
                0..16,
            ),
            space in proptest::sample::select(vec!["", " ", "\n\t", "\r\n "]),
            tail in proptest::sample::select(vec!["", " ", "\n", "x", "}", ",{}"]),
            base in proptest::bool::ANY,
        ) {
            // Half the cases start from a valid record so that most of them parse.
            let mut members: Vec<String> = if base {
                [("source", r#""s""#), ("name", r#""n""#), ("status", r#""firing""#),
                 ("severity", r#""info""#), ("resource", r#""r""#), ("starts_at", "1")]
                    .iter()
                    .map(|(k, v)| format!("\"{k}\"{space}:{space}{v}"))
                    .collect()
            } else {
                Vec::new()
            };
            members.extend(fields.iter().map(|(k, v)| format!("\"{k}\"{space}:{space}{v}")));
            let text = format!("{space}{{{}}}{tail}", members.join(&format!("{space},")));
            head_is_offered_only_for_a_good_record_and_matches_its_alert(&text)?;
            // The plain reader reads what the general scanner reads, or leaves the line to it.
            if let Some(plain) = super::scan_plain(&text) {
                proptest::prop_assert_eq!(Some(plain), super::scan(&text), "{}", text);
            }
            let fast = super::scan(&text).and_then(super::RawRecord::into_record);
            let slow = serde_json::from_str::<super::NativeRecord>(&text);
            if let Some(fast) = fast {
                proptest::prop_assert!(slow.is_ok(), "{text}: {:?}", slow.err());
                proptest::prop_assert_eq!(super::convert(fast), super::convert(slow.unwrap()), "{}", text);
            }
        }

        /// A stream of lines that repeat each other with other times, severities, resources,
        /// time shapes and broken times decodes line for line as each line read alone does:
        /// the same heads offered (once at most), the same alerts and errors, whatever the
        /// sink takes.
        #[test]
        fn recent_lines_decode_as_lines_read_alone(
            fingerprint in proptest::option::of("[a-f0-9]{16}"),
            service in proptest::option::of("[a-z]{0,6}"),
            label_value in "[a-z0-9:.TZ-]{0,24}",
            lines in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        r#""2026-11-25T02:11:07.123Z""#, r#""2026-11-25T02:11:59.999Z""#,
                        r#""2026-11-25T02:12:00.000Z""#, r#""2026-11-25T02:11:07Z""#,
                        r#""2026-11-25T02:11:60.000Z""#, r#""2026-11-25T02:11:61.000Z""#,
                        r#""2026-11-31T02:11:07.123Z""#, r#""2026-11-25T02:11:07.12xZ""#,
                        r#""2026-11-25 02:11:07.123Z""#, r#""2026-11-25T03:11:07+01:00""#,
                        "1700000000000", "1700000000001",
                    ]),
                    proptest::sample::select(vec!["critical", "warning", "fatal"]),
                    proptest::sample::select(vec!["db-4", "db-5", ""]),
                    proptest::sample::select(vec!["", r#","ends_at":"2026-11-25T02:20:00.000Z""#, r#","value":1.5"#]),
                    proptest::bool::ANY,
                ),
                1..24,
            ),
        ) {
            let mut recent = super::RecentLines::default();
            for (time, severity, resource, tail, take) in lines {
                let fingerprint = fingerprint.as_ref().map_or(String::new(), |f| format!(r#""fingerprint":"{f}","#));
                let service = service.as_ref().map_or(String::new(), |s| format!(r#","service":"{s}""#));
                let text = format!(
                    r#"{{{fingerprint}"source":"am","name":"HostDown","status":"firing","severity":"{severity}","resource":"{resource}"{service},"labels":{{"starts_at":"{label_value}"}},"starts_at":{time}{tail}}}"#
                );
                let (result, offered) = decode_with_recent(&text, &mut recent, take);
                proptest::prop_assert!(offered.len() <= 1, "{}", text);
                proptest::prop_assert_eq!((result, offered), decode_alone(&text, take), "{}", text);
            }
        }

        /// Records as producers write them (keys in order, no escapes, ASCII, spaces or none,
        /// strings long enough to cross 64-byte blocks) are read by the plain reader, as `scan`
        /// reads them; a backslash or a non-ASCII byte anywhere leaves them to `scan`.
        #[test]
        fn plain_records_are_read_by_the_plain_reader(
            fingerprint in proptest::option::of("[a-f0-9]{0,16}"),
            service in proptest::option::of("[a-z0-9-]{0,12}"),
            summary in proptest::option::of(r"[ -!#-\[\]-~]{0,90}"),
            labels in proptest::option::of(proptest::collection::vec(("[a-z_]{1,10}", "[a-z0-9 .:/-]{0,40}"), 0..8)),
            starts_at in proptest::sample::select(vec![
                r#""2026-11-25T02:11:07.123Z""#, r#""2026-11-25T02:11:07Z""#,
                r#""2026-11-25T03:11:07+01:00""#, "1700000000000",
            ]),
            ends_at in proptest::sample::select(vec!["", "null", "1700000000001", r#""2026-11-25T02:12:07Z""#]),
            value in proptest::sample::select(vec!["", "null", "99.5", "-1e3"]),
            space in proptest::sample::select(vec!["", " "]),
            odd in proptest::option::of(proptest::sample::select(vec![r"\\", "é", r"\u0041"])),
        ) {
            let quoted = |s: &str| format!("\"{s}\"");
            let mut members = Vec::new();
            let mut member = |key: &str, value: String| {
                members.push(format!("\"{key}\"{space}:{space}{value}"));
            };
            if let Some(fingerprint) = &fingerprint {
                member("fingerprint", quoted(fingerprint));
            }
            member("source", quoted("alertmanager"));
            member("name", quoted("DiskFull"));
            member("status", quoted("firing"));
            member("severity", quoted("critical"));
            member("resource", quoted(&format!("db-4{}", odd.unwrap_or(""))));
            if let Some(service) = &service {
                member("service", quoted(service));
            }
            if let Some(summary) = &summary {
                member("summary", quoted(summary));
            }
            if let Some(labels) = &labels {
                let pairs: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{}{space}:{space}{}", quoted(k), quoted(v)))
                    .collect();
                member("labels", format!("{{{}}}", pairs.join(&format!(",{space}"))));
            }
            member("annotations", format!("{{{}{space}:{space}{}}}", quoted("monitor"), quoted("am-a")));
            member("starts_at", starts_at.to_string());
            if !ends_at.is_empty() {
                member("ends_at", ends_at.to_string());
            }
            if !value.is_empty() {
                member("value", value.to_string());
            }
            let text = format!("{{{space}{}{space}}}", members.join(&format!(",{space}")));
            let plain = super::scan_plain(&text);
            proptest::prop_assert_eq!(plain.is_some(), odd.is_none(), "{}", text);
            if let Some(plain) = plain {
                proptest::prop_assert_eq!(Some(plain), super::scan(&text), "{}", text);
            }
        }
    }
}
