//! What recoveries decide: the records of failures starting and spreading together, the
//! late effects joined once they recover with their cause, the recovery check
//! (`fire_recovery_check`) and the warnings checked against their root.

use super::*;

/// At most this many failures recorded as spreading around one alert's start
/// (`Engine::started_with`): bounds the record in a storm where dozens start each minute.
const MAX_SPREADING_RECORDED: usize = 64;
/// An alert the CMDB knows, at error or above, that opened an incident of its own because it
/// started just past the per-hop bound (`effect_too_late`) below a node alerting in another
/// incident: the time bound is a guess made at arrival; whether the two recover together
/// decides (`Engine::join_late_effect_recovered_with`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(super) struct LateEffect {
    /// The incident alerting on the node above when the alert started.
    cause_incident: u32,
    /// That node, and how many hops above the alert's own.
    cause_node: u32,
    hops: u8,
}

/// How far past the per-hop bound (`effect_too_late`) an effect may start and still join its
/// cause when the two recover together: the shortest scrape interval (15 s; the bound takes
/// the longest, 60 s), the precision with which a start is noticed. Further past it, a failure
/// beside the node that happens to recover with it is more likely than a late impact (measured:
/// with one whole scrape interval, 10 of the 15 such joins in the suites of seeds 1–10 merged
/// two failures; docs/quality.md, q32).
const JUST_PAST_THE_BOUND: Millis = crate::causality::CAUSE_LAG_TOLERANCE / 4;

/// The record an alert's resolve is checked against (`placement_alternatives`,
/// `started_with`), taken once the alert has resolved and not fired again: `None`, keeping the
/// record for the next resolve, while the alert fires (a flap); `None`, dropping it, once the
/// alert is gone or expired (an expiry says nothing about when it ended).
pub(super) fn take_after_resolve(
    alerts: &AlertMap,
    records: &mut FxHashMap<Str, SmallVec<[u32; 2]>>,
    fp: &str,
) -> Option<SmallVec<[u32; 2]>> {
    let Some(st) = alerts.get(fp) else {
        records.remove(fp);
        return None;
    };
    if st.active {
        return None;
    }
    let record = records.remove(fp)?;
    (st.status == Status::Resolved).then_some(record)
}

impl Engine {
    /// Notes that an alert the CMDB knows started failing at `began` in incident `inc_id`, and
    /// drops the starts no alert on time can follow within a scrape interval any more. Its
    /// failure is one spreading when each alert nothing placed (or a co-firing guess placed)
    /// started within a scrape interval before it: it joins their `started_with`.
    pub(super) fn note_known_start(&mut self, began: Millis, inc_id: u32) {
        let oldest = self.watermark().saturating_sub(CAUSE_LAG_TOLERANCE);
        drop_started_before(&mut self.recent_known_starts, oldest);
        self.recent_known_starts.push_back((began, inc_id));
        if self.recent_unplaced_starts.is_empty() {
            return;
        }
        drop_started_before(&mut self.recent_unplaced_starts, oldest);
        // A failure spreading from within a scrape interval after an alert nothing placed
        // started with it as much as one spreading before it (the alert may be its first
        // symptom, or its cause on a resource the CMDB does not know).
        let live = self.find(inc_id);
        for (at, fp) in &self.recent_unplaced_starts {
            if began < *at || began - at > CAUSE_LAG_TOLERANCE {
                continue;
            }
            let own = match self.dedup.alerts.get(fp).and_then(|st| st.incident()) {
                Some(own) => self.find(own),
                None => continue,
            };
            if own == live {
                continue;
            }
            let spreading = self.started_with.entry(fp.clone()).or_default();
            if !spreading.contains(&live) && spreading.len() < MAX_SPREADING_RECORDED {
                spreading.push(live);
            }
        }
    }

    /// Alert `fp`, on a resource the CMDB does not know, started at `began` and nothing placed
    /// it (it opened incident `own`) or a co-firing guess alone did (it joined `own`, among
    /// other co-firing incidents or not). Records the incidents in which an alert the CMDB
    /// knows started within a scrape interval before it (a symptom follows its cause within
    /// one), and queues it so that those starting within one after it are added as they come
    /// (`note_known_start`: it may be the first symptom seen, or the cause itself): the
    /// failures spreading when it started. Time alone places nothing (in a storm several
    /// failures spread at any moment, and one-off alerts start among them); its recovery may.
    pub(super) fn record_failures_spreading(&mut self, fp: &Str, began: Millis, own: u32) {
        let mut spreading: SmallVec<[u32; 2]> = SmallVec::new();
        for &(at, inc) in self.recent_known_starts.iter().rev() {
            if at > began || began - at > CAUSE_LAG_TOLERANCE {
                continue;
            }
            let live = self.find(inc);
            if live != own && self.incidents.contains_key(&live) && !spreading.contains(&live) {
                spreading.push(live);
            }
        }
        if spreading.is_empty() {
            self.started_with.remove(fp);
        } else {
            self.started_with.insert(fp.clone(), spreading);
        }
        let oldest = self.watermark().saturating_sub(CAUSE_LAG_TOLERANCE);
        drop_started_before(&mut self.recent_unplaced_starts, oldest);
        self.recent_unplaced_starts.push_back((began, fp.clone()));
    }

    /// *What the CMDB cannot place recovers with its failure*: alert `fp`, on a resource the
    /// CMDB does not know, that nothing placed when it started (no topology, service or
    /// co-firing link), resolved a scrape interval before `at`. If its incident still holds
    /// only resources the CMDB does not know, and, of the failures spreading when it started
    /// (`started_with`), one had at least two other members recover within a scrape interval
    /// of it, it started and ended with that failure: its incident folds into that one (the
    /// one with the most such recoveries). Two coincidences, not one: a one-off alert starting
    /// amid a storm's failures seldom also clears as one of them recovers. A co-firing guess
    /// that no member of its incident recovered with moves there on the same evidence. The
    /// failures spreading when it started are those that started within a scrape interval
    /// before or after it. An alert that fired again (a flap) is looked at on its next resolve;
    /// one that expired stays.
    fn fold_piece_recovered_with(&mut self, fp: &Str, at: Millis, out: &mut Vec<IncidentUpdate>) {
        let Some(spreading) = take_after_resolve(&self.dedup.alerts, &mut self.started_with, fp)
        else {
            return;
        };
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        let (end, name, resource) = (st.last_seen, st.name.clone(), st.resource.clone());
        let Some(piece) = st.incident().map(|i| self.find(i)) else {
            return;
        };
        let Some(own) = self.incidents.get(&piece) else {
            return;
        };
        let alone = own.resources.values().all(|r| r.node == NONE);
        // Members (other than this alert) that recovered within a scrape interval of it.
        let recovered_with_it = |members: &[Str]| {
            members
                .iter()
                .filter(|m| {
                    *m != fp
                        && self.dedup.alerts.get(m).is_some_and(|o| {
                            !o.active
                                && o.status == Status::Resolved
                                && (o.last_seen - end).abs() <= CAUSE_LAG_TOLERANCE
                        })
                })
                .count()
        };
        // A guess placed it in a failure the CMDB knows: it stays if a member there recovered
        // with it.
        if !alone && recovered_with_it(&own.members) > 0 {
            return;
        }
        // Of the failures spreading when it started, the one with the most members that
        // recovered with it (at least two: one alert clearing is no failure recovering).
        let mut best: Option<(usize, u32)> = None;
        for c in spreading.iter().map(|&c| self.find(c)) {
            if c == piece {
                continue;
            }
            let Some(inc) = self.incidents.get(&c) else {
                continue;
            };
            let together = recovered_with_it(&inc.members);
            if together >= 2 && best.is_none_or(|(n, _)| together > n) {
                best = Some((together, c));
            }
        }
        let Some((together, to)) = best else {
            return;
        };
        if !alone {
            tracing::trace!(alert = %fp, end, piece, to, together, "recovered with a failure it started with, not with its guess: moved");
            let to_key = self.incidents[&to].key.clone();
            if let Some(inc) = self.incidents.get_mut(&piece) {
                if inc.explanation.len() < MAX_EXPLANATION {
                    inc.explanation.push(
                        format!(
                            "{name} {fp} on {resource} left for {to_key}: no alert here recovered \
                             with it, {together} of that failure's did, which was spreading when \
                             it started (placed by timing alone)"
                        )
                        .into(),
                    );
                }
            }
            self.move_resolved_member(fp, piece, to, out);
            return;
        }
        tracing::trace!(alert = %fp, end, piece, to, together, "recovered with a failure it started with: folded");
        let resolving_since =
            |engine: &Self, inc: u32| match engine.incidents.get(&inc).map(|i| i.phase) {
                Some(Phase::Resolving(since)) => since,
                _ => Millis::MIN,
            };
        let since = resolving_since(self, to).max(resolving_since(self, piece));
        let survivor = self.merge_explained(&[to, piece], at, out, |absorbed| {
            format!(
                "merged {absorbed}: {name} {fp} on {resource}, which nothing in the CMDB places, \
                 started while this failure spread and recovered with {together} of its alerts \
                 (placed by timing alone)"
            )
        });
        self.resolve_merged_as_before(survivor, since, at, out);
    }

    /// Alert `fp`, on a node the CMDB knows, at warning or above, started at `began` and opened
    /// incident `own` alone. Records the node alerting in another incident above it (within
    /// the rule's impact hops, the nearest, then the latest to start) whose failure it followed
    /// by more than the scrape interval per hop `effect_too_late` allows, but by no more than
    /// [`JUST_PAST_THE_BOUND`] beyond it: the link the bound refused, which its recovery may
    /// restore; unless that failure had already shown effects below its node (then it was
    /// reached on time, and this is more likely a failure of its own).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_late_effect(
        &mut self,
        fp: &Str,
        anchors: &AlertAnchors,
        rule_idx: u16,
        t: Millis,
        began: Millis,
        own: u32,
        severity: Severity,
    ) {
        // A warning is judged against the node right above it only: two hops up, most that
        // recovered with such a node were a failure of their own (docs/quality.md, q46).
        let max_hops = if severity >= Severity::Error {
            u8::MAX
        } else {
            1
        };
        let rules = Arc::clone(&self.rules);
        let rule = &rules.groupings[rule_idx as usize];
        let mut nearest: Option<(LateEffect, Millis)> = None;
        for &(node, hops, _) in anchors.nodes.as_deref().unwrap_or(&[]) {
            if hops == 0 || hops > max_hops || !rule.relates(hops, 0) {
                continue;
            }
            // Most lists above a new alert hold only members below their node, none on it:
            // their bounds tell, without a pass over their entries.
            let Some(entries) = self
                .anchors
                .get(&AnchorKey::Node(node))
                .filter(|entries| entries.may_have_alerting_at(t, rule.window))
            else {
                continue;
            };
            let bound = silent_cause_tolerance(hops, 0);
            for e in entries.iter() {
                if e.on_start == Millis::MAX
                    || !e.alerting_at(t, rule.window)
                    || t > e.first + rule.window
                {
                    continue;
                }
                let delay = began.saturating_sub(e.on_start);
                if delay <= bound || delay > bound + JUST_PAST_THE_BOUND {
                    continue;
                }
                let cause = find_in(&self.merged_into, e.incident);
                if cause == own || !self.incidents.contains_key(&cause) {
                    continue;
                }
                if nearest
                    .is_none_or(|(n, start)| (hops, Reverse(e.on_start)) < (n.hops, Reverse(start)))
                {
                    let late = LateEffect {
                        cause_incident: cause,
                        cause_node: node,
                        hops,
                    };
                    nearest = Some((late, e.on_start));
                }
            }
        }
        if let Some((late, _)) = nearest {
            // Judged now, at its start: a failure whose effects below it had already shown was
            // reached on time, and a later alert past the bound is more likely one of its own
            // (q37). Effects that join after this one do not refute it: they follow it.
            if self.failure_reached_below(late.cause_incident, late.cause_node) {
                tracing::trace!(alert = %fp, t, cause_incident = late.cause_incident, node = late.cause_node, "opened alone just past the per-hop bound below a failure that had already reached below it: a failure of its own");
                return;
            }
            tracing::trace!(alert = %fp, t, cause_incident = late.cause_incident, node = late.cause_node, hops = late.hops, "opened alone just past the per-hop bound below an alerting node");
            self.late_effects.insert(fp.clone(), late);
        }
    }

    /// Alert `fp` resolved at `t`: decides the late effects it is one side of, as the effect
    /// itself or as an alert on the node above one of them in that node's incident.
    pub(super) fn join_late_effects_recovered_with(
        &mut self,
        fp: &Str,
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        let (Some(node), Some(inc)) = (st.node(), st.incident()) else {
            return;
        };
        // A warning is one side only as the late effect itself: the node above must fail.
        let on_the_node_above = st.severity >= Severity::Error;
        if !on_the_node_above && !self.late_effects.contains_key(fp) {
            return;
        }
        let inc = self.find(inc);
        let pairs: SmallVec<[Str; 2]> = self
            .late_effects
            .iter()
            .filter(|(effect, late)| {
                *effect == fp
                    || (on_the_node_above
                        && late.cause_node == node
                        && self.find(late.cause_incident) == inc)
            })
            .map(|(effect, _)| effect.clone())
            .collect();
        for effect in pairs {
            self.join_late_effect_recovered_with(&effect, t, out);
        }
    }

    /// Whether incident `inc` holds a member on a node below `node` (within the root-cause
    /// reach): `node`'s failure already shows effects of its own there.
    fn failure_reached_below(&mut self, inc: u32, node: u32) -> bool {
        let member_nodes: SmallVec<[u32; 8]> = self
            .incidents
            .get(&inc)
            .map(|i| i.members.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| self.dedup.alerts.get(m))
            .filter_map(|s| s.node())
            .filter(|&n| n != node)
            .collect();
        member_nodes
            .into_iter()
            .any(|n| self.rca_upstream(n).iter().any(|&(up, _)| up == node))
    }

    /// *A late effect recovers with its cause*: `effect` opened an incident of its own just
    /// past the per-hop bound below a node alerting in another incident (`late_effects`). The
    /// bound is a guess made at its start; the recoveries are evidence that comes later. Once
    /// both have resolved (explicitly: an expiry says nothing about when a failure ended), if
    /// a member at error or above on that node recovered within [`recovery_tolerance`] of
    /// their hops from it, nothing in its own incident explains it (no member at error or
    /// above within the root-cause reach above it), the node's failure had reached it: the two
    /// incidents merge. Whether that failure had already shown effects below its node is
    /// judged when the effect starts ([`Engine::record_late_effect`]): a failure that already
    /// had them is more likely beside a second failure below it that recovers with it by chance
    /// (measured: the overlapping failures of seeds 10–12 that q32 merged; docs/quality.md,
    /// q37), while effects that came after this one followed it (q46). A node member still
    /// firing keeps the record for its own resolve; one that recovered apart from it, an effect
    /// that fired again (a flap, looked at on its next resolve) or an incident gone end it.
    fn join_late_effect_recovered_with(
        &mut self,
        effect: &Str,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(late) = self.late_effects.get(effect).copied() else {
            return;
        };
        let Some(st) = self.dedup.alerts.get(effect) else {
            self.late_effects.remove(effect);
            return;
        };
        if st.active {
            return;
        }
        let (end, name, resource, node) = (
            st.last_seen,
            st.name.clone(),
            st.resource.clone(),
            st.node(),
        );
        let (Some(node), Some(own), Status::Resolved) = (node, st.incident(), st.status) else {
            self.late_effects.remove(effect);
            return;
        };
        let (own, cause) = (self.find(own), self.find(late.cause_incident));
        let (Some(own_inc), Some(cause_inc)) =
            (self.incidents.get(&own), self.incidents.get(&cause))
        else {
            self.late_effects.remove(effect);
            return;
        };
        if own == cause {
            self.late_effects.remove(effect);
            return;
        }
        // Members at error or above on the node above: one that recovered with the effect, or
        // one still firing (its resolve decides).
        let mut still_failing = false;
        let mut recovered_with: Option<(Str, Str)> = None;
        for m in &cause_inc.members {
            let Some(ms) = self.dedup.alerts.get(m) else {
                continue;
            };
            if ms.node() != Some(late.cause_node) || ms.severity < Severity::Error {
                continue;
            }
            if ms.active {
                still_failing = true;
            } else if ms.status == Status::Resolved
                && (ms.last_seen - end).abs() <= recovery_tolerance(late.hops)
            {
                recovered_with = Some((ms.name.clone(), ms.resource.clone()));
            }
        }
        let Some((cause_name, cause_resource)) = recovered_with else {
            if !still_failing {
                self.late_effects.remove(effect);
            }
            return;
        };
        self.late_effects.remove(effect);
        // Nothing in its own incident explains it: no member at error or above above it.
        let failing_nodes: FxHashSet<u32> = own_inc
            .members
            .iter()
            .filter(|m| *m != effect)
            .filter_map(|m| self.dedup.alerts.get(m))
            .filter(|s| s.severity >= Severity::Error)
            .filter_map(|s| s.node())
            .collect();
        if !self.is_head(node, &failing_nodes) {
            return;
        }
        tracing::trace!(alert = %effect, end, own, cause, hops = late.hops, "late effect recovered with the node above it: joined");
        let resolving_since =
            |engine: &Self, inc: u32| match engine.incidents.get(&inc).map(|i| i.phase) {
                Some(Phase::Resolving(since)) => since,
                _ => Millis::MIN,
            };
        let since = resolving_since(self, own).max(resolving_since(self, cause));
        let hops = late.hops;
        let survivor = self.merge_explained(&[cause, own], at, out, |absorbed| {
            format!(
                "merged {absorbed}: {name} {effect} on {resource} started just past the scrape \
                 interval per hop after {cause_name} on {cause_resource}, {hops} hop(s) above \
                 it, whose failure had shown no effect of its own below it, and recovered with \
                 it: that failure's impact noticed late, not one of its own"
            )
        });
        self.resolve_merged_as_before(survivor, since, at, out);
    }

    /// After a merge of two incidents whose members had all recovered (at `at`; `since`: the
    /// later of the two resolving starts, `Millis::MIN` if neither was resolving): merging
    /// reopens, but nothing fires in either, so the survivor resolves as they did.
    fn resolve_merged_as_before(
        &mut self,
        survivor: u32,
        since: Millis,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let hold = self.rules.settings.resolve_hold;
        if let Some(inc) = self.incidents.get_mut(&survivor) {
            if inc.active == 0 {
                let since = if since == Millis::MIN { at } else { since };
                inc.phase = Phase::Resolving(since);
                self.state_timers
                    .push(Reverse((since + hold, StateTimer::Close(survivor))));
            }
        }
        self.mark_dirty(survivor, out);
    }

    // -----------------------------------------------------------------------------------------
    // Recovery: a cause and its effects recover together
    // -----------------------------------------------------------------------------------------

    /// An alert resolved (an explicit recovery; an expiry says nothing about when it ended). A
    /// member of an incident that had a part split off follows that part when it recovered with
    /// it; a member at error or above whose incident still has firing members is checked once
    /// the shortest recovery tolerance has passed ([`Engine::fire_recovery_check`]).
    pub(super) fn on_recovery(&mut self, fp: &Str, t: Millis, out: &mut Vec<IncidentUpdate>) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        let Some(inc) = st.incident() else {
            return;
        };
        if st.active {
            return;
        }
        // Only a member the CMDB knows is checked; any member may follow a split-off part.
        let severity = st.node().map_or(Severity::Info, |_| st.severity);
        let known_warning = st.node().is_some() && st.severity < Severity::Error;
        let inc_id = self.find(inc);
        let Some(inc) = self.incidents.get(&inc_id) else {
            return;
        };
        if inc.active == 0 {
            // The last member to recover: the check below would find nothing failing, but a
            // member far below the root may have outlived every failure above it.
            if severity >= Severity::Error {
                self.split_if_outlived_its_causes(fp, inc_id, t, out);
            }
            return;
        }
        if !inc.split_off.is_empty() {
            let parts = inc.split_off.clone();
            if self.follow_recovered_part(fp, inc_id, &parts, out) {
                return;
            }
        }
        if severity >= Severity::Error || known_warning {
            self.state_timers.push(Reverse((
                t + recovery_tolerance(0),
                StateTimer::RecoveryCheck(fp.clone()),
            )));
        }
    }

    /// The members of incident `inc_id` and the node of its named root cause (as last
    /// computed), when the CMDB knows that root: what the recovery checks judge a member by.
    fn members_and_named_root(&self, inc_id: u32) -> Option<(Vec<Str>, u32)> {
        let inc = self.incidents.get(&inc_id)?;
        let (root, _) = inc.last_root.as_ref()?;
        let root = self.topology.resolve(root)?;
        Some((inc.members.clone(), root.index() as u32))
    }

    /// Hops between two nodes when one is within the root-cause reach above the other (0: the
    /// same node); `None` when neither is.
    fn hops_between(&mut self, a: u32, b: u32) -> Option<u8> {
        if a == b {
            return Some(0);
        }
        if let Some(&(_, hops)) = self.rca_upstream(a).iter().find(|&&(n, _)| n == b) {
            return Some(hops);
        }
        self.rca_upstream(b)
            .iter()
            .find(|&&(n, _)| n == a)
            .map(|&(_, hops)| hops)
    }

    /// *A cause and its effects recover together*: a member at error or above that recovered
    /// while a member at error or above that had started before it recovered, within the
    /// root-cause reach above or below it (or on its resource), kept failing for longer than
    /// [`recovery_tolerance`] of their hops was neither its cause nor its effect: the incident
    /// held two failures. "Kept failing" needs evidence in the stream, not a silence that late
    /// delivery or a lost resolve would explain: an occurrence (a re-notification, or its
    /// resolve) with an event time past the tolerance. The part that recovered with it leaves
    /// as an incident of its own ([`Engine::split_recovered`]). While a member may still give
    /// that evidence, the check looks again, each time after twice as long since the recovery.
    pub(super) fn fire_recovery_check(
        &mut self,
        fp: &Str,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        if st.node().is_none() {
            // On a resource the CMDB does not know, only an alert a weak link placed among
            // several incidents (its service, a co-firing check), or one nothing placed, has a
            // check.
            if self.placement_alternatives.contains_key(fp) {
                self.rehome_symptom_after_recovery(fp, out);
            }
            if self.started_with.contains_key(fp) {
                self.fold_piece_recovered_with(fp, at, out);
            }
            return;
        }
        if st.active || st.status != Status::Resolved {
            return;
        }
        if st.severity < Severity::Error {
            self.check_warning_against_root(fp, at, out);
            return;
        }
        let (Some(node), Some(inc)) = (st.node(), st.incident()) else {
            return;
        };
        let end = st.last_seen;
        let inc_id = self.find(inc);
        let Some((members, root)) = self.members_and_named_root(inc_id) else {
            return;
        };
        // Nodes of the members at error or above: a member below none of them within the
        // root-cause reach is a candidate root of its own (a head of the incident).
        let failing_nodes: FxHashSet<u32> = members
            .iter()
            .filter_map(|m| self.dedup.alerts.get(m))
            .filter(|s| s.severity >= Severity::Error)
            .filter_map(|s| s.node())
            .collect();
        let recovered_is_head = self.is_head(node, &failing_nodes);
        let mut pending = false;
        for m in &members {
            let Some(ms) = self.dedup.alerts.get(m) else {
                continue;
            };
            if m == fp || ms.severity < Severity::Error || ms.first_seen > end {
                continue;
            }
            let (active, failing_at) = (ms.active, ms.failing_until());
            let Some(m_node) = ms.node().filter(|&n| n != node) else {
                continue;
            };
            // The pairs that recover together: the named root cause and an effect of it, and
            // two heads below a shared upstream node (siblings under a silent hypervisor, say),
            // whose recoveries that node's would bring within the tolerance of the path
            // through it.
            let cause_and_effect = if m_node == root || node == root {
                self.hops_between(node, m_node)
            } else {
                None
            };
            let hops = match cause_and_effect {
                Some(hops) => Some(hops),
                None if recovered_is_head && self.is_head(m_node, &failing_nodes) => {
                    self.hops_via_shared_upstream(node, m_node)
                }
                None => None,
            };
            let Some(hops) = hops else {
                continue;
            };
            if failing_at > end + recovery_tolerance(hops)
                && self.split_recovered(inc_id, fp, m, hops, SplitReason::RecoveredApart, at, out)
            {
                return;
            }
            pending |= active;
        }
        // Far below the named root (beyond the root-cause reach) the pairs above judge nothing:
        // the member is judged against its own possible causes in the incident, the members at
        // error or above on nodes within the reach above it. A rollout that failed and was
        // rolled back half an hour before the switch under its dependencies came back was not
        // failed by the switch. When every one of them that had started by its recovery kept
        // failing beyond the tolerance of its hops, none explains its recovery: a failure of
        // its own, split off against the nearest.
        if !recovered_is_head && self.hops_between(node, root).is_none() {
            match self.causes_kept_failing(fp, node, end, &members) {
                CausesAfterRecovery::Apart(reason, cause, hops) => {
                    if self.split_recovered(inc_id, fp, &cause, hops, reason, at, out) {
                        return;
                    }
                }
                CausesAfterRecovery::Undecided => pending = true,
                CausesAfterRecovery::Stays => {}
            }
        }
        if pending {
            self.state_timers.push(Reverse((
                at + (at - end).max(CAUSE_LAG_TOLERANCE),
                StateTimer::RecoveryCheck(fp.clone()),
            )));
        }
    }

    /// *A warning that clears long before the outage it joined was no symptom of it*: a
    /// member below error, on a resource 1 or more hops below the incident's named root cause,
    /// that started while a member at error or above on that root was failing (or up to
    /// [`CAUSE_LAG_TOLERANCE`] before it started: the lag the correlator allows a cause behind
    /// its effect, so the same lag that let the warning join the root's failure) and recovered
    /// while that member kept failing beyond [`recovery_tolerance`] of their hops (evidence in
    /// the stream, as for [`Engine::fire_recovery_check`]): the root's recovery would have
    /// brought its symptom's within that time, so the warning degraded its resource for a
    /// reason of its own. It leaves, with what recovered with it, as an incident of its own
    /// ([`Engine::split_recovered`], [`SplitReason::NoSymptom`]). A warning that recovered
    /// with one of the root's alerts (two failures on one root) stays; while one of them may
    /// still recover with it, the check looks again later.
    ///
    /// *Nor was a warning above the root that clears while the root keeps failing its cause*:
    /// on a node the root depends on (within the root-cause reach), it joined as a candidate
    /// cause; had it been the cause, its recovery would have brought the root's within the same
    /// tolerance, and being above the root it is no symptom of it either
    /// ([`SplitReason::NoCause`]). The root's alert need only have been failing when the
    /// warning recovered: a cause starts before its effects.
    fn check_warning_against_root(&mut self, fp: &Str, at: Millis, out: &mut Vec<IncidentUpdate>) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        let (Some(node), Some(inc)) = (st.node(), st.incident()) else {
            return;
        };
        let (began, end) = (st.first_seen, st.last_seen);
        let inc_id = self.find(inc);
        let Some((root, quiet)) = self
            .incidents
            .get(&inc_id)
            .and_then(|i| Some((i.last_root.as_ref()?, i.active == 0)))
            .and_then(|((r, _), quiet)| Some((self.topology.resolve(r)?.index() as u32, quiet)))
        else {
            return;
        };
        if root == node {
            return;
        }
        let below_root = self
            .rca_upstream(node)
            .iter()
            .find(|&&(n, _)| n == root)
            .map(|&(_, hops)| (hops, SplitReason::NoSymptom));
        // A warning on a node the root depends on is a candidate cause: had it been the cause,
        // its recovery would have brought the root's within the same tolerance.
        let Some((hops, reason)) = below_root.or_else(|| {
            self.rca_upstream(root)
                .iter()
                .find(|&&(n, _)| n == node)
                .map(|&(_, hops)| (hops, SplitReason::NoCause))
        }) else {
            return;
        };
        // A root keeps failing mostly in silence (a re-notification per repeat interval), so
        // for a candidate cause the evidence is often only the root's own resolve, and by the
        // time the check looks again every member may have recovered: the incident stays for
        // the resolve hold and is judged then. The check below the root keeps its older bound
        // (an incident still firing): lifting it there also splits true symptoms, such as a
        // flapping warning whose last episode cleared just past the tolerance (measured in
        // docs/quality.md, session 16).
        if quiet && reason == SplitReason::NoSymptom {
            return;
        }
        let tolerance = recovery_tolerance(hops);
        let mut kept_failing: Option<Str> = None;
        let mut pending = false;
        for m in &self.incidents[&inc_id].members {
            let Some(ms) = self.dedup.alerts.get(m) else {
                continue;
            };
            // A cause may be noticed up to a scrape interval after its effect (`causal_breach`):
            // a warning that started within it before the root's alert is judged the same way.
            // A cause above the root only has to have been failing with it when it recovered.
            let latest_start = match reason {
                SplitReason::NoCause => end,
                _ => began + CAUSE_LAG_TOLERANCE,
            };
            if ms.node != root || ms.severity < Severity::Error || ms.first_seen > latest_start {
                continue;
            }
            let failing_at = ms.failing_until();
            if failing_at > end + tolerance {
                kept_failing.get_or_insert_with(|| m.clone());
            } else if ms.active {
                // It may yet recover with the warning.
                pending = true;
            } else if (failing_at - end).abs() <= tolerance {
                // Recovered with one of the root's alerts: its symptom, or a second failure
                // of that root.
                return;
            }
        }
        if pending {
            self.state_timers.push(Reverse((
                at + (at - end).max(CAUSE_LAG_TOLERANCE),
                StateTimer::RecoveryCheck(fp.clone()),
            )));
            return;
        }
        if let Some(still_failing) = kept_failing {
            self.split_recovered(inc_id, fp, &still_failing, hops, reason, at, out);
        }
    }

    /// Whether `node` has none of `failing_nodes` (the nodes of an incident's members at error
    /// or above) within the root-cause reach above it: nothing alerting explains it.
    fn is_head(&mut self, node: u32, failing_nodes: &FxHashSet<u32>) -> bool {
        !self
            .rca_upstream(node)
            .iter()
            .any(|&(up, _)| up != node && failing_nodes.contains(&up))
    }

    /// The last member of incident `inc_id` to recover, `fp`, leaves as a failure of its own
    /// when it is beyond the root-cause reach of the named root and kept failing beyond the
    /// tolerance of their hops after every possible cause above it had recovered
    /// ([`Engine::causes_kept_failing`]): their recovery would have brought its own.
    fn split_if_outlived_its_causes(
        &mut self,
        fp: &Str,
        inc_id: u32,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some((node, end)) = self
            .dedup
            .alerts
            .get(fp)
            .and_then(|s| Some((s.node()?, s.last_seen)))
        else {
            return;
        };
        let Some((members, root)) = self.members_and_named_root(inc_id) else {
            return;
        };
        if self.hops_between(node, root).is_some() {
            return;
        }
        if let CausesAfterRecovery::Apart(reason @ SplitReason::OutlivedItsCauses, cause, hops) =
            self.causes_kept_failing(fp, node, end, &members)
        {
            self.split_recovered(inc_id, fp, &cause, hops, reason, at, out);
        }
    }

    /// How the possible causes of `fp` (recovered at `end`, on `node`) in its incident
    /// (`members`) fared after its recovery: the members at error or above on another node
    /// within the root-cause reach above it that had started by then.
    fn causes_kept_failing(
        &mut self,
        fp: &Str,
        node: u32,
        end: Millis,
        members: &[Str],
    ) -> CausesAfterRecovery {
        let ups = self.rca_upstream(node);
        let mut nearest: Option<(Str, u8)> = None;
        let mut nearest_outlived: Option<(Str, u8)> = None;
        let mut undecided = false;
        for (m, ms, hops) in self.outages_above(members, node, &ups) {
            if m == fp || ms.first_seen > end {
                continue;
            }
            if ms.failing_until() > end + recovery_tolerance(hops) {
                if nearest.as_ref().is_none_or(|&(_, h)| hops < h) {
                    nearest = Some((m.clone(), hops));
                }
            } else if ms.active {
                // No evidence yet that it kept failing.
                undecided = true;
            } else if ms.last_seen + recovery_tolerance(hops) < end {
                // It recovered long before: its recovery would have brought this one's.
                if nearest_outlived.as_ref().is_none_or(|&(_, h)| hops < h) {
                    nearest_outlived = Some((m.clone(), hops));
                }
            } else {
                // It recovered with it: a cause that may explain its recovery.
                return CausesAfterRecovery::Stays;
            }
        }
        match (nearest, nearest_outlived) {
            _ if undecided => CausesAfterRecovery::Undecided,
            (Some((cause, hops)), None) => {
                CausesAfterRecovery::Apart(SplitReason::CausesKeptFailing, cause, hops)
            }
            (None, Some((cause, hops))) => {
                CausesAfterRecovery::Apart(SplitReason::OutlivedItsCauses, cause, hops)
            }
            _ => CausesAfterRecovery::Stays,
        }
    }

    /// The members of `members` at error or above on another node within the root-cause reach
    /// above `node` (`ups`, its [`Engine::rca_upstream`]), each with its state and its hops
    /// above `node`: the outages in an incident that may have caused one on `node`.
    pub(super) fn outages_above<'a>(
        &'a self,
        members: &'a [Str],
        node: u32,
        ups: &'a [(u32, u8)],
    ) -> impl Iterator<Item = (&'a Str, &'a AlertState, u8)> + 'a {
        members.iter().filter_map(move |m| {
            let s = self.dedup.alerts.get(m)?;
            if s.severity < Severity::Error || s.node == node {
                return None;
            }
            let &(_, hops) = ups.iter().find(|&&(up, hops)| up == s.node && hops > 0)?;
            Some((m, s, hops))
        })
    }

    /// Whether `effect` is another node within the root-cause reach below `cause`.
    pub(super) fn is_effect_of(&mut self, effect: u32, cause: u32) -> bool {
        effect != cause
            && effect != NONE
            && self.rca_upstream(effect).iter().any(|&(up, _)| up == cause)
    }

    /// Hops from `a` to `b` through the nearest node within the root-cause reach above both,
    /// when neither is within that reach of the other; `None` otherwise.
    fn hops_via_shared_upstream(&mut self, a: u32, b: u32) -> Option<u8> {
        if self.hops_between(a, b).is_some() {
            return None;
        }
        let above_a = self.rca_upstream(a);
        let above_b = self.rca_upstream(b);
        above_a
            .iter()
            .filter_map(|&(n, ha)| {
                above_b
                    .iter()
                    .find(|&&(m, _)| m == n)
                    .map(|&(_, hb)| ha + hb)
            })
            .min()
    }

    /// Whether `fp`, on `node`, recovered (at `end`) with a member of `part` within the root-cause
    /// reach of it: within [`recovery_tolerance`] of their hops.
    pub(super) fn recovered_with(
        &mut self,
        node: u32,
        end: Millis,
        part: &[(Str, u32, Millis)],
    ) -> bool {
        part.iter().any(|&(_, p_node, p_end)| {
            self.recovery_hops(node, p_node)
                .is_some_and(|hops| (end - p_end).abs() <= recovery_tolerance(hops))
        })
    }

    /// [`Engine::hops_between`] for recoveries: a resource the CMDB does not know (`NONE`) has
    /// no place in the topology, so it goes with a known one only if it recovered as if on the
    /// same resource (within a scrape interval), never with another unknown one.
    pub(super) fn recovery_hops(&mut self, a: u32, b: u32) -> Option<u8> {
        match (a == NONE, b == NONE) {
            (false, false) => self.hops_between(a, b),
            (true, true) => None,
            _ => Some(0),
        }
    }

    /// Once both failures of a pair have recovered, which of the other recovered members
    /// (`candidates`) recovered with the one that recovered first (`recovered`, node and end)
    /// rather than with the one that kept failing (`still_failing`): each goes with the failure
    /// its recoveries chain to through the smaller largest gap, a chain linking members within
    /// the root-cause reach of each other that recovered within the tolerance of their hops. A
    /// symptom within the long tolerance of many hops of one failure's part but seconds from
    /// the other's recovery is the other's effect, not a bridge between them. `true` for the
    /// members on the recovered failure's side, in the order of `candidates`.
    pub(super) fn members_nearer_recovered(
        &mut self,
        recovered: (u32, Millis),
        still_failing: (u32, Millis),
        candidates: &[(Str, u32, Millis)],
    ) -> Vec<bool> {
        // Prim's walk from both recoveries at once: the smallest gap to a member not yet placed
        // places it with the side it was reached from. On a tie the recovered side wins: the
        // split stays as cautious as before.
        const RECOVERED_SIDE: u8 = 0;
        const FAILING_SIDE: u8 = 1;
        let mut side: Vec<Option<u8>> = vec![None; candidates.len()];
        let mut frontier = std::collections::BinaryHeap::new();
        for (i, &(_, c_node, c_end)) in candidates.iter().enumerate() {
            for (label, (s_node, s_end)) in
                [(RECOVERED_SIDE, recovered), (FAILING_SIDE, still_failing)]
            {
                let gap = (c_end - s_end).abs();
                if self
                    .recovery_hops(c_node, s_node)
                    .is_some_and(|h| gap <= recovery_tolerance(h))
                {
                    frontier.push(Reverse((gap, label, i)));
                }
            }
        }
        while let Some(Reverse((_, label, i))) = frontier.pop() {
            if side[i].is_some() {
                continue;
            }
            side[i] = Some(label);
            let (_, i_node, i_end) = candidates[i];
            for (j, &(_, j_node, j_end)) in candidates.iter().enumerate() {
                let gap = (i_end - j_end).abs();
                if side[j].is_none()
                    && self
                        .recovery_hops(i_node, j_node)
                        .is_some_and(|h| gap <= recovery_tolerance(h))
                {
                    frontier.push(Reverse((gap, label, j)));
                }
            }
        }
        side.into_iter()
            .map(|s| s == Some(RECOVERED_SIDE))
            .collect()
    }
}

/// What [`Engine::causes_kept_failing`] found.
enum CausesAfterRecovery {
    /// A failure of its own, split off for the reason against the nearest possible cause (and
    /// its hops): [`SplitReason::CausesKeptFailing`] when every possible cause kept failing
    /// beyond the tolerance of its hops, [`SplitReason::OutlivedItsCauses`] when every one had
    /// recovered longer before it than that.
    Apart(SplitReason, Str, u8),
    /// One still fires without evidence yet that it kept failing: look again later.
    Undecided,
    /// One recovered with it (or before it), or it has none: it stays.
    Stays,
}

/// Drops the entries of a queue of (start, what) in arrival order that started before `oldest`.
pub(super) fn drop_started_before<T>(queue: &mut VecDeque<(Millis, T)>, oldest: Millis) {
    while queue.front().is_some_and(|&(at, _)| at < oldest) {
        queue.pop_front();
    }
}
