//! A reader for "plain" JSON lines: records whose strings hold only printable ASCII and no
//! backslash, which is what corral, serde and most producers write. In such a line every `"`
//! delimits a string, so the end of a string is the next set bit of a quote mask computed 64
//! bytes at a time (the first stage of simdjson's technique, cut to what a flat record needs)
//! instead of a byte-by-byte search.
//!
//! The reader answers `None` ("not sure") on anything else: a backslash, a control or non-ASCII
//! byte in a block it looked at, whitespace other than spaces, a token it does not expect. The
//! caller then reads the record with the general [`Scanner`], which accepts and refuses exactly
//! as before, so this path only ever gives a faster answer, never a different one.

use crate::fast_json::{KnownNames, LabelText, Scanner, Span};

/// Bytes classified at once.
const BLOCK: usize = 64;

/// Where a [`PlainReader`] finds the end of a string: the first `"` at or after an offset of
/// the line, `None` when there is none or the masks cannot vouch for the text before it.
pub(crate) trait NextQuote {
    fn next_quote(&mut self, from: usize) -> Option<usize>;
}

/// The quote positions of one line, classified 64 bytes at a time as the reader reaches them
/// (a record is read front to back, so each byte is classified about once).
pub(crate) struct Quotes<'a> {
    bytes: &'a [u8],
    /// Offset of the 64 bytes `mask` describes; `usize::MAX` before the first.
    block: usize,
    /// Bit `i`: byte `block + i` is a `"`.
    mask: u64,
}

impl<'a> Quotes<'a> {
    pub fn new(bytes: &'a [u8]) -> Quotes<'a> {
        Quotes {
            bytes,
            block: usize::MAX,
            mask: 0,
        }
    }

    /// Offset of the first `"` at or after `from`. `None` when there is none, and when a block
    /// searched holds a backslash, a control byte or a non-ASCII byte: a string found here is
    /// then the whole text between two quotes, with no escape or character left to check.
    #[inline(always)]
    fn find(&mut self, from: usize) -> Option<usize> {
        // Most strings end in the block already classified: a shift and a bit scan.
        // Before the first block (`usize::MAX`, empty mask) any offset answers nothing.
        let offset = from.wrapping_sub(self.block);
        if offset < BLOCK {
            let mask = self.mask & (u64::MAX << offset);
            if mask != 0 {
                return Some(self.block + mask.trailing_zeros() as usize);
            }
        }
        self.next_quote_in_later_blocks(from)
    }

    /// [`Quotes::next_quote`] when the quote lies beyond the block classified last: the 64
    /// bytes from `from` on are classified next (the last 64 of the line near its end, only
    /// a line shorter than that is copied and padded), then the 64 after those.
    #[inline(never)]
    fn next_quote_in_later_blocks(&mut self, mut from: usize) -> Option<usize> {
        let len = self.bytes.len();
        while from < len {
            let block = from.min(len.saturating_sub(BLOCK));
            let mask = self.classify(block)? & (u64::MAX << (from - block));
            if mask != 0 {
                return Some(block + mask.trailing_zeros() as usize);
            }
            from = block + BLOCK;
        }
        None
    }

    /// The quote mask of the 64 bytes from `block` on (spaces past the line's end),
    /// remembered; `None` when they hold a byte this reader leaves to the general scanner.
    #[inline(always)]
    fn classify(&mut self, block: usize) -> Option<u64> {
        let rest = self.bytes.get(block..)?;
        let (quotes, odd) = match rest.first_chunk::<BLOCK>() {
            Some(whole) => classify(whole),
            None => {
                // A line shorter than a block: spaces are neither quotes nor odd.
                let mut padded = [b' '; BLOCK];
                padded[..rest.len()].copy_from_slice(rest);
                classify(&padded)
            }
        };
        if odd != 0 {
            return None;
        }
        self.block = block;
        self.mask = quotes;
        Some(quotes)
    }
}

impl NextQuote for Quotes<'_> {
    #[inline(always)]
    fn next_quote(&mut self, from: usize) -> Option<usize> {
        self.find(from)
    }
}

/// Bit masks of a block: its `"` bytes, and its "odd" bytes (backslash, control, non-ASCII).
/// SSE2, part of every x86_64, 16 bytes per step.
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify(block: &[u8; BLOCK]) -> (u64, u64) {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i, load_unaligned_m128i,
        move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let quote = set_splat_i8_m128i(b'"' as i8);
    let backslash = set_splat_i8_m128i(b'\\' as i8);
    let space = set_splat_i8_m128i(b' ' as i8);
    let (mut quotes, mut odd) = (0u64, 0u64);
    let (parts, _) = block.as_chunks::<16>();
    for (i, part) in parts.iter().enumerate() {
        let v = load_unaligned_m128i(part);
        let is_quote = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(v, quote));
        // A signed comparison: bytes from 0x80 on are negative, so "below a space" flags the
        // control bytes and the non-ASCII ones together.
        let is_odd = move_mask_i8_m128i(bitor_m128i(
            cmp_eq_mask_i8_m128i(v, backslash),
            cmp_lt_mask_i8_m128i(v, space),
        ));
        quotes |= u64::from(is_quote as u16) << (16 * i);
        odd |= u64::from(is_odd as u16) << (16 * i);
    }
    (quotes, odd)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify(block: &[u8; BLOCK]) -> (u64, u64) {
    classify_bytes(block)
}

/// [`classify`] one byte at a time: other targets, and the reference the vector code is
/// tested against.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn classify_bytes(block: &[u8; BLOCK]) -> (u64, u64) {
    let (mut quotes, mut odd) = (0u64, 0u64);
    for (i, &b) in block.iter().enumerate() {
        quotes |= u64::from(b == b'"') << i;
        odd |= u64::from(b == b'\\' || !(0x20..0x80).contains(&b)) << i;
    }
    (quotes, odd)
}

/// A cursor over a plain line, with the same reading methods as [`Scanner`] for what a flat
/// record holds; each gives up (`None`) where the plain reading cannot be sure.
pub(crate) struct PlainReader<'a, Q = Quotes<'a>> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    quotes: Q,
}

impl<'a> PlainReader<'a> {
    /// A reader that classifies the line as it goes.
    pub fn new(text: &'a str) -> PlainReader<'a> {
        PlainReader::with_quotes(text, Quotes::new(text.as_bytes()))
    }
}

impl<'a, Q: NextQuote> PlainReader<'a, Q> {
    /// A reader of `text` whose quotes `quotes` finds (offsets in `text`).
    pub fn with_quotes(text: &'a str, quotes: Q) -> PlainReader<'a, Q> {
        PlainReader {
            text,
            bytes: text.as_bytes(),
            at: 0,
            quotes,
        }
    }

    /// Spaces only: a tab or line break is a control byte, left to the general scanner.
    #[inline(always)]
    fn skip_spaces(&mut self) {
        while self.bytes.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
    }

    /// The next significant byte, not consumed.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        match self.bytes.get(self.at) {
            Some(b' ') => {
                self.skip_spaces();
                self.bytes.get(self.at).copied()
            }
            next => next.copied(),
        }
    }

    /// Consumes `expected` (after spaces), or gives up.
    #[inline(always)]
    pub fn eat(&mut self, expected: u8) -> Option<()> {
        if self.peek()? == expected {
            self.at += 1;
            Some(())
        } else {
            None
        }
    }

    /// Consumes the byte [`PlainReader::peek`] just answered, with no second look at it.
    #[inline(always)]
    pub fn skip_peeked(&mut self) {
        self.at += 1;
    }

    /// Only spaces are left.
    pub fn at_end(&mut self) -> bool {
        self.skip_spaces();
        self.at == self.bytes.len()
    }

    /// The line being read.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The string at the cursor by its place: the text up to the next quote. No slice is
    /// made, so no bounds or char-boundary check (see [`Span`]).
    #[inline(always)]
    pub fn string_span(&mut self) -> Option<Span> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let end = self.quotes.next_quote(start)?;
        self.at = end + 1;
        Some(Span { start, end })
    }

    /// The string at the cursor as bytes.
    #[inline(always)]
    pub fn string_bytes(&mut self) -> Option<&'a [u8]> {
        let span = self.string_span()?;
        self.bytes.get(span.start..span.end)
    }

    /// `null`, consumed; false (nothing consumed) when the next value is something else.
    #[inline(always)]
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.bytes[self.at..].starts_with(b"null") {
            self.at += 4;
            true
        } else {
            false
        }
    }

    /// `null` as `None`, or a string by its place.
    #[inline(always)]
    pub fn opt_string_span(&mut self) -> Option<Option<Span>> {
        if self.null() {
            Some(None)
        } else {
            self.string_span().map(Some)
        }
    }

    /// The index in `names` of the string at the cursor, consumed: a key or a value from a
    /// fixed set. Compared in place with the names from `from` on (see [`KnownNames`]), then
    /// read and looked up among all of them.
    #[inline(always)]
    pub fn known_name<const N: usize>(
        &mut self,
        names: &KnownNames<N>,
        from: usize,
    ) -> Option<usize> {
        self.peek()?;
        if let Some((index, len)) = names.at_start_of(self.bytes.get(self.at..)?, from) {
            self.at += len;
            return Some(index);
        }
        names.position(self.string_bytes()?)
    }

    /// The key of the member at the cursor in its compact form, `,"name":` (see
    /// [`KnownNames::compact_members`]), consumed with its separator and colon: its index in
    /// `keys`, from `from` on. `None`, nothing consumed, for anything else (spaces, the
    /// object's end, another key, the line's last 15 bytes): the caller then reads the member
    /// token by token.
    #[inline(always)]
    pub fn compact_member_key<const N: usize>(
        &mut self,
        keys: &KnownNames<N>,
        from: usize,
    ) -> Option<usize> {
        let (index, len) = keys.at_start_of(self.bytes.get(self.at..)?, from)?;
        self.at += len;
        Some(index)
    }

    /// A label map (`null`, or an object of string values), as [`crate::fast_json::label_text`]
    /// reads it.
    #[inline(always)]
    pub fn label_text(&mut self) -> Option<LabelText> {
        self.peek()?;
        let start = self.at;
        let (mut count, mut longest) = (0, 0);
        if !self.null() {
            self.eat(b'{')?;
            if self.peek()? == b'}' {
                self.at += 1;
            } else {
                loop {
                    let key = self.string_span()?.len();
                    self.eat(b':')?;
                    let value = self.string_span()?.len();
                    count += 1;
                    longest = longest.max(key).max(value);
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
        }
        let span = Span {
            start,
            end: self.at,
        };
        Some(LabelText::new(span, count, longest))
    }

    /// The general scanner at this position, for a value read its way (numbers, times as
    /// numbers); [`PlainReader::resume`] takes its position back.
    pub fn scanner(&self) -> Scanner<'a> {
        Scanner::at(self.text, self.at)
    }

    pub fn resume(&mut self, scanner: &Scanner<'a>) {
        self.at = scanner.position();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The vector classification flags exactly the bytes the byte-by-byte one flags.
        #[test]
        fn classify_agrees_with_bytes(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![0u8, 0x1f, 0x20, 0x21, 0x22, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xc3, 0xff]),
                    proptest::num::u8::ANY,
                ],
                BLOCK,
            ),
        ) {
            let block: [u8; BLOCK] = bytes.try_into().unwrap();
            proptest::prop_assert_eq!(classify(&block), classify_bytes(&block));
        }

        /// A string read by its place is the string the general scanner reads, with the reader
        /// left where the scanner is left (the plain reader may give up where the scanner
        /// reads, never the other way round).
        #[test]
        fn string_spans_agree_with_the_scanner(text in "[ \"a\\\\é\t]{0,12}", lead in 0..3usize) {
            let text = format!("{}{text}", " ".repeat(lead));
            let mut scanner = Scanner::new(&text);
            let read = scanner.string();
            let mut reader = PlainReader::new(&text);
            if let Some(span) = reader.string_span() {
                proptest::prop_assert_eq!(span.of(&text), read, "{:?}", text);
                proptest::prop_assert_eq!(reader.at, scanner.position());
            }
        }

        /// Quotes found through the masks are the quotes a plain search finds, in a line of any
        /// length; a backslash, control or non-ASCII byte in a block searched gives up.
        #[test]
        fn next_quote_agrees_with_a_plain_search(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(vec![b'a', b' ', b'"', b'{', b':']),
                    1 => proptest::sample::select(vec![b'\\', b'\t', 0x00, 0x7f, 0xc3, 0xa9]),
                ],
                0..300,
            ),
            starts in proptest::collection::vec(0..320usize, 1..8),
        ) {
            // In any order: a remembered block must not answer for another.
            let mut quotes = Quotes::new(&bytes);
            for from in starts {
                let found = quotes.next_quote(from);
                let plain = bytes.iter().skip(from).position(|&b| b == b'"').map(|i| from + i);
                let odd_in = |range: std::ops::Range<usize>| {
                    let range = range.start.min(bytes.len())..range.end.min(bytes.len());
                    bytes[range].iter().any(|&b| b == b'\\' || !(0x20..0x80).contains(&b))
                };
                match found {
                    Some(at) => {
                        // The string before the quote is all plain bytes.
                        proptest::prop_assert_eq!(Some(at), plain);
                        proptest::prop_assert!(!odd_in(from..at), "from {}", from);
                    }
                    None => {
                        // Given up only when there is no quote, or an odd byte lies within a
                        // block of the text searched.
                        let near = from.saturating_sub(BLOCK)..plain.map_or(bytes.len(), |at| at + BLOCK);
                        proptest::prop_assert!(plain.is_none() || odd_in(near), "from {}", from);
                    }
                }
            }
        }
    }
}
