//! Writing a scenario to a directory: `alerts.ndjson` (SPEC §1), `topology.yaml` (SPEC §3),
//! `truth.ndjson` (SPEC §5), `scenario.json` (knobs, seed, counts, failures) and, on request,
//! `alerts.alertmanager.ndjson`: the Alertmanager-sourced events as webhook payloads (version 4),
//! one per line, for exercising that input path.

use super::Scenario;
use corral_core::model::{format_event_time, Alert, Status};
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub const ALERTS_FILE: &str = "alerts.ndjson";
pub const TOPOLOGY_FILE: &str = "topology.yaml";
pub const TRUTH_FILE: &str = "truth.ndjson";
pub const MANIFEST_FILE: &str = "scenario.json";
pub const WEBHOOK_FILE: &str = "alerts.alertmanager.ndjson";

fn create(dir: &Path, name: &str) -> io::Result<BufWriter<File>> {
    let path = dir.join(name);
    File::create(&path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Writes every file of the scenario into `dir` (created when missing).
pub fn write_scenario(s: &Scenario, dir: &Path, alertmanager_webhook: bool) -> io::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    let mut w = create(dir, ALERTS_FILE)?;
    for a in s.alerts() {
        serde_json::to_writer(&mut w, &a)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;

    let yaml = serde_norway::to_string(&s.topology).map_err(io::Error::other)?;
    let mut w = create(dir, TOPOLOGY_FILE)?;
    w.write_all(yaml.as_bytes())?;
    w.flush()?;

    let mut w = create(dir, TRUTH_FILE)?;
    for r in &s.truth {
        serde_json::to_writer(&mut w, r)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;

    let manifest = json!({
        "name": s.config.name,
        "seed": s.seed,
        "config": s.config,
        "stats": s.stats,
        "failures": s.failures,
    });
    let mut w = create(dir, MANIFEST_FILE)?;
    serde_json::to_writer_pretty(&mut w, &manifest)?;
    w.write_all(b"\n")?;
    w.flush()?;

    if alertmanager_webhook {
        let mut w = create(dir, WEBHOOK_FILE)?;
        for a in s.alerts().filter(|a| a.source == "alertmanager") {
            serde_json::to_writer(&mut w, &alertmanager_payload(&a))?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    Ok(())
}

/// One alert as Alertmanager's webhook notification (version 4) would carry it.
pub fn alertmanager_payload(a: &Alert) -> Value {
    let mut labels = Map::new();
    labels.insert("alertname".into(), Value::String(a.name.to_string()));
    labels.insert("severity".into(), Value::String(a.severity.as_str().into()));
    for (k, v) in &a.labels {
        labels.insert(k.to_string(), Value::String(v.to_string()));
    }
    let mut annotations = Map::new();
    if let Some(s) = &a.summary {
        annotations.insert("summary".into(), Value::String(s.clone()));
    }
    for (k, v) in &a.annotations {
        annotations.insert(k.to_string(), Value::String(v.to_string()));
    }
    let status = a.status.as_str();
    let ends = match (a.status, a.ends_at) {
        (Status::Resolved, Some(e)) => format_event_time(e),
        _ => "0001-01-01T00:00:00Z".to_string(),
    };
    let cluster = a.label("cluster").unwrap_or("").to_string();
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{}\", cluster=\"{}\"}}", a.name, cluster),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "corral",
        "groupLabels": {"alertname": a.name.as_str(), "cluster": cluster},
        "commonLabels": Value::Object(labels.clone()),
        "commonAnnotations": Value::Object(annotations.clone()),
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [{
            "status": status,
            "labels": Value::Object(labels),
            "annotations": Value::Object(annotations),
            "startsAt": format_event_time(a.starts_at),
            "endsAt": ends,
            "generatorURL": "http://prometheus.example.com:9090/graph",
            "fingerprint": a.fingerprint.as_str(),
        }],
    })
}
