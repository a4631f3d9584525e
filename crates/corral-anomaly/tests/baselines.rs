//! The learned-baselines model as the engine and `corral train` use it.

use corral_anomaly::model::{ANOMALY_NAME, ANOMALY_SOURCE};
use corral_anomaly::{
    load_models, BaselineModel, ModelConfig, ModelError, Trainer, FORMAT_VERSION,
};
use corral_core::anomaly::{AnomalyModel, Burst};
use corral_core::model::{Alert, Status, Str};

const MINUTE: i64 = 60_000;
const T0: i64 = 1_700_000_000_000;

fn sample(series: &str, resource: &str, t: i64, value: f64) -> Alert {
    let mut a = Alert::firing("cpu_busy", resource, t);
    a.fingerprint = series.into();
    a.value = Some(value);
    a
}

/// Deterministic noise in [-1, 1] (splitmix64 of the index), roughly bell-shaped: the mean
/// of two uniforms.
fn noise(i: i64) -> f64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let u = |z: u64| (z >> 11) as f64 / (1u64 << 53) as f64;
    u(mix(i as u64)) + u(mix(i as u64 ^ 0xdead_beef)) - 1.0
}

#[test]
fn metric_spike_raises_a_synthetic_anomaly_alert_after_warm_up() {
    let mut m = BaselineModel::new(ModelConfig::default());
    let warmup = m.config.detector.warmup as i64;
    // A spike during warm-up raises nothing.
    for i in 0..warmup - 1 {
        let v = if i == 50 { 500.0 } else { 50.0 + noise(i) };
        assert!(m
            .observe_metric(&sample("s1", "web-1", T0 + i * MINUTE, v))
            .is_none());
    }
    let mut raised = Vec::new();
    for i in warmup..2000 {
        let v = if i == 1500 { 95.0 } else { 50.0 + noise(i) };
        if let Some(a) = m.observe_metric(&sample("s1", "web-1", T0 + i * MINUTE, v)) {
            raised.push((i, a));
        }
    }
    assert_eq!(
        raised.len(),
        1,
        "{:?}",
        raised.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let (i, a) = &raised[0];
    assert_eq!(*i, 1500);
    assert_eq!(
        (a.source.as_str(), a.name.as_str()),
        (ANOMALY_SOURCE, ANOMALY_NAME)
    );
    assert_eq!(a.resource, "web-1");
    assert_eq!(a.status, Status::Firing);
    assert_eq!(a.label("series"), Some("s1"));
    assert_eq!(a.label("metric"), Some("cpu_busy"));
    let score: f64 = a.label("anomaly_score").unwrap().parse().unwrap();
    assert!(score >= m.config.metric_threshold && score <= 1.0);
    assert_eq!(m.trained.anomalies_raised, 1);
}

fn burst<'a>(
    resources: &'a [Str],
    services: &'a [Str],
    alerts: usize,
    minutes: i64,
    at: i64,
) -> Burst<'a> {
    Burst {
        resources,
        services,
        alert_count: alerts,
        event_count: alerts as u64,
        first_seen: at,
        last_seen: at + minutes * MINUTE,
    }
}

#[test]
fn a_burst_on_a_quiet_resource_scores_higher_than_on_a_noisy_one() {
    let mut m = BaselineModel::new(ModelConfig::default());
    // A day of history: "noisy" raises 20 alerts a minute, "quiet" one an hour.
    for minute in 0..1440i64 {
        let t = T0 + minute * MINUTE;
        for k in 0..20 {
            m.observe_alert(&Alert::firing(&format!("Chatty{k}"), "noisy", t + k));
        }
        if minute % 60 == 0 {
            m.observe_alert(&Alert::firing("Rare", "quiet", t));
        }
    }
    assert!((m.resource_baseline("noisy").unwrap().mean() - 20.0).abs() < 0.5);
    let at = T0 + 1440 * MINUTE;
    let on_quiet = m.incident_score(&burst(&["quiet".into()], &[], 30, 5, at));
    let on_noisy = m.incident_score(&burst(&["noisy".into()], &[], 30, 5, at));
    let usual = m.incident_score(&burst(&["noisy".into()], &[], 100, 5, at));
    assert!(on_quiet > 0.6, "{on_quiet}");
    assert!(on_noisy < 0.2, "{on_noisy}");
    assert!(usual < on_quiet);
    // Resources never seen: judged by size as without a model.
    let unknown = m.incident_score(&burst(&["elsewhere".into()], &[], 10, 1, at));
    assert!((unknown - 0.5).abs() < 1e-9);
}

#[test]
fn chronic_alerts_are_recognised_and_reported_with_counts() {
    let mut m = BaselineModel::new(ModelConfig::default());
    let chronic = Alert::firing("DiskAlmostFull", "db-1", T0);
    let real = Alert::firing("Down", "api-1", T0 + 4 * 24 * 60 * MINUTE);
    for i in 0..(4 * 24 * 6) {
        let mut a = chronic.clone();
        a.starts_at = T0 + i * 10 * MINUTE;
        m.observe_alert(&a);
    }
    m.observe_alert(&real);
    assert_eq!(m.chronic_noise(&chronic), 1.0);
    assert!(m.chronic_noise(&real) < 0.05);
    let report = m.chronic_alerts(0.5);
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].name, "DiskAlmostFull");
    assert_eq!(report[0].occurrences, 4 * 24 * 6);
}

#[test]
fn models_round_trip_and_other_versions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut trainer = Trainer::new(ModelConfig::default()).unwrap();
    let mut history = String::new();
    for i in 0..300i64 {
        history.push_str(&format!(
            "{{\"source\":\"am\",\"name\":\"cpu\",\"status\":\"firing\",\"severity\":\"info\",\"resource\":\"h1\",\"starts_at\":{},\"value\":{}}}\n",
            T0 + i * MINUTE,
            10.0 + noise(i)
        ));
    }
    history.push_str("{\"source\":\"am\",\"name\":\"Down\",\"status\":\"firing\",\"severity\":\"critical\",\"resource\":\"h1\",\"starts_at\":\"2023-11-14T22:13:20Z\",\"fingerprint\":\"f1\"}\n");
    history.push_str("\nnot json\n{\"name\":\"x\"}\n");
    trainer
        .add_ndjson("history.ndjson", history.as_bytes())
        .unwrap();
    let (model, rejected) = trainer.finish();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0].line, 303);
    assert!(
        rejected[0]
            .to_string()
            .starts_with("history.ndjson:303: invalid JSON"),
        "{}",
        rejected[0]
    );
    assert_eq!(rejected[1].line, 304);
    assert!(
        rejected[1].reason.contains("missing field"),
        "{}",
        rejected[1].reason
    );
    assert_eq!(model.trained.metric_samples, 300);
    assert_eq!(model.trained.alerts, 1);
    assert_eq!(model.trained.skipped_records, 2);
    assert_eq!(model.series_count(), 1);

    let path = model.save(dir.path()).unwrap();
    let loaded = BaselineModel::load(&path).unwrap();
    assert_eq!(loaded.format_version, FORMAT_VERSION);
    assert_eq!(
        serde_json::to_string(&loaded).unwrap(),
        std::fs::read_to_string(&path).unwrap()
    );
    assert!(load_models(dir.path()).is_ok());

    // Another version is refused with the reason, before anything else is read: a newer one,
    // and version 1 (before co-occurrence groups).
    let text = std::fs::read_to_string(&path).unwrap();
    for other in [3, 1] {
        std::fs::write(
            &path,
            text.replacen(
                &format!("\"format_version\":{FORMAT_VERSION}"),
                &format!("\"format_version\":{other}"),
                1,
            ),
        )
        .unwrap();
        let err = load_models(dir.path()).err().unwrap();
        assert!(
            matches!(err, ModelError::Version { ref found, .. } if *found == other.to_string())
        );
        assert!(
            err.to_string().contains(&format!(
                "format_version {other} is not supported (this corral reads version 2); retrain"
            )),
            "{err}"
        );
    }
    std::fs::write(&path, "{\"resources\":{}}").unwrap();
    assert!(load_models(dir.path())
        .err()
        .unwrap()
        .to_string()
        .contains("format_version missing"));
    std::fs::write(&path, "{\"format_version\":2,\n\"series\":[}").unwrap();
    let err = load_models(dir.path()).err().unwrap();
    assert!(matches!(err, ModelError::Parse { line: 2, .. }), "{err}");
    assert!(load_models(&dir.path().join("absent"))
        .err()
        .unwrap()
        .to_string()
        .contains("cannot read model"));
}

#[test]
fn trained_metric_baselines_carry_over_to_live_scoring() {
    // Trained on a steady series, the model flags a jump at once, without a new warm-up.
    let mut trainer = Trainer::new(ModelConfig::default()).unwrap();
    trainer.add_alerts(
        "mem",
        (0..1000).map(|i| sample("s9", "db-2", T0 + i * MINUTE, 200.0 + noise(i))),
    );
    let (mut model, _) = trainer.finish();
    let jump = model.observe_metric(&sample("s9", "db-2", T0 + 1000 * MINUTE, 260.0));
    assert!(jump.is_some());
    let mut fresh = BaselineModel::new(ModelConfig::default());
    assert!(fresh
        .observe_metric(&sample("s9", "db-2", T0, 260.0))
        .is_none());
}
