//! Training: learns a [`BaselineModel`] from historical native NDJSON alert and metric
//! records (SPEC §1). Records are replayed in event-time order through the same code the live
//! engine runs, so a trained model is exactly the state live learning would have reached.

use std::io::BufRead;

use corral_core::anomaly::AnomalyModel;
use corral_core::model::{compute_fingerprint, Alert};

use crate::cooccur::CooccurrenceLearner;
use crate::model::{BaselineModel, ModelConfig};

/// A record that could not be learned from, with where it was and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{input}:{line}: {reason}")]
pub struct TrainError {
    pub input: String,
    pub line: usize,
    pub reason: String,
}

pub struct Trainer {
    model: BaselineModel,
    records: Vec<Alert>,
    rejected: Vec<TrainError>,
    cooccurrence: CooccurrenceLearner,
}

/// Parses one native NDJSON record; a missing fingerprint is computed as SPEC §1 says.
pub fn parse_native_record(line: &str) -> Result<Alert, String> {
    let mut value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(object) = value.as_object_mut() else {
        return Err("expected a JSON object".into());
    };
    let computed = !object.contains_key("fingerprint");
    if computed {
        object.insert(
            "fingerprint".into(),
            serde_json::Value::String(String::new()),
        );
    }
    let mut alert: Alert =
        serde_json::from_value(value).map_err(|e| format!("not a native alert: {e}"))?;
    if computed {
        alert.fingerprint =
            compute_fingerprint(&alert.source, &alert.name, &alert.resource, &alert.labels);
    }
    if let Some(v) = alert.value {
        if !v.is_finite() {
            return Err(format!("value {v} is not a finite number"));
        }
    }
    Ok(alert)
}

impl Trainer {
    /// A trainer with these tunables; refused with every reason when they are invalid.
    pub fn new(config: ModelConfig) -> Result<Trainer, String> {
        config.validate()?;
        Ok(Trainer {
            model: BaselineModel::new(config),
            records: Vec::new(),
            rejected: Vec::new(),
            cooccurrence: CooccurrenceLearner::default(),
        })
    }

    /// Reads native NDJSON records from `reader`, named `input` in errors. Blank lines are
    /// skipped; every other line that is not a native alert is rejected with its line number.
    pub fn add_ndjson(&mut self, input: &str, reader: impl BufRead) -> std::io::Result<()> {
        self.model.trained.inputs.push(input.to_string());
        for (i, line) in reader.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match parse_native_record(&line) {
                Ok(alert) => self.records.push(alert),
                Err(reason) => self.rejected.push(TrainError {
                    input: input.to_string(),
                    line: i + 1,
                    reason,
                }),
            }
        }
        Ok(())
    }

    /// Adds already parsed records (from another decoder).
    pub fn add_alerts(&mut self, input: &str, alerts: impl IntoIterator<Item = Alert>) {
        self.model.trained.inputs.push(input.to_string());
        self.records.extend(alerts);
    }

    pub fn rejected(&self) -> &[TrainError] {
        &self.rejected
    }

    /// Learns from every record in event-time order (stable: ties keep input order) and returns
    /// the model with the rejected records.
    pub fn finish(mut self) -> (BaselineModel, Vec<TrainError>) {
        self.records.sort_by_key(Alert::event_time);
        for record in &self.records {
            if record.value.is_some() {
                // As in the engine: an anomalous sample raises a synthetic alert, which then
                // counts as an alert of its resource.
                if let Some(mut synthetic) = self.model.observe_metric(record) {
                    synthetic.value = None;
                    self.model.observe_alert(&synthetic);
                }
            } else {
                self.model.observe_alert(record);
                self.cooccurrence.observe(record);
            }
        }
        // The configuration was validated by `new`, the only way it can fail.
        self.model.cooccurrence = self
            .cooccurrence
            .fit(&self.model.config.cooccurrence)
            .unwrap_or_default();
        self.model.trained.skipped_records = self.rejected.len() as u64;
        (self.model, self.rejected)
    }
}
