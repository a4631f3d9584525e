//! The streaming YAML loader of the topology file: builds `TopologyFile` straight from libyaml's
//! events, one node or edge at a time, where serde_norway first keeps every event of the
//! document (~4.7 M events, ~1 GB, for 100k nodes and 500k edges) and then deserialises them.
//!
//! It reads the documents serde_norway reads without error and without YAML's extras, and
//! gives exactly serde_norway's result for them: untagged, unanchored scalars, sequences and
//! mappings (block or flow, any scalar style). For anything else it answers `None` and the
//! caller deserialises with serde_norway, so that every error message and line, and the meaning
//! of anchors, aliases and tags, stay those of serde_norway: a syntax error, an unknown or
//! repeated key, a missing `id`, a value of the wrong type, an unknown edge type, a tag, an
//! anchor or alias, a second document.

use crate::libyaml_events::{Event, EventReader, ParsedEvent, Scalar};
use crate::topology::{EdgeSpec, EdgeType, NodeSpec, TopologyFile};
use std::collections::BTreeMap;

/// The document is not one the streaming loader reads as serde_norway would (see the module).
struct NotCovered;

type Step<T> = Result<T, NotCovered>;

/// The topology of `src`, or None when serde_norway must read it (see the module).
pub(crate) fn load(src: &str) -> Option<TopologyFile> {
    let mut reader = Reader {
        events: EventReader::new(src)?,
    };
    reader.document().ok()
}

struct Reader<'a> {
    events: EventReader<'a>,
}

impl Reader<'_> {
    /// The next event; a syntax error, an alias or an anchored or tagged node is not covered.
    fn next(&mut self) -> Step<ParsedEvent> {
        let (event, _line) = self.events.next().ok_or(NotCovered)?;
        match event.event() {
            Event::Alias
            | Event::Scalar(Scalar {
                decorated: true, ..
            })
            | Event::SequenceStart { decorated: true }
            | Event::MappingStart { decorated: true } => Err(NotCovered),
            _ => Ok(event),
        }
    }

    fn expect(&mut self, want: Event<'static>) -> Step<()> {
        if self.next()?.event() == want {
            Ok(())
        } else {
            Err(NotCovered)
        }
    }

    /// One document whose root is the topology mapping, and nothing after it.
    fn document(&mut self) -> Step<TopologyFile> {
        self.expect(Event::StreamStart)?;
        self.expect(Event::DocumentStart)?;
        let root = self.next()?;
        if !matches!(root.event(), Event::MappingStart { .. }) {
            return Err(NotCovered);
        }
        let mut nodes = None;
        let mut edges = None;
        while let Some(key) = self.key(&[b"nodes", b"edges"])? {
            let repeated = if key == 0 {
                let list = self.list(Self::node)?;
                nodes.replace(list).is_some()
            } else {
                let list = self.list(Self::edge)?;
                edges.replace(list).is_some()
            };
            // A repeated key is serde's "duplicate field" error.
            if repeated {
                return Err(NotCovered);
            }
        }
        self.expect(Event::DocumentEnd)?;
        self.expect(Event::StreamEnd)?;
        Ok(TopologyFile {
            nodes: nodes.unwrap_or_default(),
            edges: edges.unwrap_or_default(),
        })
    }

    /// Which of `fields` the next key of the mapping being read is, or None at its end. Keys
    /// are compared as serde's field names are: by value, whatever the scalar's style; any
    /// other key is serde's "unknown field" error.
    fn key(&mut self, fields: &[&[u8]]) -> Step<Option<usize>> {
        let event = self.next()?;
        match event.event() {
            Event::MappingEnd => Ok(None),
            Event::Scalar(s) => fields
                .iter()
                .position(|f| *f == s.value)
                .map(Some)
                .ok_or(NotCovered),
            _ => Err(NotCovered),
        }
    }

    /// A sequence of items, or an empty plain scalar, which serde_norway reads as an empty one.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self, ParsedEvent) -> Step<T>) -> Step<Vec<T>> {
        let start = self.next()?;
        match start.event() {
            Event::SequenceStart { .. } => {}
            Event::Scalar(s) if s.plain && s.value.is_empty() => return Ok(Vec::new()),
            _ => return Err(NotCovered),
        }
        drop(start);
        let mut items = Vec::new();
        loop {
            let event = self.next()?;
            if event.event() == Event::SequenceEnd {
                return Ok(items);
            }
            items.push(item(self, event)?);
        }
    }

    fn node(&mut self, start: ParsedEvent) -> Step<NodeSpec> {
        if !matches!(start.event(), Event::MappingStart { .. }) {
            return Err(NotCovered);
        }
        drop(start);
        let mut id = None;
        let mut kind = None;
        let mut service = None;
        let mut aliases = None;
        let mut labels = None;
        while let Some(key) = self.key(&[b"id", b"kind", b"service", b"aliases", b"labels"])? {
            let repeated = match key {
                0 => {
                    let value = self.string()?;
                    id.replace(value).is_some()
                }
                1 => {
                    let value = self.optional_string()?;
                    kind.replace(value).is_some()
                }
                2 => {
                    let value = self.optional_string()?;
                    service.replace(value).is_some()
                }
                3 => {
                    let value = self.list(|r, event| r.string_of(&event))?;
                    aliases.replace(value).is_some()
                }
                _ => {
                    let value = self.labels()?;
                    labels.replace(value).is_some()
                }
            };
            if repeated {
                return Err(NotCovered);
            }
        }
        Ok(NodeSpec {
            // A node without an id is serde's "missing field" error.
            id: id.ok_or(NotCovered)?,
            kind: kind.flatten(),
            service: service.flatten(),
            aliases: aliases.unwrap_or_default(),
            labels: labels.unwrap_or_default(),
        })
    }

    fn edge(&mut self, start: ParsedEvent) -> Step<EdgeSpec> {
        if !matches!(start.event(), Event::MappingStart { .. }) {
            return Err(NotCovered);
        }
        drop(start);
        let mut from = None;
        let mut to = None;
        let mut edge_type = None;
        while let Some(key) = self.key(&[b"from", b"to", b"type"])? {
            let repeated = match key {
                0 => {
                    let value = self.string()?;
                    from.replace(value).is_some()
                }
                1 => {
                    let value = self.string()?;
                    to.replace(value).is_some()
                }
                _ => {
                    let value = self.edge_type()?;
                    edge_type.replace(value).is_some()
                }
            };
            if repeated {
                return Err(NotCovered);
            }
        }
        match (from, to, edge_type) {
            (Some(from), Some(to), Some(edge_type)) => Ok(EdgeSpec {
                from,
                to,
                edge_type,
            }),
            _ => Err(NotCovered),
        }
    }

    /// A `String` field: serde_norway takes any scalar's value as it is (`~`, `123` and `true`
    /// included).
    fn string(&mut self) -> Step<String> {
        let event = self.next()?;
        self.string_of(&event)
    }

    fn string_of(&mut self, event: &ParsedEvent) -> Step<String> {
        match event.event() {
            Event::Scalar(s) => std::str::from_utf8(s.value)
                .map(str::to_owned)
                .map_err(|_| NotCovered),
            _ => Err(NotCovered),
        }
    }

    /// An `Option<String>` field: None for a plain empty scalar or a plain `~`/`null`/`Null`/
    /// `NULL`, as serde_norway's `deserialize_option`; a quoted `"null"` is a string.
    fn optional_string(&mut self) -> Step<Option<String>> {
        let event = self.next()?;
        if let Event::Scalar(s) = event.event() {
            if s.plain && matches!(s.value, b"" | b"~" | b"null" | b"Null" | b"NULL") {
                return Ok(None);
            }
        }
        self.string_of(&event).map(Some)
    }

    /// The edge type: a scalar naming one of the types, whatever its style.
    fn edge_type(&mut self) -> Step<EdgeType> {
        let event = self.next()?;
        let Event::Scalar(s) = event.event() else {
            return Err(NotCovered);
        };
        EdgeType::ALL
            .into_iter()
            .find(|t| t.as_str().as_bytes() == s.value)
            .ok_or(NotCovered)
    }

    /// A mapping of string to string (a later repeated key wins, as serde's `BTreeMap` has it),
    /// or an empty plain scalar for an empty one.
    fn labels(&mut self) -> Step<BTreeMap<String, String>> {
        let start = self.next()?;
        match start.event() {
            Event::MappingStart { .. } => {}
            Event::Scalar(s) if s.plain && s.value.is_empty() => return Ok(BTreeMap::new()),
            _ => return Err(NotCovered),
        }
        drop(start);
        let mut labels = BTreeMap::new();
        loop {
            let key = self.next()?;
            if key.event() == Event::MappingEnd {
                return Ok(labels);
            }
            let key = self.string_of(&key)?;
            let value = self.string()?;
            labels.insert(key, value);
        }
    }
}
