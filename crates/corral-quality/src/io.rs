//! Reading the NDJSON files the scorer takes: incidents (SPEC §4) and native alerts (SPEC §1).
//! A line that does not parse is an error naming the file and line, never skipped.

use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Parses one JSON value per non-empty line.
pub fn read_ndjson<T: DeserializeOwned>(
    reader: impl BufRead,
    name: &str,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("{name}:{}: cannot read: {e}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|e| format!("{name}:{}: {e}", i + 1))?);
    }
    Ok(out)
}

/// Opens and parses an NDJSON file.
pub fn read_ndjson_file<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, String> {
    let name = path.display().to_string();
    let f = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    read_ndjson(BufReader::with_capacity(1 << 20, f), &name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::model::Alert;

    #[test]
    fn bad_lines_are_errors_with_their_number() {
        let text = "{\"fingerprint\":\"a\",\"source\":\"s\",\"name\":\"n\",\"status\":\"firing\",\"severity\":\"error\",\"resource\":\"r\",\"starts_at\":0}\n\n{\"fingerprint\":1}\n";
        let e = read_ndjson::<Alert>(text.as_bytes(), "alerts.ndjson").unwrap_err();
        assert!(e.starts_with("alerts.ndjson:3:"), "{e}");
        let ok = read_ndjson::<Alert>(text.lines().next().unwrap().as_bytes(), "x").unwrap();
        assert_eq!(ok.len(), 1);
    }
}
