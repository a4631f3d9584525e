//! `--format auto`: tell the formats apart from the first record, by the keys each vendor's
//! payload is known to carry. When nothing fits, say what was seen and what was expected.

use crate::Format;
use serde_json::{Map, Value};
use std::io::BufRead;

/// Guesses the format of a stream from a sample of its beginning (the first record must be
/// complete within it). The error says why no format fits.
pub fn detect(sample: &[u8]) -> Result<Format, String> {
    let text = strip_bom(sample);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| "cannot detect the format: the input is empty".to_string())?;
    let text = &text[start..];
    if text[0] == b'<' {
        return Err(
            "cannot detect the format: the input is XML but not an ALEC <alarms> document"
                .to_string(),
        );
    }
    let first = match serde_json::Deserializer::from_slice(text)
        .into_iter::<Value>()
        .next()
    {
        Some(Ok(v)) => v,
        Some(Err(e)) if e.is_eof() => {
            return Err(format!(
                "cannot detect the format: the first record does not end within the {} bytes \
                 sampled; pass --format",
                sample.len()
            ))
        }
        Some(Err(e)) => {
            return Err(format!(
                "cannot detect the format: the input is neither JSON nor XML ({e})"
            ))
        }
        None => return Err("cannot detect the format: the input is empty".to_string()),
    };
    let object = match &first {
        Value::Object(m) => m,
        Value::Array(items) => match items.first() {
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(format!(
                    "cannot detect the format: the first record is an array of {}, not of \
                     objects",
                    kind(other)
                ))
            }
            None => {
                return Err(
                    "cannot detect the format: the first record is an empty array".to_string(),
                )
            }
        },
        other => {
            return Err(format!(
                "cannot detect the format: the first record is {}, not a JSON object",
                kind(other)
            ))
        }
    };
    classify(object)
}

/// Detects from a buffered reader without consuming anything: what `fill_buf` holds is the
/// sample, so give the reader a capacity that holds a whole first record (1 MiB is plenty).
pub fn detect_stream(input: &mut impl BufRead) -> Result<Format, String> {
    let sample = input
        .fill_buf()
        .map_err(|e| format!("cannot detect the format: reading the input failed: {e}"))?;
    detect(sample)
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(b)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn has(m: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|k| m.contains_key(*k))
}

fn str_of<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m str> {
    m.get(key).and_then(Value::as_str)
}

fn classify(m: &Map<String, Value>) -> Result<Format, String> {
    if m.get("alerts").is_some_and(Value::is_array) {
        match str_of(m, "version") {
            Some("4") | None => return Ok(Format::Alertmanager),
            Some(v) => {
                return Err(format!(
                    "cannot detect the format: an `alerts` array like Alertmanager's, but \
                     version {v:?} (Alertmanager sends \"4\")"
                ))
            }
        }
    }
    if has(m, &["name", "resource", "starts_at"]) {
        return Ok(Format::Native);
    }
    let mut keys: Vec<&str> = m.keys().map(String::as_str).take(12).collect();
    keys.sort_unstable();
    Err(format!(
        "cannot detect the format: the first record is an object with keys [{}], which \
         matches none of: native (name, resource, starts_at), alertmanager (alerts, \
         version \"4\"); pass --format",
        keys.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_native_from_alertmanager() {
        let native = br#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1}
{"source":"s"}"#;
        assert_eq!(detect(native), Ok(Format::Native));
        let am = b"\xef\xbb\xbf\n  {\n \"version\": \"4\",\n \"alerts\": []\n}";
        assert_eq!(detect(am), Ok(Format::Alertmanager));
        let am_array = br#"[{"version":"4","groupKey":"x","alerts":[]}]"#;
        assert_eq!(detect(am_array), Ok(Format::Alertmanager));
    }

    #[test]
    fn explains_why_it_cannot_decide() {
        let e = detect(b"").unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = detect(br#"{"hello": "world", "answer": 42}"#).unwrap_err();
        assert!(
            e.contains("[answer, hello]") && e.contains("pass --format"),
            "{e}"
        );
        let e = detect(b"hello world").unwrap_err();
        assert!(e.contains("neither JSON nor XML"), "{e}");
        let e = detect(b"{\"version\": \"4\", \"alerts\": [").unwrap_err();
        assert!(e.contains("does not end within"), "{e}");
        let e = detect(b"[1, 2]").unwrap_err();
        assert!(e.contains("array of a number"), "{e}");
        let e = detect(b"[]").unwrap_err();
        assert!(e.contains("empty array"), "{e}");
        let e = detect(br#"{"version":"3","alerts":[]}"#).unwrap_err();
        assert!(e.contains("version \"3\""), "{e}");
        let e = detect(b"<html></html>").unwrap_err();
        assert!(e.contains("XML"), "{e}");
    }
}
