//! `corral topology import` and `corral topology impact`, run as a user would.

use std::process::Command;

fn corral() -> Command {
    Command::new(env!("CARGO_BIN_EXE_corral"))
}

const CATALOG: &str = r#"
kind: Component
metadata: {name: payroll-api}
spec: {type: service, system: payroll, dependsOn: ["resource:payroll-db"]}
---
kind: Resource
metadata: {name: payroll-db}
spec: {type: database, system: payroll}
---
kind: Component
metadata: {name: hr-portal}
spec: {type: website, system: hr, dependsOn: ["component:payroll-api"]}
"#;

#[test]
fn import_then_impact() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog-info.yaml");
    let topo = dir.path().join("topology.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let out = corral()
        .args(["topology", "import", "--from", "backstage"])
        .arg(&catalog)
        .arg("--output")
        .arg(&topo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = std::fs::read_to_string(&topo).unwrap();
    assert!(yaml.contains("type: depends_on"), "{yaml}");

    let out = corral()
        .args(["topology", "impact", "payroll-db", "--json", "--topology"])
        .arg(&topo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"payroll-api") && ids.contains(&"hr-portal"),
        "{ids:?}"
    );
    assert!(!ids.contains(&"payroll-db"));
    assert_eq!(v["services"], serde_json::json!(["hr", "payroll"]));

    let out = corral()
        .args(["topology", "impact", "hr-portal", "--topology"])
        .arg(&topo)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("If hr-portal goes down, 1 resources and 1 services"),
        "{text}"
    );
    assert!(text.contains("system:hr"), "{text}");
}

#[test]
fn unknown_node_and_source_fail_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("t.yaml");
    std::fs::write(&topo, "nodes: [{id: a}]\n").unwrap();
    let out = corral()
        .args(["topology", "impact", "zz", "--topology"])
        .arg(&topo)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a node id nor an alias"));
    let out = corral()
        .args(["topology", "import", "--from", "cmdbx", "f"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected servicenow, backstage"));
}
