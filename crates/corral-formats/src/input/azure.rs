//! `azure`: Azure Monitor common alert schema (`schemaId: azureMonitorCommonAlertSchema`).
//! `essentials.alertId` (shared by the Fired and Resolved notifications) is the fingerprint.
//! Severities: Sev0 critical, Sev1 error, Sev2 warning, Sev3 and Sev4 info.

use crate::common::{alert, finish, Problems};
use crate::json_path::{self, need, text};
use crate::time::parse_time;
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde_json::Value;

pub const SOURCE: &str = "azure";

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match json_path::parse(payload).and_then(|v| convert(&v)) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

pub fn severity_of(sev: &str) -> Option<Severity> {
    Some(match sev {
        "Sev0" => Severity::Critical,
        "Sev1" => Severity::Error,
        "Sev2" => Severity::Warning,
        "Sev3" | "Sev4" => Severity::Info,
        _ => return None,
    })
}

/// The last segment of an ARM id: `/subscriptions/.../virtualMachines/vm-1` → `vm-1`.
fn arm_name(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

fn arm_part<'a>(id: &'a str, key: &str) -> Option<&'a str> {
    let mut it = id.split('/');
    while let Some(seg) = it.next() {
        if seg.eq_ignore_ascii_case(key) {
            return it.next();
        }
    }
    None
}

fn convert(v: &Value) -> Result<Alert, String> {
    match text(v, "schemaId").as_deref() {
        Some("azureMonitorCommonAlertSchema") => {}
        other => {
            return Err(format!(
                "schemaId {other:?} is not azureMonitorCommonAlertSchema (enable the common \
                 alert schema on the action group)"
            ))
        }
    }
    let e = json_path::get(v, "data.essentials").ok_or("missing field `data.essentials`")?;
    let name: Str = need(e, "alertRule")?.into();
    let sev = need(e, "severity")?;
    let severity = severity_of(&sev).ok_or_else(|| format!("severity {sev:?} is not Sev0-Sev4"))?;
    let status = match need(e, "monitorCondition")?.as_str() {
        "Fired" => Status::Firing,
        "Resolved" => Status::Resolved,
        other => {
            return Err(format!(
                "monitorCondition {other:?} is neither Fired nor Resolved"
            ))
        }
    };
    let target = text(e, "alertTargetIDs.0");
    let resource: Str = text(e, "configurationItems.0")
        .or_else(|| target.as_deref().map(|t| arm_name(t).to_string()))
        .ok_or("no resource: configurationItems and alertTargetIDs are empty")?
        .into();
    let fired = need(e, "firedDateTime")?;
    let mut a = alert(SOURCE, name, status, severity, resource);
    a.starts_at =
        parse_time(&fired).ok_or_else(|| format!("firedDateTime {fired:?} is not a time"))?;
    if let Some(r) = text(e, "resolvedDateTime") {
        a.ends_at =
            Some(parse_time(&r).ok_or_else(|| format!("resolvedDateTime {r:?} is not a time"))?);
    }
    a.fingerprint = text(e, "alertId").map(Str::from).unwrap_or_default();
    let mut labels: Labels = Vec::new();
    for (k, path) in [
        ("signal_type", "signalType"),
        ("monitoring_service", "monitoringService"),
        ("target_resource_type", "targetResourceType"),
        ("target_resource_group", "targetResourceGroup"),
    ] {
        if let Some(x) = text(e, path) {
            labels.push((k.into(), x.into()));
        }
    }
    if let Some(sub) = target.as_deref().and_then(|t| arm_part(t, "subscriptions")) {
        labels.push(("subscription".into(), sub.into()));
    }
    a.labels = labels;
    let mut notes: Labels = Vec::new();
    for (k, path) in [
        ("target", "alertTargetIDs.0"),
        ("origin_alert_id", "originAlertId"),
    ] {
        if let Some(x) = text(e, path) {
            notes.push((k.into(), x.into()));
        }
    }
    a.annotations = notes;
    a.summary = text(e, "description");
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    /// The metric alert sample of Microsoft's common alert schema documentation.
    pub const FIRED: &str = r#"{"schemaId": "azureMonitorCommonAlertSchema", "data": {
      "essentials": {"alertId": "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.AlertsManagement/alerts/12345678-1234-1234-1234-1234567890ab",
        "alertRule": "WCUS-R2-Gen2", "severity": "Sev3", "signalType": "Metric", "monitorCondition": "Fired",
        "monitoringService": "Platform",
        "alertTargetIDs": ["/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/wcus-r2-gen2"],
        "configurationItems": ["wcus-r2-gen2"], "originAlertId": "3f2d4487-b0fc-4125-8bd5-7ad17384221e_PipeLineAlertRG_microsoft.insights_metricAlerts_WCUS-R2-Gen2_-117781227",
        "firedDateTime": "2026-11-25T02:11:07.1234567Z", "description": "CPU above threshold",
        "essentialsVersion": "1.0", "alertContextVersion": "1.0"},
      "alertContext": {"properties": null, "conditionType": "SingleResourceMultipleMetricCriteria",
        "condition": {"windowSize": "PT5M", "allOf": [{"metricName": "Percentage CPU", "operator": "GreaterThan", "threshold": "25", "timeAggregation": "Average", "metricValue": 31.1105}]}}}}"#;

    #[test]
    fn fired_and_resolved() {
        let mut out = Vec::new();
        parse_record(&Format::Azure, FIRED.as_bytes(), &mut out).unwrap();
        let resolved = FIRED.replace("\"Fired\"", "\"Resolved\"").replace(
            r#""description""#,
            r#""resolvedDateTime": "2026-11-25T02:30:00Z", "description""#,
        );
        parse_record(&Format::Azure, resolved.as_bytes(), &mut out).unwrap();
        let (f, r) = (&out[0], &out[1]);
        assert_eq!(f.name, "WCUS-R2-Gen2");
        assert_eq!(f.resource, "wcus-r2-gen2");
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.status, Status::Firing);
        assert_eq!(f.starts_at, 1_795_572_667_123);
        assert_eq!(
            f.label("subscription"),
            Some("11111111-1111-1111-1111-111111111111")
        );
        assert_eq!(f.label("signal_type"), Some("Metric"));
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.ends_at, Some(1_795_573_800_000));
        assert_eq!(f.fingerprint, r.fingerprint);
        assert!(f.fingerprint.ends_with("1234567890ab"));
    }

    #[test]
    fn refuses_other_schemas_and_severities() {
        let mut out = Vec::new();
        let e = parse_record(
            &Format::Azure,
            br#"{"schemaId":"Microsoft.Insights/activityLogs","data":{}}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("common alert schema"), "{e}");
        let e = parse_record(
            &Format::Azure,
            FIRED.replace("Sev3", "Sev9").as_bytes(),
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("\"Sev9\" is not Sev0-Sev4"), "{e}");
    }
}
