//! Correlation rules (`rules/*.yaml`): engine settings, grouping, suppression, inhibition,
//! maintenance windows, severity mapping and root-cause hints. Loading reports every error of
//! every file at once, each with its file and line; unknown keys are errors.

use crate::duration::parse_duration;
use crate::matcher::{Field, Matcher};
use crate::model::{parse_event_time, Millis, Severity};
use crate::topology::{EdgeMask, EdgeType};
use crate::yaml_pos::{ConfigError, ErrorSink};
use serde::Deserialize;
use serde_norway::Value;
use std::collections::BTreeMap;

/// Where a rule was defined, for explanations and lint messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: Option<usize>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}", self.file, l),
            None => f.write_str(&self.file),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// File format (what users write)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    settings: Option<SettingsSpec>,
    #[serde(default)]
    groupings: Vec<Value>,
    #[serde(default)]
    suppress: Vec<Value>,
    #[serde(default)]
    inhibit: Vec<Value>,
    #[serde(default)]
    maintenance: Vec<Value>,
    #[serde(default)]
    severity: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsSpec {
    allowed_lateness: Option<String>,
    alert_expiry: Option<String>,
    update_interval: Option<String>,
    resolve_hold: Option<String>,
    reopen_window: Option<String>,
    flapping: Option<FlappingSpec>,
    root_cause: Option<RootCauseSpec>,
    max_neighbourhood: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlappingSpec {
    window: Option<String>,
    max_changes: Option<u32>,
    quiet: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RootCauseSpec {
    prefer_kinds: Option<Vec<String>>,
    prefer_names: Option<Vec<String>>,
    max_hops: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupingSpec {
    name: String,
    #[serde(default, rename = "match")]
    matcher: BTreeMap<String, Value>,
    window: Option<String>,
    max_hops: Option<u8>,
    impact_hops: Option<u8>,
    edge_types: Option<Vec<EdgeType>>,
    #[serde(default)]
    group_by: Vec<String>,
    #[serde(default = "default_true")]
    topology: bool,
    min_alerts: Option<usize>,
    /// A hub with more dependents than this links alerts only when it is itself alerting.
    max_fanout: Option<usize>,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressSpec {
    name: String,
    #[serde(default, rename = "match")]
    matcher: BTreeMap<String, Value>,
    chronic_above: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InhibitSpec {
    name: String,
    source_match: BTreeMap<String, Value>,
    target_match: BTreeMap<String, Value>,
    #[serde(default)]
    equal: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceSpec {
    name: String,
    #[serde(rename = "match")]
    matcher: BTreeMap<String, Value>,
    start: Value,
    end: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeveritySpec {
    #[serde(rename = "match")]
    matcher: BTreeMap<String, Value>,
    set: Severity,
}

// ---------------------------------------------------------------------------------------------
// Compiled form (what the engine runs)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Settings {
    /// How far behind the newest event time an event may arrive and still count as on time.
    pub allowed_lateness: Millis,
    /// A firing alert with no update for this long expires (counts as resolved).
    pub alert_expiry: Millis,
    /// At most one `trigger` update per incident per this much event time after the first.
    pub update_interval: Millis,
    /// An incident whose alerts have all resolved closes only after staying quiet this long, so
    /// that a member firing again (a flap) reopens the same incident instead of a new one.
    pub resolve_hold: Millis,
    /// An alert that had an incident to itself and fires again alone within this long after
    /// that incident resolved reopens it (same `dedup_key`) instead of opening another: a
    /// recurring check is one ticket, not one per episode. `0s` disables.
    pub reopen_window: Millis,
    pub flapping: Flapping,
    pub root_cause: RootCauseHints,
    /// Largest topology neighbourhood one alert may look at (keeps per-alert cost bounded).
    pub max_neighbourhood: usize,
}

#[derive(Clone, Debug)]
pub struct Flapping {
    pub window: Millis,
    pub max_changes: u32,
    pub quiet: Millis,
}

#[derive(Clone, Debug)]
pub struct RootCauseHints {
    /// Kinds in order of preference (first is most likely to be a cause).
    pub prefer_kinds: Vec<String>,
    /// Alert names (regexes) in order of preference.
    pub prefer_names: Vec<regex::Regex>,
    pub max_hops: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allowed_lateness: 60_000,
            alert_expiry: 4 * 3_600_000,
            update_interval: 30_000,
            resolve_hold: 5 * 60_000,
            reopen_window: 6 * 3_600_000,
            flapping: Flapping {
                window: 15 * 60_000,
                max_changes: 6,
                quiet: 30 * 60_000,
            },
            root_cause: RootCauseHints {
                prefer_kinds: [
                    "power",
                    "network",
                    "router",
                    "switch",
                    "firewall",
                    "loadbalancer",
                    "storage",
                    "hypervisor",
                    "host",
                    "node",
                    "database",
                    "queue",
                    "cache",
                    "service",
                    "pod",
                    "application",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                prefer_names: Vec::new(),
                max_hops: 4,
            },
            max_neighbourhood: 256,
        }
    }
}

#[derive(Clone, Debug)]
pub struct GroupingRule {
    pub name: String,
    pub origin: Origin,
    pub matcher: Matcher,
    pub window: Millis,
    /// Two alerts that share an upstream node (neither on it) relate when their hops to it sum
    /// to at most this.
    pub max_hops: u8,
    /// An alert relates to an alerting node at most this many hops upstream of it (the
    /// impact of a failure reaches further than a guess at a silent common cause).
    pub impact_hops: u8,
    pub edges: EdgeMask,
    pub group_by: Vec<Field>,
    pub topology: bool,
    pub min_alerts: usize,
    pub max_fanout: usize,
}

impl GroupingRule {
    /// Whether two alerts at these hops below a shared node relate through it: one on the node
    /// and the other at most `impact_hops` below it, or both below it (a silent common cause)
    /// at most `max_hops` apart in all.
    pub fn relates(&self, hops_a: u8, hops_b: u8) -> bool {
        if hops_a == 0 || hops_b == 0 {
            hops_a.max(hops_b) <= self.impact_hops
        } else {
            u16::from(hops_a) + u16::from(hops_b) <= u16::from(self.max_hops)
        }
    }

    /// How far upstream of an alert its anchors reach.
    pub fn reach(&self) -> u8 {
        self.max_hops.max(self.impact_hops)
    }

    /// The rule that applies when no configured rule matches: topology and time only.
    pub fn fallback() -> GroupingRule {
        GroupingRule {
            name: "default".into(),
            origin: Origin::default(),
            matcher: Matcher::default(),
            window: 5 * 60_000,
            max_hops: 2,
            impact_hops: 3,
            edges: EdgeMask::ALL,
            group_by: Vec::new(),
            topology: true,
            min_alerts: 1,
            max_fanout: 64,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SuppressRule {
    pub name: String,
    pub origin: Origin,
    pub matcher: Matcher,
    /// Suppress only matching alerts whose learned chronic-noise score (the anomaly model's
    /// `chronic_noise`, in [0, 1]) is above this. Without a trained model nothing is chronic,
    /// so such a rule suppresses nothing.
    pub chronic_above: Option<f64>,
}

impl SuppressRule {
    /// The reason counted when this rule keeps an alert out of incidents: `chronic:<name>` for
    /// a chronic-noise rule, `suppress:<name>` otherwise.
    pub fn reason(&self) -> String {
        if self.chronic_above.is_some() {
            format!("chronic:{}", self.name)
        } else {
            format!("suppress:{}", self.name)
        }
    }
}

#[derive(Clone, Debug)]
pub struct InhibitRule {
    pub name: String,
    pub origin: Origin,
    pub source: Matcher,
    pub target: Matcher,
    pub equal: Vec<Field>,
}

#[derive(Clone, Debug)]
pub struct MaintenanceWindow {
    pub name: String,
    pub origin: Origin,
    pub matcher: Matcher,
    pub start: Millis,
    pub end: Millis,
}

#[derive(Clone, Debug)]
pub struct SeverityRule {
    pub origin: Origin,
    pub matcher: Matcher,
    pub set: Severity,
}

#[derive(Clone, Debug)]
pub struct RuleSet {
    pub settings: Settings,
    pub groupings: Vec<GroupingRule>,
    pub suppress: Vec<SuppressRule>,
    pub inhibit: Vec<InhibitRule>,
    pub maintenance: Vec<MaintenanceWindow>,
    pub severity: Vec<SeverityRule>,
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet {
            settings: Settings::default(),
            groupings: vec![GroupingRule::fallback()],
            suppress: Vec::new(),
            inhibit: Vec::new(),
            maintenance: Vec::new(),
            severity: Vec::new(),
        }
    }
}

impl RuleSet {
    /// Loads one or more rule files (name, text), in order. Lists are concatenated; `settings`
    /// may appear in one file only. Every error of every file is returned.
    pub fn from_sources(files: &[(String, String)]) -> Result<RuleSet, Vec<ConfigError>> {
        let mut set = RuleSet {
            groupings: Vec::new(),
            ..RuleSet::default()
        };
        let mut errors = Vec::new();
        let mut settings_from: Option<String> = None;
        for (name, src) in files {
            let mut sink = ErrorSink::new(name, src);
            set.load_file(src, name, &mut sink, &mut settings_from);
            errors.extend(sink.into_errors());
        }
        if set.groupings.is_empty() {
            set.groupings.push(GroupingRule::fallback());
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    pub fn from_yaml(src: &str, file: &str) -> Result<RuleSet, Vec<ConfigError>> {
        RuleSet::from_sources(&[(file.to_string(), src.to_string())])
    }

    fn load_file(
        &mut self,
        src: &str,
        file: &str,
        sink: &mut ErrorSink,
        settings_from: &mut Option<String>,
    ) {
        if src.trim().is_empty() {
            return;
        }
        let parsed: RuleFile = match serde_norway::from_str(src) {
            Ok(f) => f,
            Err(e) => {
                sink.yaml(&e);
                return;
            }
        };
        let origin = |sink: &mut ErrorSink, path: &str| Origin {
            file: file.to_string(),
            line: sink.line_of(path),
        };

        if let Some(s) = parsed.settings {
            if let Some(prev) = settings_from.replace(file.to_string()) {
                sink.at("settings", format!("settings already given in {prev}"));
            }
            self.apply_settings(s, sink);
        }

        for (i, v) in parsed.groupings.into_iter().enumerate() {
            let path = format!("groupings[{i}]");
            let Some(g) = typed::<GroupingSpec>(v, &path, sink) else {
                continue;
            };
            let fallback = GroupingRule::fallback();
            let matcher = Matcher::compile(&g.matcher, &format!("{path}.match"), sink);
            let window = dur(
                g.window.as_deref(),
                fallback.window,
                &format!("{path}.window"),
                sink,
            );
            let mut group_by = Vec::new();
            for (j, attr) in g.group_by.iter().enumerate() {
                match Field::parse(attr) {
                    Some(f) => group_by.push(f),
                    None => sink.at(&format!("{path}.group_by[{j}]"), "empty attribute name"),
                }
            }
            if !g.topology && group_by.is_empty() {
                sink.at(
                    &path,
                    "a grouping with topology: false needs group_by, or it can only group \
                     repeats of one resource",
                );
            }
            let min_alerts = g.min_alerts.unwrap_or(1);
            if min_alerts == 0 {
                sink.at(
                    &format!("{path}.min_alerts"),
                    "min_alerts must be at least 1",
                );
            }
            let max_hops = g.max_hops.unwrap_or(fallback.max_hops);
            let impact_hops = g.impact_hops.unwrap_or(fallback.impact_hops.max(max_hops));
            if impact_hops < max_hops {
                sink.at(
                    &format!("{path}.impact_hops"),
                    format!("impact_hops ({impact_hops}) must be at least max_hops ({max_hops})"),
                );
            }
            let origin = origin(sink, &path);
            self.groupings.push(GroupingRule {
                name: g.name,
                origin,
                matcher,
                window,
                max_hops,
                impact_hops,
                edges: g
                    .edge_types
                    .as_deref()
                    .map(EdgeMask::of)
                    .unwrap_or(EdgeMask::ALL),
                group_by,
                topology: g.topology,
                min_alerts: min_alerts.max(1),
                max_fanout: g.max_fanout.unwrap_or(fallback.max_fanout),
            });
        }

        for (i, v) in parsed.suppress.into_iter().enumerate() {
            let path = format!("suppress[{i}]");
            let Some(s) = typed::<SuppressSpec>(v, &path, sink) else {
                continue;
            };
            let matcher = Matcher::compile(&s.matcher, &format!("{path}.match"), sink);
            match s.chronic_above {
                // Without a chronic condition an empty matcher is every alert.
                None if matcher.is_empty() => sink.at(
                    &format!("{path}.match"),
                    "a suppress rule with an empty matcher would drop every alert",
                ),
                // Scores are in [0, 1]: 1 or more can never be exceeded, and a negative
                // threshold would suppress every alert.
                Some(t) if !(0.0..1.0).contains(&t) => sink.at(
                    &format!("{path}.chronic_above"),
                    format!(
                        "chronic_above must be at least 0 and below 1 (a chronic-noise score \
                         is in [0, 1]), got {t}"
                    ),
                ),
                _ => {}
            }
            let origin = origin(sink, &path);
            self.suppress.push(SuppressRule {
                name: s.name,
                origin,
                matcher,
                chronic_above: s.chronic_above,
            });
        }

        for (i, v) in parsed.inhibit.into_iter().enumerate() {
            let path = format!("inhibit[{i}]");
            let Some(s) = typed::<InhibitSpec>(v, &path, sink) else {
                continue;
            };
            let source = Matcher::compile(&s.source_match, &format!("{path}.source_match"), sink);
            let target = Matcher::compile(&s.target_match, &format!("{path}.target_match"), sink);
            let mut equal = Vec::new();
            for (j, attr) in s.equal.iter().enumerate() {
                match Field::parse(attr) {
                    Some(f) => equal.push(f),
                    None => sink.at(&format!("{path}.equal[{j}]"), "empty attribute name"),
                }
            }
            let origin = origin(sink, &path);
            self.inhibit.push(InhibitRule {
                name: s.name,
                origin,
                source,
                target,
                equal,
            });
        }

        for (i, v) in parsed.maintenance.into_iter().enumerate() {
            let path = format!("maintenance[{i}]");
            let Some(s) = typed::<MaintenanceSpec>(v, &path, sink) else {
                continue;
            };
            let matcher = Matcher::compile(&s.matcher, &format!("{path}.match"), sink);
            let start = time(&s.start, &format!("{path}.start"), sink);
            let end = time(&s.end, &format!("{path}.end"), sink);
            if let (Some(a), Some(b)) = (start, end) {
                if b <= a {
                    sink.at(
                        &format!("{path}.end"),
                        "maintenance window ends before it starts",
                    );
                }
            }
            let origin = origin(sink, &path);
            self.maintenance.push(MaintenanceWindow {
                name: s.name,
                origin,
                matcher,
                start: start.unwrap_or(0),
                end: end.unwrap_or(0),
            });
        }

        for (i, v) in parsed.severity.into_iter().enumerate() {
            let path = format!("severity[{i}]");
            let Some(s) = typed::<SeveritySpec>(v, &path, sink) else {
                continue;
            };
            let matcher = Matcher::compile(&s.matcher, &format!("{path}.match"), sink);
            let origin = origin(sink, &path);
            self.severity.push(SeverityRule {
                origin,
                matcher,
                set: s.set,
            });
        }
    }

    fn apply_settings(&mut self, s: SettingsSpec, sink: &mut ErrorSink) {
        let st = &mut self.settings;
        st.allowed_lateness = dur(
            s.allowed_lateness.as_deref(),
            st.allowed_lateness,
            "settings.allowed_lateness",
            sink,
        );
        st.alert_expiry = dur(
            s.alert_expiry.as_deref(),
            st.alert_expiry,
            "settings.alert_expiry",
            sink,
        );
        st.update_interval = dur(
            s.update_interval.as_deref(),
            st.update_interval,
            "settings.update_interval",
            sink,
        );
        st.reopen_window = dur(
            s.reopen_window.as_deref(),
            st.reopen_window,
            "settings.reopen_window",
            sink,
        );
        st.resolve_hold = dur(
            s.resolve_hold.as_deref(),
            st.resolve_hold,
            "settings.resolve_hold",
            sink,
        );
        if let Some(f) = s.flapping {
            st.flapping.window = dur(
                f.window.as_deref(),
                st.flapping.window,
                "settings.flapping.window",
                sink,
            );
            st.flapping.quiet = dur(
                f.quiet.as_deref(),
                st.flapping.quiet,
                "settings.flapping.quiet",
                sink,
            );
            if let Some(n) = f.max_changes {
                if n < 2 {
                    sink.at(
                        "settings.flapping.max_changes",
                        "max_changes must be at least 2",
                    );
                }
                st.flapping.max_changes = n;
            }
        }
        if let Some(rc) = s.root_cause {
            if let Some(k) = rc.prefer_kinds {
                st.root_cause.prefer_kinds = k;
            }
            if let Some(names) = rc.prefer_names {
                st.root_cause.prefer_names.clear();
                for (i, n) in names.iter().enumerate() {
                    match regex::Regex::new(&format!("^(?:{n})$")) {
                        Ok(r) => st.root_cause.prefer_names.push(r),
                        Err(e) => sink.at(
                            &format!("settings.root_cause.prefer_names[{i}]"),
                            format!("invalid regex {n:?}: {e}"),
                        ),
                    }
                }
            }
            if let Some(h) = rc.max_hops {
                st.root_cause.max_hops = h;
            }
        }
        if let Some(n) = s.max_neighbourhood {
            if n == 0 {
                sink.at(
                    "settings.max_neighbourhood",
                    "max_neighbourhood must be at least 1",
                );
            }
            st.max_neighbourhood = n.max(1);
        }
    }

    /// The grouping rule for an alert: the first whose matcher accepts it.
    /// The longest grouping window: an anchor entry older than this links nothing any more.
    pub fn max_window(&self) -> Millis {
        self.groupings.iter().map(|g| g.window).max().unwrap_or(0)
    }

    pub fn grouping_for(
        &self,
        alert: &crate::model::Alert,
        kind_of: &dyn Fn(&crate::model::Alert) -> Option<crate::model::Str>,
    ) -> usize {
        self.groupings
            .iter()
            .position(|g| g.matcher.matches_with(alert, kind_of))
            .unwrap_or(self.groupings.len() - 1)
    }

    /// Rank of a topology kind in the root-cause preference (lower is more likely a cause).
    pub fn kind_rank(&self, kind: &str) -> usize {
        let kinds = &self.settings.root_cause.prefer_kinds;
        kinds
            .iter()
            .position(|k| k.eq_ignore_ascii_case(kind))
            .unwrap_or(kinds.len())
    }

    pub fn name_rank(&self, name: &str) -> usize {
        let names = &self.settings.root_cause.prefer_names;
        names
            .iter()
            .position(|r| r.is_match(name))
            .unwrap_or(names.len())
    }
}

fn typed<T: serde::de::DeserializeOwned>(v: Value, path: &str, sink: &mut ErrorSink) -> Option<T> {
    match serde_norway::from_value::<T>(v) {
        Ok(t) => Some(t),
        Err(e) => {
            sink.at(path, format!("{path}: {e}"));
            None
        }
    }
}

fn dur(v: Option<&str>, default: Millis, path: &str, sink: &mut ErrorSink) -> Millis {
    match v {
        None => default,
        Some(s) => parse_duration(s).unwrap_or_else(|e| {
            sink.at(path, e);
            default
        }),
    }
}

fn time(v: &Value, path: &str, sink: &mut ErrorSink) -> Option<Millis> {
    let text = crate::matcher::scalar_text(v).unwrap_or_default();
    let t = parse_event_time(&text);
    if t.is_none() {
        sink.at(
            path,
            format!("invalid time {text:?} (RFC 3339 or epoch milliseconds)"),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Alert;

    const GOOD: &str = r#"
settings:
  allowed_lateness: 2m
  flapping: {window: 10m, max_changes: 4, quiet: 20m}
  root_cause: {prefer_kinds: [switch, host, service]}
groupings:
  - name: by-cluster
    match: {labels: {cluster: {exists: true}}}
    group_by: [labels.cluster]
    topology: false
    window: 10m
  - name: topology
    max_hops: 3
    edge_types: [depends_on, runs_on]
suppress:
  - name: no-info
    match: {severity: info}
inhibit:
  - name: node-down-mutes-targets
    source_match: {name: NodeDown}
    target_match: {name: TargetDown}
    equal: [resource]
maintenance:
  - name: payroll patching
    match: {service: payroll}
    start: 2026-11-25T01:00:00Z
    end: 2026-11-25T03:00:00Z
severity:
  - match: {name: Watchdog}
    set: info
"#;

    #[test]
    fn loads_every_section() {
        let rs = RuleSet::from_yaml(GOOD, "good.yaml").unwrap();
        assert_eq!(rs.settings.allowed_lateness, 120_000);
        assert_eq!(rs.settings.flapping.max_changes, 4);
        assert_eq!(rs.groupings.len(), 2);
        assert_eq!(
            rs.groupings[0].group_by,
            vec![Field::Label("cluster".into())]
        );
        assert_eq!(rs.groupings[0].origin.line, Some(7));
        assert!(!rs.groupings[1].edges.contains(EdgeType::ConnectsTo));
        assert_eq!(rs.inhibit[0].equal, vec![Field::Resource]);
        assert_eq!(rs.maintenance[0].end - rs.maintenance[0].start, 7_200_000);
        assert_eq!(rs.kind_rank("switch"), 0);
        assert_eq!(rs.kind_rank("toaster"), 3);
        let mut a = Alert::firing("X", "h", 0);
        a.labels = vec![("cluster".into(), "c1".into())];
        assert_eq!(rs.grouping_for(&a, &|_| None), 0);
        a.labels.clear();
        assert_eq!(rs.grouping_for(&a, &|_| None), 1);
    }

    #[test]
    fn reports_every_error_with_its_line() {
        let bad = "groupings:\n  - name: a\n    window: 5parsecs\n  - name: b\n    colour: red\nsuppress:\n  - name: all\n    match: {}\nmaintenance:\n  - name: m\n    match: {name: X}\n    start: 2026-11-25T03:00:00Z\n    end: 2026-11-25T01:00:00Z\n";
        let errs = RuleSet::from_yaml(bad, "bad.yaml").unwrap_err();
        let got: Vec<_> = errs.iter().map(|e| (e.line, e.message.clone())).collect();
        assert_eq!(errs.len(), 4, "{got:#?}");
        assert_eq!(errs[0].line, Some(3));
        assert!(errs[0].message.contains("unknown unit"));
        assert_eq!(errs[1].line, Some(4));
        assert!(errs[1].message.contains("colour"));
        assert_eq!(errs[2].line, Some(8));
        assert_eq!(errs[3].line, Some(13));
        assert!(errs.iter().all(|e| e.file == "bad.yaml"));
    }

    #[test]
    fn chronic_suppress_rules() {
        let rs = RuleSet::from_yaml(
            "suppress:\n  - name: chronic\n    chronic_above: 0.8\n  - name: chronic-disks\n    match: {name: DiskAlmostFull}\n    chronic_above: 0.5\n  - name: plain\n    match: {severity: info}\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(rs.suppress[0].chronic_above, Some(0.8));
        assert!(rs.suppress[0].matcher.is_empty());
        assert_eq!(rs.suppress[0].reason(), "chronic:chronic");
        assert_eq!(rs.suppress[1].reason(), "chronic:chronic-disks");
        assert_eq!(rs.suppress[2].chronic_above, None);
        assert_eq!(rs.suppress[2].reason(), "suppress:plain");

        let bad = "suppress:\n  - name: never\n    chronic_above: 1.0\n  - name: all\n    chronic_above: -0.1\n  - name: nothing\n";
        let errs = RuleSet::from_yaml(bad, "bad.yaml").unwrap_err();
        let got: Vec<_> = errs.iter().map(|e| (e.line, e.message.clone())).collect();
        assert_eq!(errs.len(), 3, "{got:#?}");
        assert_eq!(errs[0].line, Some(3));
        assert!(errs[0]
            .message
            .contains("chronic_above must be at least 0 and below 1"));
        assert!(errs[0].message.contains("got 1"));
        assert_eq!(errs[1].line, Some(5));
        assert!(errs[2].message.contains("empty matcher"), "{got:#?}");
    }

    #[test]
    fn impact_hops_below_max_hops_is_an_error_with_its_line() {
        let bad = "groupings:\n  - name: a\n    max_hops: 3\n    impact_hops: 2\n";
        let errs = RuleSet::from_yaml(bad, "hops.yaml").unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, Some(4));
        assert!(errs[0]
            .message
            .contains("impact_hops (2) must be at least max_hops (3)"));
        // Unset, impact_hops follows a larger max_hops.
        let rs = RuleSet::from_yaml("groupings:\n  - {name: a, max_hops: 5}\n", "ok.yaml").unwrap();
        assert_eq!(rs.groupings[0].impact_hops, 5);
    }

    #[test]
    fn unknown_top_level_key_is_an_error() {
        let errs = RuleSet::from_yaml("grouping: []\n", "x.yaml").unwrap_err();
        assert!(errs[0].message.contains("grouping"), "{errs:?}");
        assert_eq!(errs[0].line, Some(1));
    }

    #[test]
    fn settings_in_two_files_is_an_error() {
        let files = vec![
            (
                "a.yaml".to_string(),
                "settings: {alert_expiry: 1h}\n".to_string(),
            ),
            (
                "b.yaml".to_string(),
                "settings: {alert_expiry: 2h}\n".to_string(),
            ),
        ];
        let errs = RuleSet::from_sources(&files).unwrap_err();
        assert_eq!(errs[0].file, "b.yaml");
    }
}
