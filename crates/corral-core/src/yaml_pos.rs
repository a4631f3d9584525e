//! Where in a YAML (or JSON) document a value stands. serde reports the position of syntax and
//! type errors itself; validation that runs after deserialising (an unknown node in an edge, a
//! bad regex) uses this index to point at the offending line, so that `corral check` can list
//! every error with its file and line.

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Write as _;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Maps a path such as `groupings[2].match.labels.team` to its 1-based line.
#[derive(Debug, Default)]
pub struct LineIndex {
    lines: FxHashMap<String, usize>,
}

impl LineIndex {
    /// The line of every value and key of the document (for small files that need many lines,
    /// such as the origins of rules).
    pub fn build(src: &str) -> LineIndex {
        let mut rx = Receiver::default();
        let mut parser = Parser::new_from_str(src);
        // A syntax error is reported by serde with its own position; the partial index is enough.
        let _ = parser.load(&mut rx, false);
        LineIndex { lines: rx.lines }
    }

    /// The lines of `paths` only, and of the ancestors `line_of` falls back to: one walk of the
    /// events that keeps no path outside those, so that an error in a large file costs about one
    /// parse, not a map of every value. `line_of` then answers as on the full index.
    pub fn build_for<'p>(src: &str, paths: impl IntoIterator<Item = &'p str>) -> LineIndex {
        let mut rx = SparseReceiver::default();
        for path in paths {
            rx.wanted_exact.insert(path);
            let mut p = path;
            rx.wanted.insert(p);
            while let Some(cut) = p.rfind(['.', '[']) {
                p = &p[..cut];
                rx.wanted.insert(p);
            }
        }
        let mut parser = Parser::new_from_str(src);
        // The events `Parser::load` would pass for the first document, stopping early once every
        // asked path has its own line (the first occurrence wins, so later events cannot change
        // it). A syntax error ends the walk, as for the full index.
        while let Ok((ev, mark)) = parser.next_token() {
            if matches!(ev, Event::DocumentEnd | Event::StreamEnd) {
                break;
            }
            rx.on_event(ev, mark);
            if rx.exact_found == rx.wanted_exact.len() {
                break;
            }
        }
        LineIndex { lines: rx.lines }
    }

    /// The line of `path`, or of its nearest ancestor that was found.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(l) = self.lines.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

#[derive(Default)]
struct Receiver {
    lines: FxHashMap<String, usize>,
    stack: Vec<Frame>,
}

impl Receiver {
    /// Path of the value that the next event stands for, or None when it is a mapping key.
    fn next_value_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => key.take().map(|k| {
                if path.is_empty() {
                    k
                } else {
                    format!("{path}.{k}")
                }
            }),
        }
    }
}

impl MarkedEventReceiver for Receiver {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(value, ..) => match self.next_value_path() {
                Some(p) => {
                    self.lines.entry(p).or_insert(line);
                }
                None => {
                    if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                        let full = if path.is_empty() {
                            value.clone()
                        } else {
                            format!("{path}.{value}")
                        };
                        self.lines.entry(full).or_insert(line);
                        *key = Some(value);
                    }
                }
            },
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.next_value_path().unwrap_or_default();
                self.lines.entry(path.clone()).or_insert(line);
                self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map { path, key: None }
                } else {
                    Frame::Seq { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// A container of the sparse walk. `path` is kept only when the container is, or is an ancestor
/// of, an asked path: nothing below any other container can be asked for, so its children cost
/// no path at all.
enum SparseFrame {
    Map {
        path: Option<String>,
        key: Option<String>,
    },
    Seq {
        path: Option<String>,
        next: usize,
    },
}

/// The same walk as `Receiver` (same paths, same first-occurrence lines), recording only the
/// asked paths and their ancestors.
#[derive(Default)]
struct SparseReceiver<'p> {
    /// The asked paths and every ancestor `line_of` may fall back to.
    wanted: FxHashSet<&'p str>,
    /// The asked paths themselves.
    wanted_exact: FxHashSet<&'p str>,
    exact_found: usize,
    lines: FxHashMap<String, usize>,
    stack: Vec<SparseFrame>,
    /// The path being tested, reused so that a value outside the asked paths allocates nothing.
    scratch: String,
}

/// What the next event stands for, as `Receiver::next_value_path` tells it.
enum Slot {
    /// A value; `true` when its path (in `scratch`) may be asked for.
    Value(bool),
    /// A mapping key.
    Key,
}

impl SparseReceiver<'_> {
    /// Writes the path of the next value into `scratch` when its container is on an asked path.
    fn next_slot(&mut self) -> Slot {
        self.scratch.clear();
        match self.stack.last_mut() {
            None => Slot::Value(true),
            Some(SparseFrame::Seq { path, next }) => {
                let i = *next;
                *next += 1;
                match path {
                    Some(p) => {
                        let _ = write!(self.scratch, "{p}[{i}]");
                        Slot::Value(true)
                    }
                    None => Slot::Value(false),
                }
            }
            Some(SparseFrame::Map { path, key }) => match (key.take(), path) {
                (None, _) => Slot::Key,
                (Some(k), Some(p)) => {
                    push_child(&mut self.scratch, p, &k);
                    Slot::Value(true)
                }
                (Some(_), None) => Slot::Value(false),
            },
        }
    }

    /// Records the line of the path in `scratch` if it is asked for and not yet seen; tells
    /// whether it is asked for (so that a container there keeps its path).
    fn record_scratch(&mut self, line: usize) -> bool {
        let Some(&asked) = self.wanted.get(self.scratch.as_str()) else {
            return false;
        };
        if !self.lines.contains_key(asked) {
            self.lines.insert(asked.to_string(), line);
            if self.wanted_exact.contains(asked) {
                self.exact_found += 1;
            }
        }
        true
    }
}

fn push_child(out: &mut String, parent: &str, key: &str) {
    if !parent.is_empty() {
        out.push_str(parent);
        out.push('.');
    }
    out.push_str(key);
}

impl MarkedEventReceiver for SparseReceiver<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(value, ..) => match self.next_slot() {
                Slot::Value(true) => {
                    self.record_scratch(line);
                }
                Slot::Value(false) => {}
                Slot::Key => {
                    let Some(SparseFrame::Map { path, key }) = self.stack.last_mut() else {
                        return;
                    };
                    let parent_asked = path.is_some();
                    if let Some(p) = path {
                        push_child(&mut self.scratch, p, &value);
                    }
                    *key = Some(value);
                    if parent_asked {
                        self.record_scratch(line);
                    }
                }
            },
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let on_asked_path = match self.next_slot() {
                    Slot::Value(false) => false,
                    // An empty path (the root, or a complex key's container, which takes the
                    // root path as in the full index) makes its children root-level paths.
                    Slot::Value(true) | Slot::Key => {
                        self.record_scratch(line) || self.scratch.is_empty()
                    }
                };
                let path = on_asked_path.then(|| self.scratch.clone());
                self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                    SparseFrame::Map { path, key: None }
                } else {
                    SparseFrame::Seq { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// One problem found in a configuration file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Collects errors for one file, resolving paths to lines lazily: only when something is wrong
/// (so that loading a large valid topology never pays for an index), and for all the errors of
/// the file at once, in one walk that records only their paths (`LineIndex::build_for`).
pub struct ErrorSink<'a> {
    file: &'a str,
    src: &'a str,
    /// The full index, built only if `line_of` was asked (rule origins); errors then use it too.
    index: Option<LineIndex>,
    errors: Vec<ConfigError>,
    /// Errors of `at` whose line is still to be found: (position in `errors`, path).
    unresolved: Vec<(usize, String)>,
}

impl<'a> ErrorSink<'a> {
    pub fn new(file: &'a str, src: &'a str) -> Self {
        ErrorSink {
            file,
            src,
            index: None,
            errors: Vec::new(),
            unresolved: Vec::new(),
        }
    }

    /// An error at `path`; its line is found when the errors are read.
    pub fn at(&mut self, path: &str, message: impl Into<String>) {
        let line = self.index.as_ref().and_then(|idx| idx.line_of(path));
        if self.index.is_none() {
            self.unresolved.push((self.errors.len(), path.to_string()));
        }
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    /// An error whose line is known already.
    pub fn at_line(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line: Some(line),
            message: message.into(),
        });
    }

    /// The line of `path` (builds the full index on first use).
    pub fn line_of(&mut self, path: &str) -> Option<usize> {
        let src = self.src;
        self.index
            .get_or_insert_with(|| LineIndex::build(src))
            .line_of(path)
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The errors so far, with their lines.
    pub fn errors(&mut self) -> &[ConfigError] {
        self.resolve_lines();
        &self.errors
    }

    /// Takes the errors so far, with their lines, leaving none.
    pub fn take_errors(&mut self) -> Vec<ConfigError> {
        self.resolve_lines();
        std::mem::take(&mut self.errors)
    }

    pub fn into_errors(mut self) -> Vec<ConfigError> {
        self.take_errors()
    }

    fn resolve_lines(&mut self) {
        if self.unresolved.is_empty() {
            return;
        }
        let sparse;
        let index = match &self.index {
            Some(full) => full,
            None => {
                sparse =
                    LineIndex::build_for(self.src, self.unresolved.iter().map(|(_, p)| p.as_str()));
                &sparse
            }
        };
        for (i, path) in self.unresolved.drain(..) {
            self.errors[i].line = index.line_of(&path);
        }
    }

    /// A serde error from serde_norway, which knows its own position.
    pub fn yaml(&mut self, e: &serde_norway::Error) {
        let line = e.location().map(|l| l.line());
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            message: strip_position(&e.to_string()),
        });
    }

    pub fn json(&mut self, e: &serde_json::Error) {
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line: Some(e.line()),
            message: strip_position(&e.to_string()),
        });
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<ConfigError>> {
        if self.has_errors() {
            Err(self.into_errors())
        } else {
            Ok(value)
        }
    }
}

/// serde messages end in " at line X column Y"; the line is reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_paths() {
        let src = "a: 1\nlist:\n  - name: x\n    match:\n      labels: {team: db}\n  - name: y\n";
        let idx = LineIndex::build(src);
        assert_eq!(idx.line_of("a"), Some(1));
        assert_eq!(idx.line_of("list[0].name"), Some(3));
        assert_eq!(idx.line_of("list[0].match.labels.team"), Some(5));
        assert_eq!(idx.line_of("list[1].name"), Some(6));
        // Unknown leaf falls back to its nearest ancestor.
        assert_eq!(idx.line_of("list[1].nope"), Some(6));
    }

    /// Documents covering the shapes the walk must follow: nested block maps, sequences of maps
    /// and of sequences, flow style, JSON, keys with dots or brackets, empty and complex keys,
    /// a duplicate key and an alias.
    const SHAPES: &[&str] = &[
        "a: 1\nlist:\n  - name: x\n    match:\n      labels: {team: db}\n  - name: y\n",
        "nodes:\n  - id: a\n    aliases:\n      - a1\n      - a2\n  - id: b\nedges:\n  - from: a\n    to: b\n  -\n    from: b\n    to: ghost\n",
        "grid: [[1, 2], [3, [4, 5]]]\nflow: {x: {y: [a, {z: 1}]}, w: 2}\n",
        "{\"edges\": [\n {\"from\": \"a\",\n  \"to\": \"b\"},\n {\"from\": \"c\",\n  \"to\": \"d\"}],\n \"nodes\": []}",
        "\"a.b\": 1\n\"c[0]\":\n  d: 2\n\"\": {e: 3}\n",
        "? [k1, k2]\n: v\nafter: 1\n? {ck: 1}\n: {inner: 2}\n",
        "dup: 1\ndup:\n  late: 2\nbase: &anchor {p: 1}\nref: *anchor\nnext: 3\n",
        "- 1\n- [2, 3]\n- {four: 4}\n",
        "scalar only\n",
        "",
    ];

    /// Every path the full index knows, plus children and siblings it does not (which fall back
    /// to an ancestor, or to nothing).
    fn probe_paths(full: &LineIndex) -> Vec<String> {
        let mut paths: Vec<String> = full.lines.keys().cloned().collect();
        paths.sort();
        let known = paths.clone();
        for p in &known {
            paths.push(format!("{p}.missing"));
            paths.push(format!("{p}[99].deeper"));
        }
        paths.push("nowhere.at.all".into());
        paths.push("nowhere[3]".into());
        paths
    }

    #[test]
    fn sparse_lookup_answers_as_the_full_index() {
        for src in SHAPES {
            let full = LineIndex::build(src);
            let paths = probe_paths(&full);
            // Each path alone, then all of them in one walk.
            for p in &paths {
                let sparse = LineIndex::build_for(src, [p.as_str()]);
                assert_eq!(sparse.line_of(p), full.line_of(p), "{p:?} in {src:?}");
            }
            let sparse = LineIndex::build_for(src, paths.iter().map(|p| p.as_str()));
            for p in &paths {
                assert_eq!(sparse.line_of(p), full.line_of(p), "{p:?} in {src:?}");
            }
            // It keeps only the asked paths and their ancestors.
            assert!(sparse.lines.len() <= full.lines.len());
        }
    }

    #[test]
    fn sparse_lookup_keeps_only_the_asked_paths() {
        let src = SHAPES[1];
        let sparse = LineIndex::build_for(src, ["edges[1].to"]);
        let mut kept: Vec<_> = sparse.lines.iter().map(|(p, l)| (p.as_str(), *l)).collect();
        kept.sort();
        assert_eq!(
            kept,
            vec![("edges", 7), ("edges[1]", 11), ("edges[1].to", 12)]
        );
        // A syntax error leaves what was read before it.
        let broken = "a: 1\nb: [1, 2\nc: 3\n";
        let sparse = LineIndex::build_for(broken, ["a", "c"]);
        let full = LineIndex::build(broken);
        assert_eq!(sparse.line_of("a"), Some(1));
        assert_eq!(sparse.line_of("c"), full.line_of("c"));
    }

    #[test]
    fn errors_at_several_paths_of_one_file_get_their_lines() {
        let src = "nodes:\n  - id: a\n  - id: ''\n    kind: host\nedges:\n  - from: a\n    to: ghost\n  - from: a\n    to: a\n";
        let mut sink = ErrorSink::new("t.yaml", src);
        // Out of document order, one path twice, one absent (falls back to its parent), one
        // nowhere in the file.
        sink.at("edges[1]", "self-loop");
        sink.at("nodes[1].id", "empty id");
        sink.at("edges[0].to", "unknown node");
        sink.at("nodes[1].id", "again");
        sink.at("edges[0].type", "missing type");
        sink.at("settings.window", "not there");
        assert!(sink.has_errors());
        let lines: Vec<_> = sink.errors().iter().map(|e| e.line).collect();
        assert_eq!(
            lines,
            vec![Some(8), Some(3), Some(7), Some(3), Some(6), None]
        );
        // Errors added after reading are resolved too, and taking leaves none.
        sink.at("nodes[0]", "late");
        let taken = sink.take_errors();
        assert_eq!(taken.len(), 7);
        assert_eq!(taken[6].line, Some(2));
        assert_eq!(taken[6].to_string(), "t.yaml:2: late");
        assert!(!sink.has_errors());
        // Once the full index exists (rule origins), errors use it directly.
        assert_eq!(sink.line_of("edges[1].to"), Some(9));
        sink.at("edges[0].from", "x");
        assert_eq!(sink.finish(()).unwrap_err()[0].line, Some(6));
    }

    #[test]
    fn indexes_json_too() {
        let src = "{\"edges\": [\n {\"from\": \"a\",\n  \"to\": \"b\"}]}";
        let idx = LineIndex::build(src);
        assert_eq!(idx.line_of("edges[0].to"), Some(3));
    }
}
