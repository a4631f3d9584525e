//! Incident updates: marking incidents dirty, emitting and closing them, the root cause view
//! and the update built from it.

use super::*;

/// What an update says about the root cause, the resources and the services. It depends only on
/// the incident's resources, coverage and services, and on the rules and topology, so it is
/// computed once per change of those rather than for every update: most updates of a storm
/// report new event counts, severities or resolves of an unchanged membership.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RootCauseView {
    pub(super) root: RootCause,
    component: Str,
    class: Str,
    /// The explanation's last line, naming the root cause (and its runner-up).
    line: Option<Arc<str>>,
    resources: Arc<[Str]>,
    services: Arc<[Str]>,
    impacted: Arc<[Str]>,
    /// Set by [`Incident::forget_root_cause`]: the incident changed since this view was built.
    /// False in every view that an update reports.
    pub(super) outdated: bool,
}

impl RootCauseView {
    /// Whether this outdated view is still the view of `inc`, an incident of one resource. A
    /// lone resource is its own root cause (no other candidate: the silent scan and the
    /// first-cause walk have nothing to weigh it against, whatever its severity, start or
    /// noise), so the view says only which resource, which alert represents it, that its
    /// cover counts it once, and the incident's services. What makes this pay: a solo incident
    /// reopened by its alert firing again is rebuilt to exactly what it was (1,864 of the
    /// bench storm's 15,753 views).
    fn holds_for_one_resource(&self, inc: &Incident) -> bool {
        // Lengths first: most outdated views are of incidents a join gave a second resource.
        if inc.resources.len() != 1 || self.resources.len() != 1 {
            return false;
        }
        let Some((key, agg)) = inc.resources.iter().next() else {
            return false;
        };
        // A resource unknown to the topology is given a cover of one; two incidents of the
        // same resource merged count it twice ("upstream of 1 other alerting resource"). Once
        // it fails outright, `choose` weighs its failing count instead: that must be one too.
        let counted_once = agg.node == NONE
            || inc.coverage.get(&agg.node).is_some_and(|cover| {
                cover.covered == 1 && cover.failing == u32::from(agg.severity >= Severity::Error)
            });
        // And the view was chosen from such a cover: confidence 1 of 1 (clamped), nothing
        // else explained, the earliest of one.
        let chosen_alone = self.root.confidence == 0.99
            && self
                .root
                .reason
                .strip_prefix(rootcause::EXPLAINS_ONLY_ITSELF)
                == Some("; earliest");
        counted_once
            && chosen_alone
            && self.resources[0] == *key
            && self.root.resource == *key
            && self.root.fingerprint.as_ref() == Some(&agg.fingerprint)
            && self.root.name.as_ref() == Some(&agg.name)
            && self.services.iter().eq(inc.services.iter())
    }
}

impl Engine {
    // -----------------------------------------------------------------------------------------
    // Output
    // -----------------------------------------------------------------------------------------

    pub(super) fn mark_dirty(&mut self, inc_id: u32, out: &mut Vec<IncidentUpdate>) {
        let interval = self.rules.settings.update_interval;
        let now = self.now;
        let Some(inc) = self.incidents.get_mut(&inc_id) else {
            return;
        };
        if !inc.opened {
            return;
        }
        inc.dirty = true;
        if inc.last_emit == Millis::MIN || now >= inc.last_emit + interval {
            self.emit(inc_id, EventAction::Trigger, now, out);
        } else if !inc.emit_scheduled {
            inc.emit_scheduled = true;
            self.emit_timers
                .push(Reverse((inc.last_emit + interval, inc_id)));
        }
    }

    pub(super) fn fire_emit(&mut self, inc_id: u32, at: Millis, out: &mut Vec<IncidentUpdate>) {
        let Some(inc) = self.incidents.get_mut(&inc_id) else {
            return;
        };
        inc.emit_scheduled = false;
        if inc.dirty && inc.opened {
            self.emit(inc_id, EventAction::Trigger, at, out);
        }
    }

    pub(super) fn fire_close(&mut self, inc_id: u32, at: Millis, out: &mut Vec<IncidentUpdate>) {
        let hold = self.rules.settings.resolve_hold;
        let Some(inc) = self.incidents.get(&inc_id) else {
            return;
        };
        match inc.phase {
            Phase::Resolving(since) if inc.active == 0 && since + hold <= at => {}
            _ => return,
        }
        let Phase::Resolving(since) = inc.phase else {
            return;
        };
        if inc.opened {
            self.stats.incidents_resolved += 1;
            self.emit(inc_id, EventAction::Resolve, since, out);
        } else {
            self.stats.incidents_held += 1;
        }
        if let Some(inc) = self.incidents.remove(&inc_id) {
            self.removals.record(inc_id);
            // Members stay known (their forget timers run) but belong to no incident any more:
            // if one fires again it starts a new failure.
            for m in &inc.members {
                if let Some(s) = self.dedup.alerts.get_mut(m) {
                    if find_in(&self.merged_into, s.incident) == inc_id {
                        s.incident = NONE;
                        s.active = false;
                    }
                }
            }
            // Whatever still names an absorbed id (an anchor entry, a pending timer) finds no
            // live incident through it now, as it found none through this closed one before.
            for id in &inc.merged_ids {
                self.merged_into.remove(id);
            }
            let window = self.rules.settings.reopen_window;
            if inc.opened && inc.members.len() == 1 && inc.merged_from.is_empty() && window > 0 {
                let fp = inc.members[0].clone();
                self.state_timers.push(Reverse((
                    at + window,
                    StateTimer::DropReopenable(fp.clone()),
                )));
                self.reopenable.insert(fp, (inc, at));
            }
        }
    }

    pub(super) fn emit(
        &mut self,
        inc_id: u32,
        action: EventAction,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(mut inc) = self.incidents.remove(&inc_id) else {
            return;
        };
        // Pushed as it is built: an update is ~530 bytes, and each hand-over was a copy.
        out.push(self.build_update(&mut inc, action, at));
        inc.dirty = false;
        inc.last_emit = self.now.max(at);
        self.incidents.insert(inc_id, inc);
        self.stats.updates_emitted += 1;
    }

    pub(super) fn build_update(
        &mut self,
        inc: &mut Incident,
        action: EventAction,
        at: Millis,
    ) -> IncidentUpdate {
        let view = match inc.root_cause.take() {
            Some(mut kept)
                if self.cache_root_causes
                    && (!kept.outdated || kept.holds_for_one_resource(inc)) =>
            {
                kept.outdated = false;
                debug_assert_eq!(
                    *kept,
                    self.root_cause_view(inc),
                    "a kept root cause must equal a fresh one: some change to the incident \
                     did not call forget_root_cause, or an outdated view was taken as it is"
                );
                kept
            }
            // Rebuilt in the box it had: one allocation and free fewer.
            Some(mut outdated) if self.cache_root_causes => {
                *outdated = self.root_cause_view(inc);
                outdated
            }
            _ => Box::new(self.root_cause_view(inc)),
        };
        // The update is the last expression, built in the caller's place (holding it in a
        // local while the view went back into the incident cost a copy of the update).
        self.update_from(inc, view, action, at)
    }

    /// The root-cause part of an update: candidates over the incident's coverage, the choice,
    /// the resources and services it reports, and the services the root cause impacts.
    // Out of line, as `update_from`: big, called once per update, and separate in profiles.
    #[inline(never)]
    pub(super) fn root_cause_view<'a>(&'a mut self, inc: &'a Incident) -> RootCauseView {
        let rules = &self.rules;
        let topo = &self.topology;
        // Root cause over the incident's coverage.
        // On the stack: an incident has a resource or two, and the silent pool adds two.
        let mut cands: SmallVec<[Candidate; 4]> = SmallVec::with_capacity(inc.resources.len() + 2);
        let by_node = MembersByNode::new(inc.resources.values());
        let known_members = by_node.len();
        let kind_ranks = &self.kind_ranks;
        let alerting_info = |agg: &'a ResourceAgg| AlertingInfo {
            first_seen: agg.first_seen,
            severity: agg.severity,
            fingerprint: &agg.fingerprint,
            name: &agg.name,
            name_rank: rules.name_rank(&agg.name),
            chronic: agg.chronic,
        };
        let candidate = |n: u32, cover: &Cover, alerting: Option<AlertingInfo<'a>>| Candidate {
            resource: topo.node(NodeIndex::new(n as usize)).id.as_str(),
            kind_rank: kind_ranks
                .get(n as usize)
                .map_or(usize::MAX, |&r| r as usize),
            cover: *cover,
            alerting,
        };
        // Each candidate's node (`NONE`: not on the topology), for the chosen one's blast radius
        // without a lookup by name.
        let mut cand_nodes: SmallVec<[u32; 4]> = SmallVec::new();
        // The member resources on the coverage's nodes.
        for &(n, agg) in &by_node.sorted {
            if let Some(cover) = inc.coverage.get(&n) {
                cands.push(candidate(n, cover, Some(alerting_info(agg))));
                cand_nodes.push(n);
            }
        }
        let member_cands = cands.len();
        // Resources unknown to the topology explain themselves only.
        for (key, agg) in &inc.resources {
            if agg.node == NONE {
                cands.push(Candidate {
                    resource: key.as_str(),
                    kind_rank: usize::MAX,
                    cover: Cover {
                        covered: 1,
                        ..Cover::default()
                    },
                    alerting: Some(alerting_info(agg)),
                });
                cand_nodes.push(NONE);
            }
        }
        // The rest of the coverage is silent nodes, most of which can neither win nor come
        // second: only the best two are made candidates (`rootcause::SilentTop`).
        let mut silent = rootcause::SilentTop::new(rootcause::any_failing(&cands));
        #[cfg(debug_assertions)]
        let mut all_silent: Vec<Candidate<'_>> = Vec::new();
        // A cover counts member resources on the topology (one each), and `choose` weighs a
        // silent node only from two up: with one such member (most incidents, on their first
        // update) no silent node can be named or come second, and the scan is skipped. Debug
        // builds scan anyway, for the check against every silent node below.
        let silent_may_count = known_members >= 2 || !self.skip_single_member_scans;
        debug_assert!(
            silent_may_count
                || inc
                    .coverage
                    .values()
                    .all(|c| c.covered.max(c.failing) <= known_members as u32),
            "a cover counts more resources than the incident has"
        );
        let scan = silent_may_count || cfg!(debug_assertions);
        for (&n, cover) in inc.coverage.iter().take(if scan { usize::MAX } else { 0 }) {
            #[cfg(debug_assertions)]
            if !by_node.contains(n) {
                all_silent.push(candidate(n, cover, None));
            }
            let kind_rank = || {
                kind_ranks
                    .get(n as usize)
                    .map_or(usize::MAX, |&r| r as usize)
            };
            // Ranked by the node's place in id order: only the two kept are looked up.
            if silent.may_keep(cover, kind_rank) && !by_node.contains(n) {
                silent.offer(rootcause::Silent {
                    cover: *cover,
                    kind_rank: kind_rank(),
                    name: (topo.name_rank(NodeIndex::new(n as usize)), n),
                });
            }
        }
        #[cfg(debug_assertions)]
        let mut all_cands = cands.clone();
        for kept in silent.into_kept() {
            cands.push(candidate(kept.name.1, &kept.cover, None));
            cand_nodes.push(kept.name.1);
        }
        let members_total =
            known_members + inc.resources.values().filter(|a| a.node == NONE).count();
        let choice = rootcause::choose_with(&cands, members_total, &mut self.choose_scratch);
        #[cfg(debug_assertions)]
        {
            all_cands.extend(all_silent);
            let named = |cands: &[Candidate<'_>], ch: &rootcause::Choice| {
                let runner_up = ch.runner_up.map(|r| cands[r].resource.to_owned());
                (
                    cands[ch.index].resource.to_owned(),
                    ch.confidence,
                    ch.reason.clone(),
                    runner_up,
                )
            };
            let full = rootcause::choose(&all_cands, members_total);
            debug_assert_eq!(
                choice.as_ref().map(|ch| named(&cands, ch)),
                full.as_ref().map(|ch| named(&all_cands, ch)),
                "a silent node left out by SilentTop changes the choice"
            );
        }
        let rca_cache = &self.rca_cache;
        // Filled as the walk goes (`name_first_cause` takes a `Fn`).
        let first_cause_ups = RefCell::new(&mut self.first_cause_ups);
        let first_cause = |ch| {
            // The alerting members upstream of a candidate, from the neighbourhoods its
            // coverage was counted with.
            rootcause::name_first_cause(&cands, ch, |i| {
                // By the candidate's node; by name only for one unknown to the topology.
                let node = match cand_nodes.get(i) {
                    Some(&n) if n != NONE => Some(n),
                    _ => topo.resolve(cands[i].resource).map(|n| n.index() as u32),
                };
                debug_assert_eq!(
                    node,
                    topo.resolve(cands[i].resource).map(|n| n.index() as u32)
                );
                let Some(node) = node else {
                    return Vec::new();
                };
                let mut sorted_ups = first_cause_ups.borrow_mut();
                let above = sorted_ups.entry(node).or_insert_with(|| {
                    // The cached neighbourhood when there is one; a walk only on a miss.
                    let walked: Vec<(u32, u8)>;
                    let ups: &[(u32, u8)] = match rca_cache.get(&node) {
                        Some(ups) => ups,
                        None => {
                            walked = topo
                                .upstream_within(
                                    NodeIndex::new(node as usize),
                                    rules.settings.root_cause.max_hops,
                                    EdgeMask::ALL,
                                    rules.settings.max_neighbourhood,
                                )
                                .iter()
                                .map(|u| (u.node.index() as u32, u.hops))
                                .collect();
                            &walked
                        }
                    };
                    // Sized at once: collected through a filter, a neighbourhood of hundreds
                    // of nodes grew (and was copied) six times.
                    let mut above: Vec<u32> = Vec::with_capacity(ups.len());
                    above.extend(ups.iter().filter(|&&(_, hops)| hops > 0).map(|&(n, _)| n));
                    above.sort_unstable();
                    above.dedup();
                    above.into()
                });
                #[cfg(debug_assertions)]
                if let Some(ups) = rca_cache.get(&node) {
                    let mut scanned: Vec<u32> = ups
                        .iter()
                        .filter(|&&(n, hops)| hops > 0 && by_node.contains(n))
                        .map(|&(n, _)| n)
                        .collect();
                    scanned.sort_unstable();
                    scanned.dedup();
                    let looked_up: Vec<u32> = by_node
                        .sorted
                        .iter()
                        .map(|&(n, _)| n)
                        .filter(|n| above.binary_search(n).is_ok())
                        .collect();
                    debug_assert_eq!(looked_up, scanned, "members upstream of node {node}");
                }
                // The members (a handful) looked up in the neighbourhood (hundreds of nodes),
                // not the other way round. The order of the answer does not matter: the walk
                // takes the earliest, then `best_of`, which orders candidates totally.
                by_node
                    .sorted
                    .iter()
                    .filter(|&&(n, _)| above.binary_search(&n).is_ok())
                    .filter_map(|&(n, _)| {
                        let id = topo.node(NodeIndex::new(n as usize)).id.as_str();
                        cands.iter().position(|c| c.resource == id)
                    })
                    .collect()
            })
        };
        // The walk names a member on the topology upstream of the chosen candidate: when the
        // only such member is the chosen one itself (or there is none), it has nothing to name.
        let skip_walk = self.skip_single_member_scans;
        let nothing_upstream = |ch: &rootcause::Choice| {
            skip_walk
                && (known_members == 0
                    || (known_members == 1 && member_cands == 1 && ch.index == 0))
        };
        let choice = choice.map(|ch| {
            if nothing_upstream(&ch) {
                debug_assert_eq!(first_cause(ch.clone()), ch, "a first cause was skipped");
                ch
            } else {
                first_cause(ch)
            }
        });
        let (root, component, class) = match &choice {
            Some(ch) => {
                let c = &cands[ch.index];
                let resource = Str::new(c.resource);
                let rc = RootCause {
                    resource: resource.clone(),
                    fingerprint: c.alerting.as_ref().map(|a| a.fingerprint.clone()),
                    name: c.alerting.as_ref().map(|a| a.name.clone()),
                    confidence: ch.confidence,
                    reason: Arc::from(ch.reason.as_str()),
                };
                let class = c
                    .alerting
                    .as_ref()
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| Str::const_new("SilentDependency"));
                (rc, resource, class)
            }
            None => (
                RootCause {
                    resource: Str::default(),
                    fingerprint: None,
                    name: None,
                    confidence: 0.0,
                    reason: "no candidate".into(),
                },
                Str::default(),
                Str::default(),
            ),
        };
        // Pieces pushed into one allocation, not `format!`: `core::fmt` cost ~1,000
        // instructions a line, on every new root-cause view.
        let line = choice.as_ref().map(|ch| {
            let runner_up = ch.runner_up.map(|r| &cands[r]);
            // In the engine's scratch line, copied once into its `Arc<str>`.
            let line = &mut self.line_scratch;
            line.clear();
            line.push_str("root cause ");
            line.push_str(&root.resource);
            line.push_str(": ");
            line.push_str(&ch.reason);
            if let Some(ru) = runner_up {
                line.push_str("; runner-up ");
                line.push_str(ru.resource);
                line.push_str(" explains ");
                push_decimal(line, ru.cover.covered as usize);
                line.push_str(" of ");
                push_decimal(line, members_total);
                line.push_str(" resources");
            }
            debug_assert_eq!(
                *line,
                match runner_up {
                    Some(ru) => format!(
                        "root cause {}: {}; runner-up {} explains {} of {} resources",
                        root.resource, ch.reason, ru.resource, ru.cover.covered, members_total
                    ),
                    None => format!("root cause {}: {}", root.resource, ch.reason),
                }
            );
            Arc::<str>::from(line.as_str())
        });
        drop(cands);

        // `Str`s: the short names are copied inline, without an allocation each.
        let resources = shared_names(
            &mut self.names_scratch,
            &self.no_names,
            inc.resources.keys(),
        );
        let services = shared_names(&mut self.names_scratch, &self.no_names, inc.services.iter());
        // The incident's services and those its root cause impacts, both sorted and unique:
        // merged rather than collected through a `BTreeSet<String>`, which allocated a string
        // per service per update (a quarter of this function's cost on a storm).
        let root_node = match choice.as_ref().and_then(|ch| cand_nodes.get(ch.index)) {
            Some(&n) if n != NONE => Some(n),
            // A resource unknown to the topology (or none) resolves to nothing, as before.
            _ => topo.resolve(&root.resource).map(|n| n.index() as u32),
        };
        debug_assert_eq!(
            root_node,
            topo.resolve(&root.resource).map(|n| n.index() as u32)
        );
        let impacted = match root_node {
            Some(n) => {
                let below = match self.impact_cache.get(&n) {
                    Some(s) => s.clone(),
                    None => {
                        let v = impacted_services(topo, n);
                        self.impact_cache.insert(n, v.clone());
                        v
                    }
                };
                union_shared(&services, &below)
            }
            None => services.clone(),
        };
        RootCauseView {
            root,
            component,
            class,
            line,
            resources,
            services,
            impacted,
            outdated: false,
        }
    }

    /// The update itself: the root-cause view and everything that changes between updates of
    /// an unchanged membership (counts, severity, times, explanation, rules). The view goes
    /// back into the incident (`Incident::root_cause`), kept for the next update.
    #[inline(never)]
    fn update_from(
        &mut self,
        inc: &mut Incident,
        view: Box<RootCauseView>,
        action: EventAction,
        at: Millis,
    ) -> IncidentUpdate {
        let rules = &self.rules;
        let mut explanation = Vec::with_capacity(inc.explanation.len() + 1);
        explanation.extend_from_slice(&inc.explanation);
        explanation.extend(view.line.iter().cloned());
        // The view's lists are the incident's resource and service keys, in order (a kept view
        // is checked against a fresh one in debug builds).
        debug_assert!(
            view.resources.iter().eq(inc.resources.keys())
                && view.services.iter().eq(inc.services.iter()),
            "the anomaly model must see the incident's own resources and services"
        );
        let anomaly_score = self.anomaly.incident_score(&Burst {
            resources: &view.resources,
            services: &view.services,
            alert_count: inc.members.len(),
            event_count: inc.events,
            first_seen: inc.first_seen,
            last_seen: inc.last_seen,
        });
        let anomaly_score = (anomaly_score.clamp(0.0, 1.0) * 100.0).round() / 100.0;
        let (component, class) = (&view.component, &view.class);
        let resources = view.resources.len();
        let summary = summary_line(component, class, inc.members.len(), resources);
        // Into the previous root's string: mostly the same name, so no allocation.
        match &mut inc.last_root {
            Some((root, severity)) => {
                root.clear();
                root.push_str(&view.root.resource);
                *severity = inc.severity;
            }
            // `String::from`, not `to_string`: a `Str`'s goes through `core::fmt`.
            None => inc.last_root = Some((String::from(view.root.resource.as_str()), inc.severity)),
        }
        inc.emitted_events = inc.events;
        let rule_names: Arc<[Str]> = match inc.rules.first() {
            Some(&only) if inc.rules.len() == 1 => self.single_rule_names[only as usize].clone(),
            _ => inc
                .rules
                .iter()
                .map(|&r| Str::new(&rules.groupings[r as usize].name))
                .collect(),
        };
        // The three times are often the same instant (an update at the join it reports, an
        // incident of one burst): formatted once and copied.
        let timestamp = format_event_time_str(at);
        let last_seen = if inc.last_seen == at {
            timestamp.clone()
        } else {
            format_event_time_str(inc.last_seen)
        };
        let first_seen = if inc.first_seen == inc.last_seen {
            last_seen.clone()
        } else {
            inc.first_seen_text()
        };
        let key = Str::new(&inc.key);
        let (source, component, class) = (component.clone(), component.clone(), class.clone());
        let group = view.services.first().cloned().unwrap_or_default();
        let (resources, services) = (view.resources.clone(), view.services.clone());
        let (root_cause, impacted_services) = (view.root.clone(), view.impacted.clone());
        inc.root_cause = Some(view);
        // The last expression, so that it is built in the caller's place.
        IncidentUpdate {
            event_action: action,
            dedup_key: key.clone(),
            payload: Payload {
                summary,
                source,
                severity: inc.severity,
                timestamp,
                component,
                group,
                class,
                custom_details: Details {
                    incident_id: key,
                    alerts: inc.members.clone(),
                    alert_count: inc.members.len(),
                    event_count: inc.events,
                    resources,
                    services,
                    root_cause,
                    impacted_services,
                    anomaly_score,
                    rules: rule_names,
                    merged_from: inc.merged_from.iter().map(Str::new).collect(),
                    merged_into: None,
                    first_seen,
                    last_seen,
                    explanation,
                },
            },
        }
    }
}

/// The update's summary, "{component} {class}: {n} alert(s) on {m} resource(s)". Written piece
/// by piece: `format!` with six arguments cost ~1,500 instructions per update.
pub(super) fn summary_line(
    component: &str,
    class: &str,
    alerts: usize,
    resources: usize,
) -> String {
    let component = if component.is_empty() {
        "unknown"
    } else {
        component
    };
    let class = if class.is_empty() { "incident" } else { class };
    let mut out = String::with_capacity(component.len() + class.len() + 40);
    out.push_str(component);
    out.push(' ');
    out.push_str(class);
    out.push_str(": ");
    push_decimal(&mut out, alerts);
    out.push_str(if alerts == 1 {
        " alert on "
    } else {
        " alerts on "
    });
    push_decimal(&mut out, resources);
    out.push_str(if resources == 1 {
        " resource"
    } else {
        " resources"
    });
    out
}

pub(super) fn push_decimal(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// `names` as a shared list, gathered in `scratch` and moved into one allocation (a drained
/// `Vec` tells `collect` its length); `empty` itself when there are none.
pub(super) fn shared_names<'n>(
    scratch: &mut Vec<Str>,
    empty: &Arc<[Str]>,
    names: impl Iterator<Item = &'n Str>,
) -> Arc<[Str]> {
    scratch.clear();
    scratch.extend(names.cloned());
    if scratch.is_empty() {
        return empty.clone();
    }
    scratch.drain(..).collect()
}

/// Services that break when `node` fails: its own and those of everything it impacts, within a
/// bounded blast radius.
pub(super) fn impacted_services(topo: &TopologyIndex, node: u32) -> Arc<[Str]> {
    // Sorted and deduplicated as a `BTreeSet` would be, by the topology's service indices: the
    // blast radius names a few services many times over.
    topo.services_impacted_by(NodeIndex::new(node as usize), EdgeMask::ALL, 6, 4096)
}

/// An incident's resources known to the topology, by node, for `root_cause_view`: a sorted list
/// searched by halves, behind a 64-bit filter of the nodes' low bits. The view asks it about
/// every node of the coverage and of the root cause's neighbourhood, mostly silent nodes that
/// the filter turns away in a few instructions; a hash map built per update cost more than the
/// lookups it served (`members_by_node_agrees_with_a_map`).
pub(super) struct MembersByNode<'a> {
    filter: u64,
    /// On the stack: most incidents have one or two resources.
    sorted: SmallVec<[(u32, &'a ResourceAgg); 4]>,
}

impl<'a> MembersByNode<'a> {
    pub(super) fn new(resources: impl Iterator<Item = &'a ResourceAgg>) -> Self {
        let mut sorted: SmallVec<[(u32, &ResourceAgg); 4]> = resources
            .filter(|agg| agg.node != NONE)
            .map(|agg| (agg.node, agg))
            .collect();
        sorted.sort_unstable_by_key(|&(n, _)| n);
        // Resources are keyed by their node's id: one resource per node.
        debug_assert!(sorted.windows(2).all(|w| w[0].0 != w[1].0));
        let filter = sorted.iter().fold(0, |f, &(n, _)| f | Self::bit(n));
        MembersByNode { filter, sorted }
    }

    fn bit(node: u32) -> u64 {
        1 << (node % 64)
    }

    pub(super) fn len(&self) -> usize {
        self.sorted.len()
    }

    pub(super) fn get(&self, node: u32) -> Option<&'a ResourceAgg> {
        if self.filter & Self::bit(node) == 0 {
            return None;
        }
        self.sorted
            .binary_search_by_key(&node, |&(n, _)| n)
            .ok()
            .map(|i| self.sorted[i].1)
    }

    pub(super) fn contains(&self, node: u32) -> bool {
        self.get(node).is_some()
    }
}

/// [`union_sorted`] as a shared list: one of the two itself when it holds the other (a root
/// cause's blast radius mostly names every service of its incident), without a copy.
pub(super) fn union_shared(a: &Arc<[Str]>, b: &Arc<[Str]>) -> Arc<[Str]> {
    if is_sorted_subset(a, b) {
        b.clone()
    } else if is_sorted_subset(b, a) {
        a.clone()
    } else {
        union_sorted(a, b).into()
    }
}

/// Whether every name of `small` is in `big`, both sorted and without duplicates.
fn is_sorted_subset(small: &[Str], big: &[Str]) -> bool {
    let mut rest = big;
    small.iter().all(|s| loop {
        match rest.split_first() {
            None => break false,
            Some((first, tail)) => {
                rest = tail;
                match first.as_str().cmp(s.as_str()) {
                    std::cmp::Ordering::Less => continue,
                    std::cmp::Ordering::Equal => break true,
                    std::cmp::Ordering::Greater => break false,
                }
            }
        }
    })
}

/// The union of two sorted lists without duplicates, sorted and without duplicates.
pub(super) fn union_sorted(a: &[Str], b: &[Str]) -> Vec<Str> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].as_str().cmp(b[j].as_str()) {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend(a[i..].iter().cloned());
    out.extend(b[j..].iter().cloned());
    out
}
