//! Lints for rule sets (`corral check`): rules that load fine but cannot do what their author
//! meant. Pure: the caller supplies "now" (the CLI reads the wall clock or `--now`), the topology
//! and the label names that fixtures use.
//!
//! Every lint is a warning with a stable code:
//! - `never-matches`: a matcher condition no alert can satisfy (an empty `in` list, a severity
//!   condition that accepts none of the four severities, `exists: false` on a field every alert
//!   has, a `kind` no topology node has), or an inhibit rule whose `equal` fields can never be
//!   equal between its source and target;
//! - `shadowed`: a grouping or severity rule that an earlier rule always takes first (first
//!   match wins for both);
//! - `unused-label`: a matcher, `group_by` or `equal` on a label that no fixture alert and no
//!   topology node carries;
//! - `window-exceeds-expiry`: a grouping window longer than `settings.alert_expiry`;
//! - `maintenance-past`: a maintenance window that ended before "now".
//! - `chronic-without-models`: a suppress rule with `chronic_above` checked without a trained
//!   model: with no model nothing is chronic, so the rule suppresses nothing.

use crate::duration::format_duration;
use crate::matcher::{Field, Matcher, ValueMatch};
use crate::model::{format_event_time, Alert, Millis, Severity, Str};
use crate::rules::{Origin, RuleSet};
use crate::topology::TopologyFile;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lint {
    pub code: &'static str,
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Lint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(
                f,
                "{}:{}: warning[{}]: {}",
                self.file, l, self.code, self.message
            ),
            None => write!(f, "{}: warning[{}]: {}", self.file, self.code, self.message),
        }
    }
}

/// What the lints may know beyond the rules themselves.
#[derive(Debug, Default)]
pub struct LintContext<'a> {
    pub topology: Option<&'a TopologyFile>,
    /// Label names carried by fixture alerts; `None` when no fixture was given.
    pub fixture_labels: Option<&'a BTreeSet<String>>,
    /// Event time that counts as "now" for maintenance windows.
    pub now: Option<Millis>,
    /// Whether a trained anomaly model will be loaded with these rules; `None` when unknown.
    pub models_loaded: Option<bool>,
}

pub fn lint(rules: &RuleSet, ctx: &LintContext<'_>) -> Vec<Lint> {
    let mut out = Vec::new();
    let kinds: Option<BTreeSet<&str>> = ctx.topology.map(|t| {
        t.nodes
            .iter()
            .map(|n| n.kind.as_deref().unwrap_or(""))
            .collect()
    });
    let mut matchers: Vec<(String, &Origin, &Matcher)> = Vec::new();
    for g in &rules.groupings {
        matchers.push((format!("grouping {:?}", g.name), &g.origin, &g.matcher));
    }
    for s in &rules.suppress {
        matchers.push((format!("suppress rule {:?}", s.name), &s.origin, &s.matcher));
    }
    for r in &rules.inhibit {
        matchers.push((
            format!("inhibit rule {:?} (source_match)", r.name),
            &r.origin,
            &r.source,
        ));
        matchers.push((
            format!("inhibit rule {:?} (target_match)", r.name),
            &r.origin,
            &r.target,
        ));
    }
    for m in &rules.maintenance {
        matchers.push((format!("maintenance {:?}", m.name), &m.origin, &m.matcher));
    }
    for (i, s) in rules.severity.iter().enumerate() {
        matchers.push((format!("severity rule #{}", i + 1), &s.origin, &s.matcher));
    }

    for (what, origin, m) in &matchers {
        for (field, vm) in &m.conditions {
            if let Some(why) = never_matches(field, vm, kinds.as_ref()) {
                push(
                    &mut out,
                    "never-matches",
                    origin,
                    format!("{what} can never match: {} {why}", field.describe()),
                );
            }
        }
    }

    for r in &rules.inhibit {
        for f in &r.equal {
            let src = literal_set(&r.source, f);
            let tgt = literal_set(&r.target, f);
            if let (Some(a), Some(b)) = (src, tgt) {
                if a.is_disjoint(&b) {
                    push(
                        &mut out,
                        "never-matches",
                        &r.origin,
                        format!(
                            "inhibit rule {:?} can never inhibit: it needs equal {} but \
                             source_match allows only {:?} and target_match only {:?}",
                            r.name,
                            f.describe(),
                            a,
                            b
                        ),
                    );
                }
            }
        }
    }

    // First match wins for groupings and severity rules: a later rule whose every alert an
    // earlier rule accepts never applies.
    for (i, later) in rules.groupings.iter().enumerate() {
        if let Some(earlier) = rules.groupings[..i]
            .iter()
            .find(|e| subsumes(&e.matcher, &later.matcher))
        {
            push(
                &mut out,
                "shadowed",
                &later.origin,
                format!(
                    "grouping {:?} never applies: every alert it matches is taken first by \
                     grouping {:?} ({}){}",
                    later.name,
                    earlier.name,
                    earlier.origin,
                    if earlier.matcher.is_empty() {
                        ", a catch-all; put catch-alls last"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    for (i, later) in rules.severity.iter().enumerate() {
        if let Some((j, earlier)) = rules.severity[..i]
            .iter()
            .enumerate()
            .find(|(_, e)| subsumes(&e.matcher, &later.matcher))
        {
            push(
                &mut out,
                "shadowed",
                &later.origin,
                format!(
                    "severity rule #{} never applies: severity rule #{} ({}) matches every alert \
                     it matches first",
                    i + 1,
                    j + 1,
                    earlier.origin
                ),
            );
        }
    }

    if ctx.topology.is_some() || ctx.fixture_labels.is_some() {
        let mut known: BTreeSet<&str> = BTreeSet::new();
        if let Some(t) = ctx.topology {
            for n in &t.nodes {
                known.extend(n.labels.keys().map(String::as_str));
            }
        }
        if let Some(f) = ctx.fixture_labels {
            known.extend(f.iter().map(String::as_str));
        }
        let evidence = match (ctx.fixture_labels.is_some(), ctx.topology.is_some()) {
            (true, true) => "no fixture alert and no topology node",
            (true, false) => "no fixture alert",
            _ => "no topology node",
        };
        let report = |out: &mut Vec<Lint>, origin: &Origin, what: String, label: &str| {
            if !known.contains(label) {
                push(
                    out,
                    "unused-label",
                    origin,
                    format!("{what} uses label {label:?}, which {evidence} carries"),
                );
            }
        };
        for (what, origin, m) in &matchers {
            for (f, vm) in &m.conditions {
                // `exists: false` on a label nobody sets is true everywhere, not a typo to flag.
                if let (Field::Label(l), false) = (f, matches!(vm, ValueMatch::Exists(false))) {
                    report(&mut out, origin, what.clone(), l);
                }
            }
        }
        for g in &rules.groupings {
            for f in &g.group_by {
                if let Field::Label(l) = f {
                    report(
                        &mut out,
                        &g.origin,
                        format!("grouping {:?} group_by", g.name),
                        l,
                    );
                }
            }
        }
        for r in &rules.inhibit {
            for f in &r.equal {
                if let Field::Label(l) = f {
                    report(
                        &mut out,
                        &r.origin,
                        format!("inhibit rule {:?} equal", r.name),
                        l,
                    );
                }
            }
        }
    }

    let expiry = rules.settings.alert_expiry;
    for g in &rules.groupings {
        if g.window > expiry {
            push(
                &mut out,
                "window-exceeds-expiry",
                &g.origin,
                format!(
                    "grouping {:?} window {} is longer than settings.alert_expiry {}: an alert \
                     with no repeat expires before the window that could group it closes",
                    g.name,
                    format_duration(g.window),
                    format_duration(expiry)
                ),
            );
        }
    }

    if ctx.models_loaded == Some(false) {
        for s in &rules.suppress {
            if let Some(min) = s.chronic_above {
                push(
                    &mut out,
                    "chronic-without-models",
                    &s.origin,
                    format!(
                        "suppress rule {:?} has chronic_above: {min}, but no trained model is \
                         loaded: without one no alert is chronic and the rule suppresses nothing \
                         (train with `corral train`, load with --models)",
                        s.name
                    ),
                );
            }
        }
    }

    if let Some(now) = ctx.now {
        for m in &rules.maintenance {
            if m.end <= now {
                push(
                    &mut out,
                    "maintenance-past",
                    &m.origin,
                    format!(
                        "maintenance {:?} ended at {}, before now ({}): it can never apply again; \
                         remove it",
                        m.name,
                        format_event_time(m.end),
                        format_event_time(now)
                    ),
                );
            }
        }
    }
    out
}

fn push(out: &mut Vec<Lint>, code: &'static str, origin: &Origin, message: String) {
    out.push(Lint {
        code,
        file: origin.file.clone(),
        line: origin.line,
        message,
    });
}

/// Whether one condition accepts a field value (`None`: the field is absent).
fn accepts(field: &Field, vm: &ValueMatch, value: Option<&str>) -> bool {
    let single = Matcher {
        conditions: vec![(field.clone(), vm.clone())],
    };
    let mut a = Alert::firing("", "", 0);
    let v = value.unwrap_or("");
    match field {
        Field::Kind => {
            let kind = value.map(Str::from);
            return single.matches_with(&a, &|_| kind.clone());
        }
        Field::Name => a.name = v.into(),
        Field::Source => a.source = v.into(),
        Field::Resource => a.resource = v.into(),
        Field::Fingerprint => a.fingerprint = v.into(),
        Field::Service => a.service = value.map(Str::from),
        Field::Label(l) => {
            if let Some(v) = value {
                a.labels = vec![(l.clone(), v.into())];
            }
        }
        Field::Severity => match value.and_then(Severity::parse_loose) {
            Some(s) if Some(s.as_str()) == value => a.severity = s,
            // A severity is always one of the four names.
            _ => return false,
        },
    }
    single.matches(&a)
}

/// Why a condition can never be satisfied, if it cannot.
fn never_matches(field: &Field, vm: &ValueMatch, kinds: Option<&BTreeSet<&str>>) -> Option<String> {
    if let ValueMatch::OneOf(xs) = vm {
        if xs.is_empty() {
            return Some("is matched against an empty list".into());
        }
    }
    if *field == Field::Severity
        && !Severity::ALL
            .iter()
            .any(|s| accepts(field, vm, Some(s.as_str())))
    {
        return Some("accepts none of the severities critical, error, warning, info".into());
    }
    let always_present = matches!(
        field,
        Field::Name | Field::Severity | Field::Source | Field::Resource | Field::Fingerprint
    );
    if always_present && matches!(vm, ValueMatch::Exists(false)) {
        return Some("is required to be absent, but every alert has it".into());
    }
    if let (Field::Kind, Some(kinds)) = (field, kinds) {
        let any = kinds.iter().any(|k| accepts(field, vm, Some(k))) || accepts(field, vm, None);
        if !any {
            let mut known: Vec<&str> = kinds.iter().copied().filter(|k| !k.is_empty()).collect();
            known.truncate(12);
            return Some(format!(
                "accepts no kind of the topology (kinds there: {})",
                known.join(", ")
            ));
        }
    }
    None
}

/// The closed set of values a matcher allows for a field, when it pins the field to literals.
fn literal_set(m: &Matcher, f: &Field) -> Option<BTreeSet<String>> {
    m.conditions
        .iter()
        .find(|(cf, _)| cf == f)
        .and_then(|(_, vm)| {
            vm.literals()
                .map(|l| l.into_iter().map(str::to_string).collect())
        })
}

/// Whether every alert `later` matches is also matched by `earlier` (conservative: true only
/// when it can be shown condition by condition).
pub fn subsumes(earlier: &Matcher, later: &Matcher) -> bool {
    earlier.conditions.iter().all(|(f, e)| {
        later
            .conditions
            .iter()
            .any(|(lf, l)| lf == f && implies(f, l, e))
    })
}

/// Whether condition `a` on `field` implies condition `b` on the same field.
fn implies(field: &Field, a: &ValueMatch, b: &ValueMatch) -> bool {
    if let Some(lits) = a.literals() {
        return !lits.is_empty() && lits.iter().all(|l| accepts(field, b, Some(l)));
    }
    match (a, b) {
        (ValueMatch::Regex(x), ValueMatch::Regex(y))
        | (ValueMatch::NotRegex(x), ValueMatch::NotRegex(y)) => x.as_str() == y.as_str(),
        (ValueMatch::NotEqual(x), ValueMatch::NotEqual(y)) => x == y,
        (ValueMatch::NoneOf(xs), ValueMatch::NoneOf(ys)) => ys.iter().all(|y| xs.contains(y)),
        (ValueMatch::NoneOf(xs), ValueMatch::NotEqual(y)) => xs.contains(y),
        (ValueMatch::Exists(x), ValueMatch::Exists(y)) => x == y,
        // A regex that cannot match the empty value requires the field to be present.
        (ValueMatch::Regex(r), ValueMatch::Exists(true)) => !r.is_match(""),
        (ValueMatch::Regex(r), ValueMatch::NotEqual(x)) => !r.is_match(x),
        (ValueMatch::Regex(r), ValueMatch::NoneOf(xs)) => xs.iter().all(|x| !r.is_match(x)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(yaml: &str) -> RuleSet {
        RuleSet::from_yaml(yaml, "r.yaml").unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn codes(l: &[Lint]) -> Vec<&'static str> {
        l.iter().map(|l| l.code).collect()
    }

    #[test]
    fn default_rules_are_clean() {
        let src = include_str!("../../../rules/default.yaml");
        let rs = RuleSet::from_yaml(src, "default.yaml").unwrap();
        assert_eq!(lint(&rs, &LintContext::default()), vec![]);
    }

    #[test]
    fn never_matching_conditions() {
        let rs = rules(
            "groupings:\n  - name: a\n    match: {severity: {regex: 'sev[0-9]'}}\n  - name: b\n    match: {name: {in: []}}\n  - name: c\n    match: {resource: {exists: false}}\n  - name: d\n    match: {kind: toaster}\n  - name: e\n    match: {severity: {not_in: [critical, error, warning, info]}}\n  - name: fine\n    match: {severity: {regex: 'crit.*'}, kind: host}\n",
        );
        let topo = TopologyFile::parse("nodes: [{id: h1, kind: host}]\n", "t.yaml").unwrap();
        let l = lint(
            &rs,
            &LintContext {
                topology: Some(&topo),
                ..Default::default()
            },
        );
        let never: Vec<_> = l.iter().filter(|l| l.code == "never-matches").collect();
        assert_eq!(never.len(), 5, "{l:#?}");
        assert_eq!(never[0].line, Some(2));
        assert!(never[0].message.contains("grouping \"a\""));
        assert!(never[1].message.contains("empty list"));
        assert!(never[2].message.contains("every alert has it"));
        assert!(never[3].message.contains("kinds there: host"));
        assert!(never[4].message.contains("accepts none of the severities"));
        // Without a topology, kinds are unknown and not judged.
        let l = lint(&rs, &LintContext::default());
        assert_eq!(l.iter().filter(|l| l.code == "never-matches").count(), 4);
    }

    #[test]
    fn contradictory_inhibit_equal() {
        let rs = rules(
            "inhibit:\n  - name: never\n    source_match: {name: NodeDown, labels: {dc: [a]}}\n    target_match: {name: TargetDown, labels: {dc: b}}\n    equal: [labels.dc]\n  - name: ok\n    source_match: {name: NodeDown}\n    target_match: {name: TargetDown}\n    equal: [resource]\n",
        );
        let l = lint(&rs, &LintContext::default());
        assert_eq!(codes(&l), vec!["never-matches"], "{l:#?}");
        assert!(l[0].message.contains("\"never\" can never inhibit"));
        assert_eq!(l[0].line, Some(2));
    }

    #[test]
    fn shadowed_groupings_and_severity_rules() {
        let rs = rules(
            "groupings:\n  - name: everything\n  - name: db\n    match: {kind: database}\n  - name: prod\n    match: {labels: {env: prod}}\nseverity:\n  - match: {name: [Watchdog, Heartbeat]}\n    set: info\n  - match: {name: Watchdog, labels: {env: prod}}\n    set: warning\n  - match: {name: Other}\n    set: warning\n",
        );
        let l = lint(&rs, &LintContext::default());
        let shadowed: Vec<_> = l.iter().filter(|l| l.code == "shadowed").collect();
        assert_eq!(shadowed.len(), 3, "{l:#?}");
        assert!(shadowed[0]
            .message
            .contains("grouping \"db\" never applies"));
        assert!(shadowed[0].message.contains("catch-all"));
        assert_eq!(shadowed[1].line, Some(5));
        assert!(shadowed[2]
            .message
            .contains("severity rule #2 never applies"));
        // Specific rules before a catch-all shadow nothing.
        let rs = rules(
            "groupings:\n  - name: db\n    match: {kind: database}\n  - name: prod\n    match: {labels: {env: {regex: 'prod|staging'}}}\n  - name: prod-only\n    match: {labels: {env: prod, team: dba}}\n  - name: rest\n",
        );
        let l = lint(&rs, &LintContext::default());
        assert_eq!(codes(&l), vec!["shadowed"], "{l:#?}");
        assert!(l[0].message.contains("\"prod-only\""));
    }

    #[test]
    fn labels_nobody_uses() {
        let rs = rules(
            "groupings:\n  - name: by-cluster\n    match: {labels: {cluster: {exists: true}}}\n    group_by: [labels.cluster]\n  - name: rest\n    match: {labels: {legacy: {exists: false}}}\nsuppress:\n  - name: dev\n    match: {labels: {env: dev}}\ninhibit:\n  - name: i\n    source_match: {name: A}\n    target_match: {name: B}\n    equal: [labels.rack]\n",
        );
        // No evidence given: nothing to judge against.
        assert!(lint(&rs, &LintContext::default()).is_empty());
        let fixture: BTreeSet<String> = ["env".to_string()].into();
        let topo =
            TopologyFile::parse("nodes: [{id: h1, labels: {rack: r1}}]\n", "t.yaml").unwrap();
        let l = lint(
            &rs,
            &LintContext {
                topology: Some(&topo),
                fixture_labels: Some(&fixture),
                now: None,
                models_loaded: None,
            },
        );
        let msgs: Vec<&str> = l.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(codes(&l), vec!["unused-label", "unused-label"], "{msgs:#?}");
        assert!(msgs.iter().all(|m| m.contains("\"cluster\"")));
        assert!(msgs[1].contains("group_by"));
        // Fixtures alone.
        let l = lint(
            &rs,
            &LintContext {
                fixture_labels: Some(&fixture),
                ..Default::default()
            },
        );
        assert_eq!(l.len(), 3, "{l:#?}");
        assert!(l[2]
            .message
            .contains("\"rack\", which no fixture alert carries"));
    }

    #[test]
    fn window_longer_than_expiry() {
        let rs = rules(
            "settings: {alert_expiry: 1h}\ngroupings:\n  - name: slow\n    match: {name: BatchLate}\n    window: 2h\n  - name: ok\n    window: 30m\n",
        );
        let l = lint(&rs, &LintContext::default());
        assert_eq!(codes(&l), vec!["window-exceeds-expiry"]);
        assert!(l[0]
            .message
            .contains("window 2h is longer than settings.alert_expiry 1h"));
        assert_eq!(l[0].line, Some(3));
    }

    #[test]
    fn maintenance_in_the_past() {
        let rs = rules(
            "maintenance:\n  - name: old\n    match: {service: payroll}\n    start: 2026-11-20T01:00:00Z\n    end: 2026-11-20T03:00:00Z\n  - name: upcoming\n    match: {service: payroll}\n    start: 2026-12-01T01:00:00Z\n    end: 2026-12-01T03:00:00Z\n",
        );
        let now = crate::model::parse_event_time("2026-11-25T00:00:00Z");
        let l = lint(
            &rs,
            &LintContext {
                now,
                ..Default::default()
            },
        );
        assert_eq!(codes(&l), vec!["maintenance-past"]);
        assert!(l[0]
            .message
            .contains("\"old\" ended at 2026-11-20T03:00:00Z"));
        // Without a clock the core cannot tell.
        assert!(lint(&rs, &LintContext::default()).is_empty());
    }

    #[test]
    fn chronic_rule_without_models() {
        let rs = rules(
            "suppress:\n  - name: no-info\n    match: {severity: info}\n  - name: chronic-disk\n    match: {name: DiskAlmostFull}\n    chronic_above: 0.8\n",
        );
        let without = LintContext {
            models_loaded: Some(false),
            ..Default::default()
        };
        let l = lint(&rs, &without);
        assert_eq!(codes(&l), vec!["chronic-without-models"], "{l:#?}");
        assert_eq!(l[0].line, Some(4));
        assert!(l[0]
            .message
            .contains("\"chronic-disk\" has chronic_above: 0.8"));
        let with = LintContext {
            models_loaded: Some(true),
            ..Default::default()
        };
        assert!(lint(&rs, &with).is_empty());
        // Unknown (a service config whose models the check does not read): not judged.
        assert!(lint(&rs, &LintContext::default()).is_empty());
    }
}
