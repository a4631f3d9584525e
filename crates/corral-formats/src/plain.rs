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

use crate::fast_json::{KnownNames, LabelText, Scanner};

/// Bytes classified at once.
const BLOCK: usize = 64;

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
    pub fn next_quote(&mut self, from: usize) -> Option<usize> {
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
pub(crate) struct PlainReader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    quotes: Quotes<'a>,
}

impl<'a> PlainReader<'a> {
    pub fn new(text: &'a str) -> PlainReader<'a> {
        PlainReader {
            text,
            bytes: text.as_bytes(),
            at: 0,
            quotes: Quotes::new(text.as_bytes()),
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

    /// Only spaces are left.
    pub fn at_end(&mut self) -> bool {
        self.skip_spaces();
        self.at == self.bytes.len()
    }

    /// The string at the cursor as bytes: the text up to the next quote.
    #[inline(always)]
    pub fn string_bytes(&mut self) -> Option<&'a [u8]> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let end = self.quotes.next_quote(start)?;
        self.at = end + 1;
        self.bytes.get(start..end)
    }

    /// The string at the cursor, borrowed.
    #[inline(always)]
    pub fn string(&mut self) -> Option<&'a str> {
        let len = self.string_bytes()?.len();
        let end = self.at - 1;
        // Both ends sit on an ASCII quote, so they are char boundaries.
        self.text.get(end - len..end)
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

    /// `null` as `None`, or a string.
    #[inline(always)]
    pub fn opt_string(&mut self) -> Option<Option<&'a str>> {
        if self.null() {
            Some(None)
        } else {
            self.string().map(Some)
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

    /// A label map (`null`, or an object of string values), as [`crate::fast_json::label_text`]
    /// reads it.
    #[inline(always)]
    pub fn label_text(&mut self) -> Option<LabelText<'a>> {
        self.peek()?;
        let start = self.at;
        let (mut count, mut longest) = (0, 0);
        if !self.null() {
            self.eat(b'{')?;
            if self.peek()? == b'}' {
                self.at += 1;
            } else {
                loop {
                    let key = self.string_bytes()?.len();
                    self.eat(b':')?;
                    let value = self.string_bytes()?.len();
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
        Some(LabelText::new(
            self.text.get(start..self.at)?,
            count,
            longest,
        ))
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
