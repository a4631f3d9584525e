//! Topology importers (SPEC §3): CMDB and inventory exports → corral's native topology file.
//!
//! * `servicenow`: JSON exports of `cmdb_ci` and `cmdb_rel_ci` (the Table API's `{"result": [...]}`
//!   or the list export's `{"records": [...]}`, one file per table or one object with both).
//! * `backstage`: catalog-info YAML (many documents): `spec.dependsOn`, `spec.system`,
//!   `spec.subcomponentOf`, `spec.providesApis`/`consumesApis`.
//! * `kubernetes`: `kubectl get ... -o json` lists: owner references, `spec.nodeName`, and
//!   Service selectors.
//! * `alec`: OpenNMS ALEC `inventory.xml`: parent links become `part_of`, peer and relative
//!   links `connects_to`.
//!
//! Every importer ends with [`finalize`], which makes the result valid for
//! `TopologyFile::parse` (unique ids, unambiguous aliases, edges between known nodes) and
//! reports each thing it had to change as a warning: nothing is dropped silently.

use corral_core::topology::{EdgeSpec, EdgeType, NodeSpec, TopologyFile};
use quick_xml::events::Event;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A source the importer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    ServiceNow,
    Backstage,
    Kubernetes,
    Alec,
}

impl ImportFormat {
    pub const NAMES: &'static [&'static str] = &["servicenow", "backstage", "kubernetes", "alec"];

    pub fn from_name(name: &str) -> Result<ImportFormat, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "servicenow" | "snow" => Ok(ImportFormat::ServiceNow),
            "backstage" => Ok(ImportFormat::Backstage),
            "kubernetes" | "k8s" => Ok(ImportFormat::Kubernetes),
            "alec" | "opennms" => Ok(ImportFormat::Alec),
            other => Err(format!(
                "unknown topology source {other:?}; expected {}",
                ImportFormat::NAMES.join(", ")
            )),
        }
    }
}

/// What an import produced: the topology and what had to be adjusted on the way.
#[derive(Debug, Default)]
pub struct Imported {
    pub topology: TopologyFile,
    pub warnings: Vec<String>,
}

/// Imports one or more source files (name, text) of the given kind.
pub fn import(format: ImportFormat, sources: &[(String, String)]) -> Result<Imported, String> {
    let mut b = Builder::default();
    for (name, text) in sources {
        let r = match format {
            ImportFormat::ServiceNow => servicenow(&mut b, text),
            ImportFormat::Backstage => backstage(&mut b, text),
            ImportFormat::Kubernetes => kubernetes(&mut b, text),
            ImportFormat::Alec => alec(&mut b, text),
        };
        r.map_err(|e| format!("{name}: {e}"))?;
    }
    if format == ImportFormat::ServiceNow {
        b.resolve_servicenow_relations();
    }
    Ok(finalize(b))
}

/// The native YAML of SPEC §3.
pub fn to_yaml(topology: &TopologyFile) -> Result<String, String> {
    serde_norway::to_string(topology).map_err(|e| e.to_string())
}

#[derive(Default)]
struct Builder {
    nodes: Vec<NodeSpec>,
    index: HashMap<String, usize>,
    edges: Vec<EdgeSpec>,
    warnings: Vec<String>,
    /// ServiceNow: sys_id → node id, and relations waiting for both tables.
    sys_ids: HashMap<String, String>,
    pending_rels: Vec<(Ref, Ref, String)>,
}

impl Builder {
    /// Adds a node, or merges into the one with that id (aliases, labels, missing fields).
    fn node(&mut self, spec: NodeSpec) {
        match self.index.get(&spec.id) {
            Some(&i) => {
                let n = &mut self.nodes[i];
                if n.kind.is_none() {
                    n.kind = spec.kind;
                }
                if n.service.is_none() {
                    n.service = spec.service;
                }
                for a in spec.aliases {
                    if !n.aliases.contains(&a) {
                        n.aliases.push(a);
                    }
                }
                for (k, v) in spec.labels {
                    n.labels.entry(k).or_insert(v);
                }
            }
            None => {
                self.index.insert(spec.id.clone(), self.nodes.len());
                self.nodes.push(spec);
            }
        }
    }

    /// Makes sure a referenced node exists (an inventory may mention objects it does not list).
    fn ensure(&mut self, id: &str, kind: Option<&str>) {
        if !self.index.contains_key(id) {
            self.node(NodeSpec {
                id: id.to_string(),
                kind: kind.map(str::to_string),
                ..NodeSpec::default()
            });
        }
    }

    fn edge(&mut self, from: &str, to: &str, edge_type: EdgeType) {
        self.edges.push(EdgeSpec {
            from: from.to_string(),
            to: to.to_string(),
            edge_type,
        });
    }

    fn resolve_servicenow_relations(&mut self) {
        for (parent, child, rel_type) in std::mem::take(&mut self.pending_rels) {
            let lookup = |r: &Ref, b: &Builder| -> Option<String> {
                b.sys_ids
                    .get(&r.value)
                    .cloned()
                    .or_else(|| r.display.clone().filter(|d| b.index.contains_key(d)))
            };
            let (Some(p), Some(c)) = (lookup(&parent, self), lookup(&child, self)) else {
                self.warnings.push(format!(
                    "relation {} → {} ({rel_type}): a CI is not in the cmdb_ci export; skipped",
                    parent.shown(),
                    child.shown()
                ));
                continue;
            };
            let (from, to, et) = match servicenow_relation(&rel_type) {
                Some((Direction::ParentOnChild, et)) => (p, c, et),
                Some((Direction::ChildOnParent, et)) => (c, p, et),
                None => {
                    self.warnings.push(format!(
                        "relation type {rel_type:?} ({} → {}) is not known; read as depends_on",
                        parent.shown(),
                        child.shown()
                    ));
                    (p, c, EdgeType::DependsOn)
                }
            };
            self.edge(&from, &to, et);
        }
    }
}

/// Makes the topology valid and says what changed.
fn finalize(mut b: Builder) -> Imported {
    let mut warnings = std::mem::take(&mut b.warnings);
    let ids: HashSet<String> = b.nodes.iter().map(|n| n.id.clone()).collect();
    // Aliases must name one node only; an alias shared by two nodes is dropped from both.
    let mut owners: HashMap<String, BTreeSet<String>> = HashMap::new();
    for n in &b.nodes {
        for a in &n.aliases {
            if a != &n.id {
                owners.entry(a.clone()).or_default().insert(n.id.clone());
            }
        }
    }
    for n in &mut b.nodes {
        let id = n.id.clone();
        n.aliases.retain(|a| {
            if a == &id || a.trim().is_empty() {
                return false;
            }
            if ids.contains(a) {
                warnings.push(format!(
                    "alias {a:?} of {id:?} is itself a node id; dropped"
                ));
                return false;
            }
            let o = &owners[a];
            if o.len() > 1 {
                if o.iter().next() == Some(&id) {
                    warnings.push(format!(
                        "alias {a:?} is shared by {}; dropped from all of them",
                        o.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                return false;
            }
            true
        });
        n.aliases.sort();
        n.aliases.dedup();
    }
    let mut seen = HashSet::new();
    let mut edges = Vec::with_capacity(b.edges.len());
    for e in b.edges {
        if e.from == e.to {
            continue;
        }
        for end in [&e.from, &e.to] {
            if !ids.contains(end) {
                warnings.push(format!(
                    "edge {} → {}: unknown node {end:?}; skipped",
                    e.from, e.to
                ));
            }
        }
        if !ids.contains(&e.from) || !ids.contains(&e.to) {
            continue;
        }
        if seen.insert((e.from.clone(), e.to.clone(), e.edge_type)) {
            edges.push(e);
        }
    }
    Imported {
        topology: TopologyFile {
            nodes: b.nodes,
            edges,
        },
        warnings,
    }
}

// ---------------------------------------------------------------- ServiceNow

#[derive(Clone, Debug)]
struct Ref {
    value: String,
    display: Option<String>,
}

impl Ref {
    fn shown(&self) -> &str {
        self.display.as_deref().unwrap_or(&self.value)
    }
}

/// A ServiceNow field: a plain string, or `{"value", "display_value", "link"}`.
fn snow_field(v: &Value, key: &str) -> Option<Ref> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(Ref {
            value: s.clone(),
            display: None,
        }),
        Value::Object(m) => {
            let value = m
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let display = m
                .get("display_value")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            (!value.is_empty() || display.is_some()).then_some(Ref { value, display })
        }
        _ => None,
    }
}

fn snow_text(v: &Value, key: &str) -> Option<String> {
    snow_field(v, key).map(|r| r.display.unwrap_or(r.value))
}

enum Direction {
    ParentOnChild,
    ChildOnParent,
}

/// `cmdb_rel_type` names ("Depends on::Used by": the parent depends on the child).
fn servicenow_relation(name: &str) -> Option<(Direction, EdgeType)> {
    let parent_side = name
        .split("::")
        .next()
        .unwrap_or(name)
        .trim()
        .to_ascii_lowercase();
    Some(match parent_side.as_str() {
        "depends on" | "uses" | "consumes" | "members" | "cluster of" | "receives data from"
        | "managed by" => (Direction::ParentOnChild, EdgeType::DependsOn),
        "runs on" | "hosted on" | "virtualized by" | "instantiated by" | "runs" => {
            (Direction::ParentOnChild, EdgeType::RunsOn)
        }
        "contains" | "provides" | "hosts" | "virtualizes" => {
            (Direction::ChildOnParent, EdgeType::PartOf)
        }
        "sends data to" | "used by" => (Direction::ChildOnParent, EdgeType::DependsOn),
        "connects to" | "ip connection" | "connected by" | "cluster peer" => {
            (Direction::ParentOnChild, EdgeType::ConnectsTo)
        }
        "located in" | "member of" | "part of" => (Direction::ParentOnChild, EdgeType::PartOf),
        _ => return None,
    })
}

fn records(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Array(a) => Some(a),
        Value::Object(m) => m
            .get("records")
            .or_else(|| m.get("result"))
            .and_then(Value::as_array),
        _ => None,
    }
}

fn servicenow(b: &mut Builder, text: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut tables: Vec<&Vec<Value>> = Vec::new();
    match (&v.get("cmdb_ci"), &v.get("cmdb_rel_ci")) {
        (None, None) => tables.push(records(&v).ok_or(
            "expected {\"records\": [...]}, {\"result\": [...]}, an array, or an object with \
             cmdb_ci and cmdb_rel_ci",
        )?),
        (ci, rel) => {
            for t in [ci, rel].into_iter().flatten() {
                tables.push(records(t).ok_or("cmdb_ci/cmdb_rel_ci must hold a list of records")?);
            }
        }
    }
    for table in tables {
        for (i, r) in table.iter().enumerate() {
            if let (Some(parent), Some(child)) = (snow_field(r, "parent"), snow_field(r, "child")) {
                let rel_type = snow_text(r, "type").unwrap_or_default();
                b.pending_rels.push((parent, child, rel_type));
                continue;
            }
            let Some(name) = snow_text(r, "name") else {
                b.warnings.push(format!(
                    "record {i} has no name (nor parent/child); skipped"
                ));
                continue;
            };
            let class = snow_text(r, "sys_class_name");
            let mut id = name.clone();
            let sys_id = snow_text(r, "sys_id");
            if let (Some(&existing), Some(sid)) = (b.index.get(&name), &sys_id) {
                // Two CIs with one name (common across classes): keep both, apart.
                if b.nodes[existing].labels.get("sys_id") != Some(sid) {
                    id = format!("{name}#{}", &sid[..sid.len().min(8)]);
                    b.warnings
                        .push(format!("two CIs are named {name:?}; the second is {id:?}"));
                }
            }
            let mut aliases = Vec::new();
            for k in ["ip_address", "fqdn", "host_name", "dns_domain_name"] {
                if let Some(a) = snow_text(r, k) {
                    aliases.push(a);
                }
            }
            let is_service = class
                .as_deref()
                .is_some_and(|c| c.starts_with("cmdb_ci_service") || c == "service_offering");
            let mut labels = BTreeMap::new();
            if let Some(sid) = &sys_id {
                labels.insert("sys_id".to_string(), sid.clone());
                b.sys_ids.insert(sid.clone(), id.clone());
            }
            for k in [
                "environment",
                "location",
                "support_group",
                "operational_status",
            ] {
                if let Some(x) = snow_text(r, k) {
                    labels.insert(k.to_string(), x);
                }
            }
            b.node(NodeSpec {
                id: id.clone(),
                kind: class.map(|c| c.trim_start_matches("cmdb_ci_").to_string()),
                service: if is_service { Some(name) } else { None },
                aliases,
                labels,
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- Backstage

/// `[kind:][namespace/]name` → node id: components and resources by bare name (what alerts
/// name), other kinds prefixed (`system:payroll`), other namespaces as `namespace/name`.
fn backstage_ref(r: &str, default_kind: &str) -> (String, String) {
    let (kind, rest) = match r.split_once(':') {
        Some((k, rest)) => (k.to_ascii_lowercase(), rest),
        None => (default_kind.to_string(), r),
    };
    let (ns, name) = match rest.split_once('/') {
        Some((ns, n)) => (ns, n),
        None => ("default", rest),
    };
    (backstage_id(&kind, ns, name), kind)
}

fn backstage_id(kind: &str, namespace: &str, name: &str) -> String {
    let base = if namespace == "default" {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    };
    match kind {
        "component" | "resource" => base,
        other => format!("{other}:{base}"),
    }
}

fn backstage(b: &mut Builder, text: &str) -> Result<(), String> {
    use serde::Deserialize;
    for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| format!("document {}: {e}", i + 1))?;
        if v.is_null() {
            continue;
        }
        let kind = v.get("kind").and_then(Value::as_str).ok_or_else(|| {
            format!(
                "document {}: no `kind` (is this a catalog-info file?)",
                i + 1
            )
        })?;
        if kind.eq_ignore_ascii_case("Location") {
            continue;
        }
        let kind = kind.to_ascii_lowercase();
        let meta = v.get("metadata").cloned().unwrap_or(Value::Null);
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("document {}: {kind} has no metadata.name", i + 1))?;
        let ns = meta
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let id = backstage_id(&kind, ns, name);
        let spec = v.get("spec").cloned().unwrap_or(Value::Null);
        let str_list = |key: &str| -> Vec<String> {
            match spec.get(key) {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                Some(Value::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        let system = spec
            .get("system")
            .and_then(Value::as_str)
            .map(|s| backstage_ref(s, "system").0);
        let mut aliases = Vec::new();
        if let Some(Value::Object(ann)) = meta.get("annotations") {
            for k in ["backstage.io/kubernetes-id", "corral.dev/aliases"] {
                if let Some(a) = ann.get(k).and_then(Value::as_str) {
                    aliases.extend(a.split(',').map(|s| s.trim().to_string()));
                }
            }
        }
        let mut labels = BTreeMap::new();
        for k in ["owner", "lifecycle"] {
            if let Some(x) = spec.get(k).and_then(Value::as_str) {
                labels.insert(k.to_string(), x.to_string());
            }
        }
        b.node(NodeSpec {
            id: id.clone(),
            kind: Some(
                spec.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or(&kind)
                    .to_string(),
            ),
            // The service an alert belongs to is the system's name, without its prefix.
            service: spec.get("system").and_then(Value::as_str).map(|s| {
                let (_, rest) = s.split_once(':').unwrap_or(("", s));
                rest.rsplit('/').next().unwrap_or(rest).to_string()
            }),
            aliases,
            labels,
        });
        for dep in str_list("dependsOn") {
            let (to, k) = backstage_ref(&dep, "component");
            b.ensure(&to, Some(&k));
            b.edge(&id, &to, EdgeType::DependsOn);
        }
        for api in str_list("consumesApis") {
            let (to, k) = backstage_ref(&api, "api");
            b.ensure(&to, Some(&k));
            b.edge(&id, &to, EdgeType::DependsOn);
        }
        for api in str_list("providesApis") {
            // An API is down when its provider is.
            let (from, k) = backstage_ref(&api, "api");
            b.ensure(&from, Some(&k));
            b.edge(&from, &id, EdgeType::DependsOn);
        }
        if let Some(parent) = spec.get("subcomponentOf").and_then(Value::as_str) {
            let (to, k) = backstage_ref(parent, "component");
            b.ensure(&to, Some(&k));
            b.edge(&id, &to, EdgeType::PartOf);
        }
        if let Some(sys) = system {
            // A system is impaired when one of its parts is.
            b.ensure(&sys, Some("system"));
            b.edge(&sys, &id, EdgeType::DependsOn);
        }
        if kind == "system" {
            if let Some(domain) = spec.get("domain").and_then(Value::as_str) {
                let (d, k) = backstage_ref(domain, "domain");
                b.ensure(&d, Some(&k));
                b.edge(&d, &id, EdgeType::DependsOn);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- Kubernetes

fn kubernetes(b: &mut Builder, text: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let items: Vec<&Value> = match v.get("items").and_then(Value::as_array) {
        Some(items) => items.iter().collect(),
        None if v.get("kind").is_some() => vec![&v],
        None => return Err("expected a `kubectl get -o json` list (with `items`)".into()),
    };
    // Pods as `namespace/name` (with the bare name as alias, what alerts carry), nodes by
    // name, other kinds prefixed: a Deployment and its Service often share a name.
    let key = |kind: &str, ns: Option<&str>, name: &str| match (kind, ns) {
        ("Node", _) => name.to_string(),
        ("Pod", Some(ns)) => format!("{ns}/{name}"),
        (k, Some(ns)) => format!("{}:{ns}/{name}", k.to_ascii_lowercase()),
        (k, None) => format!("{}:{name}", k.to_ascii_lowercase()),
    };
    let mut pods: Vec<(String, String, BTreeMap<String, String>)> = Vec::new();
    let mut services: Vec<(String, String, BTreeMap<String, String>)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
        let meta = item.get("metadata").cloned().unwrap_or(Value::Null);
        let Some(name) = meta.get("name").and_then(Value::as_str) else {
            b.warnings
                .push(format!("item {i} ({kind}) has no metadata.name; skipped"));
            continue;
        };
        let ns = meta.get("namespace").and_then(Value::as_str);
        let id = key(kind, ns, name);
        let labels: BTreeMap<String, String> = meta
            .get("labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let mut aliases = Vec::new();
        if ns.is_some() && kind == "Pod" {
            aliases.push(name.to_string());
        }
        match kind {
            "Pod" => {
                if let Some(ip) = item.pointer("/status/podIP").and_then(Value::as_str) {
                    if item.pointer("/spec/hostNetwork") != Some(&Value::Bool(true)) {
                        aliases.push(ip.to_string());
                    }
                }
            }
            "Node" => {
                if let Some(addrs) = item.pointer("/status/addresses").and_then(Value::as_array) {
                    for a in addrs {
                        if let Some(x) = a.get("address").and_then(Value::as_str) {
                            aliases.push(x.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
        let mut node_labels = BTreeMap::new();
        if let Some(ns) = ns {
            node_labels.insert("namespace".to_string(), ns.to_string());
        }
        b.node(NodeSpec {
            id: id.clone(),
            kind: Some(kind.to_ascii_lowercase()),
            service: labels
                .get("app.kubernetes.io/part-of")
                .or_else(|| labels.get("app.kubernetes.io/name"))
                .cloned(),
            aliases,
            labels: node_labels,
        });
        if let Some(owners) = meta.get("ownerReferences").and_then(Value::as_array) {
            for o in owners {
                let (Some(ok), Some(on)) = (
                    o.get("kind").and_then(Value::as_str),
                    o.get("name").and_then(Value::as_str),
                ) else {
                    continue;
                };
                // The owner (a Deployment's ReplicaSet, a Job's CronJob) suffers when what it
                // owns fails.
                let owner = key(ok, ns, on);
                b.ensure(&owner, Some(&ok.to_ascii_lowercase()));
                b.edge(&owner, &id, EdgeType::DependsOn);
            }
        }
        if kind == "Pod" {
            if let Some(node) = item.pointer("/spec/nodeName").and_then(Value::as_str) {
                b.ensure(node, Some("node"));
                b.edge(&id, node, EdgeType::RunsOn);
            }
            pods.push((ns.unwrap_or("default").to_string(), id, labels));
        } else if kind == "Service" {
            if let Some(sel) = item.pointer("/spec/selector").and_then(Value::as_object) {
                let sel: BTreeMap<String, String> = sel
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect();
                if !sel.is_empty() {
                    services.push((ns.unwrap_or("default").to_string(), id, sel));
                }
            }
        }
    }
    for (sns, sid, sel) in &services {
        for (pns, pid, plabels) in &pods {
            if sns == pns && sel.iter().all(|(k, v)| plabels.get(k) == Some(v)) {
                b.edge(sid, pid, EdgeType::DependsOn);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- ALEC

fn alec(b: &mut Builder, text: &str) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut current: Option<String> = None;
    let mut saw_inventory = false;
    let mut roots: HashSet<String> = HashSet::new();
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("XML error at byte {}: {e}", reader.error_position()))?;
        let (e, empty) = match ev {
            Event::Eof => break,
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if e.local_name().as_ref() == b"model-object-entry" {
                    current = None;
                }
                continue;
            }
            _ => continue,
        };
        let mut attrs: HashMap<String, String> = HashMap::new();
        for a in e.attributes() {
            let a = a.map_err(|err| format!("bad attribute: {err}"))?;
            let v = a.unescape_value().map_err(|err| err.to_string())?;
            attrs.insert(
                String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                v.into_owned(),
            );
        }
        let get = |k: &str| attrs.get(k).map(String::as_str).filter(|s| !s.is_empty());
        match e.local_name().as_ref() {
            b"inventory" => saw_inventory = true,
            b"model-object-entry" => {
                saw_inventory = true;
                let Some(id) = get("id") else {
                    b.warnings
                        .push("a model-object-entry has no id; skipped".into());
                    continue;
                };
                // The model root (its own parent) is virtual: every object hangs under it, and
                // as a node it would put all devices two hops apart.
                if get("parent-id") == Some(id) || get("type") == Some("Model") {
                    roots.insert(id.to_string());
                    continue;
                }
                let mut aliases = Vec::new();
                if let Some(f) = get("friendly-name").filter(|f| *f != id) {
                    aliases.push(f.to_string());
                }
                b.node(NodeSpec {
                    id: id.to_string(),
                    kind: get("type").map(str::to_string),
                    aliases,
                    ..NodeSpec::default()
                });
                if let Some(parent) = get("parent-id").filter(|p| *p != id && !roots.contains(*p)) {
                    b.ensure(parent, get("parent-type"));
                    b.edge(id, parent, EdgeType::PartOf);
                }
                if !empty {
                    current = Some(id.to_string());
                }
            }
            b"peer-ref" | b"relative-ref" => {
                let (Some(owner), Some(peer)) = (current.clone(), get("id")) else {
                    continue;
                };
                b.ensure(peer, get("type"));
                b.edge(&owner, peer, EdgeType::ConnectsTo);
            }
            _ => {}
        }
    }
    if !saw_inventory {
        return Err("not an ALEC inventory: no <inventory> or <model-object-entry>".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::TopologyIndex;

    fn run(format: ImportFormat, text: &str) -> Imported {
        let imported = import(format, &[("test".into(), text.into())]).unwrap();
        // Whatever was imported must load as a native topology.
        let yaml = to_yaml(&imported.topology).unwrap();
        TopologyFile::parse(&yaml, "imported.yaml").unwrap_or_else(|e| panic!("{e:?}\n{yaml}"));
        imported
    }

    fn has_edge(t: &TopologyFile, from: &str, to: &str, et: EdgeType) -> bool {
        t.edges
            .iter()
            .any(|e| e.from == from && e.to == to && e.edge_type == et)
    }

    #[test]
    fn servicenow_cis_and_relations() {
        let text = r#"{"cmdb_ci": {"result": [
            {"sys_id": "a1", "name": "payroll-api", "sys_class_name": "cmdb_ci_app_server", "ip_address": "10.0.1.5"},
            {"sys_id": "b2", "name": "payroll-db-04", "sys_class_name": "cmdb_ci_db_postgresql_instance", "ip_address": "10.0.4.17", "fqdn": "payroll-db-04.prod.example.com"},
            {"sys_id": "c3", "name": "esx-12", "sys_class_name": "cmdb_ci_esx_server", "ip_address": "10.0.1.5"},
            {"sys_id": "d4", "name": "Payroll", "sys_class_name": "cmdb_ci_service"}]},
          "cmdb_rel_ci": {"result": [
            {"parent": {"value": "a1", "display_value": "payroll-api"}, "child": {"value": "b2"}, "type": {"value": "x", "display_value": "Depends on::Used by"}},
            {"parent": "b2", "child": "c3", "type": "Runs on::Runs"},
            {"parent": "d4", "child": "a1", "type": "Contains::Contained by"},
            {"parent": "a1", "child": "zz", "type": "Depends on::Used by"},
            {"parent": "a1", "child": "c3", "type": "Frobnicates::Frobnicated by"}]}}"#;
        let r = run(ImportFormat::ServiceNow, text);
        let t = &r.topology;
        assert_eq!(t.nodes.len(), 4);
        assert!(has_edge(
            t,
            "payroll-api",
            "payroll-db-04",
            EdgeType::DependsOn
        ));
        assert!(has_edge(t, "payroll-db-04", "esx-12", EdgeType::RunsOn));
        assert!(has_edge(t, "payroll-api", "Payroll", EdgeType::PartOf));
        let db = t.nodes.iter().find(|n| n.id == "payroll-db-04").unwrap();
        assert_eq!(db.kind.as_deref(), Some("db_postgresql_instance"));
        assert!(db
            .aliases
            .contains(&"payroll-db-04.prod.example.com".to_string()));
        let w = r.warnings.join("\n");
        assert!(
            w.contains("\"10.0.1.5\" is shared by esx-12, payroll-api"),
            "{w}"
        );
        assert!(w.contains("not in the cmdb_ci export"), "{w}");
        assert!(w.contains("\"Frobnicates::Frobnicated by\""), "{w}");
    }

    #[test]
    fn backstage_catalog() {
        let text = r#"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payroll-api, annotations: {backstage.io/kubernetes-id: payroll-api-k8s}}
spec: {type: service, owner: team-pay, lifecycle: production, system: payroll,
       dependsOn: ["resource:default/payroll-db"], providesApis: [payroll-rest]}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: payroll-db}
spec: {type: database, owner: team-pay, system: payroll}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payroll-worker}
spec: {type: service, subcomponentOf: payroll-api, consumesApis: [payroll-rest]}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: payroll}
spec: {owner: team-pay, domain: hr}
"#;
        let r = run(ImportFormat::Backstage, text);
        let t = &r.topology;
        assert!(has_edge(
            t,
            "payroll-api",
            "payroll-db",
            EdgeType::DependsOn
        ));
        assert!(has_edge(
            t,
            "payroll-worker",
            "payroll-api",
            EdgeType::PartOf
        ));
        assert!(has_edge(
            t,
            "payroll-worker",
            "api:payroll-rest",
            EdgeType::DependsOn
        ));
        assert!(has_edge(
            t,
            "api:payroll-rest",
            "payroll-api",
            EdgeType::DependsOn
        ));
        assert!(has_edge(
            t,
            "system:payroll",
            "payroll-db",
            EdgeType::DependsOn
        ));
        assert!(has_edge(
            t,
            "domain:hr",
            "system:payroll",
            EdgeType::DependsOn
        ));
        let api = t.nodes.iter().find(|n| n.id == "payroll-api").unwrap();
        assert_eq!(api.service.as_deref(), Some("payroll"));
        assert_eq!(api.kind.as_deref(), Some("service"));
        assert_eq!(api.aliases, vec!["payroll-api-k8s".to_string()]);
        let e = import(
            ImportFormat::Backstage,
            &[("c.yaml".into(), "metadata: {name: x}\n".into())],
        )
        .unwrap_err();
        assert!(e.contains("c.yaml: document 1: no `kind`"), "{e}");
    }

    #[test]
    fn kubernetes_list() {
        let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
          {"kind": "Node", "metadata": {"name": "node-a"}, "status": {"addresses": [{"type": "InternalIP", "address": "10.1.0.4"}, {"type": "Hostname", "address": "node-a"}]}},
          {"kind": "Deployment", "metadata": {"name": "api", "namespace": "shop", "labels": {"app.kubernetes.io/part-of": "checkout"}}},
          {"kind": "ReplicaSet", "metadata": {"name": "api-7f9c", "namespace": "shop", "ownerReferences": [{"kind": "Deployment", "name": "api", "controller": true}]}},
          {"kind": "Pod", "metadata": {"name": "api-7f9c-x2v", "namespace": "shop", "labels": {"app": "api"},
             "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7f9c"}]},
           "spec": {"nodeName": "node-a"}, "status": {"podIP": "10.244.1.7"}},
          {"kind": "Service", "metadata": {"name": "api", "namespace": "shop"}, "spec": {"selector": {"app": "api"}}}]}"#;
        let r = run(ImportFormat::Kubernetes, text);
        let t = &r.topology;
        assert!(has_edge(
            t,
            "replicaset:shop/api-7f9c",
            "shop/api-7f9c-x2v",
            EdgeType::DependsOn
        ));
        assert!(has_edge(
            t,
            "deployment:shop/api",
            "replicaset:shop/api-7f9c",
            EdgeType::DependsOn
        ));
        assert!(has_edge(
            t,
            "service:shop/api",
            "shop/api-7f9c-x2v",
            EdgeType::DependsOn
        ));
        assert!(has_edge(t, "shop/api-7f9c-x2v", "node-a", EdgeType::RunsOn));
        let pod = t
            .nodes
            .iter()
            .find(|n| n.id == "shop/api-7f9c-x2v")
            .unwrap();
        assert!(pod.aliases.contains(&"api-7f9c-x2v".to_string()));
        assert!(pod.aliases.contains(&"10.244.1.7".to_string()));
        let deployment = t
            .nodes
            .iter()
            .find(|n| n.id == "deployment:shop/api")
            .unwrap();
        assert_eq!(deployment.service.as_deref(), Some("checkout"));
        let idx = TopologyIndex::build(t);
        let node = idx.resolve("10.1.0.4").unwrap();
        assert_eq!(idx.node(node).id, "node-a");
        assert!(idx.resolve("api-7f9c-x2v").is_some());
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn alec_inventory_sample() {
        let path = "/work/shared/data/alec-samples/snapshot/alec.inventory.xml";
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let r = run(ImportFormat::Alec, &text);
        let t = &r.topology;
        assert!(t.nodes.iter().any(|n| n.id == "ODL:openflow_1"));
        assert!(has_edge(
            t,
            "USERDEFINED:ODL:openflow_2:ODL:openflow_1",
            "ODL:openflow_1",
            EdgeType::ConnectsTo
        ));
        let small =
            std::fs::read_to_string("/work/shared/data/alec-samples/sample/sample.inventory.xml")
                .unwrap();
        let r = run(ImportFormat::Alec, &small);
        assert!(has_edge(
            &r.topology,
            "swmgmt01: Ethernet102/1/22",
            "swmgmt01",
            EdgeType::PartOf
        ));
        assert!(
            !r.topology.nodes.iter().any(|n| n.id == "model"),
            "the virtual root is left out"
        );
        assert_eq!(r.topology.edges.len(), 2);
        let e = import(ImportFormat::Alec, &[("x".into(), "<alarms/>".into())]).unwrap_err();
        assert!(e.contains("not an ALEC inventory"), "{e}");
    }
}
