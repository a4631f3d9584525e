//! Prometheus metrics of `corral run` (SPEC §9), all prefixed `corral_`.

use corral_core::EngineStats;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicI64, AtomicU64};

type Labels = Vec<(String, String)>;

pub struct Metrics {
    registry: Registry,
    pub alerts_received: Family<Labels, Counter>,
    pub alerts_deduplicated: Counter,
    pub alerts_suppressed: Family<Labels, Counter>,
    pub incidents_opened: Counter,
    pub incidents_resolved: Counter,
    pub records_dead_lettered: Family<Labels, Counter>,
    pub active_alerts: Gauge,
    pub open_incidents: Gauge,
    pub processing_latency: Histogram,
    pub compression_ratio: Gauge<f64, AtomicU64>,
    pub consumer_lag: Family<Labels, Gauge<i64, AtomicI64>>,
    pub config_last_reload_successful: Gauge,
    pub build_info: Family<Labels, Gauge>,
    pub records_consumed: Counter,
    pub updates_produced: Counter,
    pub checkpoints_written: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut root = Registry::with_prefix("corral");
        let m = Metrics {
            registry: Registry::default(),
            alerts_received: Family::default(),
            alerts_deduplicated: Counter::default(),
            alerts_suppressed: Family::default(),
            incidents_opened: Counter::default(),
            incidents_resolved: Counter::default(),
            records_dead_lettered: Family::default(),
            active_alerts: Gauge::default(),
            open_incidents: Gauge::default(),
            // 50 µs .. ~3.3 s: decision latency is expected in the low milliseconds.
            processing_latency: Histogram::new(
                prometheus_client::metrics::histogram::exponential_buckets(0.000_05, 2.0, 17),
            ),
            compression_ratio: Gauge::default(),
            consumer_lag: Family::default(),
            config_last_reload_successful: Gauge::default(),
            build_info: Family::default(),
            records_consumed: Counter::default(),
            updates_produced: Counter::default(),
            checkpoints_written: Counter::default(),
        };
        let r = &mut root;
        r.register(
            "alerts_received",
            "Alert occurrences received, by source",
            m.alerts_received.clone(),
        );
        r.register(
            "alerts_deduplicated",
            "Occurrences that repeated a known alert",
            m.alerts_deduplicated.clone(),
        );
        r.register(
            "alerts_suppressed",
            "Alerts kept out of incidents, by reason",
            m.alerts_suppressed.clone(),
        );
        r.register(
            "incidents_opened",
            "Incidents opened",
            m.incidents_opened.clone(),
        );
        r.register(
            "incidents_resolved",
            "Incidents resolved",
            m.incidents_resolved.clone(),
        );
        r.register(
            "records_dead_lettered",
            "Input records sent to the dead-letter topic, by reason",
            m.records_dead_lettered.clone(),
        );
        r.register(
            "active_alerts",
            "Firing alerts held in correlation state",
            m.active_alerts.clone(),
        );
        r.register(
            "open_incidents",
            "Incidents currently open",
            m.open_incidents.clone(),
        );
        r.register(
            "processing_latency_seconds",
            "From consuming a record to the broker acknowledging the incident update it caused",
            m.processing_latency.clone(),
        );
        r.register(
            "compression_ratio",
            "1 - incidents opened / unique alerts",
            m.compression_ratio.clone(),
        );
        r.register(
            "kafka_consumer_lag",
            "Messages behind the end of each input partition",
            m.consumer_lag.clone(),
        );
        r.register(
            "config_last_reload_successful",
            "1 when the last rules/topology reload succeeded",
            m.config_last_reload_successful.clone(),
        );
        r.register("build_info", "corral version", m.build_info.clone());
        r.register(
            "kafka_records_consumed",
            "Input records consumed",
            m.records_consumed.clone(),
        );
        r.register(
            "incident_updates_produced",
            "Incident updates acknowledged by the broker",
            m.updates_produced.clone(),
        );
        r.register(
            "state_checkpoints_written",
            "Correlation state checkpoints written to the state topic",
            m.checkpoints_written.clone(),
        );
        m.build_info
            .get_or_create(&vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )])
            .set(1);
        m.config_last_reload_successful.set(1);
        Metrics {
            registry: root,
            ..m
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    pub fn dead_lettered(&self, reason: &str) {
        self.records_dead_lettered
            .get_or_create(&vec![("reason".to_string(), reason.to_string())])
            .inc();
    }

    pub fn received(&self, source: &str) {
        self.received_counter(source).inc();
    }

    /// The counter of one source, to keep on the hot path.
    pub fn received_counter(&self, source: &str) -> Counter {
        self.alerts_received
            .get_or_create(&vec![("source".to_string(), source.to_string())])
            .clone()
    }

    /// Adds what an engine counted since `prev` (engines come and go with partitions, so the
    /// process-wide counters move by differences).
    pub fn add_engine_delta(&self, prev: &EngineStats, now: &EngineStats) {
        self.alerts_deduplicated
            .inc_by(now.deduplicated.saturating_sub(prev.deduplicated));
        self.incidents_opened
            .inc_by(now.incidents_opened.saturating_sub(prev.incidents_opened));
        self.incidents_resolved.inc_by(
            now.incidents_resolved
                .saturating_sub(prev.incidents_resolved),
        );
        for (reason, n) in &now.suppressed {
            let before = prev.suppressed.get(reason).copied().unwrap_or(0);
            if *n > before {
                self.alerts_suppressed
                    .get_or_create(&vec![("reason".to_string(), reason.clone())])
                    .inc_by(n - before);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_spec_names() {
        let m = Metrics::new();
        m.received("zabbix");
        m.dead_lettered("parse");
        m.consumer_lag
            .get_or_create(&vec![
                ("topic".into(), "alerts".into()),
                ("partition".into(), "0".into()),
            ])
            .set(7);
        let text = m.encode();
        for name in [
            "corral_alerts_received_total{source=\"zabbix\"} 1",
            "corral_alerts_deduplicated_total",
            "corral_incidents_opened_total",
            "corral_incidents_resolved_total",
            "corral_records_dead_lettered_total{reason=\"parse\"} 1",
            "corral_active_alerts",
            "corral_open_incidents",
            "corral_processing_latency_seconds_bucket",
            "corral_compression_ratio",
            "corral_kafka_consumer_lag{topic=\"alerts\",partition=\"0\"} 7",
            "corral_config_last_reload_successful 1",
            "corral_build_info{version=",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }

    #[test]
    fn engine_deltas_accumulate_without_double_counting() {
        let m = Metrics::new();
        let a = EngineStats::default();
        let mut b = a.clone();
        b.incidents_opened = 3;
        b.suppressed.insert("maintenance".into(), 2);
        m.add_engine_delta(&a, &b);
        m.add_engine_delta(&b, &b);
        assert_eq!(m.incidents_opened.get(), 3);
        let text = m.encode();
        assert!(
            text.contains("corral_alerts_suppressed_total{reason=\"maintenance\"} 2"),
            "{text}"
        );
    }
}
