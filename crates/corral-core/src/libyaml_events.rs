//! A safe, minimal reader of libyaml parser events (`unsafe-libyaml-norway`, the libyaml
//! translation serde_norway itself parses with), for loaders that build their values straight
//! from the events instead of through serde_norway, which keeps every event of a document in
//! memory before deserialising it. Same parser, so the same grammar, scalar values and lines as
//! serde_norway; this is the one module of the workspace allowed `unsafe`, confined to the
//! parser's life cycle (initialise, set encoding and input, parse, delete) and to reading and
//! freeing the events it fills.
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use unsafe_libyaml_norway as unsafe_sys;

/// One event of the document, borrowed from the `ParsedEvent` that owns libyaml's buffers.
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
    /// The scalar's value after unquoting and folding, as serde_norway sees it.
    pub value: &'e [u8],
    /// Written without quotes or block indicator (where `~`, `null` and empty mean null).
    pub plain: bool,
    /// Carries an anchor or a tag.
    pub decorated: bool,
}

/// An event as libyaml filled it; frees its buffers when dropped.
pub(crate) struct ParsedEvent {
    raw: unsafe_sys::yaml_event_t,
}

impl ParsedEvent {
    pub(crate) fn event(&self) -> Event<'_> {
        let raw = &self.raw;
        // SAFETY: libyaml filled `raw` successfully (`EventReader::next`), so the union member
        // matching `type_` is the initialised one, and its pointers stay valid until
        // `yaml_event_delete` runs in `drop`, which the returned borrow of `self` outlives.
        unsafe {
            match raw.type_ {
                unsafe_sys::YAML_STREAM_START_EVENT => Event::StreamStart,
                unsafe_sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
                unsafe_sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
                unsafe_sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
                unsafe_sys::YAML_ALIAS_EVENT => Event::Alias,
                unsafe_sys::YAML_SCALAR_EVENT => {
                    let scalar = &raw.data.scalar;
                    let value = if scalar.value.is_null() || scalar.length == 0 {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(scalar.value, scalar.length as usize)
                    };
                    Event::Scalar(Scalar {
                        value,
                        plain: scalar.style == unsafe_sys::YAML_PLAIN_SCALAR_STYLE,
                        decorated: !scalar.anchor.is_null() || !scalar.tag.is_null(),
                    })
                }
                unsafe_sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                    decorated: !raw.data.sequence_start.anchor.is_null()
                        || !raw.data.sequence_start.tag.is_null(),
                },
                unsafe_sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
                unsafe_sys::YAML_MAPPING_START_EVENT => Event::MappingStart {
                    decorated: !raw.data.mapping_start.anchor.is_null()
                        || !raw.data.mapping_start.tag.is_null(),
                },
                unsafe_sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
                // libyaml reports no event only after the stream's end, where `next` stops.
                _ => Event::StreamEnd,
            }
        }
    }
}

impl Drop for ParsedEvent {
    fn drop(&mut self) {
        // SAFETY: `raw` was filled by a successful `yaml_parser_parse` and is deleted once.
        unsafe { unsafe_sys::yaml_event_delete(&mut self.raw) }
    }
}

/// libyaml's parser over a string. The parser is boxed because libyaml keeps a pointer to it
/// (its read handler's data), so it must not move once the input is set.
pub(crate) struct EventReader<'input> {
    parser: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
    /// After an error or the stream's end libyaml must not be asked again.
    done: bool,
    _input: PhantomData<&'input [u8]>,
}

impl<'input> EventReader<'input> {
    /// None only if libyaml cannot allocate its buffers.
    pub(crate) fn new(input: &'input str) -> Option<EventReader<'input>> {
        let mut parser = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        let p = parser.as_mut_ptr();
        // SAFETY: `p` points to boxed, writable memory of the parser's size, which
        // `yaml_parser_initialize` zeroes and sets up; the input outlives the reader (`'input`).
        unsafe {
            if unsafe_sys::yaml_parser_initialize(p).fail {
                return None;
            }
            unsafe_sys::yaml_parser_set_encoding(p, unsafe_sys::YAML_UTF8_ENCODING);
            unsafe_sys::yaml_parser_set_input_string(p, input.as_ptr(), input.len() as u64);
        }
        Some(EventReader {
            parser,
            done: false,
            _input: PhantomData,
        })
    }

    /// The next event with its 1-based line, or None after a syntax error or the stream's end.
    pub(crate) fn next(&mut self) -> Option<(ParsedEvent, usize)> {
        if self.done {
            return None;
        }
        let mut raw = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new` and never moved (boxed); `raw` is
        // written by `yaml_parser_parse` when it succeeds, and read only then.
        unsafe {
            if unsafe_sys::yaml_parser_parse(self.parser.as_mut_ptr(), raw.as_mut_ptr()).fail {
                self.done = true;
                return None;
            }
            let raw = raw.assume_init();
            let line = raw.start_mark.line as usize + 1;
            if raw.type_ == unsafe_sys::YAML_STREAM_END_EVENT {
                self.done = true;
            }
            Some((ParsedEvent { raw }, line))
        }
    }
}

impl Drop for EventReader<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was initialised in `new` (a reader exists only then).
        unsafe { unsafe_sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event as `line:what`, scalars as `value/p` (plain) or `value/q` (quoted), `&` when
    /// decorated with an anchor or a tag.
    fn events(src: &str) -> Vec<String> {
        let mut reader = EventReader::new(src).unwrap();
        let mut out = Vec::new();
        while let Some((ev, line)) = reader.next() {
            let what = match ev.event() {
                Event::Scalar(s) => format!(
                    "{}/{}{}",
                    String::from_utf8_lossy(s.value),
                    if s.plain { "p" } else { "q" },
                    if s.decorated { "&" } else { "" }
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
            out.push(format!("{line}:{what}"));
        }
        out
    }

    #[test]
    fn reads_scalars_containers_decorations_and_lines() {
        let src = "a: 'x y'\nb: [1, ~]\nc: &k {d: \"\\u00e9\"}\ne: *k\nf: !t g\n";
        assert_eq!(
            events(src),
            [
                "1:StreamStart",
                "1:DocumentStart",
                "1:{",
                "1:a/p",
                "1:x y/q",
                "2:b/p",
                "2:[",
                "2:1/p",
                "2:~/p",
                "2:]",
                "3:c/p",
                "3:{&",
                "3:d/p",
                "3:\u{e9}/q",
                "3:}",
                "4:e/p",
                "4:Alias",
                "5:f/p",
                "5:g/p&",
                "6:}",
                "6:DocumentEnd",
                "6:StreamEnd",
            ]
        );
        // A syntax error ends the events; asking again gives none.
        let mut broken = EventReader::new("a: [1, 2\nb: 3\n").unwrap();
        let mut n = 0;
        while broken.next().is_some() {
            n += 1;
        }
        assert_eq!(n, 7);
        assert!(broken.next().is_none());
    }
}
