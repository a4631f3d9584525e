//! `grafana`: Grafana unified alerting webhook (payload version "1"). Its alerts have
//! Alertmanager's shape (Grafana embeds an Alertmanager), plus `valueString` and links.

use super::alertmanager::parse_webhook;
use crate::common::Problems;
use corral_core::Alert;

pub const SOURCE: &str = "grafana";

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    parse_webhook(SOURCE, check_version, payload, context, out, problems)
}

fn check_version(v: Option<&str>) -> Result<(), String> {
    match v {
        None | Some("1") => Ok(()),
        Some(other) => Err(format!(
            "unsupported Grafana webhook version {other:?} (expected \"1\")"
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    /// Shaped after Grafana's documented webhook example (alerting/configure-notifications).
    const PAYLOAD: &str = r#"{
      "receiver": "corral", "status": "firing", "orgId": 1,
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1",
                   "grafana_folder": "Infra", "instance": "web-3:9100", "severity": "critical"},
        "annotations": {"description": "memory above 90%", "runbook_url": "https://runbooks/mem",
                        "summary": "web-3 memory high"},
        "startsAt": "2026-11-25T02:11:07Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://grafana/alerting/grafana/abc/view",
        "fingerprint": "c6eadffa33fcdf37",
        "silenceURL": "http://grafana/alerting/silence/new", "dashboardURL": "", "panelURL": "",
        "values": {"B": 93.2, "C": 1},
        "valueString": "[ var='B' labels={instance=web-3:9100} value=93.2 ]"
      }, {
        "status": "resolved",
        "labels": {"alertname": "Disk", "host": "db-1"},
        "annotations": {}, "startsAt": "2026-11-25T01:00:00Z", "endsAt": "2026-11-25T02:00:00Z",
        "fingerprint": "0000000000000001", "values": null, "valueString": ""
      }],
      "groupLabels": {"alertname": "High memory usage"}, "commonLabels": {"team": "blue"},
      "commonAnnotations": {}, "externalURL": "http://grafana/", "version": "1",
      "groupKey": "{}/{}:{alertname=\"High memory usage\"}", "truncatedAlerts": 0,
      "title": "[FIRING:1] High memory usage", "state": "alerting",
      "message": "**Firing** High memory usage"
    }"#;

    #[test]
    fn maps_grafana_alerts() {
        let mut out = Vec::new();
        parse_record(&Format::Grafana, PAYLOAD.as_bytes(), &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let a = &out[0];
        assert_eq!(a.source, "grafana");
        assert_eq!(a.name, "High memory usage");
        assert_eq!(a.fingerprint, "c6eadffa33fcdf37");
        assert_eq!(a.resource, "web-3");
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.summary.as_deref(), Some("web-3 memory high"));
        assert!(a
            .annotations
            .iter()
            .any(|(k, v)| k == "value_string" && v.contains("93.2")));
        assert_eq!(a.ends_at, None);
        let b = &out[1];
        assert_eq!(b.status, Status::Resolved);
        assert_eq!(b.resource, "db-1");
        assert_eq!(b.ends_at, Some(1_795_572_000_000));
    }

    #[test]
    fn wrong_version_is_refused() {
        let mut out = Vec::new();
        let e = parse_record(
            &Format::Grafana,
            br#"{"version":"4","alerts":[]}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("Grafana webhook version \"4\""), "{e}");
    }
}
