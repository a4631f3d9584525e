//! Reading fields out of a `serde_json::Value` by dotted path (`incident.resource.labels`,
//! `alerts.0.name`), with errors that name the path. Used by the vendor formats, whose payloads
//! are irregular, and by `mapping:FILE`.

use serde_json::Value;

/// The value at a dotted path; numeric segments index arrays.
pub fn get<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(v);
    }
    let mut cur = v;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Scalar text at a path: strings as they are, numbers and booleans as their JSON text;
/// `None` for absent, null or empty.
pub fn text(v: &Value, path: &str) -> Option<String> {
    get(v, path).and_then(scalar_text).filter(|s| !s.is_empty())
}

pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Required scalar text: the error names the path and what was found instead.
pub fn need(v: &Value, path: &str) -> Result<String, String> {
    match get(v, path) {
        None | Some(Value::Null) => Err(format!("missing field `{path}`")),
        Some(x) => match scalar_text(x) {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(format!("field `{path}` is empty")),
            None => Err(format!(
                "field `{path}` is {}, expected a string",
                describe(x)
            )),
        },
    }
}

pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a payload into a `Value`, turning serde's error into a reason.
pub fn parse(payload: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(payload).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_errors() {
        let v: Value =
            serde_json::from_str(r#"{"a":{"b":[{"c":"x"},{"c":5}]},"n":null,"e":"","o":{}}"#)
                .unwrap();
        assert_eq!(text(&v, "a.b.0.c").as_deref(), Some("x"));
        assert_eq!(text(&v, "a.b.1.c").as_deref(), Some("5"));
        assert_eq!(text(&v, "a.b.2.c"), None);
        assert_eq!(need(&v, "n").unwrap_err(), "missing field `n`");
        assert_eq!(need(&v, "e").unwrap_err(), "field `e` is empty");
        assert_eq!(
            need(&v, "o").unwrap_err(),
            "field `o` is an object, expected a string"
        );
    }
}
