//! A symptom re-homed after its cause recovered: moved to, or folded into, the incident of
//! the failure it recovered with (`rehome_recovered_symptom`, `rehome_symptom_after_recovery`).

use super::*;

impl Engine {
    /// A symptom recovers with its cause. An alert on a resource the CMDB does not know that a
    /// weak link placed among several incidents (`alternatives`: those passed over, most
    /// preferred first) resolves now, at `t`: if every other member of its incident had stopped
    /// firing more than a scrape interval before (that failure recovered while this alert kept
    /// firing, so it was not its cause), it moves to the first alternative still failing a
    /// scrape interval ago (it recovers with that one). A known shared symptom (firing members
    /// of several incidents above it explained it) moves on the same evidence, read on the
    /// members above it that explained it: see [`Engine::shared_symptom_recovered_with`]. The caller
    /// then resolves it there.
    ///
    /// Returns whether it stays in an incident whose failure goes on (another member still
    /// fires) where no other member recovered within a scrape interval before it: whether it
    /// recovered with a passed-over failure instead is for [`Engine::rehome_symptom_after_recovery`].
    pub(super) fn rehome_recovered_symptom(
        &mut self,
        fp: &Str,
        alternatives: &[u32],
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) -> bool {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return false;
        };
        if !st.active {
            return false;
        }
        let Some(from) = st.incident().map(|i| self.find(i)) else {
            return false;
        };
        if let Some(node) = st.node() {
            let began = st.first_seen;
            if let Some(to) =
                self.shared_symptom_recovered_with(fp, node, began, from, alternatives, t)
            {
                let alone = self
                    .incidents
                    .get(&from)
                    .is_some_and(|i| i.members.len() == 1);
                if alone {
                    self.fold_recovered_symptom(fp, from, to, t, out);
                } else {
                    self.move_recovered_symptom(fp, from, to, t, out);
                }
            }
            return false;
        }
        let Some(inc) = self.incidents.get(&from) else {
            return false;
        };
        let recovered_before = t.saturating_sub(CAUSE_LAG_TOLERANCE);
        // Other members that stopped firing, and none firing: an incident of this alert alone
        // (or of alerts still firing) shows no recovery.
        let mut others = 0;
        let mut failure_goes_on = false;
        for m in inc.members.iter().filter(|m| *m != fp) {
            match self.dedup.alerts.get(m) {
                Some(o) if o.active => failure_goes_on = true,
                Some(o) if o.last_seen > recovered_before => return false,
                _ => others += 1,
            }
        }
        if failure_goes_on {
            return true;
        }
        if others == 0 {
            return false;
        }
        let still_failing = |i: &Incident| match i.phase {
            Phase::Resolving(since) => since >= recovered_before,
            _ => i.active > 0,
        };
        let Some(to) = alternatives
            .iter()
            .map(|&c| self.find(c))
            .find(|&c| c != from && self.incidents.get(&c).is_some_and(|i| still_failing(i)))
        else {
            return false;
        };
        self.move_recovered_symptom(fp, from, to, t, out);
        false
    }

    /// *A shared symptom recovers with its cause*: `fp`, on `node` (started failing at
    /// `began`), joined incident `from` where firing members above it explained it, passing
    /// over `alternatives` whose members above it explained it too. It resolves at `t`. The
    /// members of an incident that explain it are those on nodes above it within its rule's
    /// reach that had started by `began`. If all of those `from` holds had recovered, each more
    /// than [`recovery_tolerance`] of its hops before `t`, that failure recovered while this
    /// alert kept failing, so it was not its cause: the first alternative with one still
    /// failing within that tolerance before `t` (or firing) is the one it recovers with. The
    /// same holds when `from` holds none any more: its explanation left it (the recovery split
    /// took it away, having found it recovered apart from this alert), so `from` has no claim
    /// on it. A symptom that only another failure's alert on its own resource explained when
    /// it joined is read the same way: the members above it that count are those that had
    /// started by `began` (too long before it to link, in the case that led here), and with
    /// none, `from` has no claim on it. `None`: no such evidence; it stays.
    fn shared_symptom_recovered_with(
        &mut self,
        fp: &Str,
        node: u32,
        began: Millis,
        from: u32,
        alternatives: &[u32],
        t: Millis,
    ) -> Option<u32> {
        let reach = {
            let rule = self.dedup.alerts.get(fp)?.rule;
            self.rules.groupings[rule as usize].reach()
        };
        let ups = self.rca_upstream(node);
        // Whether incident `inc`'s explanation of the alert recovered with it: `None` when no
        // member explains it.
        let recovered_with = |engine: &Engine, inc: u32| -> Option<bool> {
            let inc = engine.incidents.get(&inc)?;
            let mut explained = false;
            for m in inc.members.iter().filter(|m| *m != fp) {
                let Some(ms) = engine.dedup.alerts.get(m) else {
                    continue;
                };
                let Some(hops) = ms.node().and_then(|n| {
                    ups.iter()
                        .find(|&&(up, hops)| up == n && hops <= reach)
                        .map(|&(_, hops)| hops)
                }) else {
                    continue;
                };
                if hops == 0 || ms.first_seen > began {
                    continue;
                }
                explained = true;
                if ms.active || ms.last_seen >= t.saturating_sub(recovery_tolerance(hops)) {
                    return Some(true);
                }
            }
            explained.then_some(false)
        };
        if recovered_with(self, from) == Some(true) {
            return None;
        }
        alternatives
            .iter()
            .map(|&c| self.find(c))
            .find(|&c| c != from && recovered_with(self, c) == Some(true))
    }

    /// Moves `fp`, which recovered at `t` apart from incident `from`'s failure and with `to`'s,
    /// out of `from` and into `to` (the caller then resolves it there); `from` says so in its
    /// explanation.
    fn move_recovered_symptom(
        &mut self,
        fp: &Str,
        from: u32,
        to: u32,
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        tracing::trace!(alert = %fp, t, from, to, "recovered with another failure: moved");
        let to_key = self.incidents[&to].key.clone();
        let why = format!(
            "{} {fp} on {} left for {to_key}: it kept firing after this incident's failure \
             recovered, and recovered with that one",
            st.name, st.resource
        );
        self.move_member(fp, from, to, t, why, None, out);
    }

    /// [`Engine::move_recovered_symptom`] for `fp` alone in `from` (the recovery split took the
    /// rest away): rather than leave an incident of no alert, `from` merges into `to`.
    fn fold_recovered_symptom(
        &mut self,
        fp: &Str,
        from: u32,
        to: u32,
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        tracing::trace!(alert = %fp, t, from, to, "recovered with another failure: folded");
        let (name, resource) = (st.name.clone(), st.resource.clone());
        let survivor = self.merge_explained(&[to, from], t, out, |absorbed| {
            format!(
                "merged {absorbed}: {name} {fp} on {resource} kept firing after the failure it \
                 had joined recovered and split off, and recovered with this one"
            )
        });
        self.mark_dirty(survivor, out);
    }

    /// Moves member `fp` from incident `from` to `to` at `t`: `from` lists it no more, recounts
    /// the aggregate of its resource (a known resource's representative, severity and coverage
    /// may rest on it; an unknown one is dropped when no other member is on it), drops its
    /// service when no other member has it, says `why` in its explanation and recomputes its
    /// root cause; the alert joins `to` (through its anchor `reason`, if any) as a new alert
    /// would.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn move_member(
        &mut self,
        fp: &Str,
        from: u32,
        to: u32,
        t: Millis,
        why: String,
        reason: Option<usize>,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        let view = st.as_alert(fp);
        let (count, node) = (u64::from(st.count), st.node());
        self.release_anchors(fp, from, t);
        let hold = self.rules.settings.resolve_hold;
        let Some(inc) = self.incidents.get_mut(&from) else {
            return;
        };
        inc.members.retain(|m| m != fp);
        inc.active = inc.active.saturating_sub(1);
        inc.events = inc.events.saturating_sub(count);
        inc.last_seen = inc.last_seen.max(t);
        if node.is_some() {
            // A known resource's aggregate (its representative, severity and the coverage
            // above it) may rest on this alert: recounted from the members that stay.
            self.rebuild_aggregates(from);
        } else if let Some(agg) = inc.resources.get_mut(&view.resource) {
            agg.members = agg.members.saturating_sub(1);
            if agg.members == 0 {
                inc.resources.remove(&view.resource);
            }
        }
        let inc = self.incidents.get_mut(&from).expect("present");
        inc.forget_root_cause();
        // Its service stays listed only while another member is of it.
        if let Some(service) = view.service.as_ref() {
            let (dedup, topology) = (&self.dedup, &self.topology);
            let shared = inc.members.iter().any(|m| {
                dedup.alerts.get(m).is_some_and(|o| {
                    o.service.as_deref() == Some(service)
                        || o.node().is_some_and(|n| {
                            topology.node(NodeIndex::new(n as usize)).service.as_ref()
                                == Some(service)
                        })
                })
            });
            if !shared {
                inc.services.remove(service);
            }
        }
        if inc.explanation.len() < MAX_EXPLANATION {
            inc.explanation.push(why.into());
        }
        if inc.active == 0 {
            inc.phase = Phase::Resolving(t);
            self.state_timers
                .push(Reverse((t + hold, StateTimer::Close(from))));
        }
        self.mark_dirty(from, out);
        if let Some(s) = self.dedup.alerts.get_mut(fp) {
            s.active = false;
        }
        let Some(at) = self.dedup.alerts.position(fp) else {
            return;
        };
        let anchors = self.anchors_of(fp);
        // A known resource joins the incident whose members above it explain it.
        self.join(to, &view, at, &anchors, t, reason, node.is_some(), out);
    }

    /// *A symptom recovers with its cause*, once its incident's failure went on without it: an
    /// alert on a resource the CMDB does not know, which a weak link (its service, or the same
    /// check starting elsewhere within a scrape interval) placed among several incidents
    /// (`placement_alternatives`), recovered a scrape interval ago while its incident kept
    /// failing. If no other member of its incident
    /// recovered within a scrape interval of it, and a member of a passed-over incident did,
    /// that failure was its cause: it moves there, resolved, as a member follows a split-off
    /// part that it recovered with (`follow_recovered_part`). An alert that fired again since
    /// (a flap, not a recovery) stays where it is and keeps its alternatives.
    pub(super) fn rehome_symptom_after_recovery(
        &mut self,
        fp: &Str,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(alternatives) =
            take_after_resolve(&self.dedup.alerts, &mut self.placement_alternatives, fp)
        else {
            return;
        };
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        let (end, view) = (st.last_seen, st.as_alert(fp));
        let Some(from) = st.incident().map(|i| self.find(i)) else {
            return;
        };
        let recovered = |engine: &Self, inc: u32| -> Vec<(Str, u32, Millis)> {
            engine.incidents.get(&inc).map_or_else(Vec::new, |i| {
                i.members
                    .iter()
                    .filter(|m| *m != fp)
                    .filter_map(|m| {
                        let s = engine.dedup.alerts.get(m)?;
                        (!s.active && s.status == Status::Resolved).then_some((
                            m.clone(),
                            s.node,
                            s.last_seen,
                        ))
                    })
                    .collect()
            })
        };
        let stayed = recovered(self, from);
        if self.recovered_with(NONE, end, &stayed) {
            return;
        }
        // Of the passed-over incidents it recovered with, the one whose recovery came nearest.
        let mut to: Option<(Millis, u32)> = None;
        let alternatives: SmallVec<[u32; 2]> = alternatives.iter().map(|&c| self.find(c)).collect();
        for c in alternatives {
            if c == from || !self.incidents.contains_key(&c) {
                continue;
            }
            let part = recovered(self, c);
            if !self.recovered_with(NONE, end, &part) {
                continue;
            }
            let gap = part
                .iter()
                .filter(|&&(_, node, _)| node != NONE)
                .map(|&(_, _, e)| (end - e).abs())
                .min()
                .unwrap_or(Millis::MAX);
            if to.is_none_or(|(g, _)| gap < g) {
                to = Some((gap, c));
            }
        }
        let Some((_, to)) = to else {
            return;
        };
        tracing::trace!(alert = %fp, end, from, to, "recovered with a passed-over failure: moved");
        let to_key = self.incidents[&to].key.clone();
        if let Some(inc) = self.incidents.get_mut(&from) {
            if inc.explanation.len() < MAX_EXPLANATION {
                inc.explanation.push(
                    format!(
                        "{} {fp} on {} left for {to_key}: it recovered with that one while this \
                         incident's failure went on",
                        view.name, view.resource
                    )
                    .into(),
                );
            }
        }
        self.move_resolved_member(fp, from, to, out);
    }

    /// Moves `fp`, a member that no longer fires, from incident `from` to `to`: both recount
    /// their aggregates from their members and report the change.
    pub(super) fn move_resolved_member(
        &mut self,
        fp: &Str,
        from: u32,
        to: u32,
        out: &mut Vec<IncidentUpdate>,
    ) {
        if let Some(inc) = self.incidents.get_mut(&from) {
            inc.members.retain(|m| m != fp);
        }
        if let Some(s) = self.dedup.alerts.get_mut(fp) {
            s.incident = to;
        }
        if let Some(inc) = self.incidents.get_mut(&to) {
            inc.members.push(fp.clone());
        }
        self.rebuild_aggregates(from);
        self.rebuild_aggregates(to);
        self.mark_dirty(from, out);
        self.mark_dirty(to, out);
    }
}
