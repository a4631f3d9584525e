//! Incident updates as JSON, written by hand: byte for byte what `serde_json::to_writer` writes
//! for an [`IncidentUpdate`], at a fraction of the cost. serde_json escapes strings one byte at a
//! time through its formatter; an update is ~1,200 bytes of mostly plain fingerprints, resource
//! names and sentences, which this checks and copies 16 (or 8) bytes at a time, escaping only
//! the strings that need it. The replay writes one of these per incident change.
//!
//! The bytes go through [`JsonOut`], a cursor into an initialised buffer rather than
//! `Vec::extend_from_slice`: stores of whole words and fixed-size literals, one room check a
//! string, no `memcpy` call for every short name (~26 strings an update).

use corral_core::incident::{Details, EventAction, IncidentUpdate, Payload, RootCause};
use std::io;
use std::sync::OnceLock;

/// Appends `update` to `out` as serde_json would serialize it (no trailing newline).
pub fn write_update_json(update: &IncidentUpdate, out: &mut Vec<u8>) {
    let end = out.len();
    let mut json = JsonOut::at(out, end);
    json.update(update);
    let end = json.end();
    out.truncate(end);
}

/// JSON written at a cursor into `buf`: `buf[..pos]` is written, `buf[pos..]` is initialised
/// room (zeros or stale bytes) that stores may fill past what they keep, so a string is copied
/// in whole words and only then known to need no escape. The buffer grows (zero-filled) when a
/// write needs more room; [`JsonOut::end`] says where the written bytes stop.
pub(crate) struct JsonOut<'a> {
    buf: &'a mut Vec<u8>,
    pos: usize,
}

impl<'a> JsonOut<'a> {
    /// Writes from `buf[pos]` on; what `buf` holds past `pos` is overwritten.
    pub(crate) fn at(buf: &'a mut Vec<u8>, pos: usize) -> JsonOut<'a> {
        debug_assert!(pos <= buf.len());
        JsonOut { buf, pos }
    }

    /// Where the written bytes end: what lies past it in the buffer is not output.
    pub(crate) fn end(&self) -> usize {
        self.pos
    }

    /// `n` bytes of room at the cursor, not yet counted as written.
    #[inline]
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.pos < n {
            self.grow(n);
        }
        &mut self.buf[self.pos..self.pos + n]
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        // Doubling: a caller's `Vec` that is truncated back after each update keeps its
        // capacity, so this is rare after the first updates.
        let len = (self.pos + n).max(self.buf.len() * 2).max(4096);
        self.buf.resize(len, 0);
    }

    pub(crate) fn byte(&mut self, b: u8) {
        self.room(1)[0] = b;
        self.pos += 1;
    }

    /// A constant: its length is known, so the copy is a few fixed-size moves.
    #[inline(always)]
    fn literal<const N: usize>(&mut self, bytes: &[u8; N]) {
        self.room(N).copy_from_slice(bytes);
        self.pos += N;
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.room(bytes.len()).copy_from_slice(bytes);
        self.pos += bytes.len();
    }

    /// Appends `update` as serde_json would serialize it.
    pub(crate) fn update(&mut self, update: &IncidentUpdate) {
        // Destructured field by field: a field added to these structs fails to compile here
        // rather than go missing from the output (the field order is the structs' declaration
        // order).
        let IncidentUpdate {
            event_action,
            dedup_key,
            payload,
        } = update;
        let Payload {
            summary,
            source,
            severity,
            timestamp,
            component,
            group,
            class,
            custom_details,
        } = payload;
        match event_action {
            EventAction::Trigger => self.literal(br#"{"event_action":"trigger","dedup_key":"#),
            EventAction::Resolve => self.literal(br#"{"event_action":"resolve","dedup_key":"#),
        }
        self.string(dedup_key);
        self.literal(br#","payload":{"summary":"#);
        self.string(summary);
        self.literal(br#","source":"#);
        self.string(source);
        self.literal(br#","severity":"#);
        self.string(severity.as_str());
        self.literal(br#","timestamp":"#);
        self.string(timestamp);
        self.literal(br#","component":"#);
        self.string(component);
        self.literal(br#","group":"#);
        self.string(group);
        self.literal(br#","class":"#);
        self.string(class);
        self.literal(br#","custom_details":"#);
        self.details(custom_details);
        self.literal(b"}}");
    }

    fn details(&mut self, d: &Details) {
        let Details {
            incident_id,
            alerts,
            alert_count,
            event_count,
            resources,
            services,
            root_cause,
            impacted_services,
            anomaly_score,
            rules,
            merged_from,
            merged_into,
            first_seen,
            last_seen,
            explanation,
        } = d;
        self.literal(br#"{"incident_id":"#);
        self.string(incident_id);
        self.literal(br#","alerts":"#);
        self.strings(alerts);
        self.literal(br#","alert_count":"#);
        self.integer(*alert_count as u64);
        self.literal(br#","event_count":"#);
        self.integer(*event_count);
        self.literal(br#","resources":"#);
        self.strings(resources);
        self.literal(br#","services":"#);
        self.strings(services);
        self.literal(br#","root_cause":"#);
        self.root(root_cause);
        self.literal(br#","impacted_services":"#);
        self.strings(impacted_services);
        self.literal(br#","anomaly_score":"#);
        self.float(*anomaly_score);
        self.literal(br#","rules":"#);
        self.strings(rules);
        self.literal(br#","merged_from":"#);
        self.strings(merged_from);
        // `skip_serializing_if = "Option::is_none"`.
        if let Some(into) = merged_into {
            self.literal(br#","merged_into":"#);
            self.string(into);
        }
        self.literal(br#","first_seen":"#);
        self.string(first_seen);
        self.literal(br#","last_seen":"#);
        self.string(last_seen);
        self.literal(br#","explanation":"#);
        self.strings(explanation);
        self.byte(b'}');
    }

    fn root(&mut self, r: &RootCause) {
        let RootCause {
            resource,
            fingerprint,
            name,
            confidence,
            reason,
        } = r;
        self.literal(br#"{"resource":"#);
        self.string(resource);
        self.literal(br#","fingerprint":"#);
        self.optional(fingerprint.as_deref());
        self.literal(br#","name":"#);
        self.optional(name.as_deref());
        self.literal(br#","confidence":"#);
        self.float(*confidence);
        self.literal(br#","reason":"#);
        self.string(reason);
        self.byte(b'}');
    }

    fn optional(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.literal(b"null"),
        }
    }

    /// A list of names (`Str`) or of sentences (`Arc<str>`).
    fn strings<S: AsRef<str>>(&mut self, items: &[S]) {
        let Some((first, rest)) = items.split_first() else {
            self.literal(b"[]");
            return;
        };
        self.string_after(b'[', first.as_ref());
        for s in rest {
            self.string_after(b',', s.as_ref());
        }
        self.byte(b']');
    }

    /// Decimal digits as serde_json writes them (it uses `itoa` too).
    fn integer(&mut self, n: u64) {
        self.raw(itoa::Buffer::new().format(n).as_bytes());
    }

    /// serde_json's own float writing (shortest round-trip digits, `null` when not finite).
    /// An update's two floats are hundredths (the confidence and the rounded anomaly score):
    /// those come from a table of serde_json's own bytes for them, ~240 instructions less each.
    fn float(&mut self, x: f64) {
        let hundredths = (x * 100.0).round();
        if (0.0..=100.0).contains(&hundredths) {
            let (value, text, len) = &hundredths_table()[hundredths as usize];
            // Bit for bit: -0.0 and values near but not at a hundredth go to serde_json.
            if value.to_bits() == x.to_bits() {
                self.room(4).copy_from_slice(text);
                self.pos += usize::from(*len);
                return;
            }
        }
        let _ = serde_json::to_writer(&mut *self, &x);
    }

    /// A JSON string with serde_json's escapes: `\"`, `\\`, the short forms `\b \f \n \r \t`,
    /// and `\u00XX` (lowercase hex) for the other control characters; everything else as it is.
    // Always inlined: called ~15 times an update, where a call's prologue, epilogue and
    // spills were ~15 of the ~100 instructions of a short name.
    #[inline(always)]
    fn string(&mut self, s: &str) {
        let src = s.as_bytes();
        let len = src.len();
        let dst = self.room(len + 2);
        dst[0] = b'"';
        dst[len + 1] = b'"';
        if copy_checking_plain(&mut dst[1..=len], src) {
            self.pos += len + 2;
        } else {
            self.escaped_string(src);
        }
    }

    /// `separator` then the string: a list's `[` or `,` under the same room check.
    #[inline(always)]
    fn string_after(&mut self, separator: u8, s: &str) {
        let src = s.as_bytes();
        let len = src.len();
        let dst = self.room(len + 3);
        dst[0] = separator;
        dst[1] = b'"';
        dst[len + 2] = b'"';
        if copy_checking_plain(&mut dst[2..=len + 1], src) {
            self.pos += len + 3;
        } else {
            self.byte(separator);
            self.escaped_string(src);
        }
    }

    /// The rare string with bytes to escape: plain runs copied whole between the escapes.
    #[cold]
    fn escaped_string(&mut self, src: &[u8]) {
        self.byte(b'"');
        let mut rest = src;
        loop {
            let plain = plain_prefix(rest);
            self.raw(&rest[..plain]);
            let Some(&special) = rest.get(plain) else {
                break;
            };
            self.escape(special);
            rest = &rest[plain + 1..];
        }
        self.byte(b'"');
    }

    fn escape(&mut self, byte: u8) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match byte {
            b'"' => self.literal(br#"\""#),
            b'\\' => self.literal(br"\\"),
            0x08 => self.literal(br"\b"),
            0x0c => self.literal(br"\f"),
            b'\n' => self.literal(br"\n"),
            b'\r' => self.literal(br"\r"),
            b'\t' => self.literal(br"\t"),
            c => self.literal(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]),
        }
    }
}

/// `k / 100` for k in 0..=100, with serde_json's bytes for it (at most 4: `0.0`, `0.35`, `1.0`).
type Hundredth = (f64, [u8; 4], u8);

fn hundredths_table() -> &'static [Hundredth; 101] {
    static TABLE: OnceLock<[Hundredth; 101]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|k| {
            let value = k as f64 / 100.0;
            let written = serde_json::to_vec(&value).expect("a finite float serializes");
            let mut text = [b' '; 4];
            text[..written.len()].copy_from_slice(&written);
            (value, text, written.len() as u8)
        })
    })
}

/// For serde_json's float writer.
impl io::Write for JsonOut<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.raw(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Copies `src` into `dst` (the same length) and tells whether none of its bytes needs an
/// escape. Whole 16-, 8- or 4-byte loads and stores, the last one overlapping the one before
/// (no byte-by-byte tail, no `memcpy` call); the check rides on the same loads.
fn copy_checking_plain(dst: &mut [u8], src: &[u8]) -> bool {
    let len = src.len();
    let dst = &mut dst[..len];
    if len >= 16 {
        return copy_checking_plain_long(dst, src);
    }
    if len >= 8 {
        let (head, tail) = (word_at(src, 0), word_at(src, len - 8));
        dst[..8].copy_from_slice(&head.to_le_bytes());
        dst[len - 8..].copy_from_slice(&tail.to_le_bytes());
        return escape_flags(head) | escape_flags(tail) == 0;
    }
    if len >= 4 {
        let half_at = |at: usize| u32::from_le_bytes(src[at..at + 4].try_into().expect("4 bytes"));
        let (head, tail) = (half_at(0), half_at(len - 4));
        dst[..4].copy_from_slice(&head.to_le_bytes());
        dst[len - 4..].copy_from_slice(&tail.to_le_bytes());
        // Both halves in one word: every byte of it is a byte of the string.
        return escape_flags(u64::from(head) | (u64::from(tail) << 32)) == 0;
    }
    // Empty strings (an update's `group`, often) and the rare 1-3 bytes.
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
    !src.iter().any(needs_escape)
}

fn word_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Sixteen bytes at a time with SSE2 (part of every x86_64): explanation lines and reasons are
/// sentences of 50 to 200 bytes, fingerprints 16.
#[cfg(target_arch = "x86_64")]
fn copy_checking_plain_long(dst: &mut [u8], src: &[u8]) -> bool {
    use safe_arch::{bitor_m128i, load_unaligned_m128i, move_mask_i8_m128i, zeroed_m128i};
    let len = src.len();
    let chunk_at = |at: usize| chunk_of_16(src, at);
    let mut special = zeroed_m128i();
    let mut at = 0;
    while at + 16 < len {
        let chunk = chunk_at(at);
        special = bitor_m128i(special, special_bytes(load_unaligned_m128i(chunk)));
        dst[at..at + 16].copy_from_slice(chunk);
        at += 16;
    }
    // The last 16 bytes, overlapping the chunk before when the length is not a multiple.
    let chunk = chunk_at(len - 16);
    special = bitor_m128i(special, special_bytes(load_unaligned_m128i(chunk)));
    dst[len - 16..].copy_from_slice(chunk);
    move_mask_i8_m128i(special) == 0
}

#[cfg(target_arch = "x86_64")]
fn chunk_of_16(bytes: &[u8], at: usize) -> &[u8; 16] {
    bytes[at..at + 16].try_into().expect("16 bytes")
}

#[cfg(not(target_arch = "x86_64"))]
fn copy_checking_plain_long(dst: &mut [u8], src: &[u8]) -> bool {
    let len = src.len();
    let mut flags = 0;
    let mut at = 0;
    while at + 8 < len {
        let word = word_at(src, at);
        flags |= escape_flags(word);
        dst[at..at + 8].copy_from_slice(&word.to_le_bytes());
        at += 8;
    }
    let word = word_at(src, len - 8);
    flags |= escape_flags(word);
    dst[len - 8..].copy_from_slice(&word.to_le_bytes());
    flags == 0
}

/// All ones in every byte of `v` to escape: `"`, `\`, or a control byte (unsigned: at most
/// 0x1f is where the minimum with 0x1f leaves it unchanged). Exact per byte.
#[cfg(target_arch = "x86_64")]
fn special_bytes(v: safe_arch::m128i) -> safe_arch::m128i {
    use safe_arch::{bitor_m128i, cmp_eq_mask_i8_m128i, min_u8_m128i, set_splat_i8_m128i};
    let quote = set_splat_i8_m128i(b'"' as i8);
    let backslash = set_splat_i8_m128i(b'\\' as i8);
    let below_space = set_splat_i8_m128i(0x1f);
    bitor_m128i(
        bitor_m128i(
            cmp_eq_mask_i8_m128i(v, quote),
            cmp_eq_mask_i8_m128i(v, backslash),
        ),
        cmp_eq_mask_i8_m128i(min_u8_m128i(v, below_space), v),
    )
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `word` (little-endian) that must be escaped: `"`, `\` or a
/// control character. Borrows can flag bytes above a real one, never below it: the lowest flag
/// is exact (the same test as the input scanner's `find_special`).
fn escape_flags(word: u64) -> u64 {
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGHS;
    // Flipping bit 1 maps `"` (0x22) to 0x20 and the control characters onto themselves, and
    // every other byte to 0x21 or above: one comparison finds both.
    below(word ^ (ONES * 0x02), 0x21) | below(word ^ (ONES * u64::from(b'\\')), 1)
}

fn needs_escape(byte: &u8) -> bool {
    *byte == b'"' || *byte == b'\\' || *byte < 0x20
}

/// The length of the longest prefix of `bytes` that needs no escape (for the strings that have
/// one): sixteen bytes at a time with SSE2 from 16 bytes on, shorter strings a word at a time.
/// The last, partial block is read as the string's last bytes, overlapping bytes already
/// checked (no byte-by-byte tail).
#[cfg(target_arch = "x86_64")]
fn plain_prefix(bytes: &[u8]) -> usize {
    use safe_arch::{load_unaligned_m128i, move_mask_i8_m128i};
    let len = bytes.len();
    if len < 16 {
        return plain_prefix_by_words(bytes);
    }
    // One bit per byte to escape. Exact per byte.
    let flags_at = |at: usize| {
        move_mask_i8_m128i(special_bytes(load_unaligned_m128i(chunk_of_16(bytes, at)))) as u32
    };
    let mut done = 0;
    while done + 16 <= len {
        let flags = flags_at(done);
        if flags != 0 {
            return done + flags.trailing_zeros() as usize;
        }
        done += 16;
    }
    if done < len {
        // Bytes `len - 16 .. done` are plain: the lowest flag is at or after `done`.
        let flags = flags_at(len - 16);
        if flags != 0 {
            return len - 16 + flags.trailing_zeros() as usize;
        }
    }
    len
}

#[cfg(not(target_arch = "x86_64"))]
fn plain_prefix(bytes: &[u8]) -> usize {
    plain_prefix_by_words(bytes)
}

fn plain_prefix_by_words(bytes: &[u8]) -> usize {
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().position(needs_escape).unwrap_or(len);
    }
    let mut done = 0;
    while done + 8 <= len {
        let flags = escape_flags(word_at(bytes, done));
        if flags != 0 {
            return done + (flags.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    if done < len {
        // Bytes `len - 8 .. done` are plain, so the lowest flag of the last word is exact and
        // at or after `done`.
        let flags = escape_flags(word_at(bytes, len - 8));
        if flags != 0 {
            return len - 8 + (flags.trailing_zeros() / 8) as usize;
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::model::Str;
    use corral_core::Severity;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9@.:-]{0,24}",
            any::<String>(),
            "[\\x00-\\x20\"\\\\/\\x7f é€😀]{0,12}",
            Just("a\"b\\c\u{1}\u{1f}\u{7f}\n\r\t\u{8}\u{c}".to_string()),
        ]
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(0.0),
            Just(-0.0),
            Just(1.0),
            Just(0.35),
            (0..=100u32).prop_map(|n| f64::from(n) / 100.0),
        ]
    }

    prop_compose! {
        fn update()(
            resolve in any::<bool>(),
            words in prop::collection::vec(text(), 13),
            lists in prop::collection::vec(prop::collection::vec(text(), 0..4), 7),
            counts in (any::<usize>(), any::<u64>()),
            scores in (float(), float()),
            options in (prop::option::of(text()), prop::option::of(text()), prop::option::of(text())),
            severity in 0..4usize,
        ) -> IncidentUpdate {
            let name = |i: usize| Str::new(&words[i]);
            let names = |i: usize| lists[i].iter().map(Str::new).collect::<Vec<Str>>();
            IncidentUpdate {
                event_action: if resolve { EventAction::Resolve } else { EventAction::Trigger },
                dedup_key: name(0),
                payload: Payload {
                    summary: words[1].clone(),
                    source: name(2),
                    severity: Severity::ALL[severity],
                    timestamp: name(3),
                    component: name(4),
                    group: name(5),
                    class: name(6),
                    custom_details: Details {
                        incident_id: name(7),
                        alerts: names(0),
                        alert_count: counts.0,
                        event_count: counts.1,
                        resources: names(1).into(),
                        services: names(2).into(),
                        root_cause: RootCause {
                            resource: name(8),
                            fingerprint: options.0.map(Str::from),
                            name: options.1.map(Str::from),
                            confidence: scores.0,
                            reason: words[9].as_str().into(),
                        },
                        impacted_services: names(3).into(),
                        anomaly_score: scores.1,
                        rules: names(4).into(),
                        merged_from: names(5),
                        merged_into: options.2.map(Str::from),
                        first_seen: name(10),
                        last_seen: name(11),
                        explanation: lists[6].iter().map(|s| s.as_str().into()).collect(),
                    },
                },
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn writes_what_serde_json_writes(u in update()) {
            let mut ours = Vec::new();
            write_update_json(&u, &mut ours);
            let theirs = serde_json::to_vec(&u).unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }
    }

    /// Strings of every length around the word size, with bytes to escape anywhere (and
    /// multi-byte characters beside them), appended after whatever the buffer held.
    fn escapable() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                4 => prop::char::range('a', 'z'),
                1 => prop::sample::select(vec![
                    '"', '\\', '\u{0}', '\u{1f}', '\n', '\t', '\u{7f}', ' ', '!', '#', '/',
                    'é', '€', '😀', '\u{80}',
                ]),
                1 => any::<char>(),
            ],
            0..80,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The word-at-a-time copy writes what serde_json writes, and keeps what was before.
        #[test]
        fn a_string_is_written_as_serde_json_writes_it(
            s in prop_oneof![escapable(), any::<String>()],
            before in "[a-z\"]{0,9}",
        ) {
            let mut ours = before.as_bytes().to_vec();
            string_into(&mut ours, &s);
            let mut theirs = before.as_bytes().to_vec();
            theirs.extend_from_slice(&serde_json::to_vec(&s).unwrap());
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }

        /// `plain_prefix` stops exactly at the first byte to escape, on both paths.
        #[test]
        fn the_plain_prefix_ends_at_the_first_byte_to_escape(s in escapable()) {
            let bytes = s.as_bytes();
            let expected = bytes.iter().position(needs_escape).unwrap_or(bytes.len());
            prop_assert_eq!(plain_prefix(bytes), expected);
            prop_assert_eq!(plain_prefix_by_words(bytes), expected);
        }

        /// `copy_checking_plain` copies every byte whatever the length, into room holding
        /// stale bytes, and says "plain" exactly when no byte needs an escape.
        #[test]
        fn a_checked_copy_copies_all_and_tells_plain_strings(s in escapable(), stale in any::<u8>()) {
            let bytes = s.as_bytes();
            let mut dst = vec![stale; bytes.len()];
            let plain = copy_checking_plain(&mut dst, bytes);
            prop_assert_eq!(&dst[..], bytes);
            prop_assert_eq!(plain, !bytes.iter().any(needs_escape));
        }

        /// Strings and lists written at a cursor into a buffer whose room holds stale bytes,
        /// and one too small for them (it grows), read as serde_json writes them.
        #[test]
        fn strings_at_a_cursor_over_stale_bytes_are_serde_jsons(
            items in prop::collection::vec(escapable(), 0..6),
            stale in any::<u8>(),
            room in 0..64usize,
        ) {
            let mut buf = vec![stale; 3 + room];
            let mut json = JsonOut::at(&mut buf, 3);
            json.strings(&items);
            json.byte(b'\n');
            let end = json.end();
            let mut theirs = vec![stale; 3];
            theirs.extend_from_slice(&serde_json::to_vec(&items).unwrap());
            theirs.push(b'\n');
            prop_assert_eq!(String::from_utf8_lossy(&buf[..end]), String::from_utf8_lossy(&theirs));
        }
    }

    fn string_into(out: &mut Vec<u8>, s: &str) {
        let end = out.len();
        let mut json = JsonOut::at(out, end);
        json.string(s);
        let end = json.end();
        out.truncate(end);
    }

    /// Every hundredth, its neighbours a few ulps away, -0.0 and values out of the table's
    /// range are written as serde_json writes them.
    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        let mut xs = vec![
            -0.0,
            -0.01,
            1.01,
            100.0,
            f64::NAN,
            f64::INFINITY,
            1e-7,
            0.005,
        ];
        for k in 0..=100 {
            let x = f64::from(k) / 100.0;
            xs.extend([
                x,
                f64::from_bits(x.to_bits() + 1),
                f64::from_bits(x.to_bits().saturating_sub(1)),
            ]);
            xs.push((x * 100.0).round() / 100.0);
        }
        for x in xs {
            let mut ours = Vec::new();
            let mut json = JsonOut::at(&mut ours, 0);
            json.float(x);
            let end = json.end();
            ours.truncate(end);
            assert_eq!(ours, serde_json::to_vec(&x).unwrap(), "{x:e}");
        }
    }

    #[test]
    fn every_byte_escapes_as_serde_json_escapes_it() {
        for b in 0u8..=0x7f {
            let s = format!("x{}y", char::from(b));
            let mut ours = Vec::new();
            string_into(&mut ours, &s);
            assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "byte {b:#x}");
        }
    }
}
