//! A strict scanner for the flat JSON objects of the hot input formats (native, Alertmanager).
//!
//! It reads only a subset of what serde_json reads and answers `None` ("not sure") for anything
//! outside it: an escape in a string it keeps, a type it does not expect, a duplicate field, a
//! number it would have to round. The caller then decodes the record again with serde_json,
//! whose error messages are the ones users see. So this path never gives a different answer,
//! only a faster one: no intermediate tokens, no visitor calls, strings copied once.

use crate::common::{SeverityField, StatusField, Time};
use crate::plain::{NextQuote, Quotes};
use crate::time::{parse_time, utc_string_prefix};
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use smallvec::SmallVec;

/// Deepest nesting `skip_value` follows before giving up (serde_json's own limit is 128).
const MAX_SKIP_DEPTH: u32 = 64;

/// Where a string lies in its line: its bytes `start..end`, quotes excluded. A record keeps its
/// strings so and makes a `str` of one only when it is read ([`Span::of`]): a repeat reads two
/// of its ~10 strings, and the others never pay `str::get`'s char-boundary checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    #[inline(always)]
    pub fn len(self) -> usize {
        self.end - self.start
    }

    #[inline(always)]
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The string in `line`, the text its readers read it from.
    #[inline(always)]
    pub fn of(self, line: &str) -> Option<&str> {
        line.get(self.start..self.end)
    }
}

pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next significant byte, not consumed.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    /// Consumes `expected` (after whitespace), or gives up.
    #[inline(always)]
    pub fn eat(&mut self, expected: u8) -> Option<()> {
        if self.peek()? == expected {
            self.at += 1;
            Some(())
        } else {
            None
        }
    }

    /// Only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.at == self.bytes.len()
    }

    /// A string without escapes, borrowed from the input. Gives up on `\` (the value would
    /// need unescaping) and on control characters (serde_json refuses them with its own error).
    #[inline(always)]
    pub fn string(&mut self) -> Option<&'a str> {
        let len = self.string_bytes()?.len();
        let end = self.at - 1;
        // Both ends sit on an ASCII quote, so they are char boundaries of valid UTF-8.
        self.text.get(end - len..end)
    }

    /// [`Scanner::string`]'s string by its place in the text: the same checks.
    #[inline(always)]
    pub fn string_span(&mut self) -> Option<Span> {
        let len = self.string_bytes()?.len();
        let end = self.at - 1;
        Some(Span {
            start: end - len,
            end,
        })
    }

    /// [`Scanner::string`]'s string as bytes: the same checks, without making it a `str` (no
    /// char-boundary checks) for a caller that only compares it with ASCII text or measures it.
    #[inline(always)]
    pub fn string_bytes(&mut self) -> Option<&'a [u8]> {
        self.skip_ws();
        let bytes: &'a [u8] = self.bytes;
        let (&b'"', body) = bytes.get(self.at..)?.split_first()? else {
            return None;
        };
        let len = find_special(body)?;
        if *body.get(len)? != b'"' {
            return None;
        }
        self.at += len + 2;
        Some(&body[..len])
    }

    /// `null`, consumed; false (nothing consumed) when the next value is something else.
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.bytes[self.at..].starts_with(b"null") {
            self.at += 4;
            true
        } else {
            false
        }
    }

    /// One JSON number token, checked against JSON's grammar, as text.
    pub fn number(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let start = self.at;
        let digits = |s: &mut Self| {
            let from = s.at;
            while s.bytes.get(s.at).is_some_and(u8::is_ascii_digit) {
                s.at += 1;
            }
            s.at > from
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at)? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        self.text.get(start..self.at)
    }

    /// Reads an object member by member: `member` gets each key (unescaped keys only) with the
    /// scanner placed before the value, and must consume that value.
    pub fn object(
        &mut self,
        mut member: impl FnMut(&'a str, &mut Scanner<'a>) -> Option<()>,
    ) -> Option<()> {
        self.delimited(b'{', b'}', |s| {
            let key = s.string()?;
            s.eat(b':')?;
            member(key, s)
        })
    }

    /// [`Scanner::object`] with keys as bytes, for a caller that matches them with ASCII names.
    pub fn object_with_byte_keys(
        &mut self,
        mut member: impl FnMut(&'a [u8], &mut Scanner<'a>) -> Option<()>,
    ) -> Option<()> {
        self.delimited(b'{', b'}', |s| {
            let key = s.string_bytes()?;
            s.eat(b':')?;
            member(key, s)
        })
    }

    /// [`Scanner::object`] for a record whose keys are all among `keys`: `member` gets the
    /// index of each key in `keys`. A key is first compared in place with the names that
    /// follow the previous key in `keys` (producers write a record's keys in one order, most
    /// often the declared one, skipping absent ones), so the usual key costs a masked compare
    /// of 16 bytes instead of a string search and a match on its text. Any other key is read
    /// as [`Scanner::string_bytes`] reads it and looked up; one not in `keys` gives up.
    pub fn object_with_known_keys<const N: usize>(
        &mut self,
        keys: &KnownNames<N>,
        mut member: impl FnMut(usize, &mut Scanner<'a>) -> Option<()>,
    ) -> Option<()> {
        let mut next = 0;
        self.delimited(b'{', b'}', |s| {
            let index = s.known_name(keys, next)?;
            next = index + 1;
            s.eat(b':')?;
            member(index, s)
        })
    }

    /// The index in `names` (from `from` on) of the string at the scanner, consumed: a key,
    /// or a value from a fixed set. `None` (and an unspecified position) when it is not a
    /// plain string equal to one of them. Compared in place first (a masked compare of the
    /// next 16 bytes per name: no string search), read as [`Scanner::string_bytes`] reads it
    /// and looked up among all the names otherwise (a name before `from`, a line ending
    /// within 16 bytes, an escape).
    #[inline(always)]
    fn known_name<const N: usize>(&mut self, names: &KnownNames<N>, from: usize) -> Option<usize> {
        self.skip_ws();
        if let Some((index, len)) = names.at_start_of(self.bytes.get(self.at..)?, from) {
            debug_assert_eq!(
                Scanner {
                    at: self.at,
                    ..*self
                }
                .string_bytes(),
                Some(names.names[index])
            );
            self.at += len;
            return Some(index);
        }
        names.position(self.string_bytes()?)
    }

    /// A scanner over `text` placed at byte `at` (for a reader that walks most of a record
    /// itself and hands a value over).
    pub fn at(text: &'a str, at: usize) -> Scanner<'a> {
        Scanner {
            text,
            bytes: text.as_bytes(),
            at,
        }
    }

    /// The byte offset the scanner has reached.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Reads an array element by element; `element` must consume each one.
    pub fn array(&mut self, element: impl FnMut(&mut Scanner<'a>) -> Option<()>) -> Option<()> {
        self.delimited(b'[', b']', element)
    }

    /// `open`, then comma-separated items read by `item`, then `close` (JSON's object and
    /// array framing; no trailing comma). Inlined so each caller's `item` stays a direct call.
    #[inline(always)]
    fn delimited(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Scanner<'a>) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b if b == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Skips any value that serde_json would accept (and ignore) in an unknown field.
    pub fn skip_value(&mut self) -> Option<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_SKIP_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => self.delimited(b'{', b'}', |s| {
                s.skip_string()?;
                s.eat(b':')?;
                s.skip_nested(depth + 1)
            }),
            b'[' => self.delimited(b'[', b']', |s| s.skip_nested(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Some(())
        } else {
            None
        }
    }

    /// Skips a string whose value is not kept: the simple escapes are fine here, `\u` is left
    /// to serde_json (surrogate pairs have rules of their own).
    fn skip_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => match self.bytes.get(self.at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                    _ => return None,
                },
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
    }
}

/// The names a string may hold (a record's keys, in the order producers usually write them, or
/// the values of an enumeration), each with its quoted form as two masked words for
/// [`Scanner::object_with_known_keys`] and `Scanner::known_name`.
pub(crate) struct KnownNames<const N: usize> {
    names: [&'static [u8]; N],
    quoted: [QuotedName; N],
}

impl<const N: usize> KnownNames<N> {
    /// Panics (at compile time, in a `const`) on a name that needs escaping or is longer than
    /// 14 bytes.
    pub const fn new(names: [&'static str; N]) -> KnownNames<N> {
        Self::framed(names, b"", b"")
    }

    /// Object keys as a compact record writes every member after the first: `,"name":`
    /// (the separator, the quoted key, its colon; no spaces), matched by
    /// [`KnownNames::at_start_of`] in one compare. Panics (at compile time) on a name longer
    /// than 12 bytes.
    pub const fn compact_members(names: [&'static str; N]) -> KnownNames<N> {
        Self::framed(names, b",", b":")
    }

    const fn framed(names: [&'static str; N], before: &[u8], after: &[u8]) -> KnownNames<N> {
        let mut bytes = [b"".as_slice(); N];
        let mut quoted = [QuotedName::EMPTY; N];
        let mut i = 0;
        while i < N {
            bytes[i] = names[i].as_bytes();
            quoted[i] = QuotedName::new(before, bytes[i], after);
            i += 1;
        }
        KnownNames {
            names: bytes,
            quoted,
        }
    }

    /// The index (from `from` on) and matched length of the name whose quoted form `"name"`
    /// (framed, for [`KnownNames::compact_members`]) `bytes` begins with, compared in place:
    /// a masked compare of the first 16 bytes per name, no string search. `None` when none does, or `bytes` is shorter than 16.
    #[inline(always)]
    pub fn at_start_of(&self, bytes: &[u8], from: usize) -> Option<(usize, usize)> {
        let (head, tail) = bytes.first_chunk::<16>()?.split_at(8);
        let head = u64::from_le_bytes(head.try_into().ok()?);
        let tail = u64::from_le_bytes(tail.try_into().ok()?);
        // A plain loop, not `find_map`: the short name sets (statuses, severities) were
        // left as an out-of-line `try_fold` call; this unrolls where it is inlined.
        let mut index = from;
        while let Some(quoted) = self.quoted.get(index) {
            if quoted.starts(head, tail) {
                return Some((index, quoted.len));
            }
            index += 1;
        }
        None
    }

    /// The index of `name` among all the names.
    #[inline]
    pub fn position(&self, name: &[u8]) -> Option<usize> {
        self.names.iter().position(|known| *known == name)
    }

    /// The name at `index`.
    #[cfg(test)]
    pub fn name(&self, index: usize) -> &'static [u8] {
        self.names[index]
    }
}

/// `"name"` as the first 16 bytes of the input would hold it (little-endian words), with masks
/// over its `len` bytes.
#[derive(Clone, Copy)]
struct QuotedName {
    head: u64,
    head_mask: u64,
    tail: u64,
    tail_mask: u64,
    len: usize,
}

impl QuotedName {
    const EMPTY: QuotedName = QuotedName {
        head: 0,
        head_mask: 0,
        tail: 0,
        tail_mask: 0,
        len: 0,
    };

    /// `before`, `"name"`, `after`: the bytes to match, at most 16.
    const fn new(before: &[u8], name: &[u8], after: &[u8]) -> QuotedName {
        let len = before.len() + name.len() + 2 + after.len();
        assert!(len <= 16, "a known name and its frame are at most 16 bytes");
        let mut text = [0u8; 16];
        let mut mask = [0u8; 16];
        let mut i = 0;
        while i < before.len() {
            text[i] = before[i];
            i += 1;
        }
        text[i] = b'"';
        i += 1;
        let mut j = 0;
        while j < name.len() {
            let c = name[j];
            assert!(
                c >= 0x20 && c != b'"' && c != b'\\',
                "a known name needs no escape"
            );
            text[i] = c;
            i += 1;
            j += 1;
        }
        text[i] = b'"';
        i += 1;
        j = 0;
        while j < after.len() {
            text[i] = after[j];
            i += 1;
            j += 1;
        }
        i = 0;
        while i < len {
            mask[i] = 0xff;
            i += 1;
        }
        QuotedName {
            head: Self::word(&text, 0),
            head_mask: Self::word(&mask, 0),
            tail: Self::word(&text, 8),
            tail_mask: Self::word(&mask, 8),
            len,
        }
    }

    const fn word(b: &[u8; 16], at: usize) -> u64 {
        u64::from_le_bytes([
            b[at],
            b[at + 1],
            b[at + 2],
            b[at + 3],
            b[at + 4],
            b[at + 5],
            b[at + 6],
            b[at + 7],
        ])
    }

    /// The 16 bytes `head`, `tail` begin with this quoted name.
    #[inline(always)]
    fn starts(&self, head: u64, tail: u64) -> bool {
        (head & self.head_mask) == self.head && (tail & self.tail_mask) == self.tail
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Offset of the first byte that ends or interrupts a plain string: `"`, `\` or a control
/// character. Eight bytes at a time (SWAR): strings are short, so this beats a call to memchr.
pub(crate) fn find_special(bytes: &[u8]) -> Option<usize> {
    let mut offset = 0;
    while let Some(chunk) = bytes.get(offset..offset + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        // Flags the bytes below `n` (n <= 0x80). Borrows can flag bytes above a real hit,
        // never below it: the lowest flag is exact.
        let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGHS;
        // Flipping bit 1 maps `"` (0x22) to 0x20 and the control characters onto themselves,
        // and every other byte to 0x21 or above: one comparison finds both.
        let hits = below(word ^ (ONES * 0x02), 0x21) | below(word ^ (ONES * u64::from(b'\\')), 1);
        if hits != 0 {
            return Some(offset + (hits.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    bytes[offset..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| offset + i)
}

/// Fields already seen in one object, to give up on a duplicate as serde's derive refuses it.
#[derive(Default)]
pub(crate) struct Seen(u32);

impl Seen {
    /// Marks field `bit`; `None` when it was already there.
    pub fn first(&mut self, bit: u32) -> Option<()> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return None;
        }
        self.0 |= mask;
        Some(())
    }

    pub fn has(&self, bit: u32) -> bool {
        self.0 & (1 << bit) != 0
    }
}

/// `null` as `None`, or a string kept as it is.
pub(crate) fn opt_string<'a>(s: &mut Scanner<'a>) -> Option<Option<&'a str>> {
    if s.null() {
        Some(None)
    } else {
        s.string().map(Some)
    }
}

/// `null` as `None`, or a string by its place (see [`Span`]).
pub(crate) fn opt_string_span(s: &mut Scanner<'_>) -> Option<Option<Span>> {
    if s.null() {
        Some(None)
    } else {
        s.string_span().map(Some)
    }
}

/// Label or annotation pairs as they appear in a record, borrowed from it.
pub(crate) type RawLabels<'a> = SmallVec<[(&'a str, &'a str); 8]>;

/// [`Alert::normalize_labels`] on borrowed pairs: sorted by key, the last of duplicates kept.
pub(crate) fn normalize_raw_labels(labels: &mut RawLabels<'_>) {
    let unique = corral_core::model::sort_pairs_last_wins(labels);
    labels.truncate(unique);
}

/// The pairs as a [`Labels`] vector, normalized as `labels_as_map` leaves it.
pub(crate) fn owned_labels(pairs: &[(&str, &str)]) -> Labels {
    let mut labels: Labels = pairs
        .iter()
        .map(|&(k, v)| (Str::from(k), Str::from(v)))
        .collect();
    Alert::normalize_labels(&mut labels);
    labels
}

/// The value of `key` in normalized pairs (keys unique). A linear search: label sets are
/// small, and comparing lengths first skips most keys without comparing their bytes.
pub(crate) fn raw_label<'a>(labels: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    labels.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
}

/// A label map with string values, its pairs borrowed from the input in input order (`null`:
/// none), appended to `out`. Numbers and booleans (kept as text by serde) go to serde_json.
pub(crate) fn raw_labels<'a, const N: usize>(
    s: &mut Scanner<'a>,
    out: &mut SmallVec<[(&'a str, &'a str); N]>,
) -> Option<()> {
    label_pairs(s, |key, value| out.push((key, value)))
}

/// Each pair of a label map with string values (`null`: none), in input order.
#[inline(always)]
fn label_pairs<'a>(s: &mut Scanner<'a>, mut pair: impl FnMut(&'a str, &'a str)) -> Option<()> {
    if s.null() {
        return Some(());
    }
    s.object(|key, s| {
        pair(key, s.string()?);
        Some(())
    })
}

/// A label map checked as [`raw_labels`] checks it, but kept as the place of its JSON text:
/// most records of a replay are repeats whose labels are never looked at, so collecting the
/// pairs waits until they are needed ([`LabelText::pairs`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct LabelText {
    /// The value as it appears in the record (`null` or an object), empty when absent.
    span: Span,
    /// Pairs in the text, duplicates included.
    pub count: usize,
    /// Length of the longest key or value.
    pub longest: usize,
}

impl LabelText {
    pub fn new(span: Span, count: usize, longest: usize) -> LabelText {
        LabelText {
            span,
            count,
            longest,
        }
    }

    /// The pairs as [`raw_labels`] reads them, from `line`, the text the map was read from;
    /// `None` only if the map is not in it or does not scan, which [`label_text`] has
    /// already ruled out.
    pub fn pairs<'a>(&self, line: &'a str) -> Option<RawLabels<'a>> {
        let text = self.span.of(line)?;
        let mut out = RawLabels::new();
        if !plain_pairs(text, self.count, &mut out) {
            out.clear();
            raw_labels(&mut Scanner::new(text), &mut out)?;
        }
        debug_assert_eq!(out.len(), self.count);
        Some(out)
    }
}

/// [`LabelText::pairs`] by the text's quotes (see [`Quotes`]): the map (`count` pairs) was
/// checked already, so where no escape, control or non-ASCII byte lies near them, its strings
/// are keys and values in turn, each the text between two consecutive quotes; no second scan
/// of the grammar. False (some pairs possibly pushed) when the quotes could not vouch for
/// every pair: the caller then scans. (A walk over the bytes, or `str::split` at the quotes, measured slower:
/// see docs/performance.md, perf39.)
fn plain_pairs<'a>(text: &'a str, count: usize, out: &mut RawLabels<'a>) -> bool {
    let mut quotes = Quotes::new(text.as_bytes());
    let mut string = |from: usize| {
        let open = quotes.next_quote(from)?;
        let close = quotes.next_quote(open + 1)?;
        Some((text.get(open + 1..close)?, close + 1))
    };
    let mut at = 0;
    while out.len() < count {
        let Some((key, after_key)) = string(at) else {
            return false;
        };
        let Some((value, after_value)) = string(after_key) else {
            return false;
        };
        out.push((key, value));
        at = after_value;
    }
    true
}

/// Scans a label map as [`raw_labels`] does (same grammar, same refusals), keeping its text.
pub(crate) fn label_text(s: &mut Scanner<'_>) -> Option<LabelText> {
    s.skip_ws();
    let start = s.at;
    let (mut count, mut longest) = (0, 0);
    // The same grammar as `label_pairs`, on bytes: only lengths are needed here.
    if !s.null() {
        s.object_with_byte_keys(|key, s| {
            let value = s.string_bytes()?;
            count += 1;
            longest = longest.max(key.len()).max(value.len());
            Some(())
        })?;
    }
    Some(LabelText {
        span: Span { start, end: s.at },
        count,
        longest,
    })
}

/// Event time as [`Time`] reads it: RFC 3339 text, or epoch milliseconds.
pub(crate) fn time(s: &mut Scanner<'_>) -> Option<Time> {
    if s.peek()? == b'"' {
        // The common fixed shapes are read where they lie, without searching for the string's
        // end first; anything else is read as a string and parsed.
        if let Some((ms, len)) = s.bytes.get(s.at + 1..).and_then(utc_string_prefix) {
            s.at += len + 2;
            return Some(Time(ms));
        }
        return parse_time(s.string()?).map(Time);
    }
    let token = s.number()?;
    if !token.contains(['.', 'e', 'E']) {
        if let Ok(ms) = token.parse::<i64>() {
            return Some(Time(ms));
        }
    }
    // Fractions, exponents and huge integers: serde_json's own number reading, for the same
    // rounding and range errors.
    serde_json::from_str::<Time>(token).ok()
}

pub(crate) fn opt_time(s: &mut Scanner<'_>) -> Option<Option<Time>> {
    if s.null() {
        Some(None)
    } else {
        time(s).map(Some)
    }
}

/// Every status, and its name at the same index.
pub(crate) const STATUSES: [Status; 2] = [Status::Firing, Status::Resolved];
pub(crate) const STATUS_NAMES: KnownNames<2> = KnownNames::new(["firing", "resolved"]);

/// The names of [`Severity::ALL`], in its order.
pub(crate) const SEVERITY_NAMES: KnownNames<4> =
    KnownNames::new(["info", "warning", "error", "critical"]);

/// `firing` or `resolved`; anything else (and its error message) is serde_json's business.
pub(crate) fn status(s: &mut Scanner<'_>) -> Option<StatusField> {
    let index = s.known_name(&STATUS_NAMES, 0)?;
    STATUSES.get(index).copied().map(StatusField)
}

pub(crate) fn severity(s: &mut Scanner<'_>) -> Option<SeverityField> {
    let index = s.known_name(&SEVERITY_NAMES, 0)?;
    Severity::ALL.get(index).copied().map(SeverityField)
}

/// An optional number, read by serde_json itself so that rounding is identical.
pub(crate) fn opt_f64(s: &mut Scanner<'_>) -> Option<Option<f64>> {
    if s.null() {
        return Some(None);
    }
    serde_json::from_str::<f64>(s.number()?).ok().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_severity_names_follow_their_enumerations() {
        for (index, status) in STATUSES.into_iter().enumerate() {
            assert_eq!(STATUS_NAMES.names[index], status.as_str().as_bytes());
        }
        for (index, severity) in Severity::ALL.into_iter().enumerate() {
            assert_eq!(SEVERITY_NAMES.names[index], severity.as_str().as_bytes());
        }
        // Read in place, with room to spare, and read at the end of the text.
        for text in [r#""critical", "x": 1}"#, r#""critical""#] {
            let mut s = Scanner::new(text);
            assert_eq!(severity(&mut s).map(|f| f.0), Some(Severity::Critical));
            assert_eq!(s.at, 10);
        }
        for refused in [r#""Critical""#, r#""critical "#, r#""crit\u0069cal""#, "7"] {
            assert!(severity(&mut Scanner::new(refused)).is_none(), "{refused}");
        }
        assert_eq!(
            status(&mut Scanner::new(r#""resolved","severity":"info"}"#)).map(|f| f.0),
            Some(Status::Resolved)
        );
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let mut s = Scanner::new(r#"  "héllo" "a\"b" "#);
        assert_eq!(s.string(), Some("héllo"));
        assert_eq!(s.string(), None, "escapes go to serde_json");
        let mut s = Scanner::new("\"tab\there\"");
        assert_eq!(s.string(), None, "control characters go to serde_json");
    }

    #[test]
    fn special_bytes_are_found_at_every_offset() {
        for len in 0..40 {
            for (at, special) in
                (0..len).flat_map(|at| [(at, b'"'), (at, b'\\'), (at, 0x1f), (at, 0)])
            {
                // Bytes around the hit that sit just beside the special values.
                let mut bytes: Vec<u8> = (0..len)
                    .map(|i| [b'#', b'!', b']', 0x20, 0x80][i % 5])
                    .collect();
                bytes[at] = special;
                if at + 1 < len {
                    bytes[at + 1] = b'"';
                }
                assert_eq!(
                    find_special(&bytes),
                    Some(at),
                    "len {len} at {at} {special}"
                );
            }
            let plain: Vec<u8> = (0..len)
                .map(|i| [b'a', 0x20, 0x7f, 0xc3, b'#'][i % 5])
                .collect();
            assert_eq!(find_special(&plain), None, "len {len}");
        }
    }

    #[test]
    fn numbers_follow_json_grammar() {
        for ok in ["0", "-0", "12", "-12.5", "1e9", "1.5E-3", "2e+2"] {
            let mut s = Scanner::new(ok);
            assert_eq!(s.number(), Some(ok), "{ok}");
            assert!(s.at_end());
        }
        for bad in ["-", "1.", ".5", "1e", "+1", "x"] {
            let mut s = Scanner::new(bad);
            assert!(s.number().is_none() || !s.at_end(), "{bad}");
        }
        // A leading zero ends the token: what follows is not a delimiter.
        let mut s = Scanner::new("012");
        assert_eq!(s.number(), Some("0"));
        assert!(!s.at_end());
    }

    #[test]
    fn skips_what_serde_json_ignores() {
        let mut s =
            Scanner::new(r#"{"a":[1,-2.5e3,true,false,null,{"b":"c\"d\n"}],"e":{},"f":[]} "#);
        assert_eq!(s.skip_value(), Some(()));
        assert!(s.at_end());
        for bad in [
            r#"[1,]"#,
            r#"{"a" 1}"#,
            r#""\u0041""#,
            r#"tru"#,
            r#"{"a":1"#,
        ] {
            let mut s = Scanner::new(bad);
            assert!(s.skip_value().is_none() || !s.at_end(), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(Scanner::new(&deep).skip_value(), None);
    }

    proptest::proptest! {
        /// The word-at-a-time search finds what a byte-by-byte search finds.
        #[test]
        fn find_special_agrees_with_a_plain_search(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![0u8, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff]),
                    proptest::num::u8::ANY,
                    b'a'..=b'z',
                ],
                0..40,
            ),
        ) {
            let plain = bytes.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            proptest::prop_assert_eq!(find_special(&bytes), plain);
        }

        /// A compact member key matches exactly where the bytes begin with `,"name":` for a
        /// name from `from` on, and gives that name's index and the frame's length: not a
        /// prefix or a longer name, not with spaces, another separator or no colon, not cut
        /// short by the line's end.
        #[test]
        fn compact_member_keys_match_their_exact_frame_only(
            key in proptest::sample::select(vec![
                "fingerprint", "source", "name", "status", "starts_at", "value",
                "sourc", "sources", "nam", "names", "", "ends_at", "annotations",
            ]),
            before in proptest::sample::select(vec![",", "{", " ,", ", ", ""]),
            after in proptest::sample::select(vec![":", " :", ",", ""]),
            rest in "[\"a-z0-9:,{} ]{0,20}",
            from in 0..7usize,
        ) {
            const NAMES: [&str; 6] = ["fingerprint", "source", "name", "status", "starts_at", "value"];
            const MEMBERS: KnownNames<6> = KnownNames::compact_members(NAMES);
            let text = format!("{before}\"{key}\"{after}{rest}");
            let framed = |name: &str| format!(",\"{name}\":");
            let expected = NAMES
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, name)| text.starts_with(&framed(name)) && text.len() >= 16)
                .map(|(index, name)| (index, framed(name).len()));
            proptest::prop_assert_eq!(MEMBERS.at_start_of(text.as_bytes(), from), expected, "{}", text);
        }

        /// Keys matched in place against the known names are the keys the general reader
        /// reads: same indices in the same order, same refusals, same end position; whatever
        /// the order of the keys, near misses (prefixes, longer names, escapes), whitespace,
        /// and lines ending within 16 bytes of a key.
        #[test]
        fn known_keys_agree_with_byte_keys(
            keys in proptest::collection::vec(
                proptest::sample::select(vec![
                    "fingerprint", "source", "name", "status", "starts_at", "ends_at", "value",
                    "sourc", "sources", "source ", "nam\\\"e", "sour\\u0063e", "é", "",
                    "startsXat", "valu", "value\\n", "starts_aX", "fingerprinX",
                    "fingerprint2", "ends_at_",
                ]),
                0..6,
            ),
            value in proptest::sample::select(vec!["1", "12345678901234567890", "x"]),
            space in proptest::sample::select(vec!["", " ", "\n\t"]),
            cut in 0..40usize,
        ) {
            const KEYS: KnownNames<7> = KnownNames::new(
                ["fingerprint", "source", "name", "status", "starts_at", "ends_at", "value"],
            );
            let members: Vec<String> = keys
                .iter()
                .map(|k| format!("{space}\"{k}\"{space}:{space}{value}"))
                .collect();
            let whole = format!("{{{}{space}}}", members.join(","));
            // Also every line cut short, so that keys sit near its end.
            let text = &whole.as_bytes()[..whole.len().saturating_sub(cut)];
            let Ok(text) = std::str::from_utf8(text) else {
                return Ok(());
            };
            let mut known = Scanner::new(text);
            let mut known_seen = Vec::new();
            let known_ok = known.object_with_known_keys(&KEYS, |index, s| {
                known_seen.push(index);
                s.number().map(drop)
            });
            let mut general = Scanner::new(text);
            let mut general_seen = Vec::new();
            let general_ok = general.object_with_byte_keys(|key, s| {
                general_seen.push(KEYS.names.iter().position(|name| *name == key)?);
                s.number().map(drop)
            });
            proptest::prop_assert_eq!(known_ok, general_ok, "{}", text);
            proptest::prop_assert_eq!(known_seen, general_seen, "{}", text);
            if known_ok.is_some() {
                proptest::prop_assert_eq!(known.at, general.at, "{}", text);
            }
        }

        /// A string read as bytes is the string read as text, with the same refusals and the
        /// scanner left at the same place.
        #[test]
        fn string_bytes_agree_with_string(text in "[ \"a\\\\é\t]{0,12}") {
            let mut as_text = Scanner::new(&text);
            let mut as_bytes = Scanner::new(&text);
            let read = as_text.string();
            proptest::prop_assert_eq!(read.map(str::as_bytes), as_bytes.string_bytes());
            proptest::prop_assert_eq!(as_text.at, as_bytes.at);
        }

        /// A label map kept as text accepts exactly what `raw_labels` accepts, with the same
        /// pairs, count and longest string, and leaves the scanner at the same place.
        #[test]
        fn label_text_agrees_with_raw_labels(
            pairs in proptest::collection::vec(
                ("[a-z\"\\\\é]{0,6}", "[a-z0-9 \"\\\\\t]{0,12}"),
                0..6,
            ),
            shape in 0..4u8,
            space in proptest::sample::select(vec!["", " ", "\n"]),
        ) {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{space}\"{k}\"{space}:{space}\"{v}\""))
                .collect();
            let text = match shape {
                0 => format!("{space}null{space},"),
                1 => format!("{{{}}} ,", body.join(",")),
                2 => format!("{{{},}}", body.join(",")),
                _ => format!("{space}{{{}{space}}}x", body.join(",")),
            };
            let mut eager = Scanner::new(&text);
            let mut collected = RawLabels::new();
            let eager_ok = raw_labels(&mut eager, &mut collected);
            let mut lazy = Scanner::new(&text);
            let kept = label_text(&mut lazy);
            proptest::prop_assert_eq!(eager_ok.is_some(), kept.is_some(), "{}", text);
            if let Some(kept) = kept {
                proptest::prop_assert_eq!(eager.at, lazy.at);
                proptest::prop_assert_eq!(kept.count, collected.len());
                let longest = collected.iter().map(|(k, v)| k.len().max(v.len())).max();
                proptest::prop_assert_eq!(kept.longest, longest.unwrap_or(0));
                proptest::prop_assert_eq!(kept.pairs(&text), Some(collected));
                // Both readers leave escapes to serde_json: an accepted map holds none.
                let kept_text = kept.span.of(&text).unwrap();
                proptest::prop_assert!(!kept_text.contains('\\'), "{}", text);
            }
        }
    }

    proptest::proptest! {
        /// Label maps as producers write them, long enough to cross 64-byte windows, with an
        /// escape or a non-ASCII character somewhere or none: the pairs read by their quotes
        /// are the pairs the scanner reads.
        #[test]
        fn plain_label_pairs_agree_with_the_scanner(
            pairs in proptest::collection::vec(("[a-z_]{1,12}", "[a-z0-9 .:/{},-]{0,80}"), 0..10),
            odd in proptest::option::of((0..10usize, proptest::sample::select(vec!["\\\"", "\\\\", "é", "\\u0041", "\u{7f}"]))),
            space in proptest::sample::select(vec!["", " "]),
        ) {
            let body: Vec<String> = pairs
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let odd = odd.filter(|(at, _)| *at == i).map_or("", |(_, odd)| odd);
                    format!("\"{k}\"{space}:{space}\"{v}{odd}\"")
                })
                .collect();
            let text = format!("{{{space}{}{space}}}", body.join(&format!(",{space}")));
            let mut scanner = Scanner::new(&text);
            let mut scanned = RawLabels::new();
            let scanned_ok = raw_labels(&mut scanner, &mut scanned);
            let kept = label_text(&mut Scanner::new(&text));
            proptest::prop_assert_eq!(scanned_ok.is_some(), kept.is_some(), "{}", text);
            if let Some(kept) = kept {
                proptest::prop_assert_eq!(kept.pairs(&text), Some(scanned), "{}", text);
            }
        }
    }

    #[test]
    fn objects_and_arrays_visit_every_member() {
        let mut keys = Vec::new();
        let mut s = Scanner::new(r#"{"a": "1", "b" : "2"}"#);
        s.object(|k, s| {
            keys.push((k, s.string()?));
            Some(())
        })
        .unwrap();
        assert_eq!(keys, [("a", "1"), ("b", "2")]);
        let mut n = 0;
        Scanner::new("[ {}, {} ]")
            .array(|s| {
                n += 1;
                s.object(|_, _| None)
            })
            .unwrap();
        assert_eq!(n, 2);
        let mut seen = Seen::default();
        assert!(seen.first(3).is_some() && seen.first(3).is_none() && seen.has(3));
    }
}
