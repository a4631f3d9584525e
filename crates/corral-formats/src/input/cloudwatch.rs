//! `cloudwatch`: a CloudWatch alarm state change as SNS delivers it: the SNS envelope
//! (`Type: Notification`, `Message` holding the alarm as a JSON string) or the bare alarm.
//!
//! `ALARM` fires, `OK` resolves, `INSUFFICIENT_DATA` fires at `info` (the metric went silent).
//! CloudWatch has no severity: `warning` unless the alarm description carries
//! `severity=<level>`. The alarm ARN is the fingerprint.

use crate::common::{alert, finish, Problems};
use crate::json_path::{self, need, text};
use crate::time::parse_time;
use corral_core::model::{Labels, Str};
use corral_core::{Alert, Severity, Status};
use serde_json::Value;

pub const SOURCE: &str = "cloudwatch";

/// Dimensions that name the resource, most specific first.
const RESOURCE_DIMENSIONS: &[&str] = &[
    "InstanceId",
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "CacheClusterId",
    "FunctionName",
    "LoadBalancer",
    "TargetGroup",
    "QueueName",
    "TableName",
    "ClusterName",
    "ServiceName",
    "BucketName",
    "AutoScalingGroupName",
    "VolumeId",
];

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match json_path::parse(payload).and_then(|v| convert(&v)) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

fn convert(v: &Value) -> Result<Alert, String> {
    let inner;
    let alarm = match v.get("Message") {
        Some(Value::String(m)) => {
            inner = serde_json::from_str::<Value>(m)
                .map_err(|e| format!("SNS Message is not a CloudWatch alarm in JSON: {e}"))?;
            &inner
        }
        Some(other) => {
            return Err(format!(
                "SNS Message is {}, expected a JSON string",
                json_path::describe(other)
            ))
        }
        None => v,
    };
    let name: Str = need(alarm, "AlarmName")?.into();
    let state = need(alarm, "NewStateValue")?;
    let (status, mut severity) = match state.as_str() {
        "ALARM" => (Status::Firing, Severity::Warning),
        "OK" => (Status::Resolved, Severity::Warning),
        "INSUFFICIENT_DATA" => (Status::Firing, Severity::Info),
        other => {
            return Err(format!(
                "NewStateValue {other:?} is none of ALARM, OK, INSUFFICIENT_DATA"
            ))
        }
    };
    let description = text(alarm, "AlarmDescription");
    if let Some(level) = description
        .as_deref()
        .and_then(|d| d.split_once("severity="))
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_alphanumeric()).next())
        .and_then(Severity::parse_loose)
    {
        if state != "INSUFFICIENT_DATA" {
            severity = level;
        }
    }
    let when = need(alarm, "StateChangeTime")?;
    let time =
        parse_time(&when).ok_or_else(|| format!("StateChangeTime {when:?} is not a time"))?;
    let mut dims: Labels = Vec::new();
    if let Some(Value::Array(list)) = json_path::get(alarm, "Trigger.Dimensions") {
        for d in list {
            let (Some(k), Some(val)) = (text(d, "name"), text(d, "value")) else {
                return Err("Trigger.Dimensions: each needs a `name` and a `value`".into());
            };
            dims.push((k.into(), val.into()));
        }
    }
    let resource: Str = RESOURCE_DIMENSIONS
        .iter()
        .find_map(|k| dims.iter().find(|(dk, _)| dk == k))
        .or(dims.first())
        .map(|(_, val)| val.clone())
        .unwrap_or_else(|| name.clone());
    let mut a = alert(SOURCE, name, status, severity, resource);
    a.starts_at = time;
    if status == Status::Resolved {
        a.ends_at = Some(time);
    }
    a.fingerprint = text(alarm, "AlarmArn").map(Str::from).unwrap_or_default();
    let mut labels: Labels = Vec::new();
    for (k, path) in [
        ("namespace", "Trigger.Namespace"),
        ("metric_name", "Trigger.MetricName"),
        ("region", "Region"),
        ("account", "AWSAccountId"),
    ] {
        if let Some(x) = text(alarm, path) {
            labels.push((k.into(), x.into()));
        }
    }
    for (k, val) in dims {
        labels.push((format!("dimension_{k}").into(), val));
    }
    a.labels = labels;
    let mut notes: Labels = Vec::new();
    for (k, x) in [
        ("old_state", text(alarm, "OldStateValue")),
        ("description", description),
        ("sns_message_id", text(v, "MessageId")),
        ("subject", text(v, "Subject")),
    ] {
        if let Some(x) = x {
            notes.push((k.into(), x.into()));
        }
    }
    a.annotations = notes;
    a.summary = text(alarm, "NewStateReason");
    finish(a, false)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Severity, Status};

    /// An SNS notification as AWS documents it, with the alarm JSON escaped in `Message`.
    pub const SNS: &str = r#"{"Type": "Notification", "MessageId": "5fbd1e9c-6cd0-5a0b-9b07-6a3c1e0f6a11",
      "TopicArn": "arn:aws:sns:eu-west-1:123456789012:corral-alarms",
      "Subject": "ALARM: \"payroll-db-cpu\" in EU (Ireland)",
      "Message": "{\"AlarmName\":\"payroll-db-cpu\",\"AlarmDescription\":\"CPU of the payroll DB severity=critical\",\"AWSAccountId\":\"123456789012\",\"AlarmConfigurationUpdatedTimestamp\":\"2026-11-01T10:00:00.000+0000\",\"NewStateValue\":\"ALARM\",\"NewStateReason\":\"Threshold Crossed: 1 out of the last 1 datapoints [97.5 (25/11/26 02:06:00)] was greater than the threshold (90.0).\",\"StateChangeTime\":\"2026-11-25T02:11:07.123+0000\",\"Region\":\"EU (Ireland)\",\"AlarmArn\":\"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:payroll-db-cpu\",\"OldStateValue\":\"OK\",\"Trigger\":{\"MetricName\":\"CPUUtilization\",\"Namespace\":\"AWS/RDS\",\"StatisticType\":\"Statistic\",\"Statistic\":\"AVERAGE\",\"Unit\":null,\"Dimensions\":[{\"value\":\"payroll-db-04\",\"name\":\"DBInstanceIdentifier\"}],\"Period\":300,\"EvaluationPeriods\":1,\"ComparisonOperator\":\"GreaterThanThreshold\",\"Threshold\":90.0}}",
      "Timestamp": "2026-11-25T02:11:07.200Z", "SignatureVersion": "1", "Signature": "abc==",
      "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/x.pem", "UnsubscribeURL": "https://sns/x"}"#;

    #[test]
    fn sns_alarm_notification() {
        let mut out = Vec::new();
        parse_record(&Format::CloudWatch, SNS.as_bytes(), &mut out).unwrap();
        let a = &out[0];
        assert_eq!(a.name, "payroll-db-cpu");
        assert_eq!(a.resource, "payroll-db-04");
        assert_eq!(a.status, Status::Firing);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(
            a.fingerprint,
            "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:payroll-db-cpu"
        );
        assert_eq!(a.starts_at, 1_795_572_667_123);
        assert_eq!(a.label("namespace"), Some("AWS/RDS"));
        assert_eq!(
            a.label("dimension_DBInstanceIdentifier"),
            Some("payroll-db-04")
        );
        assert!(a
            .summary
            .as_deref()
            .unwrap()
            .starts_with("Threshold Crossed"));
    }

    #[test]
    fn bare_alarm_ok_and_bad_states() {
        let ok = r#"{"AlarmName":"q-depth","NewStateValue":"OK","StateChangeTime":"2026-11-25T02:20:00.000+0000","Trigger":{"Dimensions":[{"name":"QueueName","value":"orders"}]}}"#;
        let mut out = Vec::new();
        parse_record(&Format::CloudWatch, ok.as_bytes(), &mut out).unwrap();
        assert_eq!(out[0].status, Status::Resolved);
        assert_eq!(out[0].resource, "orders");
        assert_eq!(out[0].fingerprint.len(), 16);
        let e = parse_record(&Format::CloudWatch, br#"{"AlarmName":"x","NewStateValue":"MAYBE","StateChangeTime":"2026-11-25T02:20:00Z"}"#, &mut out).unwrap_err();
        assert!(e.contains("\"MAYBE\""), "{e}");
        let e = parse_record(
            &Format::CloudWatch,
            br#"{"Type":"Notification","Message":"plain text alarm"}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("SNS Message is not a CloudWatch alarm"), "{e}");
    }
}
