//! The shipped integration files (`integrations/`) against the parsers: every mapping maps its
//! sample payload, the Datadog template parses once Datadog fills it, the Zabbix media type's
//! script (run under node with Zabbix's HttpRequest stubbed) produces a body the `zabbix` format
//! reads, and the Nagios notify script's output reads as `nagios`.

use corral_core::{Alert, Severity, Status};
use corral_formats::{detect, parse_record, Format, Mapping};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn integrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../integrations")
}

fn read(rel: &str) -> String {
    let p = integrations().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn map_sample(name: &str) -> Alert {
    let mapping = Mapping::load(&integrations().join(format!("mappings/{name}.yaml")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mapping.name, format!("mapping:{name}"));
    let format = Format::Mapping(Arc::new(mapping));
    let mut out = Vec::new();
    parse_record(
        &format,
        read(&format!("mappings/samples/{name}.json")).as_bytes(),
        &mut out,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(out.len(), 1, "{name}");
    out.pop().unwrap()
}

#[test]
fn prtg_mapping() {
    let a = map_sample("prtg");
    assert_eq!(a.source, "prtg");
    assert_eq!(a.name, "Ping");
    assert_eq!(a.resource, "10.0.4.17");
    assert_eq!(a.fingerprint, "prtg-2314");
    assert_eq!((a.status, a.severity), (Status::Firing, Severity::Critical));
    assert_eq!(a.starts_at, 1_795_572_667_000);
    assert_eq!(a.service.as_deref(), Some("Payroll"));
    assert_eq!(a.label("probe"), Some("Local Probe"));
}

#[test]
fn solarwinds_mapping() {
    let a = map_sample("solarwinds");
    assert_eq!(a.name, "Node is down");
    assert_eq!(a.resource, "payroll-db-04");
    assert_eq!(a.fingerprint, "solarwinds-17");
    assert_eq!((a.status, a.severity), (Status::Firing, Severity::Critical));
    assert_eq!(a.starts_at, 1_795_572_667_000);
}

#[test]
fn logicmonitor_mapping() {
    let a = map_sample("logicmonitor");
    assert_eq!(a.name, "PostgreSQL_Connections ActiveConnections");
    assert_eq!(a.resource, "payroll-db-04");
    assert_eq!(a.fingerprint, "LMD4242");
    assert_eq!((a.status, a.severity), (Status::Firing, Severity::Critical));
    assert_eq!(a.starts_at, 1_795_572_667_000);
    assert_eq!(a.service.as_deref(), Some("payroll"));
}

#[test]
fn newrelic_mapping() {
    let a = map_sample("newrelic");
    assert_eq!(a.name, "High DB connections");
    assert_eq!(a.resource, "payroll-db-04");
    assert_eq!(a.fingerprint, "6d3a4c1e-5f2b-4e8a-9c1d-7b0a2e4f6c88");
    assert_eq!((a.status, a.severity), (Status::Firing, Severity::Critical));
    assert_eq!(a.starts_at, 1_795_572_667_123);
    assert_eq!(a.label("account"), Some("1234567"));
}

#[test]
fn elastic_mapping() {
    let a = map_sample("elastic");
    assert_eq!(a.name, "Host CPU above 90%");
    assert_eq!(a.resource, "payroll-db-04");
    assert_eq!((a.status, a.severity), (Status::Firing, Severity::Critical));
    assert_eq!(a.starts_at, 1_795_572_667_123);
}

#[test]
fn datadog_template_filled_by_datadog() {
    let filled = read("datadog/webhook-payload.json")
        .replace("$ID", "7338915217034112345")
        .replace("$EVENT_TITLE", "[Triggered on {host:web-07}] CPU high")
        .replace("$EVENT_MSG", "CPU above 90%")
        .replace("$ALERT_ID", "1234567")
        .replace("$ALERT_TITLE", "CPU high")
        .replace("$ALERT_TYPE", "error")
        .replace("$ALERT_TRANSITION", "Triggered")
        .replace(
            "$ALERT_STATUS",
            "system.cpu.user over host:web-07 was > 90.0",
        )
        .replace("$ALERT_METRIC", "system.cpu.user")
        .replace("$ALERT_SCOPE", "host:web-07")
        .replace(
            "$ALERT_QUERY",
            "avg(last_5m):avg:system.cpu.user{*} by {host} > 90",
        )
        .replace("$ALERT_PRIORITY", "P2")
        .replace("$ALERT_CYCLE_KEY", "6612345")
        .replace("$AGGREG_KEY", "a1b2c3")
        .replace("$HOSTNAME", "web-07")
        .replace("$DATE", "1795572667000")
        .replace("$LAST_UPDATED", "1795572667000")
        .replace("$TAGS", "env:prod,service:checkout")
        .replace("$ORG_ID", "1")
        .replace("$ORG_NAME", "Example")
        .replace("$LINK", "https://app.datadoghq.com/event/event?id=1");
    assert!(
        !filled.contains('$'),
        "every variable of the template is known: {filled}"
    );
    assert_eq!(detect(filled.as_bytes()), Ok(Format::Datadog));
    let mut out = Vec::new();
    parse_record(&Format::Datadog, filled.as_bytes(), &mut out).unwrap();
    assert_eq!(out[0].name, "CPU high");
    assert_eq!(out[0].resource, "web-07");
    assert_eq!(out[0].severity, Severity::Error);
}

#[test]
fn zabbix_sample_body() {
    let body = read("zabbix/sample-problem.json");
    assert_eq!(detect(body.as_bytes()), Ok(Format::Zabbix));
    let mut out = Vec::new();
    parse_record(&Format::Zabbix, body.as_bytes(), &mut out).unwrap();
    assert_eq!(out[0].resource, "web-07");
}

/// Runs the media type's JavaScript as Zabbix would, with macros resolved as in a problem
/// message (the recovery macros stay unresolved, as Zabbix leaves them).
#[test]
fn zabbix_media_type_script_posts_a_readable_body() {
    let export: serde_json::Value =
        serde_norway::from_str(&read("zabbix/corral_webhook.yaml")).unwrap();
    let media = &export["zabbix_export"]["media_types"][0];
    let script = media["script"].as_str().unwrap();
    let mut params = serde_json::Map::new();
    let sample: serde_json::Value =
        serde_json::from_str(&read("zabbix/sample-problem.json")).unwrap();
    for p in media["parameters"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let value = match name {
            "corral_url" => "http://corral.test/ingest/zabbix".to_string(),
            "corral_token" => "s3cret".to_string(),
            "event_tags" => sample["event_tags"].to_string(),
            _ => match &sample[name] {
                serde_json::Value::String(s) => s.clone(),
                _ => p["value"].as_str().unwrap().to_string(),
            },
        };
        params.insert(name.into(), value.into());
    }
    let harness = format!(
        "var value = {value};\n\
         var sent = null, headers = [];\n\
         function HttpRequest() {{}}\n\
         HttpRequest.prototype.addHeader = function (h) {{ headers.push(h); }};\n\
         HttpRequest.prototype.post = function (url, body) {{ sent = {{url: url, body: body}}; return '{{}}'; }};\n\
         HttpRequest.prototype.getStatus = function () {{ return 202; }};\n\
         var Zabbix = {{ log: function () {{}} }};\n\
         var result = (function () {{\n{script}\n}})();\n\
         console.log(JSON.stringify({{result: result, url: sent.url, headers: headers}}));\n\
         console.log(sent.body);\n",
        value = serde_json::to_string(&serde_json::to_string(&params).unwrap()).unwrap(),
    );
    let out = Command::new("node")
        .arg("-e")
        .arg(&harness)
        .output()
        .expect("node must be installed to test the Zabbix media type");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    let meta: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(meta["result"], "OK");
    assert!(meta["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h == "Authorization: Bearer s3cret"));
    let body = lines.next().unwrap();
    assert!(
        !body.contains("RECOVERY"),
        "unresolved macros are left out: {body}"
    );
    let mut alerts = Vec::new();
    parse_record(&Format::Zabbix, body.as_bytes(), &mut alerts).unwrap();
    let a = &alerts[0];
    assert_eq!(a.name, "High CPU utilization (over 90% for 5m)");
    assert_eq!(a.resource, "web-07");
    assert_eq!(a.status, Status::Firing);
    assert_eq!(a.service.as_deref(), Some("checkout"));
    assert_eq!(a.starts_at, 1_795_572_667_000);
}

#[test]
fn nagios_notify_script_spools_readable_json() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool.ndjson");
    let script = integrations().join("nagios/corral-notify");
    for (kind, state, output) in [
        (
            "PROBLEM",
            "CRITICAL",
            "connection refused \"quoted\" \\ back",
        ),
        ("RECOVERY", "OK", "OK - 3 ms"),
    ] {
        let status = Command::new("sh")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CORRAL_SPOOL", &spool)
            .env("NOTIFICATIONTYPE", kind)
            .env("HOSTNAME", "db-1")
            .env("HOSTSTATE", "UP")
            .env("SERVICEDESC", "PostgreSQL")
            .env("SERVICESTATE", state)
            .env("SERVICEOUTPUT", output)
            .env("TIMET", "1795572667")
            .status()
            .expect("sh must be installed");
        assert!(status.success(), "corral-notify failed (needs jq)");
    }
    let text = std::fs::read_to_string(&spool).unwrap();
    assert_eq!(detect(text.as_bytes()), Ok(Format::Nagios));
    let mut alerts = Vec::new();
    let stats = corral_formats::decode_stream(
        &Format::Nagios,
        text.as_bytes(),
        |a| alerts.push(a),
        |d| panic!("{d:?}"),
    )
    .unwrap();
    assert_eq!(stats.alerts, 2);
    assert_eq!(
        alerts[0].summary.as_deref(),
        Some("connection refused \"quoted\" \\ back")
    );
    assert_eq!(alerts[0].severity, Severity::Critical);
    assert_eq!(alerts[1].status, Status::Resolved);
    assert_eq!(alerts[0].fingerprint, alerts[1].fingerprint);
}

#[test]
fn alertmanager_receiver_snippet_is_valid_yaml_with_send_resolved() {
    let v: serde_json::Value = serde_norway::from_str(&read("alertmanager/receiver.yaml")).unwrap();
    let hook = &v["receivers"][0]["webhook_configs"][0];
    assert_eq!(hook["send_resolved"], true);
    assert!(hook["url"]
        .as_str()
        .unwrap()
        .ends_with("/ingest/alertmanager"));
}
