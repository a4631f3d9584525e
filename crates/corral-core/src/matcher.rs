//! Alert matchers used by every rule: equality, regex, set membership and their negations on
//! the alert's fields and labels.
//!
//! ```yaml
//! match:
//!   name: DatabaseDown                # equal
//!   severity: [critical, error]       # one of
//!   resource: {regex: "db-.*"}        # whole-value regex, like Alertmanager's =~
//!   service: {not: payroll}           # not equal (also not_in, not_regex, exists)
//!   labels: {env: prod, team: {regex: "dba|storage"}}
//! ```

use crate::model::{Alert, Str};
use crate::yaml_pos::ErrorSink;
use regex::Regex;
use serde_norway::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Severity,
    Source,
    Resource,
    Service,
    Fingerprint,
    /// The topology kind of the alert's resource (`host`, `database`, ...).
    Kind,
    Label(Str),
}

impl Field {
    pub fn describe(&self) -> String {
        match self {
            Field::Name => "name".into(),
            Field::Severity => "severity".into(),
            Field::Source => "source".into(),
            Field::Resource => "resource".into(),
            Field::Service => "service".into(),
            Field::Fingerprint => "fingerprint".into(),
            Field::Kind => "kind".into(),
            Field::Label(l) => format!("labels.{l}"),
        }
    }

    /// Parses an attribute name as rules write it in `group_by` and `equal`.
    pub fn parse(s: &str) -> Option<Field> {
        Some(match s {
            "name" | "alertname" => Field::Name,
            "severity" => Field::Severity,
            "source" => Field::Source,
            "resource" => Field::Resource,
            "service" => Field::Service,
            "fingerprint" => Field::Fingerprint,
            "kind" => Field::Kind,
            other => {
                let l = other.strip_prefix("labels.").unwrap_or(other);
                if l.is_empty() {
                    return None;
                }
                Field::Label(l.into())
            }
        })
    }
}

#[derive(Clone, Debug)]
pub enum ValueMatch {
    Equal(Str),
    NotEqual(Str),
    OneOf(Vec<Str>),
    NoneOf(Vec<Str>),
    Regex(Regex),
    NotRegex(Regex),
    /// `exists: true` matches when the field is present and not empty.
    Exists(bool),
}

impl ValueMatch {
    fn matches(&self, v: Option<&str>) -> bool {
        match self {
            ValueMatch::Equal(x) => v == Some(x.as_str()),
            ValueMatch::NotEqual(x) => v != Some(x.as_str()),
            ValueMatch::OneOf(xs) => v.is_some_and(|v| xs.iter().any(|x| x == v)),
            ValueMatch::NoneOf(xs) => !v.is_some_and(|v| xs.iter().any(|x| x == v)),
            ValueMatch::Regex(r) => r.is_match(v.unwrap_or("")),
            ValueMatch::NotRegex(r) => !r.is_match(v.unwrap_or("")),
            ValueMatch::Exists(want) => v.is_some_and(|v| !v.is_empty()) == *want,
        }
    }

    /// The literal values this matcher can accept, when it is a closed set (for lint checks).
    pub fn literals(&self) -> Option<Vec<&str>> {
        match self {
            ValueMatch::Equal(x) => Some(vec![x.as_str()]),
            ValueMatch::OneOf(xs) => Some(xs.iter().map(|x| x.as_str()).collect()),
            _ => None,
        }
    }
}

/// A conjunction of field conditions. The empty matcher matches every alert.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    pub conditions: Vec<(Field, ValueMatch)>,
}

impl Matcher {
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// `kind_of` resolves the topology kind of the alert's resource, only asked when a
    /// condition needs it.
    pub fn matches_with(&self, alert: &Alert, kind_of: &dyn Fn(&Alert) -> Option<Str>) -> bool {
        self.conditions.iter().all(|(f, m)| match f {
            Field::Kind => m.matches(kind_of(alert).as_deref()),
            _ => m.matches(field_value(alert, f)),
        })
    }

    pub fn matches(&self, alert: &Alert) -> bool {
        self.matches_with(alert, &|_| None)
    }

    /// Compiles the YAML form; reports every problem under `path`.
    pub fn compile(spec: &BTreeMap<String, Value>, path: &str, sink: &mut ErrorSink) -> Matcher {
        let mut conditions = Vec::new();
        for (key, value) in spec {
            if key == "labels" {
                match value {
                    Value::Mapping(m) => {
                        for (lk, lv) in m {
                            let Some(lk) = scalar_text(lk) else {
                                sink.at(&format!("{path}.labels"), "label names must be strings");
                                continue;
                            };
                            let p = format!("{path}.labels.{lk}");
                            if let Some(vm) = compile_value(lv, &p, sink) {
                                conditions.push((Field::Label(lk.as_str().into()), vm));
                            }
                        }
                    }
                    _ => sink.at(&format!("{path}.labels"), "labels must be a map"),
                }
                continue;
            }
            let field = match key.as_str() {
                "name" => Field::Name,
                "severity" => Field::Severity,
                "source" => Field::Source,
                "resource" => Field::Resource,
                "service" => Field::Service,
                "fingerprint" => Field::Fingerprint,
                "kind" => Field::Kind,
                other => {
                    sink.at(
                        &format!("{path}.{other}"),
                        format!(
                            "unknown matcher field {other:?} (expected name, severity, source, \
                             resource, service, fingerprint, kind or labels)"
                        ),
                    );
                    continue;
                }
            };
            let p = format!("{path}.{key}");
            if let Some(vm) = compile_value(value, &p, sink) {
                if field == Field::Severity {
                    check_severities(&vm, &p, sink);
                }
                conditions.push((field, vm));
            }
        }
        Matcher { conditions }
    }
}

pub fn field_value<'a>(alert: &'a Alert, f: &Field) -> Option<&'a str> {
    match f {
        Field::Name => Some(&alert.name),
        Field::Severity => Some(alert.severity.as_str()),
        Field::Source => Some(&alert.source),
        Field::Resource => Some(&alert.resource),
        Field::Service => alert.service.as_deref(),
        Field::Fingerprint => Some(&alert.fingerprint),
        Field::Kind => None,
        Field::Label(l) => alert.label(l),
    }
}

fn check_severities(vm: &ValueMatch, path: &str, sink: &mut ErrorSink) {
    if let Some(lits) = vm.literals() {
        for l in lits {
            if !["critical", "error", "warning", "info"].contains(&l) {
                sink.at(
                    path,
                    format!("severity {l:?} can never match (critical, error, warning, info)"),
                );
            }
        }
    }
}

pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn compile_regex(src: &str, path: &str, sink: &mut ErrorSink) -> Option<Regex> {
    // Anchored like Alertmanager: the regex must match the whole value.
    match Regex::new(&format!("^(?:{src})$")) {
        Ok(r) => Some(r),
        Err(e) => {
            sink.at(path, format!("invalid regex {src:?}: {e}"));
            None
        }
    }
}

fn string_list(v: &Value, path: &str, sink: &mut ErrorSink) -> Option<Vec<Str>> {
    match v {
        Value::Sequence(items) => {
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                match scalar_text(it) {
                    Some(s) => out.push(Str::from(s)),
                    None => sink.at(&format!("{path}[{i}]"), "expected a string"),
                }
            }
            Some(out)
        }
        other => scalar_text(other).map(|s| vec![Str::from(s)]),
    }
}

fn compile_value(v: &Value, path: &str, sink: &mut ErrorSink) -> Option<ValueMatch> {
    match v {
        Value::Sequence(_) => string_list(v, path, sink).map(ValueMatch::OneOf),
        Value::Mapping(m) => {
            if m.len() != 1 {
                sink.at(
                    path,
                    "a matcher map takes exactly one of: regex, not, in, not_in, not_regex, exists",
                );
                return None;
            }
            let (k, inner) = m.iter().next()?;
            let op = scalar_text(k).unwrap_or_default();
            let p = format!("{path}.{op}");
            match op.as_str() {
                "regex" | "not_regex" => {
                    let Some(src) = scalar_text(inner) else {
                        sink.at(&p, "regex must be a string");
                        return None;
                    };
                    let r = compile_regex(&src, &p, sink)?;
                    Some(if op == "regex" {
                        ValueMatch::Regex(r)
                    } else {
                        ValueMatch::NotRegex(r)
                    })
                }
                "not" => match inner {
                    Value::Sequence(_) => string_list(inner, &p, sink).map(ValueMatch::NoneOf),
                    _ => scalar_text(inner).map(|s| ValueMatch::NotEqual(s.into())),
                },
                "in" => string_list(inner, &p, sink).map(ValueMatch::OneOf),
                "not_in" => string_list(inner, &p, sink).map(ValueMatch::NoneOf),
                "exists" => match inner {
                    Value::Bool(b) => Some(ValueMatch::Exists(*b)),
                    _ => {
                        sink.at(&p, "exists takes true or false");
                        None
                    }
                },
                other => {
                    sink.at(
                        &p,
                        format!(
                            "unknown matcher operator {other:?} (regex, not, in, not_in, \
                             not_regex, exists)"
                        ),
                    );
                    None
                }
            }
        }
        Value::Null => {
            sink.at(path, "matcher value is empty");
            None
        }
        other => match scalar_text(other) {
            Some(s) => Some(ValueMatch::Equal(s.into())),
            None => {
                sink.at(path, "unsupported matcher value");
                None
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn compile(yaml: &str) -> Result<Matcher, Vec<crate::ConfigError>> {
        let spec: BTreeMap<String, Value> = serde_norway::from_str(yaml).unwrap();
        let mut sink = ErrorSink::new("m.yaml", yaml);
        let m = Matcher::compile(&spec, "", &mut sink);
        sink.finish(m)
    }

    fn alert() -> Alert {
        let mut a = Alert::firing("DatabaseDown", "db-04", 0);
        a.severity = Severity::Critical;
        a.service = Some("payroll".into());
        a.labels = vec![("env".into(), "prod".into()), ("team".into(), "dba".into())];
        a
    }

    #[test]
    fn every_operator() {
        let a = alert();
        for (yaml, want) in [
            ("name: DatabaseDown", true),
            ("name: Database", false),
            ("severity: [critical, error]", true),
            ("severity: {not_in: [critical]}", false),
            ("resource: {regex: 'db-.*'}", true),
            ("resource: {regex: 'db'}", false), // anchored
            ("resource: {not_regex: 'web-.*'}", true),
            ("service: {not: payroll}", false),
            ("labels: {env: prod, team: {regex: 'dba|storage'}}", true),
            ("labels: {missing: {exists: false}}", true),
            ("labels: {env: {exists: true}}", true),
            ("labels: {env: staging}", false),
            ("{}", true),
        ] {
            let m = compile(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}"));
            assert_eq!(m.matches(&a), want, "{yaml}");
        }
    }

    #[test]
    fn reports_every_error_at_once() {
        let errs = compile("name: {regex: '('}\ncolour: red\nseverity: fatal\n").unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs.iter().any(|e| e.message.contains("invalid regex")));
        assert!(errs.iter().any(|e| e.message.contains("colour")));
        assert!(errs.iter().any(|e| e.message.contains("never match")));
    }
}
