//! `corral test FILE...`: rule unit tests, in the spirit of `promtool test rules`.
//!
//! A test file names the rules (`rules:`, relative to the test file; default the shipped rules)
//! and topology (`topology:`, a path or inline nodes and edges) under test, and optionally a
//! trained model (`models:`) for rules that depend on learned baselines (`chronic_above`). Each test feeds input
//! alerts at event-time offsets (`at: 30s`) and checks, at evaluation times (`eval_at: 5m`), the
//! incidents as they stand (members, root cause, severity, status...; fields left out are not
//! checked) and which alerts are suppressed, inhibited, in maintenance or flapping. Failures
//! print expected against got; the exit status is 1 when any test fails.

use crate::input;
use anyhow::Result;
use corral_core::dedup::Mute;
use corral_core::duration::parse_duration;
use corral_core::incident::EventAction;
use corral_core::model::{
    compute_fingerprint, parse_event_time, Alert, Millis, Severity, Status, Str,
};
use corral_core::yaml_pos::ErrorSink;
use corral_core::{ConfigError, Engine, IncidentUpdate, RuleSet, TopologyFile, TopologyIndex};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Rule test files (YAML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run only tests whose name contains this text.
    #[arg(long)]
    pub run: Option<String>,
    /// Print every test, not only failures.
    #[arg(long, short)]
    pub verbose: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut passed = 0usize;
    let mut failed = 0usize;
    for file in &args.files {
        let report = run_file(file, args.run.as_deref());
        print!("{}", report.render(args.verbose));
        passed += report.passed();
        failed += report.failed();
    }
    println!("{passed} rule tests passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

// ---------------------------------------------------------------------------------------------
// File format
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    /// Rule file or directory (or several), relative to the test file.
    #[serde(default)]
    rules: Option<OneOrMany>,
    /// A topology file path, or inline `{nodes: [...], edges: [...]}`.
    #[serde(default)]
    topology: Option<serde_norway::Value>,
    /// Event time of offset 0 (RFC 3339 or epoch ms).
    #[serde(default)]
    start: Option<String>,
    /// A trained model (`corral train` output: a directory or its `baselines.json`), relative
    /// to the test file; every test starts from it, as `replay --models` does.
    #[serde(default)]
    models: Option<String>,
    tests: Vec<TestCase>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCase {
    name: String,
    alerts: Vec<InputAlert>,
    expect: Vec<Expectation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputAlert {
    at: String,
    /// Name to refer to this alert by in expectations (default `name@resource`).
    id: Option<String>,
    name: String,
    resource: String,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    fingerprint: Option<String>,
    /// Repeat the occurrence every this long...
    #[serde(default)]
    every: Option<String>,
    /// ...up to and including this offset.
    #[serde(default)]
    until: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    eval_at: String,
    /// Every incident as it stands at `eval_at` (absorbed ones excluded).
    #[serde(default)]
    incidents: Option<Vec<ExpectedIncident>>,
    /// Incidents beyond those listed are fine.
    #[serde(default)]
    allow_extra_incidents: bool,
    #[serde(default)]
    suppressed: Option<Vec<String>>,
    #[serde(default)]
    inhibited: Option<Vec<String>>,
    #[serde(default)]
    maintenance: Option<Vec<String>>,
    #[serde(default)]
    flapping: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedIncident {
    /// Exactly these alerts.
    members: Option<Vec<String>>,
    /// At least these alerts.
    includes: Option<Vec<String>>,
    alert_count: Option<usize>,
    /// Root-cause resource.
    root_cause: Option<String>,
    /// Root-cause alert.
    root_cause_alert: Option<String>,
    severity: Option<Severity>,
    /// `open` or `resolved`.
    status: Option<String>,
    /// Grouping rules that placed its alerts.
    rules: Option<Vec<String>>,
    services: Option<Vec<String>>,
    impacted_services: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

pub struct FileReport {
    pub file: String,
    /// A problem with the file itself (unreadable, invalid YAML, bad rules or topology).
    pub error: Option<String>,
    pub tests: Vec<TestResult>,
}

pub struct TestResult {
    pub name: String,
    /// Readable failure text; empty when the test passed.
    pub failures: Vec<String>,
}

impl FileReport {
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.failures.is_empty()).count()
    }

    pub fn failed(&self) -> usize {
        self.tests.len() - self.passed() + usize::from(self.error.is_some())
    }

    pub fn render(&self, verbose: bool) -> String {
        let mut s = String::new();
        if let Some(e) = &self.error {
            let _ = writeln!(s, "FAIL  {}\n{}", self.file, indent(e, 2));
        }
        for t in &self.tests {
            if t.failures.is_empty() {
                if verbose {
                    let _ = writeln!(s, "ok    {} › {}", self.file, t.name);
                }
            } else {
                let _ = writeln!(s, "FAIL  {} › {}", self.file, t.name);
                for f in &t.failures {
                    let _ = writeln!(s, "{}", indent(f, 2));
                }
            }
        }
        s
    }
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs every test of one file.
pub fn run_file(path: &Path, only: Option<&str>) -> FileReport {
    let file = path.display().to_string();
    let fail = |error: String| FileReport {
        file: file.clone(),
        error: Some(error),
        tests: Vec::new(),
    };
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot read: {e}")),
    };
    let mut sink = ErrorSink::new(&file, &src);
    let parsed: TestFile = match serde_norway::from_str(&src) {
        Ok(t) => t,
        Err(e) => {
            sink.yaml(&e);
            return fail(errors_text(sink.errors()));
        }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let rules = match load_rules(&parsed.rules, dir) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            return fail(format!(
                "rules under test are invalid:\n{}",
                errors_text(&e)
            ))
        }
    };
    let topology = match load_topology(parsed.topology.as_ref(), dir, &file) {
        Ok(t) => Arc::new(t),
        Err(e) => return fail(format!("topology is invalid:\n{}", errors_text(&e))),
    };
    let models = parsed.models.as_deref().map(|m| dir.join(m));
    if let Some(m) = &models {
        if let Err(e) = corral_anomaly::load_models(m) {
            return fail(format!("models are invalid: {e}"));
        }
    }
    let start = match parsed.start.as_deref() {
        None => parse_event_time("2026-01-01T00:00:00Z").unwrap_or(0),
        Some(s) => match parse_event_time(s) {
            Some(t) => t,
            None => {
                sink.at(
                    "start",
                    format!("invalid start {s:?} (RFC 3339 or epoch ms)"),
                );
                return fail(errors_text(sink.errors()));
            }
        },
    };
    let mut tests = Vec::new();
    for (i, case) in parsed.tests.iter().enumerate() {
        if only.is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        let failures = match run_case(
            case,
            i,
            start,
            (&rules, &topology, models.as_deref()),
            &mut sink,
        ) {
            Ok(f) => f,
            Err(()) => {
                let errs = sink.take_errors();
                vec![errors_text(&errs)]
            }
        };
        tests.push(TestResult {
            name: case.name.clone(),
            failures,
        });
    }
    FileReport {
        file,
        error: None,
        tests,
    }
}

fn errors_text(errs: &[ConfigError]) -> String {
    errs.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn load_rules(spec: &Option<OneOrMany>, dir: &Path) -> Result<RuleSet, Vec<ConfigError>> {
    let paths: Vec<PathBuf> = match spec {
        None => return input::load_rules(None),
        Some(OneOrMany::One(p)) => vec![dir.join(p)],
        Some(OneOrMany::Many(ps)) => ps.iter().map(|p| dir.join(p)).collect(),
    };
    let mut sources = Vec::new();
    for p in &paths {
        match input::rule_sources(Some(p)) {
            Ok(s) => sources.extend(s),
            Err(e) => {
                return Err(vec![ConfigError {
                    file: p.display().to_string(),
                    line: None,
                    message: format!("{e:#}"),
                }])
            }
        }
    }
    RuleSet::from_sources(&sources)
}

fn load_topology(
    spec: Option<&serde_norway::Value>,
    dir: &Path,
    file: &str,
) -> Result<TopologyIndex, Vec<ConfigError>> {
    match spec {
        None => Ok(TopologyIndex::empty()),
        Some(serde_norway::Value::String(p)) => {
            input::load_topology_file(&dir.join(p)).map(|f| TopologyIndex::build(&f))
        }
        Some(inline) => {
            let text = serde_norway::to_string(inline).map_err(|e| {
                vec![ConfigError {
                    file: file.to_string(),
                    line: None,
                    message: format!("topology: {e}"),
                }]
            })?;
            TopologyFile::parse(&text, &format!("{file} (inline topology)"))
                .map(|f| TopologyIndex::build(&f))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running one test
// ---------------------------------------------------------------------------------------------

/// Names of alerts: the fingerprint of each reference, and the best name of each fingerprint.
#[derive(Default)]
struct Refs {
    to_fp: BTreeMap<String, String>,
    ambiguous: BTreeSet<String>,
    to_name: BTreeMap<String, String>,
}

impl Refs {
    fn add(&mut self, name: String, fp: &str, preferred: bool) {
        match self.to_fp.get(&name) {
            Some(existing) if existing != fp => {
                self.ambiguous.insert(name.clone());
            }
            _ => {
                self.to_fp.insert(name.clone(), fp.to_string());
            }
        }
        if preferred || !self.to_name.contains_key(fp) {
            self.to_name.insert(fp.to_string(), name);
        }
    }

    fn resolve(&self, r: &str) -> Result<String, String> {
        if self.ambiguous.contains(r) {
            return Err(format!(
                "alert reference {r:?} names several alerts; give them an `id`"
            ));
        }
        if let Some(fp) = self.to_fp.get(r) {
            return Ok(fp.clone());
        }
        if self.to_name.contains_key(r) {
            return Ok(r.to_string());
        }
        Err(format!(
            "unknown alert reference {r:?} (use an alert's id, name@resource or fingerprint)"
        ))
    }

    fn name(&self, fp: &str) -> String {
        self.to_name
            .get(fp)
            .cloned()
            .unwrap_or_else(|| fp.to_string())
    }
}

/// An incident as it stands at an evaluation time.
#[derive(Debug, Clone)]
struct IncidentView {
    id: String,
    members: Vec<String>,
    root_cause: String,
    root_cause_alert: Option<String>,
    severity: Severity,
    status: &'static str,
    rules: Vec<String>,
    services: Vec<String>,
    impacted_services: Vec<String>,
}

fn run_case(
    case: &TestCase,
    index: usize,
    start: Millis,
    (rules, topology, models): (&Arc<RuleSet>, &Arc<TopologyIndex>, Option<&Path>),
    sink: &mut ErrorSink,
) -> Result<Vec<String>, ()> {
    let path = format!("tests[{index}]");
    let mut refs = Refs::default();
    let mut occurrences: Vec<(Millis, usize, Alert)> = Vec::new();
    for (ai, spec) in case.alerts.iter().enumerate() {
        let p = format!("{path}.alerts[{ai}]");
        let Some(at) = offset(&spec.at, &format!("{p}.at"), sink) else {
            continue;
        };
        let mut labels: Vec<_> = spec
            .labels
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
            .collect();
        Alert::normalize_labels(&mut labels);
        let source = spec.source.clone().unwrap_or_else(|| "test".into());
        let fp = spec.fingerprint.clone().unwrap_or_else(|| {
            compute_fingerprint(&source, &spec.name, &spec.resource, &labels).to_string()
        });
        let alert = Alert {
            fingerprint: fp.as_str().into(),
            source: source.as_str().into(),
            name: spec.name.as_str().into(),
            status: spec.status.unwrap_or(Status::Firing),
            severity: spec.severity.unwrap_or(Severity::Error),
            resource: spec.resource.as_str().into(),
            service: spec.service.as_deref().map(Into::into),
            summary: spec.summary.clone(),
            labels,
            annotations: Vec::new(),
            starts_at: start + at,
            ends_at: None,
            value: None,
        };
        if let Some(id) = &spec.id {
            refs.add(id.clone(), &fp, true);
        }
        refs.add(format!("{}@{}", spec.name, spec.resource), &fp, false);
        let mut times = vec![at];
        if let Some(every) = &spec.every {
            let (Some(step), Some(until)) = (
                offset(every, &format!("{p}.every"), sink),
                spec.until
                    .as_deref()
                    .map_or(Some(at), |u| offset(u, &format!("{p}.until"), sink)),
            ) else {
                continue;
            };
            if step <= 0 {
                sink.at(&format!("{p}.every"), "every must be positive");
                continue;
            }
            let mut t = at + step;
            while t <= until && times.len() < 100_000 {
                times.push(t);
                t += step;
            }
        } else if spec.until.is_some() {
            sink.at(&format!("{p}.until"), "until needs every");
        }
        for t in times {
            let mut occ = alert.clone();
            occ.starts_at = start + t;
            if occ.status == Status::Resolved {
                occ.ends_at = Some(start + t);
            }
            occurrences.push((t, occurrences.len(), occ));
        }
    }
    let mut evals: Vec<(Millis, usize)> = Vec::new();
    for (ei, e) in case.expect.iter().enumerate() {
        if let Some(t) = offset(&e.eval_at, &format!("{path}.expect[{ei}].eval_at"), sink) {
            evals.push((t, ei));
        }
    }
    if sink.has_errors() {
        return Err(());
    }
    occurrences.sort_by_key(|(t, seq, _)| (*t, *seq));
    evals.sort();

    let mut engine = Engine::new(rules.clone(), topology.clone());
    if let Some(m) = models {
        // Validated when the file was read; a file changed since is reported, not unwrapped.
        match corral_anomaly::load_models(m) {
            Ok(model) => engine.set_anomaly_model(model),
            Err(e) => {
                sink.at("models", format!("models are invalid: {e}"));
                return Err(());
            }
        }
    }
    let mut updates: Vec<IncidentUpdate> = Vec::new();
    let mut next = 0;
    let mut failures = Vec::new();
    for (t, ei) in evals {
        while next < occurrences.len() && occurrences[next].0 <= t {
            engine.ingest(occurrences[next].2.clone(), &mut updates);
            next += 1;
        }
        engine.advance_to(start + t, &mut updates);
        let views = incidents_now(&engine, &updates, rules, topology);
        let exp = &case.expect[ei];
        let mut problems = Vec::new();
        if let Some(expected) = &exp.incidents {
            check_incidents(
                expected,
                exp.allow_extra_incidents,
                &views,
                &refs,
                &mut problems,
            );
        }
        let muted = muted_alerts(&engine, &refs);
        for (kind, want) in [
            ("suppressed", &exp.suppressed),
            ("inhibited", &exp.inhibited),
            ("maintenance", &exp.maintenance),
            ("flapping", &exp.flapping),
        ] {
            let Some(want) = want else { continue };
            let mut want_fps = BTreeSet::new();
            for r in want {
                match refs.resolve(r) {
                    Ok(fp) => {
                        want_fps.insert(fp);
                    }
                    Err(e) => problems.push(e),
                }
            }
            let got: BTreeSet<String> = muted
                .iter()
                .filter(|(_, k)| *k == kind)
                .map(|(fp, _)| fp.clone())
                .collect();
            if got != want_fps {
                let names = |s: &BTreeSet<String>| {
                    let mut v: Vec<String> = s.iter().map(|f| refs.name(f)).collect();
                    v.sort();
                    format!("[{}]", v.join(", "))
                };
                problems.push(format!(
                    "{kind}:\n- expected {}\n+ got      {}",
                    names(&want_fps),
                    names(&got)
                ));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "at eval_at {}:\n{}",
                exp.eval_at,
                indent(&problems.join("\n"), 2)
            ));
        }
    }
    Ok(failures)
}

fn offset(text: &str, path: &str, sink: &mut ErrorSink) -> Option<Millis> {
    match parse_duration(text) {
        Ok(v) => Some(v),
        Err(e) => {
            sink.at(path, e);
            None
        }
    }
}

/// Every muted firing alert with the kind of its mute.
fn muted_alerts(engine: &Engine, refs: &Refs) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for fp in refs.to_name.keys() {
        let Some(st) = engine.alert_state(fp) else {
            continue;
        };
        if st.status != Status::Firing {
            continue;
        }
        let kind = match st.mute {
            Mute::None => continue,
            Mute::Suppressed(_) => "suppressed",
            Mute::Inhibited(_) => "inhibited",
            Mute::Maintenance(_) => "maintenance",
            Mute::Flapping => "flapping",
        };
        out.push((fp.clone(), kind));
    }
    out
}

/// The incidents as they stand: every update so far, plus the changes the engine holds back
/// for `update_interval` (flushed on a copy of the engine so the run itself is undisturbed).
fn incidents_now(
    engine: &Engine,
    updates: &[IncidentUpdate],
    rules: &Arc<RuleSet>,
    topology: &Arc<TopologyIndex>,
) -> Vec<IncidentView> {
    let mut pending = Vec::new();
    let mut copy = Engine::new(rules.clone(), topology.clone());
    if copy.restore(&engine.snapshot()).is_ok() {
        copy.finish(&mut pending);
    }
    let mut order: Vec<String> = Vec::new();
    let mut last: BTreeMap<String, &IncidentUpdate> = BTreeMap::new();
    for u in updates.iter().chain(pending.iter()) {
        if !last.contains_key(u.dedup_key.as_str()) {
            order.push(u.dedup_key.to_string());
        }
        last.insert(u.dedup_key.to_string(), u);
    }
    order
        .into_iter()
        .filter_map(|id| {
            let u = last[&id];
            let d = &u.payload.custom_details;
            if d.merged_into.is_some() {
                return None;
            }
            Some(IncidentView {
                id,
                members: strings(&d.alerts),
                root_cause: d.root_cause.resource.to_string(),
                root_cause_alert: d.root_cause.fingerprint.as_deref().map(str::to_owned),
                severity: u.payload.severity,
                status: match u.event_action {
                    EventAction::Resolve => "resolved",
                    _ => "open",
                },
                rules: strings(&d.rules),
                services: strings(&d.services),
                impacted_services: strings(&d.impacted_services),
            })
        })
        .collect()
}

fn strings(names: &[Str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Field-by-field comparison: (field, expected, got, equal).
fn compare(
    e: &ExpectedIncident,
    a: &IncidentView,
    refs: &Refs,
) -> Result<Vec<(&'static str, String, String, bool)>, String> {
    let mut rows = Vec::new();
    let names = |fps: &[String]| {
        let mut v: Vec<String> = fps.iter().map(|f| refs.name(f)).collect();
        v.sort();
        v
    };
    let resolve_all = |rs: &[String]| -> Result<Vec<String>, String> {
        rs.iter().map(|r| refs.resolve(r)).collect()
    };
    let got_set: BTreeSet<&String> = a.members.iter().collect();
    if let Some(m) = &e.members {
        let want = resolve_all(m)?;
        let want_set: BTreeSet<&String> = want.iter().collect();
        rows.push((
            "members",
            format!("{:?}", names(&want)),
            format!("{:?}", names(&a.members)),
            want_set == got_set,
        ));
    }
    if let Some(m) = &e.includes {
        let want = resolve_all(m)?;
        let ok = want.iter().all(|f| got_set.contains(f));
        rows.push((
            "includes",
            format!("{:?}", names(&want)),
            format!("{:?}", names(&a.members)),
            ok,
        ));
    }
    if let Some(n) = e.alert_count {
        rows.push((
            "alert_count",
            n.to_string(),
            a.members.len().to_string(),
            n == a.members.len(),
        ));
    }
    if let Some(r) = &e.root_cause {
        rows.push((
            "root_cause",
            r.clone(),
            a.root_cause.clone(),
            *r == a.root_cause,
        ));
    }
    if let Some(r) = &e.root_cause_alert {
        let want = refs.resolve(r)?;
        let got = a.root_cause_alert.clone().unwrap_or_default();
        rows.push((
            "root_cause_alert",
            refs.name(&want),
            if got.is_empty() {
                "(none: silent upstream)".into()
            } else {
                refs.name(&got)
            },
            want == got,
        ));
    }
    if let Some(s) = e.severity {
        rows.push((
            "severity",
            s.to_string(),
            a.severity.to_string(),
            s == a.severity,
        ));
    }
    if let Some(s) = &e.status {
        rows.push(("status", s.clone(), a.status.to_string(), s == a.status));
    }
    for (field, want, got) in [
        ("rules", &e.rules, &a.rules),
        ("services", &e.services, &a.services),
        (
            "impacted_services",
            &e.impacted_services,
            &a.impacted_services,
        ),
    ] {
        if let Some(w) = want {
            let ws: BTreeSet<&String> = w.iter().collect();
            let gs: BTreeSet<&String> = got.iter().collect();
            rows.push((field, format!("{w:?}"), format!("{got:?}"), ws == gs));
        }
    }
    Ok(rows)
}

fn check_incidents(
    expected: &[ExpectedIncident],
    allow_extra: bool,
    got: &[IncidentView],
    refs: &Refs,
    problems: &mut Vec<String>,
) {
    // ok[e][a]: expected incident e is satisfied by incident a.
    let mut ok = vec![vec![false; got.len()]; expected.len()];
    let mut rows = vec![Vec::new(); expected.len()];
    for (ei, e) in expected.iter().enumerate() {
        for (ai, a) in got.iter().enumerate() {
            match compare(e, a, refs) {
                Ok(r) => {
                    ok[ei][ai] = r.iter().all(|x| x.3);
                    rows[ei].push(r);
                }
                Err(msg) => {
                    problems.push(msg);
                    return;
                }
            }
        }
    }
    // Maximum bipartite matching (Kuhn): partial specs must not steal each other's incidents.
    let mut owner: Vec<Option<usize>> = vec![None; got.len()];
    fn augment(e: usize, ok: &[Vec<bool>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
        for a in 0..owner.len() {
            if ok[e][a] && !seen[a] {
                seen[a] = true;
                if owner[a].is_none_or(|o| augment(o, ok, owner, seen)) {
                    owner[a] = Some(e);
                    return true;
                }
            }
        }
        false
    }
    for e in 0..expected.len() {
        let mut seen = vec![false; got.len()];
        augment(e, &ok, &mut owner, &mut seen);
    }
    let matched: BTreeSet<usize> = owner.iter().flatten().copied().collect();
    for (ei, _) in expected.iter().enumerate() {
        if matched.contains(&ei) {
            continue;
        }
        let mut text = format!("expected incident #{} has no match", ei + 1);
        // The closest free incident: the one that gets most fields right.
        let closest = (0..got.len())
            .filter(|a| owner[*a].is_none())
            .max_by_key(|&a| {
                (
                    rows[ei][a].iter().filter(|r| r.3).count(),
                    std::cmp::Reverse(a),
                )
            });
        match closest {
            Some(a) => {
                let _ = writeln!(text, "; closest is {}:", got[a].id);
                for (field, want, have, eq) in &rows[ei][a] {
                    if *eq {
                        let _ = writeln!(text, "    {field}: {want}");
                    } else {
                        let _ = writeln!(text, "  - {field}: {want}");
                        let _ = writeln!(text, "  + {field}: {have}");
                    }
                }
            }
            None if got.is_empty() => text.push_str("; there are no incidents at all"),
            None => text.push_str("; every incident is taken by another expectation"),
        }
        problems.push(text.trim_end().to_string());
    }
    if !allow_extra {
        for (ai, a) in got.iter().enumerate() {
            if owner[ai].is_none() {
                let mut members: Vec<String> = a.members.iter().map(|f| refs.name(f)).collect();
                members.sort();
                problems.push(format!(
                    "+ unexpected incident {}: members {:?}, root_cause {}, severity {}, status {}",
                    a.id, members, a.root_cause, a.severity, a.status
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const TOPO: &str = "topology:\n  nodes:\n    - {id: esx-1, kind: hypervisor}\n    - {id: db-1, kind: database, service: payroll}\n    - {id: api-1, kind: service, service: payroll}\n    - {id: far-1, kind: host}\n  edges:\n    - {from: db-1, to: esx-1, type: runs_on}\n    - {from: api-1, to: db-1, type: depends_on}\n";

    #[test]
    fn passing_suite() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "ok.test.yaml",
            &format!("{TOPO}tests:\n  - name: cascade\n    alerts:\n      - {{at: 0s, name: HostDown, resource: esx-1, severity: critical}}\n      - {{at: 20s, name: DbDown, resource: db-1}}\n      - {{at: 40s, name: Latency, resource: api-1, severity: warning}}\n      - {{at: 50s, name: Disk, resource: far-1, severity: info}}\n    expect:\n      - eval_at: 1m\n        incidents:\n          - members: [HostDown@esx-1, DbDown@db-1, Latency@api-1]\n            root_cause: esx-1\n            severity: critical\n            status: open\n          - {{members: [Disk@far-1]}}\n        suppressed: []\n"),
        );
        let r = run_file(&p, None);
        assert!(r.error.is_none(), "{:?}", r.error);
        assert_eq!((r.passed(), r.failed()), (1, 0), "{}", r.render(true));
    }

    #[test]
    fn failing_suite_prints_expected_and_got() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "bad.test.yaml",
            &format!("{TOPO}tests:\n  - name: wrong root\n    alerts:\n      - {{at: 0s, name: HostDown, resource: esx-1}}\n      - {{at: 20s, name: DbDown, resource: db-1}}\n    expect:\n      - eval_at: 1m\n        incidents:\n          - {{members: [HostDown@esx-1, DbDown@db-1], root_cause: db-1}}\n"),
        );
        let r = run_file(&p, None);
        assert_eq!(r.failed(), 1);
        let text = r.render(false);
        assert!(text.contains("FAIL"), "{text}");
        assert!(text.contains("  - root_cause: db-1"), "{text}");
        assert!(text.contains("  + root_cause: esx-1"), "{text}");
        assert!(
            text.contains("members: [\"DbDown@db-1\", \"HostDown@esx-1\"]"),
            "{text}"
        );
    }

    #[test]
    fn bad_test_file_reports_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "x.test.yaml",
            "tests:\n  - name: t\n    alerts:\n      - {at: 5parsecs, name: A, resource: r}\n    expect: []\n",
        );
        let r = run_file(&p, None);
        assert_eq!(r.failed(), 1);
        let text = r.render(false);
        assert!(text.contains("x.test.yaml:4: invalid duration"), "{text}");
        let p = write(
            dir.path(),
            "y.test.yaml",
            "tests:\n  - name: t\n    colour: red\n",
        );
        let text = run_file(&p, None).render(false);
        assert!(
            text.contains("y.test.yaml:3") && text.contains("colour"),
            "{text}"
        );
    }
}
