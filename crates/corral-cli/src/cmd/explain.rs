//! `corral explain [INPUT...] --incident ID | --alerts FP,FP`: over a replay, why alerts were
//! grouped (the chain of links: time gap, shared upstream, hops and edge types, rule), or why
//! not (the closest link and what it missed by), and why the root cause was chosen over the
//! other candidates.
//!
//! Links are re-derived with the engine's own criteria: two alerts link when they share an
//! anchor (the resource node or a node upstream of it within the rule's `max_hops`, over the
//! rule's edge types, or equal `group_by` values), the hops on both sides add up to at most
//! `max_hops`, and their first firing times are within the rule's `window`. The rule is that of
//! the later alert (the one that joined). A link through a topology node must also respect the
//! direction of impact, with the engine's own definition (`corral_core::causality`): a cause
//! cannot start after its effects, a warning is never the cause of its dependents nor links
//! through a silent shared upstream. An alert that is a symptom of firing members (and the cause
//! of none) joins one incident and bridges nothing, and so does a cause whose alert starts after
//! its effects': two alerts apart although they link say so.
//! For an alert on a resource the CMDB does not know, the engine's weak links (service placement,
//! shared service, co-firing check) are re-derived with its definitions (`check_signature`,
//! `CO_FIRING_WINDOW`, `TopologyIndex::nodes_of_service`): they join, never bridge. So does the
//! remote-effect link of a warning to a failure beyond the rule's reach but within the root-cause
//! analysis' (`root_cause.max_hops`).

use crate::input;
use crate::pipeline;
use anyhow::{bail, Result};
use corral_core::anomaly::AnomalyModel;
use corral_core::causality::{
    causal_breach, effect_too_late, silent_cause_tolerance, CausalBreach, CAUSE_LAG_TOLERANCE,
};
use corral_core::dedup::Mute;
use corral_core::duration::format_duration;
use corral_core::engine::{check_signature, CO_FIRING_WINDOW};
use corral_core::matcher::{field_value, Field};
use corral_core::model::{format_event_time, Alert, Millis, Severity, Status};
use corral_core::rootcause::{silent_outweighs, EARLIEST_TOLERANCE};
use corral_core::rules::GroupingRule;
use corral_core::topology::{EdgeMask, TopologyIndex};
use corral_core::{Engine, IncidentUpdate, RuleSet};
use corral_quality::score::{final_incidents, FinalIncidents};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::ExitCode;
use std::sync::Arc;

/// A topology node, by its index in the graph.
type NodeIdx = usize;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: input::InputArgs,
    /// Explain this incident (its `dedup_key`, or one it absorbed).
    #[arg(long, conflicts_with = "alerts", required_unless_present = "alerts")]
    pub incident: Option<String>,
    /// Explain why these alerts were or were not grouped (fingerprints, or NAME@RESOURCE).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub alerts: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A replay kept in memory, with what explanations need about each alert.
pub struct Replay {
    pub rules: Arc<RuleSet>,
    pub topology: Arc<TopologyIndex>,
    pub engine: Engine,
    pub updates: Vec<IncidentUpdate>,
    pub finals: FinalIncidents,
    /// First firing occurrence of each fingerprint.
    pub first: BTreeMap<String, Alert>,
    /// Canonical incident index of each member fingerprint.
    pub incident_of: BTreeMap<String, usize>,
}

impl Replay {
    /// Replays `alerts` through the engine, with learned baselines when given (they change
    /// root-cause choice and suppression through chronic noise).
    pub fn run(
        alerts: &[Alert],
        rules: Arc<RuleSet>,
        topology: Arc<TopologyIndex>,
        model: Option<Box<dyn AnomalyModel>>,
    ) -> Replay {
        let mut first: BTreeMap<String, Alert> = BTreeMap::new();
        for a in alerts {
            if a.status == Status::Firing && a.value.is_none() {
                first
                    .entry(a.fingerprint.to_string())
                    .or_insert_with(|| a.clone());
            }
        }
        let (updates, engine) = pipeline::correlate(
            alerts.iter().cloned(),
            rules.clone(),
            topology.clone(),
            model,
        );
        let finals = final_incidents(&updates);
        let mut incident_of = BTreeMap::new();
        for (i, members) in finals.members.iter().enumerate() {
            for fp in members {
                incident_of.entry(fp.clone()).or_insert(i);
            }
        }
        Replay {
            rules,
            topology,
            engine,
            updates,
            finals,
            first,
            incident_of,
        }
    }

    /// A fingerprint from a fingerprint or `NAME@RESOURCE`.
    pub fn resolve_ref(&self, r: &str) -> Result<String> {
        if self.first.contains_key(r) || self.engine.alert_state(r).is_some() {
            return Ok(r.to_string());
        }
        if let Some((name, resource)) = r.split_once('@') {
            let hits: Vec<&String> = self
                .first
                .iter()
                .filter(|(_, a)| a.name == name && a.resource == resource)
                .map(|(fp, _)| fp)
                .collect();
            match hits.len() {
                1 => return Ok(hits[0].clone()),
                0 => {}
                n => bail!("{r} names {n} alerts (different labels); give a fingerprint"),
            }
        }
        bail!("no alert {r:?} in the input (give a fingerprint or NAME@RESOURCE)")
    }

    /// `NAME@RESOURCE (fingerprint)`, for people.
    pub fn label_of(&self, fp: &str) -> String {
        self.label(fp)
    }

    /// Where an alert ended up, for people.
    pub fn placement_of(&self, fp: &str) -> String {
        self.placement(fp)
    }

    fn rule_of(&self, fp: &str) -> usize {
        match self.engine.alert_state(fp) {
            Some(st) => st.rule as usize,
            None => self.rules.groupings.len() - 1,
        }
    }

    fn label(&self, fp: &str) -> String {
        match self.first.get(fp) {
            Some(a) => format!("{}@{} ({fp})", a.name, a.resource),
            None => fp.to_string(),
        }
    }

    /// Where an alert ended up: an incident id, or why it is in none.
    fn placement(&self, fp: &str) -> String {
        if let Some(&i) = self.incident_of.get(fp) {
            return format!("incident {}", self.finals.ids[i]);
        }
        match self.engine.alert_state(fp).map(|s| s.mute) {
            Some(Mute::Suppressed(i)) => {
                let rule = &self.rules.suppress[i as usize];
                match rule.chronic_above {
                    Some(min) => format!(
                        "no incident: suppressed as chronic noise (learned score above {min}) \
                         by rule {:?}",
                        rule.name
                    ),
                    None => format!("no incident: suppressed by rule {:?}", rule.name),
                }
            }
            Some(Mute::Maintenance(i)) => format!(
                "no incident: in maintenance window {:?}",
                self.rules.maintenance[i as usize].name
            ),
            Some(Mute::Inhibited(i)) => format!(
                "no incident: inhibited by rule {:?}",
                self.rules.inhibit[i as usize].name
            ),
            Some(Mute::Flapping) => "no incident: flapping".into(),
            _ if self.first.contains_key(fp) => {
                "no incident: held below its rule's min_alerts, or only resolved".into()
            }
            _ => "no incident: never fired".into(),
        }
    }
}

/// One anchor of one alert: what it can share, and how far from the alert it is.
#[derive(Clone, Debug)]
struct Anchor {
    key: AnchorKey,
    hops: u8,
    hub: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum AnchorKey {
    Node(NodeIdx),
    Resource(String),
    Group(usize, Vec<String>),
}

fn anchors(
    replay: &Replay,
    alert: &Alert,
    rule_idx: usize,
    hops: u8,
    mask: EdgeMask,
) -> Vec<Anchor> {
    let rule = &replay.rules.groupings[rule_idx];
    let topo = &replay.topology;
    let mut out = Vec::new();
    match topo.resolve(&alert.resource) {
        Some(node) if rule.topology => {
            for u in topo.upstream_within(node, hops, mask, replay.rules.settings.max_neighbourhood)
            {
                out.push(Anchor {
                    key: AnchorKey::Node(u.node.index()),
                    hops: u.hops,
                    hub: u.hops > 0 && topo.downstream_degree(u.node) > rule.max_fanout,
                });
            }
        }
        Some(node) => out.push(Anchor {
            key: AnchorKey::Node(node.index()),
            hops: 0,
            hub: false,
        }),
        None => out.push(Anchor {
            key: AnchorKey::Resource(alert.resource.to_string()),
            hops: 0,
            hub: false,
        }),
    }
    if !rule.group_by.is_empty() {
        let values: Vec<String> = rule
            .group_by
            .iter()
            .map(|f| match f {
                Field::Kind => topo
                    .resolve(&alert.resource)
                    .map(|n| topo.node(n).kind.to_string())
                    .unwrap_or_default(),
                other => field_value(alert, other).unwrap_or("").to_string(),
            })
            .collect();
        if values.iter().all(|v| !v.is_empty()) {
            out.push(Anchor {
                key: AnchorKey::Group(rule_idx, values),
                hops: 0,
                hub: false,
            });
        }
    }
    out
}

/// How two alerts relate under the joiner's rule.
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    pub from: String,
    pub to: String,
    pub rule: String,
    pub delta_ms: Millis,
    pub delta: String,
    pub window: String,
    /// What they share: `same resource X`, `upstream X`, `group_by values ...`; empty if nothing.
    pub via: String,
    pub hops: Option<u32>,
    pub max_hops: u8,
    /// Impact paths from the shared node to each alert's resource.
    pub paths: Vec<String>,
    pub linked: bool,
    /// What it missed by, when not linked.
    pub missed_by: Vec<String>,
    /// Which causality rule refused the closest link, when one did: `cause_lags_effect`,
    /// `warning_as_cause`, `warning_through_silent_upstream`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causality: Option<&'static str>,
    /// The engine's weak link, when no strong one holds and one of the two alerts is on a
    /// resource the CMDB does not know: it joins, never bridges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weak: Option<WeakLink>,
    /// Fingerprints of the earlier and the later (joining) alert.
    #[serde(skip)]
    from_fp: String,
    #[serde(skip)]
    to_fp: String,
    /// Whether the later alert links as a symptom of the earlier one (on its resource, or below
    /// it).
    #[serde(skip)]
    symptom: bool,
    /// Whether the later alert links as the cause of the earlier one (on a node above it): only
    /// such a link lets an alert that is also a symptom elsewhere bridge incidents.
    #[serde(skip)]
    cause: bool,
}

fn fmt_delta(ms: Millis) -> String {
    let ms = ms.abs();
    if ms == 0 {
        return "0s".into();
    }
    let (h, m, s, rest) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || (rest > 0 && out.is_empty()) {
        if rest > 0 && h == 0 && m == 0 {
            out.push_str(&format!("{}.{:03}s", s, rest));
        } else {
            out.push_str(&format!("{s}s"));
        }
    }
    if out.is_empty() {
        out.push_str(&format!("{rest}ms"));
    }
    out
}

fn describe_path(topo: &TopologyIndex, cause: NodeIdx, symptom: NodeIdx, hops: u8) -> String {
    use petgraph::graph::NodeIndex;
    let (c, s) = (NodeIndex::new(cause), NodeIndex::new(symptom));
    match topo.impact_path(c, s, hops.max(1), EdgeMask::ALL) {
        Some(steps) if steps.is_empty() => format!("{}", topo.node(s).id),
        Some(steps) => {
            let mut text = steps[0].from.to_string();
            for st in &steps {
                text.push_str(&format!(" -{}-> {}", st.edge.as_str(), st.to));
            }
            text
        }
        // Not an impact of `cause` within reach: the member joined through another link (a
        // shared upstream, its service, a `group_by` value), which the grouping lines show.
        None => format!(
            "{} is not within {} hop{} downstream of {}",
            topo.node(s).id,
            hops.max(1),
            if hops.max(1) == 1 { "" } else { "s" },
            topo.node(c).id
        ),
    }
}

/// The link between `a` (earlier) and `b` under `b`'s rule, with the closest shared anchor.
fn link(replay: &Replay, a_fp: &str, b_fp: &str) -> Option<Link> {
    link_with(replay, a_fp, b_fp, true)
}

/// `link`, with or without the engine's weak links.
fn link_with(replay: &Replay, a_fp: &str, b_fp: &str, allow_weak: bool) -> Option<Link> {
    let (mut a, mut b) = (replay.first.get(a_fp)?, replay.first.get(b_fp)?);
    let (mut a_fp, mut b_fp) = (a_fp, b_fp);
    if b.event_time() < a.event_time() {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut a_fp, &mut b_fp);
    }
    let (ra, rb) = (replay.rule_of(a_fp), replay.rule_of(b_fp));
    let rule: &GroupingRule = &replay.rules.groupings[rb];
    let rule_a = &replay.rules.groupings[ra];
    let delta = b.event_time() - a.event_time();
    let close = delta <= rule.window;
    // Look further than the rules do, and over every edge type, to say by how much a link missed.
    const SEARCH_HOPS: u8 = 8;
    let wide_a = anchors(replay, a, ra, SEARCH_HOPS, EdgeMask::ALL);
    let wide_b = anchors(replay, b, rb, SEARCH_HOPS, EdgeMask::ALL);
    let strict_a = anchors(replay, a, ra, rule_a.reach(), rule_a.edges);
    let strict_b = anchors(replay, b, rb, rule.reach(), rule.edges);
    // The engine's causality limits on a link through a node: `b` joins, `a` is the member.
    // The member's side is its incident's first alert at the node, as the engine keeps it: a
    // cause must not lag the first effect it would join, not only this one. Returns the breach
    // and that first effect.
    let breach = |x: &Anchor, y: &Anchor| match x.key {
        AnchorKey::Node(n) => {
            let (effect_first, effect) = if x.hops > 0 {
                incident_first_at(replay, a_fp, n, b.event_time())
            } else {
                (a.event_time(), a_fp.to_string())
            };
            // Below the node where `a` alerts, `b` is its effect only if it started within a
            // scrape interval per hop after it (the engine counts from the latest alert there).
            let late_effect = if x.hops == 0 {
                effect_too_late(b.event_time(), y.hops, a.event_time())
            } else {
                None
            };
            causal_breach(b.severity, b.event_time(), y.hops, x.hops, effect_first)
                .or(late_effect)
                .map(|why| (why, effect))
        }
        _ => None,
    };
    // Strictly: the engine's relation (hubs only with an alert on them), with or without its
    // causality limits; otherwise the nearest.
    let best = |xs: &[Anchor], ys: &[Anchor], strict: Strictness| -> Option<(Anchor, Anchor)> {
        let mut best: Option<(Anchor, Anchor)> = None;
        for x in xs {
            for y in ys.iter().filter(|y| y.key == x.key) {
                if strict != Strictness::Nearest
                    && ((y.hub && x.hops > 0 && y.hops > 0) || !rule.relates(x.hops, y.hops))
                {
                    continue;
                }
                if strict == Strictness::Engine && breach(x, y).is_some() {
                    continue;
                }
                let total = u32::from(x.hops) + u32::from(y.hops);
                if best
                    .as_ref()
                    .is_none_or(|(bx, by)| total < u32::from(bx.hops) + u32::from(by.hops))
                {
                    best = Some((x.clone(), y.clone()));
                }
            }
        }
        best
    };
    let strict = best(&strict_a, &strict_b, Strictness::Engine);
    // No strong link: the engine's weak links for an alert the CMDB does not know.
    let weak = if strict.is_none() && allow_weak {
        weak_link(replay, (a_fp, a), (b_fp, b))
    } else {
        None
    };
    if let Some(w) = weak.as_ref().filter(|w| w.holds) {
        return Some(Link {
            from: replay.label(a_fp),
            to: replay.label(b_fp),
            rule: rule.name.clone(),
            delta_ms: delta,
            delta: fmt_delta(delta),
            window: format_duration(rule.window),
            via: w.via(),
            hops: None,
            max_hops: rule.max_hops,
            paths: w.path.iter().cloned().collect(),
            linked: true,
            missed_by: Vec::new(),
            causality: None,
            weak: Some(w.clone()),
            from_fp: a_fp.to_string(),
            to_fp: b_fp.to_string(),
            symptom: false,
            cause: false,
        });
    }
    // The nearest link the hops allow but causality refuses, if any.
    let refused = strict
        .is_none()
        .then(|| best(&strict_a, &strict_b, Strictness::HopsOnly))
        .flatten()
        .and_then(|(x, y)| breach(&x, &y).map(|why| (x, y, why)));
    let chosen = strict
        .clone()
        .or_else(|| refused.clone().map(|(x, y, _)| (x, y)))
        .or_else(|| best(&wide_a, &wide_b, Strictness::Nearest));
    let mut causality = None;
    let topo = &replay.topology;
    let mut missed = Vec::new();
    if !close {
        missed.push(format!(
            "Δt {} > window {}",
            fmt_delta(delta),
            format_duration(rule.window)
        ));
    }
    let (via, hops, paths) = match &chosen {
        Some((x, y)) => {
            let total = u32::from(x.hops) + u32::from(y.hops);
            let (via, paths) = match &x.key {
                AnchorKey::Node(n) => {
                    let id = topo
                        .node(petgraph::graph::NodeIndex::new(*n))
                        .id
                        .to_string();
                    let via = if total == 0 {
                        format!("same resource {id}")
                    } else {
                        format!("shared upstream {id}")
                    };
                    let mut paths = Vec::new();
                    // A path of 0 hops is the resource itself: nothing to show.
                    for (al, h) in [(a, x.hops), (b, y.hops)]
                        .into_iter()
                        .filter(|(_, h)| *h > 0)
                    {
                        if let Some(s) = topo.resolve(&al.resource) {
                            paths.push(describe_path(topo, *n, s.index(), h));
                        }
                    }
                    (via, paths)
                }
                AnchorKey::Resource(r) => (format!("same resource {r} (not in topology)"), vec![]),
                AnchorKey::Group(_, v) => (
                    format!(
                        "same group_by values {} = {}",
                        rule.group_by
                            .iter()
                            .map(|f| f.describe())
                            .collect::<Vec<_>>()
                            .join(","),
                        v.join(",")
                    ),
                    vec![],
                ),
            };
            if let Some((_, _, (why, first_effect))) = &refused {
                let node = via.trim_start_matches("shared upstream ");
                let (cause, effect) = (
                    format!("{}@{}", b.name, b.resource),
                    format!("{}@{}", a.name, a.resource),
                );
                let lagged = if first_effect == a_fp {
                    format!("its effect {effect}")
                } else {
                    // An earlier member of the same incident below the node set the time.
                    let first = replay
                        .first
                        .get(first_effect)
                        .map_or(first_effect.clone(), |f| {
                            format!("{}@{}", f.name, f.resource)
                        });
                    format!("the first effect of {effect}'s incident there, {first}")
                };
                // Below a silent node the member is no effect of the joining alert: a sibling.
                let sibling = if first_effect == a_fp {
                    effect.clone()
                } else {
                    format!(
                        "the first of {effect}'s incident below it, {}",
                        replay.label(first_effect)
                    )
                };
                causality = Some(match why {
                    CausalBreach::CauseLagsEffect { .. } => "cause_lags_effect",
                    CausalBreach::WeakCause { .. } => "warning_as_cause",
                    CausalBreach::WeakThroughSilentUpstream { .. } => {
                        "warning_through_silent_upstream"
                    }
                    CausalBreach::SilentCauseApart { .. } => "silent_cause_apart",
                    CausalBreach::EffectTooLate { .. } => "effect_too_late",
                });
                missed.push(match why {
                    CausalBreach::CauseLagsEffect { lag } => format!(
                        "the cause {cause} started {} after {lagged}, more than the {} a cause \
                         may lag",
                        fmt_delta(*lag),
                        fmt_delta(CAUSE_LAG_TOLERANCE)
                    ),
                    CausalBreach::WeakCause { severity } => format!(
                        "a {severity} does not link as the cause of its dependents ({cause} is \
                         a {severity}; {effect} depends on it)"
                    ),
                    CausalBreach::WeakThroughSilentUpstream { severity } => format!(
                        "a {severity} does not link through a silent shared upstream ({cause} \
                         is a {severity}; {node} has no alert)"
                    ),
                    CausalBreach::SilentCauseApart { gap, tolerance } => format!(
                        "{cause} started {} apart from {sibling}, more than the {} (a scrape \
                         interval per hop) in which a failure of the silent {node} reaches both: \
                         no common cause",
                        fmt_delta(*gap),
                        fmt_delta(*tolerance)
                    ),
                    CausalBreach::EffectTooLate { delay, tolerance } => format!(
                        "{cause} started {} after {effect} on {node} above it, more than the {} \
                         (a scrape interval per hop) in which a failure of {node} reaches it: a \
                         failure of its own",
                        fmt_delta(*delay),
                        fmt_delta(*tolerance)
                    ),
                });
            } else if strict.is_none() {
                if !rule.relates(x.hops, y.hops) {
                    missed.push(if x.hops == 0 || y.hops == 0 {
                        format!("{total} hops > impact_hops {}", rule.impact_hops)
                    } else {
                        format!(
                            "{total} hops > max_hops {} (silent shared upstream)",
                            rule.max_hops
                        )
                    });
                } else if rule.edges != EdgeMask::ALL {
                    missed.push("the path uses edge types the rule does not follow".into());
                } else if y.hub || x.hub {
                    missed.push(format!(
                        "the shared node is a hub (more than max_fanout {} dependents) with no \
                         alert of its own",
                        rule.max_fanout
                    ));
                }
            }
            (via, Some(total), paths)
        }
        None => {
            missed.push(format!(
                "nothing shared: no common upstream within {SEARCH_HOPS} hops{}",
                if rule.group_by.is_empty() {
                    ""
                } else {
                    " and different group_by values"
                }
            ));
            (String::new(), None, Vec::new())
        }
    };
    // A weak link that missed (by time, or a known joiner on co-firing alone) says so too.
    if let Some(why) = weak.as_ref().and_then(|w| w.missed_by.clone()) {
        missed.push(why);
    }
    // The joiner is a symptom of the member: on its resource, or below the node it sits on.
    let symptom = strict
        .as_ref()
        .is_some_and(|(x, _)| x.hops == 0 && !matches!(x.key, AnchorKey::Group(..)));
    let cause = strict
        .as_ref()
        .is_some_and(|(x, y)| y.hops == 0 && x.hops > 0 && matches!(x.key, AnchorKey::Node(_)));
    Some(Link {
        from: replay.label(a_fp),
        to: replay.label(b_fp),
        rule: rule.name.clone(),
        delta_ms: delta,
        delta: fmt_delta(delta),
        window: format_duration(rule.window),
        via,
        hops,
        max_hops: rule.max_hops,
        paths,
        linked: missed.is_empty(),
        missed_by: missed,
        causality,
        weak,
        from_fp: a_fp.to_string(),
        to_fp: b_fp.to_string(),
        symptom,
        cause,
    })
}

/// One of the engine's weak links (`Engine::correlate`), for a pair where at least one alert is
/// on a resource the CMDB does not know: it joins the alert to an incident but never bridges
/// two incidents.
#[derive(Clone, Debug, Serialize)]
pub struct WeakLink {
    /// `co_firing`, `service_placement`, `service` or `remote_effect`.
    pub kind: &'static str,
    /// Whether the engine's criteria for this link hold.
    pub holds: bool,
    /// The check (alert name and the labels that do not name the resource), for co-firing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// The business service, for a service placement or service link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// For a service placement: the node of the service the failure sits on or above, the
    /// failing node and the hops between them (at most the rule's `impact_hops`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hops: Option<u8>,
    /// The time limit the link is held to: `CO_FIRING_WINDOW` or the rule's window.
    pub limit: String,
    /// The evidence, for people.
    pub evidence: String,
    /// What it missed by, when it does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_by: Option<String>,
    /// Impact path from the service's node up to the failing node (service placement).
    #[serde(skip)]
    path: Option<String>,
}

impl WeakLink {
    fn via(&self) -> String {
        format!("weak link ({}): {}", self.kind_name(), self.evidence)
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            "co_firing" => "co-firing",
            "service_placement" => "service placement",
            "remote_effect" => "remote effect",
            _ => "service",
        }
    }
}

/// `NAME{k=v,...}` with the labels that do not name the resource: what `check_signature` hashes.
fn describe_check(alert: &Alert) -> String {
    let labels: Vec<String> = alert
        .labels
        .iter()
        .filter(|(_, v)| alert.resource.is_empty() || !v.contains(alert.resource.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{}{{{}}}", alert.name, labels.join(","))
}

/// The business service the engine files an alert under: its own, else its node's.
fn service_of(topo: &TopologyIndex, alert: &Alert) -> Option<String> {
    alert.service.as_ref().map(|s| s.to_string()).or_else(|| {
        topo.resolve(&alert.resource)
            .and_then(|n| topo.node(n).service.as_ref().map(|s| s.to_string()))
    })
}

/// Whether the incident of `fp` (or `fp` alone, in none) had a member at error or above firing
/// by `until`: the engine joins a service placement only to such a failure.
fn failing_by(replay: &Replay, fp: &str, until: Millis) -> bool {
    let alone = [fp.to_string()];
    let members = match replay.incident_of.get(fp) {
        Some(&i) => replay.finals.members[i].as_slice(),
        None => &alone[..],
    };
    members.iter().any(|m| {
        replay
            .first
            .get(m)
            .is_some_and(|x| x.event_time() <= until && x.severity >= Severity::Error)
    })
}

/// The engine's weak link between `a` (earlier, the member) and `b` (later, joining), when one of
/// them is on a resource the CMDB does not know and both rules use the topology (the engine
/// registers these anchors only then). In the engine's order of strength: a service placement,
/// a shared service, then co-firing. Between two alerts the CMDB knows, the remote effect. `None` when none applies even loosely; a link that applies
/// but misses its time limit is returned with `holds: false` and what it missed by.
fn weak_link(
    replay: &Replay,
    (a_fp, a): (&str, &Alert),
    (b_fp, b): (&str, &Alert),
) -> Option<WeakLink> {
    let topo = &replay.topology;
    let (ra, rb) = (replay.rule_of(a_fp), replay.rule_of(b_fp));
    let rule = &replay.rules.groupings[rb];
    if !rule.topology || !replay.rules.groupings[ra].topology {
        return None;
    }
    let (a_node, b_node) = (topo.resolve(&a.resource), topo.resolve(&b.resource));
    if let (Some(an), Some(bn)) = (a_node, b_node) {
        return remote_effect(replay, rule, (a_fp, a, an), (b, bn));
    }
    let delta = b.event_time() - a.event_time();
    let window = format_duration(rule.window);
    let empty = |kind| WeakLink {
        kind,
        holds: false,
        check: None,
        service: None,
        service_node: None,
        failing_node: None,
        hops: None,
        limit: window.clone(),
        evidence: String::new(),
        missed_by: None,
        path: None,
    };
    let mut near_miss: Option<WeakLink> = None;
    // (b) Service placement: `b` unknown, of a service the CMDB knows, `a` failing on one of the
    // service's nodes or within `impact_hops` upstream of them (`Engine::service_region`).
    if let (None, Some(n), Some(service)) = (b_node, a_node, b.service.as_deref()) {
        let mut best: Option<(u8, petgraph::graph::NodeIndex)> = None;
        for &m in topo.nodes_of_service(service) {
            let up = topo.upstream_within(
                m,
                rule.impact_hops,
                rule.edges,
                replay.rules.settings.max_neighbourhood,
            );
            if let Some(u) = up.iter().find(|u| u.node == n) {
                if best.is_none_or(|(h, _)| u.hops < h) {
                    best = Some((u.hops, m));
                }
            }
        }
        if let Some((hops, m)) = best {
            let (service_node, failing_node) =
                (topo.node(m).id.to_string(), topo.node(n).id.to_string());
            let place = if hops == 0 {
                format!("on {service_node}, a node of service {service}")
            } else {
                format!(
                    "on {failing_node}, {hops} hop{} above {service_node} of service {service} \
                     (impact_hops {})",
                    if hops == 1 { "" } else { "s" },
                    rule.impact_hops
                )
            };
            // The engine measures from the incident's first alert at that node.
            let (first_at_node, _) = incident_first_at(replay, a_fp, n.index(), b.event_time());
            let since = b.event_time() - first_at_node;
            let failing = failing_by(replay, a_fp, b.event_time());
            let mut w = empty("service_placement");
            w.service = Some(service.to_string());
            w.service_node = Some(service_node);
            w.failing_node = Some(failing_node);
            w.hops = Some(hops);
            w.path = (hops > 0).then(|| describe_path(topo, n.index(), m.index(), hops));
            w.evidence = format!(
                "{}@{} is of service {service} but not in the CMDB; the failure {}@{} sits {place}, \
                 started {} before it (window {window})",
                b.name,
                b.resource,
                a.name,
                a.resource,
                fmt_delta(since)
            );
            w.missed_by = if since > rule.window {
                Some(format!(
                    "service placement: the failure started {} before, more than the window {window}",
                    fmt_delta(since)
                ))
            } else if !failing {
                Some(format!(
                    "service placement: {}@{}'s incident has no alert at error or above, and only \
                     a failure places an alert of the service",
                    a.name, a.resource
                ))
            } else {
                None
            };
            if let Some(w) = settle(w, &mut near_miss) {
                return Some(w);
            }
        }
    }
    // (c) Service link: the same business service, one of the two unknown to the CMDB.
    if let (Some(sa), Some(sb)) = (service_of(topo, a), service_of(topo, b)) {
        if sa == sb {
            let mut w = empty("service");
            w.evidence = format!(
                "same service {sa}; {}",
                match (a_node, b_node) {
                    (None, None) => "neither resource is in the CMDB".to_string(),
                    (None, _) => format!("{} is not in the CMDB", a.resource),
                    _ => format!("{} is not in the CMDB", b.resource),
                }
            );
            w.service = Some(sa);
            w.missed_by = (delta > rule.window)
                .then(|| format!("service link: Δt {} > window {window}", fmt_delta(delta)));
            if let Some(w) = settle(w, &mut near_miss) {
                return Some(w);
            }
        }
    }
    // (a) Co-firing: the same check starting on both resources within `CO_FIRING_WINDOW`.
    let sig_a = check_signature(&a.name, &a.resource, &a.labels);
    if sig_a.is_some() && sig_a == check_signature(&b.name, &b.resource, &b.labels) {
        let mut w = empty("co_firing");
        w.check = Some(describe_check(b));
        w.limit = fmt_delta(CO_FIRING_WINDOW);
        w.evidence = format!(
            "same check {} on {} and {}, Δt {} (co-firing window {})",
            describe_check(b),
            a.resource,
            b.resource,
            fmt_delta(delta),
            fmt_delta(CO_FIRING_WINDOW)
        );
        w.missed_by = if delta > CO_FIRING_WINDOW {
            Some(format!(
                "co-firing: Δt {} > co-firing window {}",
                fmt_delta(delta),
                fmt_delta(CO_FIRING_WINDOW)
            ))
        } else if let Some(m) = b_node.and_then(|_| strong_link_in_own_incident(replay, a_fp, b_fp))
        {
            // A known alert with a topology link of its own gathers co-firing incidents of
            // unknown resources into the incident that link chose.
            w.evidence.push_str(&format!(
                "; {}@{} is in the CMDB and joined {} through the topology, and gathers this \
                 co-firing alert's incident into its own",
                b.name,
                b.resource,
                replay.label(&m)
            ));
            None
        } else if b_node.is_some() {
            Some(format!(
                "co-firing: {}@{} is in the CMDB, and an alert the CMDB knows never joins on \
                 co-firing alone (it only gathers a co-firing incident of unknown resources into \
                 the incident its topology links choose)",
                b.name, b.resource
            ))
        } else {
            None
        };
        if let Some(w) = settle(w, &mut near_miss) {
            return Some(w);
        }
    }
    near_miss
}

/// The engine's remote-effect link (`Engine::correlate`) between two alerts the CMDB knows: `b`
/// below `a`'s node further than the rule's reach and within the root-cause analysis'
/// (`root_cause.max_hops`), `a`'s incident failing and its first alert there started before
/// `b`, within a scrape interval per hop (`silent_cause_tolerance`). `b` is a warning, an
/// outright alert on a business service nothing depends on (what users see of a failure below
/// it), or an outright failure behind a silent node through which `a`'s failure is still
/// spreading (a member behind it started within a scrape interval before `b`). The engine makes
/// it only for an alert that nothing nearer links to a failure, which a pair alone does not show.
fn remote_effect(
    replay: &Replay,
    rule: &GroupingRule,
    (a_fp, a, an): (&str, &Alert, petgraph::graph::NodeIndex),
    (b, bn): (&Alert, petgraph::graph::NodeIndex),
) -> Option<WeakLink> {
    let topo = &replay.topology;
    let (reach, rca_hops) = (rule.reach(), replay.rules.settings.root_cause.max_hops);
    if rca_hops <= reach {
        return None;
    }
    let outright = b.severity >= Severity::Error;
    let user_facing = outright && topo.is_business_service_on_top(bn);
    let spread = if outright && !user_facing {
        Some(spreading_behind(replay, a_fp, b, rule)?)
    } else if !outright {
        // Needed only when nearer links offered incidents of mere warnings, which a pair alone
        // does not show: said when it holds.
        spreading_behind(replay, a_fp, b, rule)
    } else {
        None
    };
    let up = topo.upstream_within(
        bn,
        rca_hops,
        rule.edges,
        replay.rules.settings.max_neighbourhood,
    );
    let hops = up.iter().find(|u| u.node == an && u.hops > reach)?.hops;
    let (first_at_node, _) = incident_first_at(replay, a_fp, an.index(), b.event_time());
    let since = b.event_time() - first_at_node;
    let tolerance = silent_cause_tolerance(hops, 0).min(rule.window);
    let failing_node = topo.node(an).id.to_string();
    let missed_by = if since < 0 {
        Some(format!(
            "remote effect: {failing_node}'s failure started {} after it (effects follow their \
             cause)",
            fmt_delta(-since)
        ))
    } else if since > tolerance {
        Some(format!(
            "remote effect: {failing_node}'s failure started {} before it, more than a scrape \
             interval per hop ({})",
            fmt_delta(since),
            fmt_delta(tolerance)
        ))
    } else if !failing_by(replay, a_fp, b.event_time()) {
        Some(format!(
            "remote effect: {}@{}'s incident has no alert at error or above",
            a.name, a.resource
        ))
    } else {
        None
    };
    Some(WeakLink {
        kind: "remote_effect",
        holds: missed_by.is_none(),
        check: None,
        service: None,
        service_node: None,
        failing_node: Some(failing_node),
        hops: Some(hops),
        limit: fmt_delta(tolerance),
        evidence: format!(
            "{}@{} is {} {hops} hops below the failure {}@{} (beyond impact_hops {}, within \
             root_cause.max_hops {rca_hops}), which started {} before it (a scrape interval per \
             hop: {}){}; the engine links it so when nothing nearer {}",
            b.name,
            b.resource,
            if user_facing {
                "an outright alert on a business service nothing depends on (what its users see \
                 of a failure below it, no failure of its own),"
            } else if outright {
                "an outright failure"
            } else {
                "a warning"
            },
            a.name,
            a.resource,
            rule.impact_hops,
            fmt_delta(since),
            fmt_delta(tolerance),
            spread.map_or(String::new(), |(node, member)| format!(
                ", and is still spreading behind the silent {node} it depends on ({member} \
                 started within a scrape interval before it)"
            )),
            if outright {
                "does"
            } else {
                "links it to a failure (a warning whose nearer links offer only incidents of \
                 mere warnings follows it while it is still spreading behind a node the warning \
                 depends on)"
            }
        ),
        missed_by,
        path: Some(describe_path(topo, an.index(), bn.index(), hops)),
    })
}

/// For an outright failure `b`, a node it depends on within the rule's reach behind which a
/// member of `a_fp`'s incident started within a scrape interval before `b` (`CAUSE_LAG_TOLERANCE`):
/// the failure is still spreading through that node. (node, member) when there is one.
fn spreading_behind(
    replay: &Replay,
    a_fp: &str,
    b: &Alert,
    rule: &GroupingRule,
) -> Option<(String, String)> {
    let topo = &replay.topology;
    let b_time = b.event_time();
    let b_rule = replay.rule_of(&b.fingerprint);
    let upstream = anchors(replay, b, b_rule, rule.reach(), rule.edges);
    let alone = [a_fp.to_string()];
    let members = match replay.incident_of.get(a_fp) {
        Some(&i) => replay.finals.members[i].as_slice(),
        None => &alone[..],
    };
    for m in members {
        let Some(alert) = replay.first.get(m) else {
            continue;
        };
        let t = alert.event_time();
        if *m == *b.fingerprint || t > b_time || b_time - t > CAUSE_LAG_TOLERANCE {
            continue;
        }
        let m_rule = replay.rule_of(m);
        let m_reach = replay.rules.groupings[m_rule].reach();
        let behind = anchors(replay, alert, m_rule, m_reach, rule.edges);
        for u in upstream.iter().filter(|u| u.hops > 0) {
            if behind.iter().any(|x| x.hops > 0 && x.key == u.key) {
                if let AnchorKey::Node(n) = &u.key {
                    let n = *n;
                    let node = topo.node(petgraph::graph::NodeIndex::new(n)).id.to_string();
                    return Some((node, format!("{}@{}", alert.name, alert.resource)));
                }
            }
        }
    }
    None
}

/// A weak link that holds is the answer; of those that miss, the first (the strongest kind) is
/// kept as the near miss to report.
fn settle(mut w: WeakLink, near_miss: &mut Option<WeakLink>) -> Option<WeakLink> {
    w.holds = w.missed_by.is_none();
    if w.holds {
        return Some(w);
    }
    near_miss.get_or_insert(w);
    None
}

/// An earlier member of `b_fp`'s incident (other than `a_fp`) that `b_fp` links to strongly,
/// through the topology: what lets an alert the CMDB knows gather co-firing incidents.
fn strong_link_in_own_incident(replay: &Replay, a_fp: &str, b_fp: &str) -> Option<String> {
    let b_time = replay.first.get(b_fp)?.event_time();
    let &inc = replay.incident_of.get(b_fp)?;
    replay.finals.members[inc]
        .iter()
        .filter(|m| m.as_str() != a_fp && m.as_str() != b_fp)
        .filter(|m| {
            replay
                .first
                .get(m.as_str())
                .is_some_and(|x| x.event_time() <= b_time)
        })
        .find(|m| link_with(replay, m, b_fp, false).is_some_and(|l| l.linked))
        .cloned()
}

/// When the incident of `member_fp` first had an alert at `node` or below it (within each
/// member's rule), among members that fired by `until`, and which alert that was: the time the
/// engine keeps for the incident at that anchor. A member in no incident stands alone.
fn incident_first_at(
    replay: &Replay,
    member_fp: &str,
    node: NodeIdx,
    until: Millis,
) -> (Millis, String) {
    let alone = [member_fp.to_string()];
    let members = match replay.incident_of.get(member_fp) {
        Some(&i) => replay.finals.members[i].as_slice(),
        None => &alone[..],
    };
    let mut first = (
        replay
            .first
            .get(member_fp)
            .map_or(until, |a| a.event_time()),
        member_fp.to_string(),
    );
    for m in members {
        let Some(alert) = replay.first.get(m) else {
            continue;
        };
        if alert.event_time() >= first.0 || alert.event_time() > until {
            continue;
        }
        let rule_idx = replay.rule_of(m);
        let rule = &replay.rules.groupings[rule_idx];
        let at_node = anchors(replay, alert, rule_idx, rule.reach(), rule.edges)
            .iter()
            .any(|an| an.key == AnchorKey::Node(node));
        if at_node {
            first = (alert.event_time(), m.clone());
        }
    }
    first
}

/// How strictly `link` looks for a shared anchor.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// The engine's relation: hops, hubs and causality.
    Engine,
    /// Hops and hubs only, to say when causality alone refused a link.
    HopsOnly,
    /// The nearest shared anchor, to say by how much a link missed.
    Nearest,
}

#[derive(Serialize)]
struct Candidate {
    resource: String,
    kind: String,
    alerting: bool,
    explains: u32,
    of: usize,
    hop_sum: u32,
    first_alert: Option<String>,
    chosen: bool,
}

#[derive(Serialize)]
struct RootCauseExplanation {
    resource: String,
    reason: String,
    confidence: f64,
    candidates: Vec<Candidate>,
    paths: Vec<String>,
    /// Why a silent candidate that explains more lost to the alerting one, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    silent_rule: Option<String>,
    /// Why an alerting candidate that explains more lost to the chosen one it depends on.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_cause: Option<String>,
    /// Why a peer (each upstream of the other) that started a little earlier is not named.
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_rule: Option<String>,
}

#[derive(Serialize)]
struct IncidentExplanation {
    incident: String,
    members: Vec<String>,
    /// How each member joined: its link to an earlier member.
    chain: Vec<Link>,
    /// Members the pairwise links do not reach (joined through the incident's activity at a
    /// shared anchor over a longer span); the engine's own record says how.
    unlinked: Vec<String>,
    engine_explanation: Vec<String>,
    root_cause: RootCauseExplanation,
}

#[derive(Serialize)]
struct PairExplanation {
    alerts: Vec<String>,
    placements: Vec<String>,
    grouped: bool,
    /// Chain of links joining them (grouped) or the direct link and what it missed by.
    chain: Vec<Link>,
    /// Why they are apart although the link criteria hold, when that is the case.
    note: Option<String>,
    /// When the later alert is a symptom of a member of another incident, and the cause of
    /// none: the incident it joined instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_symptom: Option<SharedSymptom>,
}

/// An alert that is a symptom of a firing member of one incident and links to another: it joined
/// the first and bridged nothing.
#[derive(Serialize)]
struct SharedSymptom {
    symptom: String,
    /// The member of the other incident it also links to.
    apart_from: String,
    /// The incident it joined, and the member there it is a symptom of.
    joined: String,
    joined_through: String,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let rules =
        Arc::new(input::load_rules(args.input.rules.as_deref()).map_err(input::config_errors)?);
    let topology = Arc::new(
        input::load_topology(args.input.topology.as_deref()).map_err(input::config_errors)?,
    );
    let decoded = pipeline::decode_all(&args.input.inputs, &args.input.format)?;
    for d in decoded.dead.iter().take(20) {
        eprintln!("dead letter: {}:{}: {}", d.input, d.record, d.reason);
    }
    let model = input::load_model(args.input.models.as_deref())?;
    let replay = Replay::run(&decoded.alerts, rules, topology, model);
    if let Some(id) = &args.incident {
        let e = explain_incident(&replay, id)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&e)?);
        } else {
            print!("{}", render_incident(&e));
        }
    } else {
        if args.alerts.len() < 2 {
            bail!("--alerts needs at least two alerts");
        }
        let fps = args
            .alerts
            .iter()
            .map(|r| replay.resolve_ref(r))
            .collect::<Result<Vec<_>>>()?;
        let e = explain_pair(&replay, &fps);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&e)?);
        } else {
            print!("{}", render_pair(&e));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn canonical_incident(replay: &Replay, id: &str) -> Result<usize> {
    if let Some(i) = replay.finals.ids.iter().position(|x| x == id) {
        return Ok(i);
    }
    // An absorbed incident: follow it to where its alerts went.
    for u in replay.updates.iter().filter(|u| u.dedup_key == id) {
        if let Some(fp) = u.payload.custom_details.alerts.first() {
            if let Some(&i) = replay.incident_of.get(fp.as_str()) {
                return Ok(i);
            }
        }
    }
    let known: Vec<&str> = replay
        .finals
        .ids
        .iter()
        .take(10)
        .map(|s| s.as_str())
        .collect();
    bail!(
        "no incident {id:?} in this replay (incidents: {})",
        known.join(", ")
    )
}

fn explain_incident(replay: &Replay, id: &str) -> Result<IncidentExplanation> {
    let idx = canonical_incident(replay, id)?;
    let mut members: Vec<String> = replay.finals.members[idx].clone();
    members.sort_by_key(|fp| {
        (
            replay.first.get(fp).map_or(Millis::MAX, |a| a.event_time()),
            fp.clone(),
        )
    });
    let mut chain = Vec::new();
    let mut unlinked = Vec::new();
    for (i, fp) in members.iter().enumerate().skip(1) {
        // The earlier member it links to most closely in time.
        let best = members[..i]
            .iter()
            .filter_map(|e| link(replay, e, fp))
            .filter(|l| l.linked)
            // A strong link first: the engine takes one over a weak link whenever it has one.
            .min_by_key(|l| (l.weak.is_some(), l.delta_ms, l.hops))
            // Tied by a later member: an alert the CMDB knows, arriving with a topology link of
            // its own, gathers the co-firing incident of an unknown resource that fired first.
            .or_else(|| {
                members[i + 1..]
                    .iter()
                    .filter_map(|later| link(replay, fp, later))
                    .filter(|l| l.linked)
                    .min_by_key(|l| (l.weak.is_some(), l.delta_ms, l.hops))
            });
        match best {
            Some(l) => chain.push(l),
            None => unlinked.push(replay.label(fp)),
        }
    }
    let last = replay
        .updates
        .iter()
        .rev()
        .find(|u| u.dedup_key == replay.finals.ids[idx]);
    let engine_explanation = last
        .map(|u| {
            u.payload
                .custom_details
                .explanation
                .iter()
                .map(|line| line.to_string())
                .collect()
        })
        .unwrap_or_default();
    let root_cause = explain_root_cause(replay, &members, last);
    Ok(IncidentExplanation {
        incident: replay.finals.ids[idx].clone(),
        members: members.iter().map(|m| replay.label(m)).collect(),
        chain,
        unlinked,
        engine_explanation,
        root_cause,
    })
}

fn explain_root_cause(
    replay: &Replay,
    members: &[String],
    last: Option<&IncidentUpdate>,
) -> RootCauseExplanation {
    use petgraph::graph::NodeIndex;
    let topo = &replay.topology;
    let settings = &replay.rules.settings;
    // Per distinct member resource: its node and first alert.
    let mut resources: BTreeMap<NodeIdx, (Millis, Severity)> = BTreeMap::new();
    let mut unknown = 0usize;
    for fp in members {
        let Some(a) = replay.first.get(fp) else {
            continue;
        };
        match topo.resolve(&a.resource) {
            Some(n) => {
                let e = resources
                    .entry(n.index())
                    .or_insert((a.event_time(), a.severity));
                e.0 = e.0.min(a.event_time());
                e.1 = e.1.max(a.severity);
            }
            None => unknown += 1,
        }
    }
    let total = resources.len() + unknown;
    let mut cover: BTreeMap<NodeIdx, (u32, u32)> = BTreeMap::new();
    // Failing (error or above) member resources each node explains: once a member fails, a
    // silent node is weighed by those only (a warning is no evidence that it went down).
    let mut failing_cover: BTreeMap<NodeIdx, u32> = BTreeMap::new();
    let any_failing = resources.values().any(|r| r.1 >= Severity::Error);
    for (&n, &(_, severity)) in &resources {
        for u in topo.upstream_within(
            NodeIndex::new(n),
            settings.root_cause.max_hops,
            EdgeMask::ALL,
            settings.max_neighbourhood,
        ) {
            let c = cover.entry(u.node.index()).or_default();
            c.0 += 1;
            c.1 += u32::from(u.hops);
            if severity >= Severity::Error {
                *failing_cover.entry(u.node.index()).or_default() += 1;
            }
        }
    }
    let (chosen, reason, confidence) = match last {
        Some(u) => {
            let rc = &u.payload.custom_details.root_cause;
            (
                rc.resource.to_string(),
                rc.reason.to_string(),
                rc.confidence,
            )
        }
        None => (String::new(), String::new(), 0.0),
    };
    let mut candidates: Vec<Candidate> = cover
        .iter()
        .filter(|(n, (c, _))| resources.contains_key(n) || *c >= 2)
        .map(|(&n, &(c, h))| {
            let info = topo.node(NodeIndex::new(n));
            Candidate {
                resource: info.id.to_string(),
                kind: info.kind.to_string(),
                alerting: resources.contains_key(&n),
                explains: c,
                of: total,
                hop_sum: h,
                first_alert: resources.get(&n).map(|r| format_event_time(r.0)),
                chosen: info.id == chosen,
            }
        })
        .collect();
    candidates.sort_by(|x, y| {
        y.chosen
            .cmp(&x.chosen)
            .then(y.explains.cmp(&x.explains))
            .then(y.alerting.cmp(&x.alerting))
            .then(x.hop_sum.cmp(&y.hop_sum))
            .then(x.first_alert.cmp(&y.first_alert))
    });
    // Rule of evidence: a silent upstream that explains more than the chosen alerting node but
    // less than twice as much lost for that reason.
    let chosen_alerting = candidates.iter().find(|c| c.chosen && c.alerting);
    let silent_rule = chosen_alerting.and_then(|a| {
        let s = candidates
            .iter()
            .filter(|c| !c.alerting && c.explains > a.explains)
            .max_by_key(|c| c.explains)?;
        let evidence = match topo.resolve(&s.resource) {
            Some(n) if any_failing => failing_cover.get(&n.index()).copied().unwrap_or(0),
            _ => s.explains,
        };
        (!silent_outweighs(evidence, a.explains)).then(|| {
            let failing = if evidence < s.explains {
                format!(" ({evidence} failing outright; warnings are no evidence)")
            } else {
                String::new()
            };
            format!(
                "silent {} explains {} of {} member resources{failing}, more than {}'s {}, but a \
                 silent upstream needs at least twice the evidence of the best alerting node ({}) \
                 to be named root cause",
                s.resource,
                s.explains,
                s.of,
                a.resource,
                a.explains,
                2 * a.explains
            )
        })
    });
    // Whether `b` is within the root-cause reach above `a`.
    let upstream_of = |a: NodeIdx, b: NodeIdx| {
        topo.upstream_within(
            NodeIndex::new(a),
            settings.root_cause.max_hops,
            EdgeMask::ALL,
            settings.max_neighbourhood,
        )
        .iter()
        .any(|u| u.hops > 0 && u.node.index() == b)
    };
    // A root cause has no failing cause among the members (`rootcause::name_first_cause`): an
    // alerting member that explains as much or more but depends on the chosen node, which fails
    // outright and started no later, lost for that.
    let first_cause = topo.resolve(&chosen).and_then(|rc| {
        let &(rc_start, rc_severity) = resources.get(&rc.index())?;
        let rc_explains = cover.get(&rc.index())?.0;
        if rc_severity < Severity::Error {
            return None;
        }
        let (symptom, explains) = resources
            .iter()
            .filter(|&(&n, &(start, _))| n != rc.index() && start >= rc_start)
            .filter_map(|(&n, _)| Some((n, cover.get(&n)?.0)))
            .filter(|&(_, explains)| explains >= rc_explains)
            .filter(|&(n, _)| upstream_of(n, rc.index()))
            .max_by_key(|&(_, explains)| explains)?;
        let symptom_start = resources[&symptom].0;
        Some(format!(
            "{} explains {explains} of {total} member resources ({chosen}: {rc_explains}), but \
             depends on {chosen}, which fails outright and started {}s before it: a root cause \
             has no failing cause among the members, so the cause of {} is named",
            topo.node(NodeIndex::new(symptom)).id,
            (symptom_start - rc_start) / 1000,
            topo.node(NodeIndex::new(symptom)).id,
        ))
    });
    // Peers have no direction of impact (`rootcause::name_first_cause`): a failing member that
    // is upstream of the chosen node and downstream of it too, started earlier but within the
    // simultaneity tolerance, with a lesser alert, is not its cause.
    let peer_rule = topo.resolve(&chosen).and_then(|rc| {
        let rc = rc.index();
        let &(rc_start, rc_severity) = resources.get(&rc)?;
        let (&peer, &(peer_start, peer_severity)) =
            resources.iter().find(|&(&n, &(start, severity))| {
                n != rc
                    && start < rc_start
                    && rc_start - start <= EARLIEST_TOLERANCE
                    && severity >= Severity::Error
                    && severity < rc_severity
                    && upstream_of(rc, n)
                    && upstream_of(n, rc)
            })?;
        let (peer, rc) = (
            &topo.node(NodeIndex::new(peer)).id,
            &topo.node(NodeIndex::new(rc)).id,
        );
        Some(format!(
            "{peer} started {}s before {rc}, but each is upstream of the other (no direction of \
             impact) and {peer}'s alert is less severe ({} against {}): within the {}s \
             simultaneity tolerance severity decides, so {peer} is not {rc}'s cause",
            (rc_start - peer_start) / 1000,
            peer_severity,
            rc_severity,
            EARLIEST_TOLERANCE / 1000
        ))
    });
    candidates.truncate(8);
    let mut paths = Vec::new();
    if let Some(rc) = topo.resolve(&chosen) {
        for &n in resources.keys() {
            if n != rc.index() {
                paths.push(describe_path(
                    topo,
                    rc.index(),
                    n,
                    settings.root_cause.max_hops,
                ));
            }
        }
    }
    RootCauseExplanation {
        resource: chosen,
        reason,
        confidence,
        candidates,
        paths,
        silent_rule,
        first_cause,
        peer_rule,
    }
}

fn explain_pair(replay: &Replay, fps: &[String]) -> PairExplanation {
    let placements: Vec<String> = fps.iter().map(|f| replay.placement(f)).collect();
    let same = fps
        .iter()
        .map(|f| replay.incident_of.get(f))
        .collect::<Vec<_>>();
    let grouped = same[0].is_some() && same.iter().all(|s| *s == same[0]);
    let mut chain = Vec::new();
    if grouped {
        let members = &replay.finals.members[*same[0].unwrap_or(&0)];
        for target in &fps[1..] {
            chain.extend(path_between(replay, members, &fps[0], target));
        }
    } else {
        for target in &fps[1..] {
            chain.extend(link(replay, &fps[0], target));
        }
    }
    // The engine's "impact already shown" holds before any choice among incidents: the later
    // alert never linked to that incident at all.
    let impact_shown = (!grouped)
        .then(|| {
            chain
                .iter()
                .filter(|l| l.linked)
                .find_map(|l| impact_already_shown(replay, l))
        })
        .flatten();
    // Then "a degraded dependency explains no outage its users see" (`warnings_passed_over`),
    // before "a failure within root-cause reach first", which the warnings' incident also meets
    // when it holds no failure at all.
    let passed_over_warnings = (!grouped && impact_shown.is_none())
        .then(|| {
            chain
                .iter()
                .filter(|l| l.linked && !l.cause)
                .find_map(|l| warnings_passed_over(replay, l))
        })
        .flatten();
    // "A failure within root-cause reach first" holds before any choice too: among the
    // incidents the later alert links to, none held a failure within `root_cause.max_hops`
    // above it.
    let beyond_reach = (!grouped && impact_shown.is_none() && passed_over_warnings.is_none())
        .then(|| {
            chain
                .iter()
                .filter(|l| l.linked && !l.cause)
                .find_map(|l| failure_beyond_reach(replay, l))
        })
        .flatten();
    let shared_symptom = if grouped
        || impact_shown.is_some()
        || passed_over_warnings.is_some()
        || beyond_reach.is_some()
    {
        None
    } else {
        chain
            .iter()
            .filter(|l| l.linked && !l.cause && l.weak.is_none())
            .find_map(|l| shared_symptom(replay, l))
    };
    let weak_apart = (!grouped)
        .then(|| chain.iter().find(|l| l.linked && l.weak.is_some()))
        .flatten();
    let recovered_apart = (!grouped)
        .then(|| recovered_apart(replay, &fps[0], &fps[1]))
        .flatten();
    let late_cause_followed = weak_apart.and_then(|l| followed_late_cause(replay, l));
    let joined_late = grouped
        .then(|| joined_late_effect(replay, &fps[0], &fps[1]))
        .flatten();
    let silent_guess_merged = (grouped && joined_late.is_none())
        .then(|| merged_silent_guess(replay, &fps[0], &fps[1]))
        .flatten();
    let note = if let Some(line) = &silent_guess_merged {
        Some(format!(
            "they were two incidents until the engine merged them: {line}; a dependency failing \
             outright makes its dependents fail, so a failure seen firing on a node a silent \
             guess depends on directly explains what the guess stood for (silent guess)"
        ))
    } else if let Some(line) = &joined_late {
        Some(format!(
            "they were two incidents until they recovered together: {line}; the scrape interval \
             per hop is a bound guessed at the start, and a failure that had shown no effect of \
             its own below it reaches its first effect just past it as likely as just before \
             (late effect)"
        ))
    } else if let Some(line) = &recovered_apart {
        Some(recovered_apart_note(line))
    } else if let Some(shown) = &impact_shown {
        Some(format!(
            "the link criteria hold, yet they are apart: {} fails outright {} after {}, the first \
             alert of incident {} on {}, where that incident's failure ({}) had only degraded it \
             ({}); a failure's impact on a resource shows at its worst within the {} of reaching \
             it, so {} is a failure of its own, not that impact, and does not link to that \
             incident",
            shown.outage,
            fmt_delta(shown.after),
            shown.degraded_first,
            shown.incident,
            shown.resource,
            shown.failing,
            shown.shown,
            fmt_delta(CAUSE_LAG_TOLERANCE),
            shown.outage
        ))
    } else if let Some(clause) = &passed_over_warnings {
        Some(format!(
            "the link criteria hold, yet they are apart: {clause}"
        ))
    } else if let Some(r) = &beyond_reach {
        Some(format!(
            "the link criteria hold, yet they are apart: {}'s incident {} holds no failure within \
             root_cause.max_hops ({}) above {}{}, while {}, in incident {}, fails outright {} \
             and started {} before it; a failure explains a symptom only within the root-cause \
             analysis' reach above it, so {} joined that failure rather than one beyond \
             root-cause reach, and bridges nothing",
            r.member,
            r.apart,
            r.reach,
            r.symptom,
            r.apart_failure
                .as_ref()
                .map_or(String::new(), |(f, hops)| format!(
                    " (its failure {f} is {})",
                    hops_above(*hops)
                )),
            r.failure,
            r.joined,
            hops_above(r.hops),
            fmt_delta(r.since),
            r.symptom
        ))
    } else if let Some(line) = &late_cause_followed {
        Some(format!(
            "the link criteria hold, yet they are apart: {line}; a business service's alert \
             placed in a failure further down as what its users see of it follows a nearer \
             failure whose alert starts within a scrape interval after it (user-facing late \
             cause)"
        ))
    } else if let Some(l) = weak_apart {
        let kind = l.weak.as_ref().map_or("", |w| w.kind_name());
        Some(format!(
            "the link criteria hold, yet they are apart: their only link is weak ({}); {}, so \
             {} went to the incident its other links chose (a strong link, a service before a \
             co-firing check, then the nearest in time, the failure that started most recently \
             where it places the alert in its service, and the most recently active), or one of \
             them is in no incident (see above)",
            kind, WEAK_LINK_RULE, l.to
        ))
    } else if let Some(s) = &shared_symptom {
        Some(format!(
            "the link criteria hold, yet they are apart: {} is a symptom of {}, a firing \
             member of incident {}, which it joined; an alert that is a symptom of firing \
             members and the cause of none joins one incident (one with a failure within \
             root_cause.max_hops above it first, then one with a failure before one of \
             warnings, then one alerting within max_hops above it before one further up, then \
             that of the cause that started first within a scrape interval before it, else most \
             recently, then the nearest) and \
             bridges nothing: a shared symptom is not a shared cause, so its link to {} does not \
             tie the two incidents",
            s.symptom, s.joined_through, s.joined, s.apart_from
        ))
    } else if let Some((effect, explained_by, incident, cause)) = (!grouped)
        .then(|| {
            chain
                .iter()
                .filter(|l| l.linked && l.cause)
                .find_map(|l| explained_away(replay, l))
        })
        .flatten()
    {
        Some(format!(
            "the link criteria hold, yet they are apart: {effect} was already explained by \
             {explained_by}, an alerting member of incident {incident} above it; an alert links \
             as the cause only of members that no alerting node of their incident explains yet \
             (explaining away), so {cause} is a failure of its own"
        ))
    } else if let Some(l) = (!grouped)
        .then(|| chain.iter().find(|l| l.linked && l.cause && l.delta_ms > 0))
        .flatten()
    {
        Some(format!(
            "the link criteria hold, yet they are apart: {} started {} after {}, within the {} a \
             cause may lag its effects, so it may be their late cause or a failure of its own \
             starting just after them; a late cause joins the failure it lags least (one at error \
             or above before one of mere warnings) and bridges nothing unless several sit \
             directly below it (one hop; then it bridges those, the failing ones if any fail), \
             so its link to {} does not tie the two incidents",
            l.to,
            l.delta,
            l.from,
            fmt_delta(CAUSE_LAG_TOLERANCE),
            l.from
        ))
    } else {
        (!grouped && chain.iter().any(|l| l.linked)).then(|| {
            "the link criteria hold, yet they are apart: one of them is in no incident (see \
             above), or the earlier incident had already closed when the later alert fired"
                .to_string()
        })
    };
    PairExplanation {
        alerts: fps.iter().map(|f| replay.label(f)).collect(),
        placements,
        grouped,
        chain,
        note,
        shared_symptom,
    }
}

/// How the engine's split line ends when a warning left the outage it had joined as no symptom
/// of it (`Engine::check_warning_against_root`), not as a failure of its own.
const NO_SYMPTOM: &str = "no symptom of it";

/// How the engine's split line says the part went to another failure that explained it too
/// and recovered with it (`Engine::join_explanation_recovered_with`), not to an incident of its
/// own.
const EXPLAINED_TOO: &str = "which explained it too";

/// How the engine's split line ends when a warning above the named root cause left its outage
/// as no cause of it (`Engine::check_warning_against_root`).
const NO_CAUSE: &str = "no cause of it";

/// How the engine's split line ends when a member far below the named root cause (beyond the
/// root-cause reach) recovered while every possible cause above it kept failing
/// (`SplitReason::CausesKeptFailing`), the one it names the nearest of them.
const CAUSES_KEPT_FAILING: &str = "so did every failure above it";

/// How the engine's split line goes on after the nearest cause when a member far below the
/// named root cause kept failing after every possible cause above it had recovered
/// (`SplitReason::OutlivedItsCauses`).
const OUTLIVED_ITS_CAUSES: &str = "and every other failure above it had recovered";

/// What a recovery split's line says of the part split off, by the first marker the line holds
/// (the engine ends each kind of split line its own way, in `crates/corral-core/src/engine/
/// splits.rs`: most in `SplitReason::conclusion`, which changes with these); a line with none
/// was a failure of its own.
const RECOVERED_APART_CONCLUSIONS: [(&str, &str); 5] = [
    (
        NO_SYMPTOM,
        "a warning that cleared while the named root cause kept failing beyond that time was no \
         symptom of it: it degraded its resource for a reason of its own (no symptom)",
    ),
    (
        EXPLAINED_TOO,
        "the part that recovered apart from the named root cause was not its effect: it went to \
         the failure that explained it too and recovered with it (recovered with another cause)",
    ),
    (
        NO_CAUSE,
        "a warning above the named root cause that cleared while the root kept failing beyond \
         that time was not its cause, and being above it, no symptom of it either: it degraded \
         its resource for a reason of its own (no cause)",
    ),
    (
        CAUSES_KEPT_FAILING,
        "the part that recovered while every failure above it within the root-cause reach (its \
         possible causes; the named root cause is further up) kept failing beyond that time was \
         a failure of its own (recovered apart from its causes)",
    ),
    (
        OUTLIVED_ITS_CAUSES,
        "the part that kept failing beyond that time after every failure above it within the \
         root-cause reach (its possible causes; the named root cause is further up) had \
         recovered was a failure of its own (outlived its causes)",
    ),
];

/// The note on a pair a recovery split took apart (`line` is the engine's split line).
fn recovered_apart_note(line: &str) -> String {
    let conclusion = RECOVERED_APART_CONCLUSIONS
        .iter()
        .find(|(marker, _)| line.contains(marker))
        .map_or(
            "the part that recovered apart from the named root cause (recovered apart) was a \
             failure of its own",
            |(_, conclusion)| conclusion,
        );
    format!(
        "they were in one incident until the engine split it: {line}; a cause's recovery brings \
         its effects' within a scrape interval per hop and one more \
         (causality::recovery_tolerance), so {conclusion}"
    )
}

/// The engine's own line (`Engine::split_recovered`) when the incidents of `a` and `b` were one
/// until the part that recovered apart from its named root cause was split off: the split-off
/// incident's explanation names the incident it came from, and that one's (while it has room)
/// the part.
fn recovered_apart(replay: &Replay, a: &str, b: &str) -> Option<String> {
    let (ia, ib) = (*replay.incident_of.get(a)?, *replay.incident_of.get(b)?);
    let explanation = |i: usize| {
        replay
            .updates
            .iter()
            .rev()
            .find(|u| u.dedup_key == replay.finals.ids[i])
            .map(|u| u.payload.custom_details.explanation.clone())
            .unwrap_or_default()
    };
    [(ia, ib), (ib, ia)].into_iter().find_map(|(from, other)| {
        let other_key = &replay.finals.ids[other];
        explanation(from)
            .into_iter()
            .find(|line| {
                (line.contains("recovered while") || line.contains(OUTLIVED_ITS_CAUSES))
                    && line.ends_with(other_key.as_str())
            })
            .map(|line| line.to_string())
    })
}

/// Why a business service's outright alert that the remote-effect link placed in a failure
/// further down is apart from it (`Engine::follow_late_cause`): the incident it is in holds an
/// outright alert on a node within its rule's reach below it that started within a scrape
/// interval after it, its late cause, which it followed.
fn followed_late_cause(replay: &Replay, l: &Link) -> Option<String> {
    if l.weak.as_ref()?.kind != "remote_effect" {
        return None;
    }
    let joined = *replay.incident_of.get(&l.to_fp)?;
    if replay.incident_of.get(&l.from_fp) == Some(&joined) {
        return None;
    }
    let symptom = replay.first.get(&l.to_fp)?;
    let topo = &replay.topology;
    let node = topo.resolve(&symptom.resource)?;
    if symptom.severity < Severity::Error || !topo.is_business_service_on_top(node) {
        return None;
    }
    let rule = replay.rules.groupings.get(replay.rule_of(&l.to_fp))?;
    let ups = topo.upstream_within(
        node,
        rule.reach(),
        rule.edges,
        replay.rules.settings.max_neighbourhood,
    );
    let start = symptom.event_time();
    replay.finals.members[joined]
        .iter()
        .filter(|m| **m != l.to_fp)
        .filter_map(|m| replay.first.get(m.as_str()))
        .filter(|c| {
            c.severity >= Severity::Error
                && (0..=CAUSE_LAG_TOLERANCE).contains(&(c.event_time() - start))
        })
        .find_map(|c| {
            let n = topo.resolve(&c.resource)?;
            let hops = ups.iter().find(|u| u.node == n && u.hops > 0)?.hops;
            Some(format!(
                "{} joined the failure of {} as what its users see of it, then {}@{}, {} hop(s) \
                 below it within the rule's reach, started {} after it: its late cause, nearer \
                 than that failure, which it followed into incident {}",
                l.to,
                l.from,
                c.name,
                c.resource,
                hops,
                fmt_delta(c.event_time() - start),
                replay.finals.ids[joined]
            ))
        })
}

/// The engine's merge line when one of `a` and `b` opened an incident of its own just past the
/// per-hop bound below the other's node and joined it when they recovered together
/// (`Engine::join_late_effect_recovered_with`).
fn joined_late_effect(replay: &Replay, a: &str, b: &str) -> Option<String> {
    let i = *replay.incident_of.get(a)?;
    replay
        .updates
        .iter()
        .rev()
        .find(|u| u.dedup_key == replay.finals.ids[i])?
        .payload
        .custom_details
        .explanation
        .iter()
        .find(|line| {
            line.contains(LATE_EFFECT_JOINED)
                && (line.contains(&format!(" {a} on ")) || line.contains(&format!(" {b} on ")))
        })
        .map(|line| line.to_string())
}

/// What the engine's merge line of a late effect says (`Engine::join_late_effect_recovered_with`).
const LATE_EFFECT_JOINED: &str = "started just past the scrape interval per hop after";

/// The engine's merge line when one of `a` and `b` stayed, after a recovery split, in an
/// incident named by a guess at a silent node that depends directly on a node where the
/// other's incident was still failing outright (`Engine::fold_silent_remainder`): the absorbed
/// incident's closing update (pointing at the survivor) lists exactly one of them, and says
/// why (or the survivor does, when it was the rest that absorbed the failure).
fn merged_silent_guess(replay: &Replay, a: &str, b: &str) -> Option<String> {
    let i = *replay.incident_of.get(a)?;
    let survivor = replay.finals.ids[i].as_str();
    let last = |key: &str| {
        replay
            .updates
            .iter()
            .rev()
            .find(|u| u.dedup_key == key)
            .map(|u| &u.payload.custom_details)
    };
    let survivor_lines = &last(survivor)?.explanation;
    replay
        .updates
        .iter()
        .filter(|u| u.payload.custom_details.merged_into.as_deref() == Some(survivor))
        .find_map(|u| {
            let details = &u.payload.custom_details;
            let held = |fp: &str| details.alerts.iter().any(|m| m == fp);
            if held(a) == held(b) {
                return None;
            }
            let absorbed = format!("merged {}: ", u.dedup_key);
            details
                .explanation
                .iter()
                .find(|l| l.contains(SILENT_GUESS_JOINED))
                .or_else(|| {
                    survivor_lines
                        .iter()
                        .find(|l| l.starts_with(&absorbed) && l.contains(SILENT_GUESS_JOINED))
                })
                .map(|l| l.to_string())
        })
}

/// What the engine's merge line of a silent guess says (`Engine::fold_silent_remainder`).
const SILENT_GUESS_JOINED: &str = ", what stayed after a split, was named by a guess at silent";

/// The engine's refusal of a link because a failure's impact on the later alert's resource had
/// already shown (`Engine::correlate`): the later alert fails outright (error or above) on a
/// resource where the earlier alert's incident had, by then, only less severe alerts (warnings,
/// or errors below a critical outage), the first of them more than a scrape interval earlier and
/// no earlier than that incident's first failure on another resource.
struct ImpactShown {
    outage: String,
    resource: String,
    incident: String,
    degraded_first: String,
    failing: String,
    /// What the impact had shown there: "warnings", or "errors" below a critical outage.
    shown: &'static str,
    after: Millis,
}

fn impact_already_shown(replay: &Replay, l: &Link) -> Option<ImpactShown> {
    let outage = replay.first.get(&l.to_fp)?;
    if outage.severity < Severity::Error {
        return None;
    }
    let incident = *replay.incident_of.get(&l.from_fp)?;
    if replay.incident_of.get(&l.to_fp) == Some(&incident) {
        return None;
    }
    let topo = &replay.topology;
    let node = topo.resolve(&outage.resource)?;
    let start = outage.event_time();
    // The incident's members that had started by then, as the engine saw them.
    let before: Vec<&Alert> = replay.finals.members[incident]
        .iter()
        .filter_map(|m| replay.first.get(m.as_str()))
        .filter(|a| a.event_time() <= start)
        .collect();
    let on_resource: Vec<&&Alert> = before
        .iter()
        .filter(|a| topo.resolve(&a.resource) == Some(node))
        .collect();
    // The impact shown there is less severe than the outage (warnings, or an error below a
    // critical outage).
    if on_resource.is_empty() || on_resource.iter().any(|a| a.severity >= outage.severity) {
        return None;
    }
    let degraded = on_resource.iter().min_by_key(|a| a.event_time())?;
    let after = start - degraded.event_time();
    if after <= CAUSE_LAG_TOLERANCE {
        return None;
    }
    // The incident firing this very check on two or more other resources by then is its
    // failure spreading over one more of them (the engine's `fires_check_elsewhere`).
    let same_check_elsewhere: BTreeSet<_> = before
        .iter()
        .filter(|a| a.name == outage.name)
        .map(|a| topo.resolve(&a.resource).map(|n| n.index()))
        .filter(|r| *r != Some(node.index()))
        .collect();
    if same_check_elsewhere.len() >= 2 {
        return None;
    }
    // As the engine weighs resources: one whose first alert came no later than the degraded
    // one's, failing outright by then (its worst alert at error or above).
    let mut resources: BTreeMap<_, (Millis, &Alert)> = BTreeMap::new();
    for a in &before {
        let r = topo.resolve(&a.resource).map(|n| n.index());
        let entry = resources.entry(r).or_insert((a.event_time(), a));
        entry.0 = entry.0.min(a.event_time());
        if a.severity > entry.1.severity {
            entry.1 = a;
        }
    }
    let failing = resources
        .iter()
        .filter(|(r, (first, worst))| {
            **r != Some(node.index())
                && worst.severity >= Severity::Error
                && *first <= degraded.event_time()
        })
        .min_by_key(|(_, (first, _))| *first)
        .map(|(_, (_, worst))| *worst)?;
    Some(ImpactShown {
        outage: replay.label(&outage.fingerprint),
        resource: topo.node(node).id.to_string(),
        incident: replay.finals.ids[incident].clone(),
        degraded_first: replay.label(&degraded.fingerprint),
        failing: replay.label(&failing.fingerprint),
        shown: if on_resource.iter().any(|a| a.severity >= Severity::Error) {
            "errors"
        } else {
            "warnings"
        },
        after,
    })
}

/// The engine's choice of a failure within root-cause reach (`Engine::correlate`): the later
/// alert of a link went to another incident than the member's, whose incident had no member at
/// error or above within `root_cause.max_hops` above it (its failure lies further up, reached
/// only through degraded callers), while the incident it joined has one there that started
/// before it.
struct BeyondReach {
    member: String,
    symptom: String,
    apart: String,
    /// The member's incident's failure nearest above the symptom, and its hops, if any.
    apart_failure: Option<(String, u8)>,
    reach: u8,
    failure: String,
    joined: String,
    hops: u8,
    since: Millis,
}

/// When the later alert of a link, an outright alert on a business service nothing depends on,
/// stayed apart from the earlier one above it whose incident holds only warnings, and went to a
/// failing incident whose member shares a silent node with it (the engine's "a degraded
/// dependency explains no outage its users see"): the note's clause.
fn warnings_passed_over(replay: &Replay, l: &Link) -> Option<String> {
    let apart = *replay.incident_of.get(&l.from_fp)?;
    let joined = *replay.incident_of.get(&l.to_fp)?;
    if apart == joined || !l.symptom {
        return None;
    }
    let symptom = replay.first.get(&l.to_fp)?;
    let node = replay.topology.resolve(&symptom.resource)?;
    if symptom.severity < Severity::Error || !replay.topology.is_business_service_on_top(node) {
        return None;
    }
    let failing = |incident: usize| {
        replay.finals.members[incident]
            .iter()
            .filter_map(|m| replay.first.get(m.as_str()))
            .any(|a| a.severity >= Severity::Error)
    };
    if failing(apart) || !failing(joined) {
        return None;
    }
    // The member of the failure it shares a silent node with (a link as neither symptom nor
    // cause), the nearest in time.
    let shared = replay.finals.members[joined]
        .iter()
        .filter(|m| **m != l.to_fp)
        .filter_map(|m| link(replay, m, &l.to_fp))
        .filter(|j| j.linked && !j.symptom && !j.cause && j.weak.is_none())
        .min_by_key(|j| j.delta_ms.abs())?;
    let member = if shared.to_fp == l.to_fp {
        &shared.from
    } else {
        &shared.to
    };
    Some(format!(
        "{} is an outright alert on a business service nothing depends on, and {}'s incident {} \
         holds only warnings, while {} shares a silent node with {} ({}), a member of incident \
         {}, which fails outright; a degraded dependency explains no outage its users see, so it \
         followed that failure (warnings passed over)",
        l.to, l.from, replay.finals.ids[apart], l.to, member, shared.via, replay.finals.ids[joined]
    ))
}

fn hops_above(hops: u8) -> String {
    format!("{hops} hop{} above it", if hops == 1 { "" } else { "s" })
}

fn failure_beyond_reach(replay: &Replay, l: &Link) -> Option<BeyondReach> {
    let apart = *replay.incident_of.get(&l.from_fp)?;
    let joined = *replay.incident_of.get(&l.to_fp)?;
    if apart == joined {
        return None;
    }
    let symptom = replay.first.get(&l.to_fp)?;
    let topo = &replay.topology;
    let node = topo.resolve(&symptom.resource)?;
    let start = symptom.event_time();
    let reach = replay.rules.settings.root_cause.max_hops;
    // Look further than the engine does, to say where the member's failure is.
    const SEARCH_HOPS: u8 = 8;
    let ups = topo.upstream_within(
        node,
        reach.max(SEARCH_HOPS),
        EdgeMask::ALL,
        replay.rules.settings.max_neighbourhood,
    );
    // An incident's members failing outright above the symptom by its start, nearest first.
    let failures = |incident: usize| {
        let mut found: Vec<(u8, Millis, &Alert)> = replay.finals.members[incident]
            .iter()
            .filter(|m| **m != l.to_fp)
            .filter_map(|m| replay.first.get(m.as_str()))
            .filter(|a| a.severity >= Severity::Error && a.event_time() <= start)
            .filter_map(|a| {
                let n = topo.resolve(&a.resource)?;
                let hops = ups.iter().find(|u| u.node == n)?.hops;
                Some((hops, a.event_time(), a))
            })
            .collect();
        found.sort_by_key(|&(hops, first, _)| (hops, Reverse(first)));
        found
    };
    let apart_failures = failures(apart);
    if apart_failures.iter().any(|&(hops, _, _)| hops <= reach) {
        return None;
    }
    let (hops, first, failure) = failures(joined)
        .into_iter()
        .filter(|&(hops, _, _)| hops <= reach)
        .max_by_key(|&(_, first, _)| first)?;
    Some(BeyondReach {
        member: replay.label(&l.from_fp),
        symptom: replay.label(&l.to_fp),
        apart: replay.finals.ids[apart].clone(),
        apart_failure: apart_failures
            .first()
            .map(|&(hops, _, a)| (replay.label(&a.fingerprint), hops)),
        reach,
        failure: replay.label(&failure.fingerprint),
        joined: replay.finals.ids[joined].clone(),
        hops,
        since: start - first,
    })
}

/// When the later alert of a link that is not a cause link went to another incident, where it is
/// a symptom of a member: the engine's choice among the incidents it relates to.
fn shared_symptom(replay: &Replay, l: &Link) -> Option<SharedSymptom> {
    let apart = *replay.incident_of.get(&l.from_fp)?;
    let joined = *replay.incident_of.get(&l.to_fp)?;
    if apart == joined {
        return None;
    }
    let through = replay.finals.members[joined]
        .iter()
        .filter(|m| **m != l.to_fp)
        .filter_map(|m| link(replay, m, &l.to_fp))
        // A symptom of `m` whichever fired first: alerts reach the engine in arrival order, and
        // a cause may trail its symptoms by the scrape interval.
        .filter(|j| {
            j.linked && ((j.to_fp == l.to_fp && j.symptom) || (j.from_fp == l.to_fp && j.cause))
        })
        .min_by_key(|j| (j.hops, j.delta_ms))?;
    Some(SharedSymptom {
        symptom: replay.label(&l.to_fp),
        apart_from: replay.label(&l.from_fp),
        joined: replay.finals.ids[joined].clone(),
        joined_through: replay.label(if through.to_fp == l.to_fp {
            &through.from_fp
        } else {
            &through.to_fp
        }),
    })
}

/// When the later alert of a cause link stayed apart because a member of the earlier alert's
/// incident, on a node above it, already explained it (the engine's explaining away): (effect,
/// its explanation, that incident, the refused cause). An approximation from the final incidents:
/// the engine decides on the members below the cause's node at the time it fires.
fn explained_away(replay: &Replay, l: &Link) -> Option<(String, String, String, String)> {
    let effect_incident = *replay.incident_of.get(&l.from_fp)?;
    if replay.incident_of.get(&l.to_fp) == Some(&effect_incident) {
        return None;
    }
    let cause_start = replay.first.get(&l.to_fp)?.event_time();
    let explanation = replay.finals.members[effect_incident]
        .iter()
        .filter(|m| **m != l.from_fp)
        .filter(|m| {
            replay
                .first
                .get(m.as_str())
                .is_some_and(|a| a.event_time() <= cause_start)
        })
        .filter_map(|m| link(replay, m, &l.from_fp))
        .filter(|j| {
            j.linked
                && ((j.to_fp == l.from_fp && j.symptom) || (j.from_fp == l.from_fp && j.cause))
                && j.hops.is_some_and(|h| h > 0)
        })
        .min_by_key(|j| (j.hops, j.delta_ms))?;
    let explained_by = if explanation.to_fp == l.from_fp {
        &explanation.from_fp
    } else {
        &explanation.to_fp
    };
    Some((
        replay.label(&l.from_fp),
        replay.label(explained_by),
        replay.finals.ids[effect_incident].clone(),
        replay.label(&l.to_fp),
    ))
}

/// Shortest chain of links between two members of one incident (breadth first).
fn path_between(replay: &Replay, members: &[String], from: &str, to: &str) -> Vec<Link> {
    let mut prev: BTreeMap<&str, (&str, Link)> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = std::collections::BTreeSet::from([from]);
    while let Some(here) = queue.pop_front() {
        if here == to {
            break;
        }
        for m in members {
            if seen.contains(m.as_str()) {
                continue;
            }
            if let Some(l) = link(replay, here, m).filter(|l| l.linked) {
                seen.insert(m.as_str());
                prev.insert(m.as_str(), (here, l));
                queue.push_back(m.as_str());
            }
        }
    }
    let mut out = Vec::new();
    let mut cur = to;
    while let Some((p, l)) = prev.get(cur) {
        out.push(l.clone());
        cur = p;
    }
    out.reverse();
    if out.is_empty() && from != to {
        // Joined through the incident's span at an anchor, not through one pairwise link: show
        // the direct relation anyway.
        out.extend(link(replay, from, to));
    }
    out
}

/// What a weak link does in the engine, for the text output and notes.
const WEAK_LINK_RULE: &str = "a weak link joins an alert to an incident but never bridges two";

fn render_link(l: &Link) -> String {
    let mut s = format!(
        "{} → {}\n    rule {:?}: Δt {} (window {})",
        l.from, l.to, l.rule, l.delta, l.window
    );
    match l.hops {
        Some(h) => s.push_str(&format!(
            "; {}, {h} hop{} (max_hops {})",
            l.via,
            if h == 1 { "" } else { "s" },
            l.max_hops
        )),
        None if l.linked && l.weak.is_some() => s.push_str(&format!("; {}", l.via)),
        None => s.push_str("; no shared anchor"),
    }
    for p in &l.paths {
        s.push_str(&format!("\n    path: {p}"));
    }
    if let Some(w) = l.weak.as_ref().filter(|w| w.holds) {
        s.push_str(&format!("\n    weak: {WEAK_LINK_RULE}"));
        if w.kind == "co_firing" {
            s.push_str(" (only for an alert the CMDB does not know)");
        }
    }
    if !l.linked {
        s.push_str(&format!("\n    NOT linked: {}", l.missed_by.join("; ")));
    }
    s.push('\n');
    s
}

fn render_incident(e: &IncidentExplanation) -> String {
    let mut s = format!("incident {}: {} alerts\n", e.incident, e.members.len());
    if let Some(first) = e.members.first() {
        s.push_str(&format!("  opened by {first}\n"));
    }
    s.push_str("why these alerts are grouped:\n");
    for l in &e.chain {
        for line in render_link(l).lines() {
            s.push_str(&format!("  {line}\n"));
        }
    }
    for u in &e.unlinked {
        s.push_str(&format!(
            "  {u} joined through the incident's activity at a shared anchor (see the engine's record)\n"
        ));
    }
    s.push_str("engine's record:\n");
    for line in &e.engine_explanation {
        s.push_str(&format!("  {line}\n"));
    }
    let rc = &e.root_cause;
    s.push_str(&format!(
        "root cause {} (confidence {}): {}\n",
        rc.resource, rc.confidence, rc.reason
    ));
    s.push_str("  candidates (explains = member resources it is upstream of or is):\n");
    for c in &rc.candidates {
        s.push_str(&format!(
            "  {} {:<24} {:<12} {:<10} explains {}/{}, hop sum {}{}\n",
            if c.chosen { "*" } else { " " },
            c.resource,
            c.kind,
            if c.alerting { "alerting" } else { "silent" },
            c.explains,
            c.of,
            c.hop_sum,
            c.first_alert
                .as_ref()
                .map(|t| format!(", first alert {t}"))
                .unwrap_or_default()
        ));
    }
    if let Some(why) = &rc.silent_rule {
        s.push_str(&format!("  {why}\n"));
    }
    if let Some(why) = &rc.first_cause {
        s.push_str(&format!("  {why}\n"));
    }
    if let Some(why) = &rc.peer_rule {
        s.push_str(&format!("  {why}\n"));
    }
    for p in &rc.paths {
        s.push_str(&format!("  impact: {p}\n"));
    }
    s
}

fn render_pair(e: &PairExplanation) -> String {
    let mut s = String::new();
    for (a, p) in e.alerts.iter().zip(&e.placements) {
        s.push_str(&format!("{a}: {p}\n"));
    }
    if e.grouped {
        s.push_str("grouped, through this chain of links:\n");
    } else {
        s.push_str("not grouped; the closest link:\n");
    }
    for l in &e.chain {
        for line in render_link(l).lines() {
            s.push_str(&format!("  {line}\n"));
        }
    }
    if let Some(n) = &e.note {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::topology::TopologyFile;

    const TOPO: &str = r#"
nodes:
  - {id: host-1, kind: host}
  - {id: db-1, kind: database}
  - {id: api-1, kind: service}
  - {id: other-1, kind: host}
edges:
  - {from: db-1, to: host-1, type: runs_on}
  - {from: api-1, to: db-1, type: depends_on}
"#;

    #[test]
    fn an_impact_path_reads_from_symptom_to_cause_and_a_member_out_of_reach_says_so() {
        let topo = TopologyIndex::build(&TopologyFile::parse(TOPO, "t.yaml").unwrap());
        let idx = |id: &str| topo.resolve(id).unwrap().index();
        assert_eq!(
            describe_path(&topo, idx("host-1"), idx("api-1"), 3),
            "api-1 -depends_on-> db-1 -runs_on-> host-1"
        );
        // Beyond the hop limit, or not downstream at all: a sentence, not a dangling `a .. b`.
        assert_eq!(
            describe_path(&topo, idx("host-1"), idx("api-1"), 1),
            "api-1 is not within 1 hop downstream of host-1"
        );
        assert_eq!(
            describe_path(&topo, idx("host-1"), idx("other-1"), 3),
            "other-1 is not within 3 hops downstream of host-1"
        );
    }
}
