//! A reader of YAML parser events for loaders that build their values straight from the
//! events instead of through serde_norway (which keeps every event of a document in memory
//! before deserialising it). The events come from `yaml-rust2`'s parser, which is safe Rust
//! (the workspace forbids `unsafe`), but it is not the parser serde_norway runs (libyaml):
//! the two read YAML 1.2 and YAML 1.1 and differ at the edges (line breaks, tabs, `:` in flow
//! collections, plain scalars starting with an indicator, escapes, directives, ...). So this
//! reader passes on only what both parsers read the same way, and stops (as on a syntax
//! error, so that the caller hands the document to serde_norway) as soon as it meets anything
//! else:
//!
//! * the whole text holds only characters both read alike: printable ASCII, line feeds, and
//!   printable non-ASCII other than the YAML 1.1 line breaks (U+0085, U+2028, U+2029) and the
//!   byte-order mark; no tab, no carriage return; no directive (`%` at a line's start) and no
//!   document marker other than one line `---` and one line `...` after it;
//! * every non-empty scalar is checked against the text it was read from: a plain scalar is
//!   exactly its text, on one line, starts with no indicator, has no ` :` and no `:` before a
//!   flow indicator, and ends where both parsers end it; a quoted one is on one line and
//!   unquotes, with the common escapes only, to the parser's value; block scalars (`|`, `>`)
//!   are not passed on.
//!
//! What is left is a subset (block and flow collections of such scalars) on which libyaml and
//! yaml-rust2 agree, which the loader's property tests check against serde_norway.

use yaml_rust2::parser::{Event as RawEvent, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// One event of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event<'e> {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias,
    Scalar(Scalar<'e>),
    /// `decorated`: the sequence carries an anchor or a tag.
    SequenceStart {
        decorated: bool,
    },
    SequenceEnd,
    /// `decorated`: the mapping carries an anchor or a tag.
    MappingStart {
        decorated: bool,
    },
    MappingEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scalar<'e> {
    /// The scalar's value after unquoting, as serde_norway sees it.
    pub value: &'e [u8],
    /// Written without quotes (where `~`, `null` and empty mean null); an empty plain scalar
    /// is an absent one (`key:` with nothing after it).
    pub plain: bool,
    /// Carries an anchor or a tag.
    pub decorated: bool,
    /// Followed on its own line, after spaces at most, by `:`, within libyaml's 1024-character
    /// reach of a simple key: a mapping key both parsers read as such.
    pub simple_key: bool,
}

/// An event as the parser produced it, with what the checks learnt of its scalar.
pub(crate) struct ParsedEvent {
    raw: RawEvent,
    simple_key: bool,
}

impl ParsedEvent {
    pub(crate) fn event(&self) -> Event<'_> {
        match &self.raw {
            RawEvent::StreamStart => Event::StreamStart,
            RawEvent::DocumentStart => Event::DocumentStart,
            RawEvent::DocumentEnd => Event::DocumentEnd,
            RawEvent::Alias(_) => Event::Alias,
            RawEvent::Scalar(value, style, anchor, tag) => Event::Scalar(Scalar {
                value: value.as_bytes(),
                plain: *style == TScalarStyle::Plain,
                decorated: *anchor != 0 || tag.is_some(),
                simple_key: self.simple_key,
            }),
            RawEvent::SequenceStart(anchor, tag) => Event::SequenceStart {
                decorated: *anchor != 0 || tag.is_some(),
            },
            RawEvent::SequenceEnd => Event::SequenceEnd,
            RawEvent::MappingStart(anchor, tag) => Event::MappingStart {
                decorated: *anchor != 0 || tag.is_some(),
            },
            RawEvent::MappingEnd => Event::MappingEnd,
            // `Nothing` is the parser's internal placeholder; `next` stops at the stream's end.
            RawEvent::StreamEnd | RawEvent::Nothing => Event::StreamEnd,
        }
    }
}

/// yaml-rust2's parser over a string, with the checks of the module.
pub(crate) struct EventReader<'input> {
    src: &'input str,
    parser: Parser<std::str::Chars<'input>>,
    /// The parser counts positions in characters; `src` is indexed in bytes. Scalars come in
    /// order, so one cursor moving forward converts them in a single pass over the text.
    ascii: bool,
    cursor_chars: usize,
    cursor_bytes: usize,
    /// After an error, a check that failed or the stream's end, no more events.
    done: bool,
}

impl<'input> EventReader<'input> {
    /// None when the text holds something the two parsers may read differently (see the module).
    pub(crate) fn new(src: &'input str) -> Option<EventReader<'input>> {
        if !text_read_alike(src) {
            return None;
        }
        Some(EventReader {
            src,
            parser: Parser::new_from_str(src),
            ascii: src.is_ascii(),
            cursor_chars: 0,
            cursor_bytes: 0,
            done: false,
        })
    }

    /// The next event with its 1-based line, or None after a syntax error, a scalar the two
    /// parsers may read differently, or the stream's end.
    pub(crate) fn next(&mut self) -> Option<(ParsedEvent, usize)> {
        if self.done {
            return None;
        }
        let Ok((raw, mark)) = self.parser.next_token() else {
            self.done = true;
            return None;
        };
        let mut simple_key = false;
        match &raw {
            RawEvent::StreamEnd => self.done = true,
            RawEvent::Scalar(value, style, _, _) => {
                let at = self.byte_offset(mark.index());
                match self.check_scalar(value, *style, at) {
                    Some(key) => simple_key = key,
                    None => {
                        self.done = true;
                        return None;
                    }
                }
            }
            _ => {}
        }
        Some((ParsedEvent { raw, simple_key }, mark.line()))
    }

    fn byte_offset(&mut self, chars: usize) -> usize {
        if self.ascii {
            return chars;
        }
        if chars < self.cursor_chars {
            self.cursor_chars = 0;
            self.cursor_bytes = 0;
        }
        let rest = &self.src[self.cursor_bytes..];
        let skipped: usize = (rest.chars().take(chars - self.cursor_chars))
            .map(char::len_utf8)
            .sum();
        self.cursor_chars = chars;
        self.cursor_bytes += skipped;
        self.cursor_bytes
    }

    /// Whether the scalar read at byte `at` is read alike by both parsers (see the module), and
    /// if so whether it is a simple key; None if it may not be.
    fn check_scalar(&self, value: &str, style: TScalarStyle, at: usize) -> Option<bool> {
        let text = self.src.get(at..)?;
        let raw_len = match style {
            // An absent value: nothing written, nothing to check.
            TScalarStyle::Plain if value.is_empty() => return Some(false),
            TScalarStyle::Plain => plain_len(text, value)?,
            TScalarStyle::SingleQuoted => quoted_len(text, value, b'\'')?,
            TScalarStyle::DoubleQuoted => quoted_len(text, value, b'"')?,
            _ => return None,
        };
        let after = &text.as_bytes()[raw_len..];
        // What may follow a scalar, where both parsers end it: the line's end, a space, a flow
        // collection's `,`, `]` or `}`, or `:` before a space or the line's end.
        let colon_ok = |rest: &[u8]| matches!(rest.get(1), None | Some(b' ' | b'\n'));
        match after.first() {
            None | Some(b' ' | b'\n' | b',' | b']' | b'}') => {}
            Some(b':') if colon_ok(after) => {}
            Some(_) => return None,
        }
        let spaces = after.iter().take_while(|&&b| b == b' ').count();
        let simple_key = after.get(spaces) == Some(&b':')
            && colon_ok(&after[spaces..])
            && raw_len + spaces < 1000;
        Some(simple_key)
    }
}

/// Characters that start something other than a plain scalar in one parser or the other.
const INDICATORS: &[u8] = b"-?:,[]{}#&*!|>'\"%@` ";

/// The length of a plain scalar's text, which must be exactly its value (so on one line,
/// nothing folded), with no indicator first, no ` :` or ` #`, and no `:` before a flow
/// indicator (libyaml's "found unexpected ':'").
fn plain_len(text: &str, value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    if !text.starts_with(value) || INDICATORS.contains(&bytes[0]) {
        return None;
    }
    let next = text.as_bytes().get(value.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return None;
        }
        if b == b':' {
            let following = bytes.get(i + 1).or(next);
            if i > 0 && bytes[i - 1] == b' '
                || matches!(following, Some(b',' | b'?' | b'[' | b']' | b'{' | b'}'))
            {
                return None;
            }
        }
    }
    Some(value.len())
}

/// The length of a quoted scalar's text (quotes included) if it is on one line and unquotes to
/// `value`: `''` in single quotes; in double quotes the escapes both parsers share and JSON
/// writes (`\\ \" \/ \b \f \n \r \t \0 \a \v \e \xXX \uXXXX \UXXXXXXXX`).
fn quoted_len(text: &str, value: &str, quote: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&quote) {
        return None;
    }
    let mut unquoted = String::with_capacity(value.len());
    let mut i = 1;
    loop {
        // Copy the run of ordinary characters up to the next quote, backslash or line end.
        let run = bytes[i..]
            .iter()
            .position(|&b| b == quote || b == b'\n' || (quote == b'"' && b == b'\\'))?;
        unquoted.push_str(&text[i..i + run]);
        i += run;
        match bytes[i] {
            b'\n' => return None,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => {
                unquoted.push('\'');
                i += 2;
            }
            b'\\' => {
                let (ch, len) = escape(&text[i + 1..])?;
                unquoted.push(ch);
                i += 1 + len;
            }
            _ => break,
        }
    }
    (unquoted == value).then_some(i + 1)
}

/// The character an escape (after its backslash) stands for, and the escape's length.
fn escape(text: &str) -> Option<(char, usize)> {
    let simple = match text.as_bytes().first()? {
        b'\\' => '\\',
        b'"' => '"',
        b'/' => '/',
        b'b' => '\x08',
        b'f' => '\x0c',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'0' => '\0',
        b'a' => '\x07',
        b'v' => '\x0b',
        b'e' => '\x1b',
        b'x' => return hex_escape(text, 2),
        b'u' => return hex_escape(text, 4),
        b'U' => return hex_escape(text, 8),
        _ => return None,
    };
    Some((simple, 1))
}

fn hex_escape(text: &str, digits: usize) -> Option<(char, usize)> {
    let hex = text.get(1..1 + digits)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let code = u32::from_str_radix(hex, 16).ok()?;
    Some((char::from_u32(code)?, 1 + digits))
}

/// Whether every character and line of `src` is one both parsers read alike (see the module).
fn text_read_alike(src: &str) -> bool {
    let chars_ok = if src.is_ascii() {
        src.bytes()
            .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    } else {
        src.chars().all(|c| match c {
            '\n' | ' '..='~' => true,
            '\u{a0}'..='\u{d7ff}' => !matches!(c, '\u{2028}' | '\u{2029}'),
            '\u{e000}'..='\u{fffd}' => c != '\u{feff}',
            c => c >= '\u{10000}',
        })
    };
    // One document at most, opened by a line `---` and closed by a line `...` after it (libyaml
    // and yaml-rust2 differ on a stray `...`, e.g. alone in the text).
    let (mut started, mut ended) = (false, false);
    chars_ok
        && src.split('\n').all(|line| {
            if line.starts_with('%') {
                return false;
            }
            if !(line.starts_with("---") || line.starts_with("...")) {
                return true;
            }
            let ok = match line {
                "---" => !started,
                "..." => started && !ended,
                _ => false,
            };
            (started, ended) = (started || line == "---", ended || line == "...");
            ok
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event as `line:what`, scalars as `value/p` (plain) or `value/q` (quoted), `&` when
    /// decorated with an anchor or a tag, `:` when a simple key; `STOP` where the reader stops
    /// before the stream's end.
    fn events(src: &str) -> Vec<String> {
        let Some(mut reader) = EventReader::new(src) else {
            return vec!["STOP".into()];
        };
        let mut out = Vec::new();
        let mut ended = false;
        while let Some((ev, line)) = reader.next() {
            let what = match ev.event() {
                Event::Scalar(s) => format!(
                    "{}/{}{}{}",
                    String::from_utf8_lossy(s.value),
                    if s.plain { "p" } else { "q" },
                    if s.decorated { "&" } else { "" },
                    if s.simple_key { ":" } else { "" }
                ),
                Event::SequenceStart { decorated } => {
                    format!("[{}", if decorated { "&" } else { "" })
                }
                Event::MappingStart { decorated } => {
                    format!("{{{}", if decorated { "&" } else { "" })
                }
                Event::SequenceEnd => "]".into(),
                Event::MappingEnd => "}".into(),
                other => format!("{other:?}"),
            };
            ended = ev.event() == Event::StreamEnd;
            out.push(format!("{line}:{what}"));
        }
        if !ended {
            out.push("STOP".into());
        }
        out
    }

    #[test]
    fn reads_scalars_containers_decorations_and_lines() {
        let src = "a: 'x y'\nb: [1, ~, \"\\u00e9\\t\\\\\"]\nc: &k {d: it''s, 'e''': \"\"}\ne: *k\nf: !t g\nh: http://x/y#z\ni:\n";
        assert_eq!(
            events(src),
            [
                "1:StreamStart",
                "1:DocumentStart",
                "1:{",
                "1:a/p:",
                "1:x y/q",
                "2:b/p:",
                "2:[",
                "2:1/p",
                "2:~/p",
                "2:\u{e9}\t\\/q",
                "2:]",
                "3:c/p:",
                "3:{&",
                "3:d/p:",
                "3:it''s/p",
                "3:e'/q:",
                "3:/q",
                "3:}",
                "4:e/p:",
                "4:Alias",
                "5:f/p:",
                "5:g/p&",
                "6:h/p:",
                "6:http://x/y#z/p",
                "7:i/p:",
                "8:/p",
                "8:}",
                "8:DocumentEnd",
                "8:StreamEnd",
            ]
        );
        // A syntax error ends the events; asking again gives none.
        let mut broken = EventReader::new("a: [1, 2\nb: 3\n").unwrap();
        while broken.next().is_some() {}
        assert!(broken.next().is_none());
    }

    /// What libyaml and yaml-rust2 may read differently stops the reader at once (the whole
    /// text) or at the scalar.
    #[test]
    fn stops_where_the_parsers_may_differ() {
        let whole_text = [
            "a: b\tc\n",
            "a: b\r\n",
            "a: b\u{85}c\n",
            "a: b\u{2028}c\n",
            "\u{feff}a: b\n",
            "a: \u{7}\n",
            "%YAML 1.1\n---\na: b\n",
            "a: b\n... # end\n",
            "...\n",
            "a: b\n...\n",
            "---\na: b\n---\n",
            "--- a: b\n",
        ];
        for src in whole_text {
            assert_eq!(events(src), ["STOP"], "{src:?}");
        }
        let at_scalar = [
            ("a: |\n  x\n", 4),
            ("a: >\n  x\n", 4),
            ("a: b\n  c\n", 4),
            ("a: 'b\n  c'\n", 4),
            ("a: \"b\\\n  c\"\n", 4),
            ("a: \"\\N\"\n", 4),
            ("a: \"\\_\"\n", 4),
            ("a: -b\n", 4),
            ("a: :b\n", 4),
            ("a: ?b\n", 4),
            ("a: [b:]\n", 6),
            ("a: {b:, c}\n", 5),
            ("a: b :c\n", 4),
        ];
        for (src, stop_at) in at_scalar {
            let events = events(src);
            assert_eq!(events.len(), stop_at + 1, "{src:?}: {events:?}");
            assert_eq!(events[stop_at], "STOP", "{src:?}: {events:?}");
        }
        // Still read: `:` inside a scalar before other characters, a key spelt over two lines
        // is read but not as a simple key.
        assert!(events("a: x:y\nb: [x:y]\n").ends_with(&["3:StreamEnd".to_string()]));
        assert!(events("{a\n : b}\n").iter().all(|e| !e.ends_with(":")));
    }
}
