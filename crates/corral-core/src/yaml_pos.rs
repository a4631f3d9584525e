//! Where in a YAML (or JSON) document a value stands. serde reports the position of syntax and
//! type errors itself; validation that runs after deserialising (an unknown node in an edge, a
//! bad regex) uses this index to point at the offending line, so that `corral check` can list
//! every error with its file and line.

use rustc_hash::FxHashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Maps a path such as `groupings[2].match.labels.team` to its 1-based line.
#[derive(Debug, Default)]
pub struct LineIndex {
    lines: FxHashMap<String, usize>,
}

impl LineIndex {
    pub fn build(src: &str) -> LineIndex {
        let mut rx = Receiver::default();
        let mut parser = Parser::new_from_str(src);
        // A syntax error is reported by serde with its own position; the partial index is enough.
        let _ = parser.load(&mut rx, false);
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

/// Collects errors for one file, resolving paths to lines lazily (only when something is wrong,
/// so that loading a large valid topology never pays for the index).
pub struct ErrorSink<'a> {
    file: &'a str,
    src: &'a str,
    index: Option<LineIndex>,
    pub errors: Vec<ConfigError>,
}

impl<'a> ErrorSink<'a> {
    pub fn new(file: &'a str, src: &'a str) -> Self {
        ErrorSink {
            file,
            src,
            index: None,
            errors: Vec::new(),
        }
    }

    pub fn at(&mut self, path: &str, message: impl Into<String>) {
        let line = self.line_of(path);
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    /// The line of `path` (builds the index on first use).
    pub fn line_of(&mut self, path: &str) -> Option<usize> {
        let src = self.src;
        self.index
            .get_or_insert_with(|| LineIndex::build(src))
            .line_of(path)
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
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
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

    #[test]
    fn indexes_json_too() {
        let src = "{\"edges\": [\n {\"from\": \"a\",\n  \"to\": \"b\"}]}";
        let idx = LineIndex::build(src);
        assert_eq!(idx.line_of("edges[0].to"), Some(3));
    }
}
