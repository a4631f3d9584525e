//! How a new alert finds its incident: `correlate` (the links through its anchors, the
//! failures within reach, the co-firing guesses), `reopen_or_open`, `new_incident`, `join` and
//! the merges of the incidents an alert bridges.

use super::*;

/// Times an alert must have fired again after resolving to count as a recurring check: from
/// then on it keeps to its own incident and relates nothing (a real failure's alert fires once,
/// or flaps once while it recovers; a chronic check comes back again and again).
const RECURRING_AFTER: u32 = 2;

impl Engine {
    // -----------------------------------------------------------------------------------------
    // Correlation
    // -----------------------------------------------------------------------------------------

    /// The live incident of an anchor entry whose member there fires and started at most
    /// `bound` before `t`, if that incident fails outright (error or above): the failures a
    /// weak link (service placement, remote effect) may join.
    fn failing_incident_since(&self, e: &AnchorEntry, t: Millis, bound: Millis) -> Option<u32> {
        if e.on_active == 0 || e.first > t || t - e.first > bound {
            return None;
        }
        let live = find_in(&self.merged_into, e.incident);
        self.incident_failing(live).then_some(live)
    }

    /// Whether the live incident `inc` fails outright (error or above), not only degrades.
    fn incident_failing(&self, inc: u32) -> bool {
        self.incidents
            .get(&inc)
            .is_some_and(|i| i.severity >= Severity::Error)
    }

    /// The incidents with a member behind a node above the alert (one of its node anchors above
    /// it) that registered there within a scrape interval before `t`: failures still spreading
    /// through a node the alert depends on, the only ones an outright failure joins as their
    /// remote effect.
    fn incidents_spreading_above(&self, anchors: &AlertAnchors, t: Millis) -> SmallVec<[u32; 2]> {
        let mut spreading: SmallVec<[u32; 2]> = SmallVec::new();
        for a in anchors.iter() {
            if a.hops == 0 || !matches!(a.key, AnchorKey::Node(_)) {
                continue;
            }
            let Some(entries) = self.anchors.get(&a.key) else {
                continue;
            };
            let behind = |e: &&AnchorEntry| {
                e.below_hops != NO_HOPS && e.last >= t.saturating_sub(CAUSE_LAG_TOLERANCE)
            };
            for e in entries.iter().filter(behind) {
                let live = find_in(&self.merged_into, e.incident);
                if !spreading.contains(&live) {
                    spreading.push(live);
                }
            }
        }
        spreading
    }

    /// The failures within the root-cause analysis' reach above `node` (incidents with a member
    /// at error or above firing there), and among them the one whose alert there started most
    /// recently, at most a scrape interval per hop (and `window`) before `t`, unless `refused`
    /// says its impact already showed on the alert's resource.
    ///
    /// The caller needs only whether one of `linked` reaches (then the latest is moot) and, when
    /// `explaining` holds two or more incidents, which of those reach: the walk stops as soon as
    /// that is known, so the list (and the latest) may then be partial.
    fn failures_within_reach(
        &mut self,
        node: u32,
        t: Millis,
        window: Millis,
        refused: impl Fn(&Incident, &AlertMap) -> bool,
        linked: &[u32],
        explaining: &[u32],
    ) -> (SmallVec<[u32; 4]>, Option<u32>) {
        let ups = self.rca_upstream(node);
        let mut reaching: SmallVec<[u32; 4]> = SmallVec::new();
        let mut latest: Option<(Millis, u32)> = None;
        // With fewer than two explaining incidents the order among them cannot change.
        let explaining = if explaining.len() < 2 {
            &[][..]
        } else {
            explaining
        };
        let all_known = |reaching: &[u32]| {
            linked.iter().any(|c| reaching.contains(c))
                && explaining.iter().all(|e| reaching.contains(e))
        };
        'walk: for &(up, hops) in ups.iter() {
            let Some(entries) = self.anchors.get(&AnchorKey::Node(up)) else {
                continue;
            };
            let id = &self.topology.node(NodeIndex::new(up as usize)).id;
            for e in entries.iter().filter(|e| e.on_active > 0) {
                let live = self.find(e.incident);
                // An incident's severity is the worst of its resources': one below error has
                // no failing resource here, and needs no lookup by name.
                let Some(inc) = self
                    .incidents
                    .get(&live)
                    .filter(|i| i.severity >= Severity::Error)
                else {
                    continue;
                };
                let Some(failed) = inc.resources.get(id) else {
                    continue;
                };
                if failed.severity < Severity::Error {
                    continue;
                }
                let since = t - failed.first_seen;
                let bound = silent_cause_tolerance(hops.max(1), 0).min(window);
                if (0..=bound).contains(&since)
                    && !refused(inc, &self.dedup.alerts)
                    && latest.is_none_or(|(first, _)| failed.first_seen > first)
                {
                    latest = Some((failed.first_seen, live));
                }
                if !reaching.contains(&live) {
                    reaching.push(live);
                    if all_known(&reaching) {
                        break 'walk;
                    }
                }
            }
        }
        (reaching, latest.map(|(_, live)| live))
    }

    /// The reference for [`Self::failures_within_reach`] (debug builds check it agrees): the
    /// full walk, every failure within reach and the latest of them.
    #[cfg(debug_assertions)]
    fn failures_within_reach_full(
        &mut self,
        node: u32,
        t: Millis,
        window: Millis,
        refused: impl Fn(&Incident, &AlertMap) -> bool,
    ) -> (SmallVec<[u32; 4]>, Option<u32>) {
        let ups = self.rca_upstream(node);
        let mut reaching: SmallVec<[u32; 4]> = SmallVec::new();
        let mut latest: Option<(Millis, u32)> = None;
        for &(up, hops) in ups.iter() {
            let Some(entries) = self.anchors.get(&AnchorKey::Node(up)) else {
                continue;
            };
            let id = &self.topology.node(NodeIndex::new(up as usize)).id;
            for e in entries.iter().filter(|e| e.on_active > 0) {
                let live = self.find(e.incident);
                let Some(inc) = self.incidents.get(&live) else {
                    continue;
                };
                let Some(failed) = inc.resources.get(id) else {
                    continue;
                };
                if failed.severity < Severity::Error {
                    continue;
                }
                if !reaching.contains(&live) {
                    reaching.push(live);
                }
                let since = t - failed.first_seen;
                let bound = silent_cause_tolerance(hops.max(1), 0).min(window);
                if (0..=bound).contains(&since)
                    && !refused(inc, &self.dedup.alerts)
                    && latest.is_none_or(|(first, _)| failed.first_seen > first)
                {
                    latest = Some((failed.first_seen, live));
                }
            }
        }
        (reaching, latest.map(|(_, live)| live))
    }

    /// `at`: where the alert's state is (`on_fire`'s).
    pub(super) fn correlate(
        &mut self,
        view: &Alert,
        at: AlertPos,
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let fp = &view.fingerprint;
        debug_assert_eq!(self.dedup.alerts.position(fp), Some(at));
        if is_recurring(self.dedup.alerts.at(at)) {
            // A check that keeps firing and clearing is its own story: it goes back to its own
            // incident (or opens one) without linking, and registers no anchors, so it neither
            // absorbs nor bridges the failures that happen around it.
            let rule = self.dedup.alerts.at(at).rule;
            let inc_id = self.reopen_or_open(fp, t, rule, None);
            self.join(
                inc_id,
                view,
                at,
                &AlertAnchors::default(),
                t,
                None,
                false,
                out,
            );
            return;
        }
        let mut anchors = self.anchors_listed(at, fp, false);
        // The alert's rule, whether the CMDB knows its resource, and if not, its service.
        // `began`: when the alert first started failing (a flapping alert's re-fire is no new
        // start).
        let (rule_idx, node, unknown_service, began) = {
            let s = self.dedup.alerts.at(at);
            let service = if s.node().is_some() {
                None
            } else {
                s.service.clone()
            };
            (s.rule, s.node(), service, s.first_seen.min(t))
        };
        let known = node.is_some();
        // A failure's impact on a resource shows, at its worst, when it reaches it (within a
        // scrape interval): where an incident's failure has shown on this resource only less
        // severe alerts (a degradation, or an error below this alert's critical), since more
        // than a scrape interval before this alert, an outage of the resource now is not that
        // impact (it already showed) but a failure of its own, and does not link to that
        // incident. Alerts there from before another resource of the incident failed are no
        // impact of it (noise that had joined, or the incident's own first failure).
        // Unless the incident's failure had by then fired this very check on two or more other
        // resources: the alert is then that failure's impact reaching one more of them (what
        // showed here first, less severe, was another check: often noise that had joined).
        let own_resource = node
            .filter(|_| view.severity >= Severity::Error)
            .map(|n| self.topology.node(NodeIndex::new(n as usize)).id.clone());
        let impact_already_shown = |inc: &Incident, alerts: &AlertMap| {
            own_resource.as_ref().is_some_and(|res| {
                inc.resources.get(res).is_some_and(|shown| {
                    shown.severity < view.severity
                        && view.starts_at - shown.first_seen > CAUSE_LAG_TOLERANCE
                        && inc.resources.iter().any(|(other, r)| {
                            other != res
                                && r.severity >= Severity::Error
                                && r.first_seen <= shown.first_seen
                        })
                        && !fires_check_elsewhere(inc, alerts, view, node)
                })
            })
        };
        let rule = &self.rules.groupings[rule_idx as usize];
        let (window, max_hops) = (rule.window, rule.max_hops);
        // Entries stale even for the earliest event still on time are pruned on the way.
        let (watermark, max_window) = (self.watermark(), self.rules.max_window());
        // (incident, index of the anchor that links to it, whether the link is weak)
        let mut candidates: SmallVec<[(u32, usize, bool); 4]> = SmallVec::new();
        // Links to a firing member that explains the alert: on its own resource (0 hops) or on a
        // node above it: (incident, hops up to that member, when the anchor was first registered).
        let mut explained_by: SmallVec<[(u32, u8, Millis); 4]> = SmallVec::new();
        // Whether the alert is a possible cause of members below its node (or shares their
        // group_by values): such an alert ties the incidents it links to together.
        let mut cause_link = false;
        // Incidents related only as co-firing, with how far in time the same check started.
        let mut co_firing: SmallVec<[(u32, Millis, usize); 2]> = SmallVec::new();
        // Incidents the alert links to only as a late cause: (incident, least lag behind the
        // first effect there).
        let mut lagging: SmallVec<[(u32, Millis); 2]> = SmallVec::new();
        // Of those, the incidents with a member directly below the alert's node (one hop: it
        // runs on it, depends on it, or is part of it).
        let mut lagging_directly_below: SmallVec<[u32; 2]> = SmallVec::new();
        // While user-facing guesses are open, an outright alert notes the incidents it links
        // to otherwise than as a late cause: a guess it may take must be all that links it.
        let guesses_open =
            !self.user_facing_guesses.is_empty() && view.severity >= Severity::Error && known;
        let mut linked_otherwise: SmallVec<[u32; 4]> = SmallVec::new();
        // Every anchor's list first, in one pass (node anchors, the bulk, by index), then the
        // anchors that have one: no anchor built, nor a `Cow` dropped, for the others (perf36).
        let mut slots = std::mem::take(&mut self.anchor_slots);
        slots.clear();
        let nodes = anchors.nodes.as_deref().unwrap_or(&[]);
        slots.extend(nodes.iter().map(|&(n, _, _)| self.anchors.node_slot(n)));
        slots.extend(
            anchors
                .others
                .iter()
                .map(|a| self.anchors.slot(&a.key).unwrap_or(NO_SLOT)),
        );
        // What `may_link` reads of the rule and the alert for a node anchor, once per alert.
        let node_filter = NodeLinkFilter::new(rule, view.severity);
        let oldest_live = watermark.saturating_sub(max_window);
        for (ai, &slot) in slots.iter().enumerate() {
            if slot == NO_SLOT {
                continue;
            }
            let entries = self.anchors.at_mut(slot);
            // Most node anchors' lists cannot link, told from their bounds (which pruning only
            // narrows): such a list is not pruned, its stale entries only marked dead, and its
            // removals are compared by the next reader that looks for an incident's entry.
            // Neither its reading nor (for an alert that opens an incident) its registration
            // needs them (perf45: ~150,000 checks per 300,000 alerts, most on such lists).
            if let Some(node) = nodes.get(ai) {
                if !entries.node_may_link(node.1, node.2, t, window, node_filter) {
                    entries.mark_stale(oldest_live);
                    continue;
                }
            }
            let (incidents, merged) = (&self.incidents, &self.merged_into);
            entries.prune(watermark, max_window, &self.removals, |id| {
                let root = find_in(merged, id);
                incidents.contains_key(&root).then_some(root)
            });
            let node_anchor_here;
            let a = match nodes.get(ai) {
                Some(node) => {
                    // Pruned: its bounds may now say it cannot link after all.
                    let may_link = entries.node_may_link(node.1, node.2, t, window, node_filter);
                    debug_assert_eq!(
                        may_link,
                        entries.may_link(&node_anchor(node), t, window, rule, view.severity)
                    );
                    if !may_link {
                        continue;
                    }
                    node_anchor_here = node_anchor(node);
                    &node_anchor_here
                }
                None => {
                    let a = &anchors.others[ai - nodes.len()];
                    if !entries.may_link(a, t, window, rule, view.severity) {
                        continue;
                    }
                    a
                }
            };
            if matches!(a.key, AnchorKey::CoFiring(_)) {
                // Co-firing: an alert the CMDB does not know joins an incident where the same
                // check started on another resource within a scrape interval (the nearest in
                // time wins below). An alert the CMDB knows links this way only to an alert it
                // does not know (either arrival order); the topology decides between known ones.
                for e in entries.iter() {
                    let Some(gap) = co_firing_gap(e, a, t) else {
                        continue;
                    };
                    let live = find_in(&self.merged_into, e.incident);
                    tracing::trace!(
                        alert = %fp, t, incident = live, anchor = ?a.key,
                        first = e.first, last = e.last, "co-firing link"
                    );
                    match co_firing.iter_mut().find(|(c, _, _)| *c == live) {
                        Some(c) => c.1 = c.1.min(gap),
                        None => co_firing.push((live, gap, ai)),
                    }
                }
                continue;
            }
            for e in entries.iter() {
                if let Some(member_hops) = link_hops(e, a, t, began, window, rule, view.severity) {
                    let live = find_in(&self.merged_into, e.incident);
                    if self
                        .incidents
                        .get(&live)
                        .is_some_and(|i| impact_already_shown(i, &self.dedup.alerts))
                    {
                        tracing::trace!(
                            alert = %fp, t, incident = live, anchor = ?a.key,
                            "no link: the incident's impact on the alert's resource had shown, less severe, long before"
                        );
                        continue;
                    }
                    // Why each link was made, for `--log corral_core::engine=trace`.
                    tracing::trace!(
                        alert = %fp, t, incident = live, anchor = ?a.key, alert_hops = a.hops,
                        member_hops, first = e.first, last = e.last, "link"
                    );
                    // A cause whose alert comes after its effects' (within the lag `causality`
                    // tolerates) may be their late cause, or a failure of its own starting just
                    // after them: no evidence that they are one failure.
                    let lagging_cause = matches!(a.key, AnchorKey::Node(_))
                        && a.hops == 0
                        && member_hops > 0
                        && t > e.first;
                    if lagging_cause {
                        let lag = t - e.first;
                        match lagging.iter_mut().find(|(c, _)| *c == live) {
                            Some(l) => l.1 = l.1.min(lag),
                            None => lagging.push((live, lag)),
                        }
                        if member_hops == 1 && !lagging_directly_below.contains(&live) {
                            lagging_directly_below.push(live);
                        }
                    } else if guesses_open && !linked_otherwise.contains(&live) {
                        linked_otherwise.push(live);
                    }
                    // A cause whose alert started before its effects there (within the time its
                    // failure takes to reach them) but arrived after them (late delivery): had
                    // it arrived first, each would have joined it as its impact, so arrival
                    // order changes nothing and it ties them together.
                    let reported_after_its_effects = a.hops == 0
                        && member_hops > 0
                        && t <= e.first
                        && effect_too_late(e.first, member_hops, t).is_none();
                    // Weak: through a service or learned group (one alert unknown to the CMDB),
                    // or the new alert names a silent node as the cause of members further
                    // below it than a common cause may reach (unless they were reported
                    // before it, started after it), or is a late cause: enough to join, never
                    // to bridge.
                    let weak = a.key.is_weak()
                        || (a.hops == 0
                            && member_hops > rule.max_hops
                            && !reported_after_its_effects)
                        || lagging_cause;
                    let same_resource = a.hops == 0
                        && member_hops == 0
                        && matches!(a.key, AnchorKey::Node(_) | AnchorKey::Resource(_));
                    if !weak && a.hops == 0 && !same_resource {
                        cause_link = true;
                    }
                    if !a.key.is_weak() && member_hops == 0 && (a.hops > 0 || same_resource) {
                        explained_by.push((live, a.hops, e.first));
                    }
                    match candidates.iter_mut().find(|(c, _, _)| *c == live) {
                        Some(c) if c.2 && !weak => *c = (live, ai, false),
                        Some(_) => {}
                        None => candidates.push((live, ai, weak)),
                    }
                }
            }
        }
        anchors.slots = slots;
        // An alert on a resource the CMDB does not know, of a business service the CMDB does
        // know, is somewhere in that service: a failure already alerting on one of the
        // service's nodes or upstream of them (within the rule's impact hops) explains it as it
        // explains the service's known instances. Weak (the alert's place is a guess), and only
        // a failure that was alerting when the alert started, at most a window before it
        // (effects follow their cause), of error severity or above.
        // Failures that place the alert in its service: (incident, latest start at the place).
        let mut placed: SmallVec<[(u32, Millis); 2]> = SmallVec::new();
        if let (true, Some(service)) = (rule.topology, &unknown_service) {
            // The service anchor, among the anchors after the node anchors (looked for only
            // for an alert the CMDB does not know: perf48, a `Cow` per anchor of every alert).
            let via = anchors
                .others
                .iter()
                .position(|a| matches!(a.key, AnchorKey::Service(_)))
                .map(|i| anchors.node_count() + i);
            if let Some(via) = via {
                let region = self.service_region(rule_idx, service);
                for &(node, hops) in region.iter() {
                    let Some(entries) = self.anchors.get(&AnchorKey::Node(node)) else {
                        continue;
                    };
                    for e in entries.iter() {
                        let Some(live) = self.failing_incident_since(e, t, window) else {
                            continue;
                        };
                        tracing::trace!(
                            alert = %fp, t, incident = live, node, hops, first = e.first,
                            "link through its service's place in the topology"
                        );
                        match placed.iter_mut().find(|(c, _)| *c == live) {
                            Some(p) => p.1 = p.1.max(e.first),
                            None => placed.push((live, e.first)),
                        }
                        if !candidates.iter().any(|(c, _, _)| *c == live) {
                            candidates.push((live, via, true));
                        }
                    }
                }
            }
        }
        // An alert the CMDB knows never joins on co-firing alone (the topology found it no
        // incident, so it starts one): it only gathers co-firing incidents of unknown resources
        // into the incident its strong links choose.
        if !known || candidates.iter().any(|c| !c.2) {
            for &(c, _, ai) in &co_firing {
                if !candidates.iter().any(|(i, _, _)| *i == c) {
                    candidates.push((c, ai, true));
                }
            }
        }
        // A failure whose alert started within a scrape interval after a business service's
        // outright alert above it, which the user-facing link (below) had placed in a failure
        // further down, is that alert's late cause: nearer, within the rule's reach. It does
        // not follow the alert into that failure (it links there only as the alert's late
        // cause); the alert follows it instead, once it is placed.
        let mut late_symptoms: SmallVec<[(Str, u32); 1]> = SmallVec::new();
        if let Some(node) = node.filter(|_| guesses_open && !lagging.is_empty()) {
            late_symptoms = self.user_facing_caused_late(node, began, &lagging, &linked_otherwise);
            if !late_symptoms.is_empty() {
                candidates.retain(|c| !(c.2 && late_symptoms.iter().any(|s| s.1 == c.0)));
            }
        }
        // A degradation that nothing within the rule's reach explains is the remote effect of a
        // failure further up what it depends on, through silent layers: it joins a failing
        // incident alerting on a node within the root-cause analysis' reach above it
        // (`root_cause.max_hops`), whose alert there started before it, within a scrape interval
        // per hop (had that failure reached it, it would have by then). Only a warning: an
        // outright failure that nothing near explains is a failure of its own, unless that
        // failure is still spreading behind a silent node this one depends on: another resource
        // behind that node joined it within a scrape interval before this alert (its impact is
        // running through that node now). Weak (it joins, never bridges); among several, the one
        // that started there most recently.
        // An outright alert on a business service nothing depends on (`is_business_service_on_top`:
        // its SLO burning, its probe failing) is what users see of a failure below it, never the
        // root of one that spreads further: it follows such a failure like a warning does, and
        // before an incident of mere warnings its links offered (a degraded neighbour, often a
        // one-off noise check, explains no outright failure; a failure below it does).
        // Copied out of the rule: the remote-effect walk below borrows the engine mutably.
        let (topology_rule, rule_reach, rule_edges) = {
            let rule = &self.rules.groupings[rule_idx as usize];
            (rule.topology, rule.reach(), rule.edges)
        };
        let mut remote_cause = None;
        // The failure the user-facing link placed the alert in: a guess a late cause corrects.
        let mut user_facing_guess = None;
        let outright = view.severity >= Severity::Error;
        // Tested last: only an outright alert that no link offers a failure reads the node.
        let user_facing = outright
            && known
            && topology_rule
            && !candidates.iter().any(|c| self.incident_failing(c.0))
            && node.is_some_and(|n| {
                self.topology
                    .is_business_service_on_top(NodeIndex::new(n as usize))
            });
        // A degraded neighbour explains a symptom less well than a failed one (as for a shared
        // symptom): a warning whose links offer only incidents of mere warnings looks for a
        // failure further up as it would with no link at all, and follows one still spreading
        // towards it (a member behind a node it depends on joined it within a scrape interval
        // before: `incidents_spreading_above`, the test an outright alert passes) over them.
        let warnings_only_offers = !outright
            && !candidates.is_empty()
            && !candidates.iter().any(|c| self.incident_failing(c.0));
        if (candidates.is_empty() || user_facing || warnings_only_offers) && known && topology_rule
        {
            let (reach, rca_hops) = (rule_reach, self.rules.settings.root_cause.max_hops);
            // An outright failure follows only a failure still spreading behind a node it
            // depends on (`incidents_spreading_above`). That scan reads every entry of the
            // alert's node anchors; the walk below mostly finds no failure at all, so it runs
            // only once the walk found one, or first (to skip the walk) when the walk is not
            // the cached one.
            let mut spreading: Option<SmallVec<[u32; 2]>> = None;
            let needs_spreading = (outright && !user_facing) || warnings_only_offers;
            if needs_spreading && rule_edges != EdgeMask::ALL && rca_hops > reach {
                spreading = Some(self.incidents_spreading_above(&anchors, t));
            }
            let walk = !spreading.as_ref().is_some_and(|s| s.is_empty());
            if let Some(node) = node.filter(|_| rca_hops > reach && walk) {
                // Over every edge type this is the walk `join` caches for root cause anyway.
                let ups = if rule_edges == EdgeMask::ALL {
                    self.rca_upstream(node)
                } else {
                    let walk = self.topology.upstream_within(
                        NodeIndex::new(node as usize),
                        rca_hops,
                        rule_edges,
                        self.rules.settings.max_neighbourhood,
                    );
                    walk.iter()
                        .map(|u| (u.node.index() as u32, u.hops))
                        .collect()
                };
                let mut latest: Option<(Millis, u32)> = None;
                for &(up_node, up_hops) in ups.iter().filter(|u| u.1 > reach) {
                    let Some(entries) = self.anchors.get(&AnchorKey::Node(up_node)) else {
                        continue;
                    };
                    let tolerance = silent_cause_tolerance(up_hops, 0);
                    for e in entries.iter() {
                        let Some(live) = self.failing_incident_since(e, t, tolerance.min(window))
                        else {
                            continue;
                        };
                        if needs_spreading
                            && !spreading
                                .get_or_insert_with(|| self.incidents_spreading_above(&anchors, t))
                                .contains(&live)
                        {
                            continue;
                        }
                        // A failure whose impact on the alert's resource already showed, less
                        // severe, long before is no cause of it (see `impact_already_shown`):
                        // not through a node above it either, however far.
                        if self
                            .incidents
                            .get(&live)
                            .is_some_and(|i| impact_already_shown(i, &self.dedup.alerts))
                        {
                            tracing::trace!(
                                alert = %fp, t, incident = live, node = up_node,
                                "no remote effect: the incident's impact on the alert's resource had shown, less severe, long before"
                            );
                            continue;
                        }
                        tracing::trace!(
                            alert = %fp, t, incident = live, node = up_node, hops = up_hops,
                            first = e.first, "link as a remote effect"
                        );
                        if latest.is_none_or(|(first, _)| e.first > first) {
                            latest = Some((e.first, live));
                        }
                    }
                }
                remote_cause = latest.map(|(_, live)| live);
            }
        }
        if let Some(live) = remote_cause {
            if user_facing {
                tracing::trace!(
                    alert = %fp, t, incident = live, passed_over = candidates.len(),
                    "an outright alert on a business service on top joins the failure below it"
                );
                candidates.clear();
                user_facing_guess = Some(live);
            } else if warnings_only_offers {
                tracing::trace!(
                    alert = %fp, t, incident = live, passed_over = candidates.len(),
                    "a warning offered only warnings' incidents joins the failure further up"
                );
                candidates.clear();
            }
            // No anchor of the alert's reaches that far: the incident's explanation says
            // "joined" without one.
            candidates.push((live, NO_ANCHOR, true));
        }
        // A failure explains a symptom only within the root-cause analysis' reach above it
        // (`root_cause.max_hops`), as it is named only for what it covers there: a symptom whose
        // linked failures all lie further up (it reaches them only through a longer chain of
        // degraded callers) belongs to a failure alerting outright within that reach, whose
        // alert there started before it within a scrape interval per hop; among several, the
        // most recent start. It joins that one, weakly; a cause of members below still bridges.
        // Linked incidents whose failure lies within that reach (all of them when not checked).
        let mut reaching_failures: Option<SmallVec<[u32; 4]>> = None;
        if let Some(node) = node.filter(|_| !cause_link && known && topology_rule) {
            if candidates.iter().any(|c| self.incident_failing(c.0)) {
                let linked: SmallVec<[u32; 4]> = candidates.iter().map(|c| c.0).collect();
                let mut explaining: SmallVec<[u32; 4]> = SmallVec::new();
                for &(inc, _, _) in explained_by.iter() {
                    if !explaining.contains(&inc) {
                        explaining.push(inc);
                    }
                }
                let (reaching, latest) = self.failures_within_reach(
                    node,
                    t,
                    window,
                    impact_already_shown,
                    &linked,
                    &explaining,
                );
                let linked_reaches = candidates.iter().any(|c| reaching.contains(&c.0));
                #[cfg(debug_assertions)]
                {
                    let (full, full_latest) =
                        self.failures_within_reach_full(node, t, window, impact_already_shown);
                    debug_assert_eq!(
                        linked_reaches,
                        candidates.iter().any(|c| full.contains(&c.0))
                    );
                    if !linked_reaches {
                        debug_assert_eq!(latest, full_latest);
                    }
                    if explaining.len() >= 2 {
                        for inc in &explaining {
                            debug_assert_eq!(reaching.contains(inc), full.contains(inc));
                        }
                    }
                }
                if let Some(live) = latest.filter(|_| !linked_reaches) {
                    tracing::trace!(
                        alert = %fp, t, incident = live,
                        "link to the failure within root-cause reach"
                    );
                    candidates = SmallVec::from_elem((live, NO_ANCHOR, true), 1);
                }
                reaching_failures = Some(reaching);
            }
        }
        // The other incidents whose firing members above explained a shared symptom, most
        // preferred first: if its explanation in the one it joined recovers while it keeps
        // firing, it moves to one of these (`rehome_recovered_symptom`).
        let mut explanations_passed_over: SmallVec<[u32; 2]> = SmallVec::new();
        // Direction of impact: an alert below alerting members of several incidents is a
        // symptom shared by independent failures, not evidence that they are one failure (with
        // dozens of failures open, every busy switch has some). It joins the incident of the
        // firing explanation that started first within a scrape interval before it (a symptom
        // shows within one of its cause, so a failure seconds old has hardly had the time), else
        // the one that started most recently (an older failure would already have caused it),
        // then the nearest (its own resource, then the node closest above it), and
        // bridges nothing. An incident with a failure (error or above) comes before one of mere
        // warnings: a degraded neighbour explains a symptom less well than a failed one; and one
        // alerting within `max_hops` above it before one reaching it only through more silent
        // layers (a link the engine calls weak when it runs the other way, cause to effects). An
        // alert that is itself a possible cause of members below it, not starting after them,
        // still bridges: a chain of causes runs through it.
        if !cause_link {
            let shared_symptom_order = |&(inc, hops, first): &(u32, u8, Millis)| {
                let failing = self.incident_failing(inc);
                // An alerting member further above than `max_hops` reaches the symptom only
                // through silent layers: weaker evidence than one a common-cause link relates.
                let deep = hops > max_hops;
                // A symptom shows within a scrape interval of its cause: among failures
                // that started within one before it, the earliest (a newer one has hardly
                // had the time); an older one would already have caused it, so after those
                // the most recent.
                let in_lag = t - first <= CAUSE_LAG_TOLERANCE;
                let order = if in_lag {
                    first
                } else {
                    first.saturating_neg()
                };
                // A failure within the root-cause reach above it explains it better than
                // one it reaches only through a longer chain of degraded callers.
                let reaches = reaching_failures.as_ref().is_none_or(|r| r.contains(&inc));
                (
                    Reverse(reaches),
                    Reverse(failing),
                    deep,
                    !in_lag,
                    order,
                    hops,
                    inc,
                )
            };
            let mut nearest_cause = explained_by
                .iter()
                .min_by_key(|e| shared_symptom_order(e))
                .map(|&(inc, _, _)| inc);
            // A degraded dependency explains no outage its users see: an outright alert on a
            // business service nothing depends on (`is_business_service_on_top`, what its users
            // see of a failure below it, never a root) whose only firing explanations above it
            // are mere warnings, while a strong link (a silent node it shares with a failure's
            // members) relates it to a failing incident, links as if those warnings were not
            // there: the failure spreading through the node it shares is its cause, the
            // warnings' incidents are passed over (a one-off check on a database two hops up
            // does not burn the SLO). Elsewhere an outright alert may be a failure of its own
            // (a deployment failing beside an outage), which the warning keeps apart from it.
            if outright
                && nearest_cause.is_some()
                && !explained_by.iter().any(|e| self.incident_failing(e.0))
                && candidates
                    .iter()
                    .any(|c| !c.2 && self.incident_failing(c.0))
                && node.is_some_and(|n| {
                    self.topology
                        .is_business_service_on_top(NodeIndex::new(n as usize))
                })
            {
                tracing::trace!(
                    alert = %fp, t, passed_over = ?nearest_cause,
                    "an outright alert explained only by warnings above it follows the failure it shares a silent node with"
                );
                let warnings = nearest_cause.take();
                for c in candidates.iter_mut() {
                    if Some(c.0) == warnings || !self.incident_failing(c.0) {
                        c.2 = true;
                    }
                }
            }
            if known && explained_by.iter().any(|e| Some(e.0) != nearest_cause) {
                let mut by_preference = explained_by.clone();
                by_preference.sort_by_cached_key(|e| shared_symptom_order(e));
                for (inc, _, _) in by_preference {
                    if Some(inc) != nearest_cause && !explanations_passed_over.contains(&inc) {
                        explanations_passed_over.push(inc);
                    }
                }
            }
            if let Some(cause_incident) = nearest_cause {
                for c in candidates.iter_mut() {
                    if c.0 != cause_incident {
                        c.2 = true;
                    }
                }
            }
        }
        // Links through a service or a learned co-occurrence (an alert the CMDB does not know)
        // are weak: they never bridge incidents. When only such links exist, join the one the
        // order below prefers, then the most recently active.
        let strong: SmallVec<[(u32, usize, bool); 4]> =
            candidates.iter().copied().filter(|c| !c.2).collect();
        // The incidents a weak link offered an alert the CMDB does not know but that it did not
        // join, most preferred first: if the one it joined recovers while it keeps firing, it
        // moves to one of these (`rehome_recovered_symptom`).
        let mut passed_over: SmallVec<[u32; 2]> = SmallVec::new();
        // A late cause of failures directly below it: a node whose alert comes within the lag a
        // cause may have after alerts on two or more of its direct dependents or parts, each in
        // an incident of its own, is what they have in common: its failure reaches what sits
        // directly on it first, and had its alert come at its failure's start, each would
        // have joined it as its impact. It bridges them (arrival order changes nothing); further
        // below, a failure of its own starting just before it is as likely, so there it still
        // joins only the one it lags least (below). As there, an outage below comes before a
        // warning: a noisy check directly below beside an outage is not bridged into it.
        let mut directly_below: SmallVec<[(u32, usize, bool); 4]> = SmallVec::new();
        if known && strong.is_empty() && lagging_directly_below.len() > 1 {
            directly_below.extend(
                candidates
                    .iter()
                    .copied()
                    .filter(|c| lagging_directly_below.contains(&c.0)),
            );
            if directly_below.iter().any(|c| self.incident_failing(c.0)) {
                directly_below.retain(|c| self.incident_failing(c.0));
            }
        }
        if directly_below.len() > 1 {
            tracing::trace!(
                alert = %fp, t, incidents = ?directly_below.iter().map(|c| c.0).collect::<SmallVec<[u32; 4]>>(),
                "a late cause of failures directly below it bridges them"
            );
            candidates = directly_below;
        } else if strong.is_empty() && candidates.len() > 1 {
            // A shared service or learned group says more than a check that happened to fail
            // at the same moment; among co-firing incidents, the nearest in time.
            let co_firing_distance = |c: u32| {
                let structural = candidates.iter().any(|&(i, ai, _)| {
                    i == c && !matches!(anchors.get(ai).key, AnchorKey::CoFiring(_))
                });
                if structural {
                    return 0;
                }
                co_firing
                    .iter()
                    .find(|(i, _, _)| *i == c)
                    .map_or(Millis::MAX, |&(_, gap, _)| gap.saturating_add(1))
            };
            // Among failures that place it in its service, the one that started there most
            // recently (an older failure would already have caused it), as for a shared symptom.
            let placed_at = |c: u32| {
                placed
                    .iter()
                    .find(|(i, _)| *i == c)
                    .map_or(Millis::MIN, |&(_, at)| at)
            };
            // Then an incident with a failure (error or above) before one of mere warnings, as
            // for a shared symptom: a late cause links to a dependent's outage before a warning
            // (a noisy check below it lagging least is no reason to leave the outage).
            let failing = |c: u32| self.incident_failing(c);
            // A late cause joins the effects it lags least: of the failures it may have caused,
            // the one that started most recently, as for a shared symptom.
            let lag_behind = |c: u32| {
                lagging
                    .iter()
                    .find(|(i, _)| *i == c)
                    .map_or(0, |&(_, lag)| lag)
            };
            let preference = |c: u32| {
                (
                    Reverse(co_firing_distance(c)),
                    placed_at(c),
                    failing(c),
                    Reverse(lag_behind(c)),
                    self.incidents.get(&c).map(|i| (i.last_seen, i.seq)),
                )
            };
            let latest = candidates
                .iter()
                .copied()
                .max_by_key(|&(c, _, _)| preference(c));
            if !known {
                let chosen = latest.map(|l| l.0);
                passed_over = candidates
                    .iter()
                    .map(|c| c.0)
                    .filter(|&c| Some(c) != chosen)
                    .collect();
                passed_over.sort_by_cached_key(|&c| Reverse(preference(c)));
            }
            candidates = latest.into_iter().collect();
        } else if !strong.is_empty() {
            // A weak link still gathers incidents made only of alerts the CMDB does not know:
            // they had nowhere better to go, and the strong incident is where they belong.
            let mut gathered = strong;
            for &(c, ai, weak) in &candidates {
                if !gathered.iter().any(|(g, _, _)| *g == c) && self.outside_topology(c) {
                    gathered.push((c, ai, weak));
                }
            }
            candidates = gathered;
        }
        let opened_alone = candidates.is_empty();
        let inc_id = match candidates.len() {
            0 => self.reopen_or_open(fp, t, rule_idx, Some(&anchors)),
            1 => candidates[0].0,
            _ => {
                let ids: Vec<u32> = candidates.iter().map(|(c, _, _)| *c).collect();
                self.merge(&ids, fp, t, out)
            }
        };
        let reason = candidates
            .iter()
            .find(|(c, _, _)| *c == inc_id)
            .or(candidates.first())
            .map(|&(_, ai, _)| ai)
            .filter(|&ai| ai != NO_ANCHOR);
        // Whether a firing member on a node above the alert's explains it in its incident.
        let explained = explained_by
            .iter()
            .any(|&(inc, hops, _)| hops > 0 && self.find(inc) == inc_id);
        // Placed by a co-firing link alone (a co-firing candidate is chosen only when no other
        // link offered one): a guess.
        let co_firing_alone = candidates.len() == 1
            && reason.is_some_and(|ai| matches!(anchors.get(ai).key, AnchorKey::CoFiring(_)));
        self.join(inc_id, view, at, &anchors, t, reason, explained, out);
        if known {
            self.note_known_start(began, inc_id);
        } else if opened_alone || co_firing_alone {
            // A guess among several co-firing incidents too: the failure it recovers with may
            // be none of those (`fire_recovery_check` looks at those first).
            self.record_failures_spreading(fp, began, inc_id);
        }
        let check = anchors.others.iter().find_map(|a| match a.key {
            AnchorKey::CoFiring(check) => Some(check),
            _ => None,
        });
        if let Some(check) = check {
            if !known {
                // Placed by a co-firing link alone (a co-firing candidate is chosen only when
                // no other link offered one): a guess a nearer start may correct.
                let gap = co_firing
                    .iter()
                    .find(|c| c.0 == inc_id)
                    .map(|c| c.1)
                    .filter(|_| co_firing_alone);
                self.record_co_firing_guess(check, fp, t, gap);
            } else if !self.co_firing_guesses.is_empty() {
                let to = self.find(inc_id);
                self.correct_co_firing_guesses(check, t, to, &view.resource, out);
            }
        }
        if known && opened_alone && view.severity >= Severity::Warning {
            self.record_late_effect(fp, &anchors, rule_idx, t, began, inc_id, view.severity);
        }
        self.anchor_slots = anchors.slots;
        if user_facing_guess.is_some_and(|g| self.find(g) == self.find(inc_id)) {
            let oldest = self.watermark().saturating_sub(CAUSE_LAG_TOLERANCE);
            drop_started_before(&mut self.user_facing_guesses, oldest);
            self.user_facing_guesses.push_back((began, fp.clone()));
        }
        if let Some(node) = node.filter(|_| !late_symptoms.is_empty()) {
            self.follow_late_cause(&late_symptoms, view, node, began, inc_id, t, out);
        }
        // Explained on its own resource only (another failure's member there, none above it
        // linked): the failures above it it passed over are recorded too, so that its recovery
        // can still tell which of them was its cause.
        let explained_on_own_resource = explained_by
            .iter()
            .any(|&(inc, hops, _)| hops == 0 && self.find(inc) == inc_id);
        if passed_over.is_empty() && (explained || explained_on_own_resource) {
            passed_over = explanations_passed_over;
        }
        if !passed_over.is_empty() {
            self.placement_alternatives.insert(fp.clone(), passed_over);
        } else if !self.placement_alternatives.is_empty() {
            self.placement_alternatives.remove(fp);
        }
    }

    /// The user-facing guesses (`user_facing_guesses`) that an outright alert on `node`,
    /// started at `began`, is the late cause of: the business service's alert started within a
    /// scrape interval before it, `node` is within its rule's reach below the service, and the
    /// alert links to the guess' incident only as its late cause (in `lagging`, not in
    /// `linked_otherwise`). Each as (fingerprint, incident it is in).
    fn user_facing_caused_late(
        &mut self,
        node: u32,
        began: Millis,
        lagging: &[(u32, Millis)],
        linked_otherwise: &[u32],
    ) -> SmallVec<[(Str, u32); 1]> {
        let oldest = self.watermark().saturating_sub(CAUSE_LAG_TOLERANCE);
        drop_started_before(&mut self.user_facing_guesses, oldest);
        let mut in_reach: SmallVec<[(Str, u32); 1]> = SmallVec::new();
        for (at, fp) in &self.user_facing_guesses {
            if *at > began || began - at > CAUSE_LAG_TOLERANCE {
                continue;
            }
            let Some(st) = self.dedup.alerts.get(fp).filter(|st| st.active) else {
                continue;
            };
            let Some(from) = st.incident().map(|i| self.find(i)) else {
                continue;
            };
            if lagging.iter().any(|l| l.0 == from) && !linked_otherwise.contains(&from) {
                in_reach.push((fp.clone(), from));
            }
        }
        in_reach.retain(|(fp, _)| {
            self.anchors_of(fp)
                .nodes
                .is_some_and(|n| n.iter().any(|&(up, hops, _)| up == node && hops > 0))
        });
        in_reach
    }

    /// Moves each business service's alert of `late_symptoms` (from
    /// `user_facing_caused_late`) into `to`, the incident its late cause `view` (on `node`,
    /// started at `began`) is in now, and forgets the guess.
    #[allow(clippy::too_many_arguments)]
    fn follow_late_cause(
        &mut self,
        late_symptoms: &[(Str, u32)],
        view: &Alert,
        node: u32,
        began: Millis,
        to: u32,
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let to = self.find(to);
        let Some(to_key) = self.incidents.get(&to).map(|i| i.key.clone()) else {
            return;
        };
        for (fp, from) in late_symptoms {
            self.user_facing_guesses.retain(|g| g.1 != *fp);
            let from = self.find(*from);
            if from == to || !self.incidents.contains_key(&from) {
                continue;
            }
            let Some(st) = self.dedup.alerts.get(fp) else {
                continue;
            };
            let lag = began - st.first_seen.min(began);
            tracing::trace!(
                alert = %fp, t, from, to, lag, "a business service's alert follows its late cause"
            );
            let why = format!(
                "{} {fp} on {} left for {}: {} on {}, below it within the rule's reach, started {} \
                 after it (its late cause, nearer than this failure)",
                st.name,
                st.resource,
                to_key,
                view.name,
                view.resource,
                crate::duration::format_duration(lag),
            );
            let reason = self
                .anchors_of(fp)
                .nodes
                .and_then(|n| n.iter().position(|&(up, hops, _)| up == node && hops > 0));
            self.move_member(fp, from, to, t, why, reason, out);
        }
    }

    /// The alert's own closed solo incident reopened, or a new incident.
    /// `listed`: the alert's anchors with the places of their lists, when `correlate` looked
    /// them up (`AlertAnchors::slots`).
    fn reopen_or_open(
        &mut self,
        fp: &Str,
        t: Millis,
        rule: u16,
        listed: Option<&AlertAnchors>,
    ) -> u32 {
        match self.take_reopenable(fp, t, listed) {
            Some(id) => id,
            None => self.new_incident(t, rule),
        }
    }

    /// Whether every member of the incident is on a resource the topology does not know.
    fn outside_topology(&self, inc_id: u32) -> bool {
        self.incidents
            .get(&inc_id)
            .is_some_and(|i| i.resources.values().all(|r| r.node == NONE))
    }

    /// The date part (`YYYY-MM-DD`) of the key of an incident opened at `t`: formatted once
    /// per day (perf45: the whole timestamp was formatted for every new incident, ~500
    /// instructions, to keep its first ten bytes).
    pub(super) fn incident_key_date(&mut self, t: Millis) -> Str {
        // Days of the years 1970..=9999, where the date depends on the day alone (outside,
        // the fallback text may not): those are formatted every time.
        let day = (0..=253_402_300_799_999)
            .contains(&t)
            .then_some(t / 86_400_000);
        if let Some((cached, date)) = &self.key_date_cache {
            if Some(*cached) == day {
                return date.clone();
            }
        }
        let text = format_event_time_str(t);
        let date = Str::new(text.get(..10).unwrap_or("0000-00-00"));
        if let Some(day) = day {
            self.key_date_cache = Some((day, date.clone()));
        }
        date
    }

    pub(super) fn new_incident(&mut self, t: Millis, rule: u16) -> u32 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = seq as u32;
        let date = self.incident_key_date(t);
        let key = incident_key(&self.config.id_prefix, &date, seq);
        self.incidents.insert(
            id,
            Box::new(Incident {
                seq,
                key,
                rule,
                rules: BTreeSet::new(),
                members: Vec::new(),
                active: 0,
                events: 0,
                first_seen: t,
                last_seen: t,
                severity: Severity::Info,
                resources: BTreeMap::new(),
                coverage: FxHashMap::default(),
                services: BTreeSet::new(),
                merged_from: Vec::new(),
                merged_ids: Vec::new(),
                split_off: Vec::new(),
                explanation: Vec::new(),
                opened: false,
                phase: Phase::Open,
                dirty: false,
                last_emit: Millis::MIN,
                emit_scheduled: false,
                last_root: None,
                emitted_events: 0,
                root_cause: None,
                first_seen_text: None,
                coverage_may_lack: false,
            }),
        );
        id
    }

    /// `at` is where the alert's state is; `reason` the index of the anchor that linked the
    /// alert to the incident, if any; `explained`, whether an alerting member above the
    /// alert's node explains it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn join(
        &mut self,
        inc_id: u32,
        view: &Alert,
        at: AlertPos,
        anchors: &AlertAnchors,
        t: Millis,
        reason: Option<usize>,
        explained: bool,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let rules = self.rules.clone();
        let fp = &view.fingerprint;
        debug_assert_eq!(self.dedup.alerts.position(fp), Some(at));
        let st = self.dedup.alerts.at_mut(at);
        st.incident = inc_id;
        st.active = true;
        let (node, rule, count) = (st.node(), st.rule, st.count);
        let chronic = self.anomaly.chronic_noise(view);
        let node_service = node.and_then(|n| {
            self.topology
                .node(NodeIndex::new(n as usize))
                .service
                .clone()
        });
        let rca_ups = node.map(|n| self.rca_upstream(n));
        let Some(inc) = self.incidents.get_mut(&inc_id) else {
            return;
        };
        inc.members.push(fp.clone());
        inc.active += 1;
        inc.events += u64::from(count);
        inc.first_seen = inc.first_seen.min(view.starts_at);
        inc.last_seen = inc.last_seen.max(t);
        inc.severity = inc.severity.max(view.severity);
        inc.phase = Phase::Open;
        inc.rules.insert(rule);
        let service_added = match view.service.clone().or(node_service) {
            Some(s) => inc.services.insert(s),
            None => false,
        };
        let res_key = node
            .map(|n| self.topology.node(NodeIndex::new(n as usize)).id.clone())
            .unwrap_or_else(|| view.resource.clone());
        // The root-cause view reads the services, the resources and their representatives:
        // a second alert on a member resource that changes none of them keeps it.
        let resource_changed = inc.add_to_resource(res_key, node, view, fp, chronic, rca_ups);
        if service_added || resource_changed {
            inc.forget_root_cause();
        }
        if inc.explanation.len() < MAX_EXPLANATION {
            // Built in the engine's scratch line and copied once into its `Arc<str>`: a
            // `concat` (and the anchor's own `String`) allocated twice more per join, and
            // `core::fmt` cost ~1,100 instructions a line.
            let line = &mut self.line_scratch;
            line.clear();
            for piece in [
                view.name.as_str(),
                " ",
                fp.as_str(),
                " on ",
                view.resource.as_str(),
            ] {
                line.push_str(piece);
            }
            match reason {
                Some(ai) => {
                    let a = anchors.get(ai);
                    line.push_str(" joined: ");
                    push_anchor_description(line, &self.topology, &a.key, a.hops);
                    line.push_str(" (rule ");
                }
                None if inc.members.len() == 1 => line.push_str(" opened the incident (rule "),
                None => line.push_str(" joined (rule "),
            }
            line.push_str(&rules.groupings[rule as usize].name);
            line.push(')');
            inc.explanation.push(Arc::from(line.as_str()));
        }
        self.register_anchors(inc_id, anchors, t, true, explained);

        let min_alerts = rules.groupings[self.incidents[&inc_id].rule as usize].min_alerts;
        let inc = self.incidents.get_mut(&inc_id).expect("present");
        if !inc.opened {
            if inc.members.len() >= min_alerts {
                inc.opened = true;
                self.stats.incidents_opened += 1;
                self.emit(inc_id, EventAction::Trigger, t, out);
            }
        } else {
            self.mark_dirty(inc_id, out);
        }
    }

    /// Merges incidents bridged by one alert into the largest; returns the survivor.
    fn merge(&mut self, ids: &[u32], fp: &Str, t: Millis, out: &mut Vec<IncidentUpdate>) -> u32 {
        self.merge_explained(ids, t, out, |absorbed| {
            format!("merged {absorbed} (bridged by {fp})")
        })
    }

    /// Which of the live incidents `ids` a merge of them keeps: the largest absorbs the others
    /// (ties: the oldest), so a big failure keeps its ticket.
    pub(super) fn merge_survivor(&self, ids: &[u32]) -> u32 {
        *ids.iter()
            .min_by_key(|i| {
                let inc = &self.incidents[i];
                (Reverse(inc.members.len()), inc.seq)
            })
            .expect("at least two")
    }

    /// [`Engine::merge`], the survivor's explanation saying `why(absorbed incident's key)`.
    pub(super) fn merge_explained(
        &mut self,
        ids: &[u32],
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
        why: impl Fn(&str) -> String,
    ) -> u32 {
        let survivor = self.merge_survivor(ids);
        for &other in ids {
            if other == survivor {
                continue;
            }
            let Some(mut absorbed) = self.incidents.remove(&other) else {
                continue;
            };
            self.removals.record(other);
            self.merged_into.insert(other, survivor);
            self.stats.incidents_merged += 1;
            for m in &absorbed.members {
                if let Some(st) = self.dedup.alerts.get_mut(m) {
                    st.incident = survivor;
                }
            }
            if absorbed.opened {
                // Close the absorbed incident's ticket, pointing at where its alerts went.
                let mut upd = self.build_update(&mut absorbed, EventAction::Resolve, t);
                upd.payload.custom_details.merged_into =
                    Some(Str::new(&self.incidents[&survivor].key));
                self.stats.updates_emitted += 1;
                out.push(upd);
            }
            let rca: Vec<(Str, Option<RcaNeighbourhood>)> = absorbed
                .resources
                .iter()
                .map(|(k, agg)| {
                    (
                        k.clone(),
                        (agg.node != NONE).then(|| self.rca_upstream(agg.node)),
                    )
                })
                .collect();
            let s = self.incidents.get_mut(&survivor).expect("survivor");
            s.members.append(&mut absorbed.members);
            s.forget_root_cause();
            s.active += absorbed.active;
            s.events += absorbed.events;
            s.first_seen = s.first_seen.min(absorbed.first_seen);
            s.last_seen = s.last_seen.max(absorbed.last_seen);
            s.severity = s.severity.max(absorbed.severity);
            s.rules.extend(absorbed.rules.iter().copied());
            s.services.extend(absorbed.services.iter().cloned());
            s.merged_from.push(absorbed.key.clone());
            s.merged_from.append(&mut absorbed.merged_from);
            s.merged_ids.push(other);
            s.merged_ids.append(&mut absorbed.merged_ids);
            s.opened |= absorbed.opened;
            s.coverage_may_lack |= absorbed.coverage_may_lack;
            if s.explanation.len() < MAX_EXPLANATION {
                s.explanation.push(why(&absorbed.key).into());
            }
            for ((key, agg), (_, ups)) in absorbed.resources.into_iter().zip(rca) {
                match s.resources.get_mut(&key) {
                    Some(mine) => {
                        if mine.severity < Severity::Error && agg.severity >= Severity::Error {
                            for &(n, hops) in ups.iter().flat_map(|u| u.iter()) {
                                s.coverage.entry(n).or_default().add_failing(hops);
                            }
                        }
                        mine.members += agg.members;
                        if (agg.severity, Reverse(agg.first_seen))
                            > (mine.severity, Reverse(mine.first_seen))
                        {
                            mine.severity = agg.severity;
                            mine.fingerprint = agg.fingerprint;
                            mine.name = agg.name;
                        }
                        mine.first_seen = mine.first_seen.min(agg.first_seen);
                        mine.chronic = mine.chronic.min(agg.chronic);
                    }
                    None => {
                        if let Some(ups) = ups {
                            for &(n, hops) in ups.iter() {
                                let c = s.coverage.entry(n).or_default();
                                c.covered += 1;
                                c.hop_sum += u32::from(hops);
                                if agg.severity >= Severity::Error {
                                    c.add_failing(hops);
                                }
                            }
                        }
                        s.resources.insert(key, agg);
                    }
                }
            }
        }
        if let Some(s) = self.incidents.get_mut(&survivor) {
            s.phase = Phase::Open;
            if s.opened {
                // A merge is news: emit now rather than at the next interval.
                s.dirty = true;
                s.last_emit = Millis::MIN;
            }
        }
        survivor
    }

    /// Whether the alert is a recurring check: it has fired again after resolving at least
    /// `RECURRING_AFTER` times.
    pub(super) fn recurring(&self, fp: &Str) -> bool {
        self.dedup.alerts.get(fp).is_some_and(is_recurring)
    }

    /// The closed solo incident this alert may reopen, taken out of the reopenable set.
    fn take_reopenable(
        &mut self,
        fp: &Str,
        t: Millis,
        listed: Option<&AlertAnchors>,
    ) -> Option<u32> {
        let window = self.rules.settings.reopen_window;
        let (_, closed) = self.reopenable.get(fp)?;
        if t > closed + window {
            return None;
        }
        let (mut inc, _) = self.reopenable.remove(fp)?;
        let id = inc.seq as u32;
        inc.members.clear();
        inc.forget_root_cause();
        inc.resources.clear();
        inc.coverage.clear();
        inc.coverage_may_lack = false;
        inc.active = 0;
        inc.phase = Phase::Open;
        inc.last_emit = Millis::MIN;
        if inc.explanation.len() < MAX_EXPLANATION {
            // Written into the kept scratch line, not `format!`: one allocation (the `Arc`).
            let line = &mut self.line_scratch;
            line.clear();
            line.push_str("reopened: ");
            line.push_str(fp);
            line.push_str(" fired again alone within the reopen window");
            inc.explanation.push(Arc::from(line.as_str()));
        }
        self.stats.incidents_reopened += 1;
        self.incidents.insert(id, inc);
        // The previous episode's anchor entries would come back to life with its old times
        // and link anything in between: drop them; join registers fresh ones. Through the
        // lists `correlate` found for the alert's anchors when it did (perf48: listing them
        // again cost ~1,300 instructions per reopen).
        match listed.filter(|anchors| !anchors.slots.is_empty()) {
            Some(anchors) => {
                #[cfg(debug_assertions)]
                {
                    let again: Vec<u32> = self
                        .anchors_of(fp)
                        .iter()
                        .map(|a| self.anchors.slot(&a.key).unwrap_or(NO_SLOT))
                        .collect();
                    debug_assert_eq!(again, anchors.slots, "the anchors correlate looked up");
                }
                for &slot in anchors.slots.iter().filter(|&&slot| slot != NO_SLOT) {
                    self.anchors.at_mut(slot).drop_incident(id);
                }
            }
            None => {
                for a in self.anchors_of(fp).iter() {
                    if let Some(entries) = self.anchors.get_mut(&a.key) {
                        entries.drop_incident(id);
                    }
                }
            }
        }
        Some(id)
    }
}

/// `PREFIX-DATE-SEQ` with the sequence zero-padded to six digits, as
/// `format!("{prefix}-{date}-{seq:06}")` writes it; built by hand, without `core::fmt`, because
/// every new incident names itself.
pub(super) fn incident_key(prefix: &str, date: &str, seq: u64) -> String {
    const PADDED: usize = 6;
    let mut digits = itoa::Buffer::new();
    let seq = digits.format(seq);
    let zeros = PADDED.saturating_sub(seq.len());
    let mut key = String::with_capacity(prefix.len() + date.len() + 2 + zeros + seq.len());
    key.push_str(prefix);
    key.push('-');
    key.push_str(date);
    key.push('-');
    key.push_str(&"000000"[..zeros]);
    key.push_str(seq);
    key
}

/// Whether an alert is a recurring check (`Engine::recurring`).
pub(super) fn is_recurring(st: &AlertState) -> bool {
    u32::from(st.flap.refires) >= RECURRING_AFTER
}

/// Why an alert joined through a node anchor. Built by hand, not `format!`: a node anchor
/// explains most joins, and `core::fmt` cost ~700 instructions a line.
pub(super) fn push_node_anchor(line: &mut String, id: &str, hops: u8) {
    if hops == 0 {
        line.push_str("same resource ");
        line.push_str(id);
        return;
    }
    line.push_str("shares upstream ");
    line.push_str(id);
    line.push_str(" (");
    push_decimal(line, usize::from(hops));
    line.push_str(if hops == 1 { " hop)" } else { " hops)" });
}

/// Why an alert joined through `key`, appended to `line`.
fn push_anchor_description(line: &mut String, topo: &TopologyIndex, key: &AnchorKey, hops: u8) {
    use std::fmt::Write;
    match key {
        AnchorKey::Node(n) => {
            push_node_anchor(line, topo.node(NodeIndex::new(*n as usize)).id.as_str(), hops)
        }
        AnchorKey::Resource(r) => {
            let _ = write!(line, "same resource {r} (not in topology)");
        }
        AnchorKey::Group(_, _) => line.push_str("same group_by values"),
        AnchorKey::Service(s) => {
            let _ = write!(line, "same service {s}, resource not in topology");
        }
        AnchorKey::Cooccurring(g) => {
            let _ = write!(
                line,
                "alert names that fire together (learned group {g}), resource not in topology"
            );
        }
        AnchorKey::CoFiring(_) => line.push_str(
            "same check firing on another resource within a scrape interval, resource not in topology",
        ),
    }
}

/// Whether incident `inc` had, by the time `view` started, members firing the same check
/// (alert name) on at least two resources other than `node` (`NONE` counts as one): the sign
/// that `view` is its failure's impact spreading over one more of them.
fn fires_check_elsewhere(
    inc: &Incident,
    alerts: &AlertMap,
    view: &Alert,
    node: Option<u32>,
) -> bool {
    let own = node.unwrap_or(NONE);
    let mut elsewhere: SmallVec<[u32; 2]> = SmallVec::new();
    for m in &inc.members {
        let Some(s) = alerts.get(m) else {
            continue;
        };
        if s.name == view.name
            && s.node != own
            && s.first_seen <= view.starts_at
            && !elsewhere.contains(&s.node)
        {
            elsewhere.push(s.node);
            if elsewhere.len() >= 2 {
                return true;
            }
        }
    }
    false
}
