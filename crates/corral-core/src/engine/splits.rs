//! Splitting a part off an incident when it recovers apart from the rest (`split_recovered`)
//! and following it to the earlier part it belongs with.

use super::*;

/// How the split line of [`SplitReason::OutlivedItsCauses`] goes on after the nearest cause:
/// `corral explain` finds the line by it.
const OUTLIVED_ITS_CAUSES: &str = " and every other failure above it had recovered";

/// Why [`Engine::split_recovered`] splits a part off an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SplitReason {
    /// A member at error or above recovered apart from the failure it had joined: a failure of
    /// its own, which members that recover later with it follow (`Incident::split_off`).
    RecoveredApart,
    /// A warning recovered long before the named root cause it sat below: no symptom of it.
    /// Nothing follows it: it explains no other member's recovery.
    NoSymptom,
    /// A warning above the named root cause recovered while that root kept failing: no cause
    /// of it (and, above it, no symptom). Nothing follows it, as for `NoSymptom`.
    NoCause,
    /// A member at error or above beyond the root-cause reach of the named root recovered
    /// while every member above it within that reach, each a possible cause, kept failing: a
    /// failure of its own, as for `RecoveredApart`, with its own line.
    CausesKeptFailing,
    /// Such a member kept failing beyond the tolerance of their hops after every member above
    /// it within the reach had recovered: a failure of its own, as for `CausesKeptFailing`.
    OutlivedItsCauses,
}

impl SplitReason {
    /// Whether the part split off is a failure of its own, which members that recover later
    /// with it follow.
    pub(super) fn failure_of_its_own(self) -> bool {
        matches!(
            self,
            SplitReason::RecoveredApart
                | SplitReason::CausesKeptFailing
                | SplitReason::OutlivedItsCauses
        )
    }

    /// Where the split line places the failure that goes on, after its hops from the part.
    fn direction(self) -> &'static str {
        match self {
            SplitReason::NoSymptom => "above it",
            SplitReason::NoCause => "below it",
            SplitReason::RecoveredApart
            | SplitReason::CausesKeptFailing
            | SplitReason::OutlivedItsCauses => "away",
        }
    }

    /// How the split line ends: what the part was to the failure that goes on. `corral
    /// explain` tells the kinds of split apart by these endings (`RECOVERED_APART_CONCLUSIONS`
    /// in `crates/corral-cli/src/cmd/explain.rs`): change both together.
    fn conclusion(self) -> &'static str {
        match self {
            SplitReason::NoSymptom => ": no symptom of it",
            SplitReason::NoCause => ": no cause of it",
            SplitReason::CausesKeptFailing => ": so did every failure above it",
            SplitReason::RecoveredApart | SplitReason::OutlivedItsCauses => "",
        }
    }
}

impl Engine {
    /// How the split and merge lines name an alert: "`name` on `resource`".
    fn name_on_resource(&self, fp: &Str) -> Option<String> {
        let s = self.dedup.alerts.get(fp)?;
        Some(format!("{} on {}", s.name, s.resource))
    }

    /// The members of `members` (but `except`) that have recovered, with their node and their
    /// recovery time: what the recovery checks compare.
    fn recovered_members(&self, members: &[Str], except: Option<&Str>) -> Vec<(Str, u32, Millis)> {
        members
            .iter()
            .filter(|m| except.is_none_or(|e| *m != e))
            .filter_map(|m| {
                let s = self.dedup.alerts.get(m)?;
                (!s.active).then_some((m.clone(), s.node, s.last_seen))
            })
            .collect()
    }

    /// Moves `recovered` (a member at error or above that recovered apart from `still_failing`,
    /// `hops` from it, or a warning that was no symptom of it: `reason`) out of incident
    /// `inc_id`, with every member that recovered with it
    /// (chained through members within the root-cause reach of one another that recovered
    /// within the tolerance of each other), into a new incident, already resolving. The rest
    /// keeps the incident and its key. Nothing moves while a member of that part may have
    /// recovered with `still_failing` (its evidence of failing is not yet past the member's
    /// tolerance): the two recoveries are then too close to tell the failures apart. Once
    /// `still_failing` has recovered too, and is no cause of `recovered` (or is, but an effect
    /// of `recovered` recovered with it and nothing that recovered with `recovered` went with
    /// its cause), the part is the members nearer `recovered`'s recovery
    /// ([`Engine::members_nearer_recovered`]): one that recovered with both no longer ties
    /// them together. Returns whether it split.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn split_recovered(
        &mut self,
        inc_id: u32,
        recovered: &Str,
        still_failing: &Str,
        hops: u8,
        reason: SplitReason,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) -> bool {
        // Its node, when it fails until, and its end once it has recovered too.
        let Some((failing_node, failing_at, still_failing_end)) =
            self.dedup.alerts.get(still_failing).and_then(|s| {
                Some((
                    s.node()?,
                    s.failing_until(),
                    (!s.active).then_some(s.last_seen),
                ))
            })
        else {
            return false;
        };
        let Some(st) = self.dedup.alerts.get(recovered) else {
            return false;
        };
        let (Some(node), end, rule) = (st.node(), st.last_seen, st.rule) else {
            return false;
        };
        let (rec_name, rec_resource) = (st.name.clone(), st.resource.clone());
        let members = self.incidents[&inc_id].members.clone();
        let mut part = vec![(recovered.clone(), node, end)];
        let mut candidates = self.recovered_members(&members, Some(recovered));
        // Once both have recovered, each other recovered member goes with the recovery it is
        // nearer to. When the one that kept failing is the recovered one's cause, only if an
        // effect of the recovered one is on its side: an effect recovering before its cause is
        // ordinary variance, not a second failure, unless its own impact recovered with it,
        // apart from the cause (a failure of its own).
        let still_failing_is_its_cause = self
            .rca_upstream(node)
            .iter()
            .any(|&(up, _)| up != node && up == failing_node);
        let sided_part = match still_failing_end {
            Some(still_end) => {
                let others: Vec<(Str, u32, Millis)> = candidates
                    .iter()
                    .filter(|(c, _, _)| c != still_failing)
                    .cloned()
                    .collect();
                let on_recovered_side =
                    self.members_nearer_recovered((node, end), (failing_node, still_end), &others);
                let (sided, with_failing): (Vec<_>, Vec<_>) = others
                    .into_iter()
                    .zip(on_recovered_side)
                    .partition(|&(_, with_recovered)| with_recovered);
                let sided: Vec<(Str, u32, Millis)> = sided.into_iter().map(|(c, _)| c).collect();
                // Against its cause, the two recoveries must also stand clearly apart: none
                // that recovered with the recovered member goes with the cause.
                let apart_from_its_cause = !still_failing_is_its_cause
                    || (sided
                        .iter()
                        .any(|&(_, c_node, _)| self.is_effect_of(c_node, node))
                        && !with_failing.iter().any(|((_, c_node, c_end), _)| {
                            self.recovered_with(*c_node, *c_end, &[(recovered.clone(), node, end)])
                        }));
                apart_from_its_cause.then_some(sided)
            }
            None => None,
        };
        // An effect split off its cause says why: its own impact recovered with it (a part that
        // outlived its causes says that instead).
        let with_its_own_impact = still_failing_is_its_cause
            && sided_part.is_some()
            && reason != SplitReason::OutlivedItsCauses;
        let failing = (failing_node, failing_at, still_failing_end.is_none());
        let mut companions_of_its_resource = true;
        let mut companions = Vec::new();
        // The members of the part already looked at for companions: a second look finds the same.
        let mut scanned = 0;
        match sided_part {
            Some(sided) => {
                part.extend(sided);
                companions_of_its_resource = self.add_onset_companions(
                    &members,
                    &mut part,
                    &mut scanned,
                    &mut companions,
                    failing,
                );
            }
            None => loop {
                let before = part.len();
                let mut i = 0;
                while i < candidates.len() {
                    let (_, c_node, c_end) = candidates[i];
                    if self.recovered_with(c_node, c_end, &part) {
                        part.push(candidates.swap_remove(i));
                    } else {
                        i += 1;
                    }
                }
                // What recovered with the companions is in the part too.
                let chained = part.len();
                if !self.add_onset_companions(
                    &members,
                    &mut part,
                    &mut scanned,
                    &mut companions,
                    failing,
                ) {
                    companions_of_its_resource = false;
                    break;
                }
                if part.len() > chained {
                    let added = &part[chained..];
                    candidates.retain(|(c, _, _)| !added.iter().any(|(p, _, _)| p == c));
                }
                if part.len() == before {
                    break;
                }
            },
        }
        if !companions_of_its_resource {
            tracing::trace!(alert = %recovered, still_failing = %still_failing, at, from = inc_id, "recovered apart: split refused, an alert that started with a member of the part on its resource still fires or may yet have recovered with the still-failing one");
            return false;
        }
        for &(_, p_node, p_end) in &part {
            let with_failing = self.recovery_hops(p_node, failing_node).is_some_and(|h| {
                // Against causes that recovered before it, a member recovered with them
                // only within the tolerance on either side.
                let apart = if reason == SplitReason::OutlivedItsCauses {
                    (failing_at - p_end).abs()
                } else {
                    failing_at - p_end
                };
                apart <= recovery_tolerance(h)
            });
            if with_failing {
                tracing::trace!(alert = %recovered, still_failing = %still_failing, at, from = inc_id, part = part.len(), bridge_node = p_node, bridge_end = p_end, failing_at, "recovered apart: split refused, a member of the part recovered with the still-failing one");
                return false;
            }
        }
        if !self.recovered_symptom_alternatives.is_empty() {
            if let Some((to, explanation)) = self.explanation_recovered_with_part(inc_id, &part) {
                tracing::trace!(alert = %recovered, still_failing = %still_failing, at, from = inc_id, to, moving = part.len(), "recovered apart: joined the failure that explained it too and recovered with it");
                self.join_explanation_recovered_with(
                    inc_id,
                    to,
                    &part,
                    (still_failing, hops),
                    &explanation,
                    reason,
                    at,
                    out,
                );
                self.fold_silent_remainder(inc_id, at, out);
                return true;
            }
        }
        if let Some(earlier) = self.earlier_part_sharing_a_resource(inc_id, &part) {
            tracing::trace!(alert = %recovered, at, from = inc_id, to = earlier, "recovered apart: joined the part split off before on its resource");
            self.join_earlier_part(inc_id, earlier, &part, still_failing, hops, out);
            self.fold_silent_remainder(inc_id, at, out);
            return true;
        }
        tracing::trace!(alert = %recovered, still_failing = %still_failing, at, from = inc_id, moving = part.len(), parts = ?self.incidents[&inc_id].split_off, "recovered apart: split off");
        let moving: FxHashSet<Str> = part.into_iter().map(|(f, _, _)| f).collect();
        let new_id = self.new_incident(at, rule);
        let (still_name, still_resource) = self
            .dedup
            .alerts
            .get(still_failing)
            .map(|s| (s.name.clone(), s.resource.clone()))
            .unwrap_or_default();
        let old_key = self.incidents[&inc_id].key.clone();
        let new_key = self.incidents[&new_id].key.clone();
        let hops_away = format!(
            " ({hops} hop{} {})",
            if hops == 1 { "" } else { "s" },
            reason.direction()
        );
        // The outages that started with a member of the part on its resource went with it,
        // however far their recoveries lay from its.
        let went_with_it = if companions.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = companions
                .iter()
                .filter_map(|m| self.name_on_resource(m))
                .collect();
            format!(
                "; {}, started within a scrape interval of an outage of the part on the same \
                 resource, went with it",
                names.join(", ")
            )
        };
        let (recovered_while, kept_failing) = match reason {
            SplitReason::OutlivedItsCauses => (" kept failing after ", OUTLIVED_ITS_CAUSES),
            _ if reason.failure_of_its_own() => (" recovered while ", " kept failing"),
            _ => (", a warning, recovered while ", " kept failing"),
        };
        let why = [
            rec_name.as_str(),
            " on ",
            rec_resource.as_str(),
            recovered_while,
            still_name.as_str(),
            " on ",
            still_resource.as_str(),
            &hops_away,
            kept_failing,
            " beyond the time a cause's recovery takes to reach its effects",
            if with_its_own_impact {
                ", and its own effects recovered with it"
            } else {
                ""
            },
            &went_with_it,
            reason.conclusion(),
        ]
        .concat();
        {
            let inc = self.incidents.get_mut(&inc_id).expect("present");
            inc.members.retain(|m| !moving.contains(m));
            if reason.failure_of_its_own() {
                inc.split_off.push(new_id);
            }
            if inc.explanation.len() < MAX_EXPLANATION {
                inc.explanation.push(
                    [&why, ": its part split off into ", &new_key]
                        .concat()
                        .into(),
                );
            }
        }
        let moved: Vec<Str> = members.into_iter().filter(|m| moving.contains(m)).collect();
        for m in &moved {
            if let Some(s) = self.dedup.alerts.get_mut(m) {
                s.incident = new_id;
            }
        }
        let hold = self.rules.settings.resolve_hold;
        let min_alerts = self.rules.groupings[rule as usize].min_alerts;
        {
            let inc = self.incidents.get_mut(&new_id).expect("present");
            inc.members = moved;
            inc.explanation
                .push([&why, ": split off ", &old_key].concat().into());
            inc.phase = Phase::Resolving(at);
            inc.opened = inc.members.len() >= min_alerts;
        }
        self.rebuild_aggregates(inc_id);
        self.rebuild_aggregates(new_id);
        self.state_timers
            .push(Reverse((at + hold, StateTimer::Close(new_id))));
        if self.incidents[&new_id].opened {
            self.stats.incidents_opened += 1;
            self.emit(new_id, EventAction::Trigger, at, out);
        }
        self.mark_dirty(inc_id, out);
        if reason == SplitReason::RecoveredApart {
            self.join_effects_of_a_late_cause_left_alone(inc_id, at, out);
        }
        self.fold_silent_remainder(inc_id, at, out);
        true
    }

    /// *A late cause joins its effects once the failure it joined instead has left*: when a
    /// recovery split leaves in `inc_id` only outages of one resource, still failing, and
    /// another failing incident holds an outage on a resource directly on it that started up
    /// to a scrape interval before the first of them (the lag a cause may have behind its
    /// effect: they were its late cause), the remainder merges into that incident (the one
    /// whose effect started last before it). Their link to the failure that split off (a
    /// silent common cause, say) lost what made it; the direct one to their effects remains.
    fn join_effects_of_a_late_cause_left_alone(
        &mut self,
        inc_id: u32,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(inc) = self.incidents.get(&inc_id).filter(|i| i.active > 0) else {
            return;
        };
        let mut node = NONE;
        let mut first = Millis::MAX;
        for m in &inc.members {
            let Some(s) = self.dedup.alerts.get(m) else {
                return;
            };
            if s.node == NONE || (node != NONE && s.node != node) {
                return;
            }
            node = s.node;
            if s.severity >= Severity::Error {
                first = first.min(s.first_seen);
            }
        }
        if node == NONE || first == Millis::MAX {
            return;
        }
        let below: FxHashSet<u32> = self
            .topology
            .impact_of_bounded(
                NodeIndex::new(node as usize),
                EdgeMask::ALL,
                1,
                self.rules.settings.max_neighbourhood,
            )
            .into_iter()
            .map(|(n, _)| n.index() as u32)
            .collect();
        if below.is_empty() {
            return;
        }
        let mut best: Option<(Millis, u32, Str)> = None;
        for (&j, other) in &self.incidents {
            if j == inc_id || other.active == 0 {
                continue;
            }
            for m in &other.members {
                let Some(s) = self.dedup.alerts.get(m) else {
                    continue;
                };
                let lag = first - s.first_seen;
                if s.severity >= Severity::Error
                    && below.contains(&s.node)
                    && (0..=CAUSE_LAG_TOLERANCE).contains(&lag)
                    && best
                        .as_ref()
                        .is_none_or(|(b, bj, _)| (s.first_seen, Reverse(j)) > (*b, Reverse(*bj)))
                {
                    best = Some((s.first_seen, j, m.clone()));
                }
            }
        }
        let Some((_, to, effect)) = best else {
            return;
        };
        let effect = self.name_on_resource(&effect).unwrap_or_default();
        let resource = self.topology.node(NodeIndex::new(node as usize)).id.clone();
        tracing::trace!(
            from = inc_id,
            to,
            at,
            "late cause left alone by a split: joined its effects"
        );
        let survivor = self.merge_explained(&[to, inc_id], at, out, |absorbed| {
            format!(
                "merged {absorbed}: the outages of {resource} left there by a recovery split \
                 started just after {effect}, which depends on it directly: its late cause"
            )
        });
        self.mark_dirty(survivor, out);
    }

    /// *Outages of one resource that start together are one failure* (a database down and
    /// its replication broken, a host check and its exporter's): adds to `part` (and to
    /// `added`) the other members of `members` at error or above on a resource the CMDB knows
    /// that a member of `part` at error or above is on, and that started within a scrape
    /// interval of that member, with no outage above the resource starting between the two
    /// (the later one then has a cause of its own). Their recoveries may lie further apart
    /// than the tolerance of one resource (each check notices the recovery on its own
    /// schedule, and a resource comes back in stages). Warnings are left to the other rules:
    /// a service degraded by one failure may be degraded further by another that starts
    /// seconds later.
    ///
    /// `scanned` counts the members of `part` already looked at (by an earlier call for the
    /// same split), which are not looked at again.
    ///
    /// Such a member that an outage above its resource explains (one started before it, by the
    /// lag a cause may have) may instead be that outage's impact arriving (a database
    /// unreachable under a failed hypervisor, seconds from a failure of its own): it goes with
    /// the part only if it recovered apart from the failure that goes on (`failing`: its node,
    /// its evidence of failing until then, whether it still fires) too, and stays if it
    /// recovered with it or still fires; while that is undecided, nothing splits yet. One
    /// nothing above explains is the resource's own failure with the part: it goes with it,
    /// and while it still fires the failure has not recovered (returns `false`: no split
    /// yet); the guard then weighs its recovery against the failure that goes on like any
    /// member's.
    fn add_onset_companions(
        &mut self,
        members: &[Str],
        part: &mut Vec<(Str, u32, Millis)>,
        scanned: &mut usize,
        added: &mut Vec<Str>,
        (failing_node, failing_at, failing_active): (u32, Millis, bool),
    ) -> bool {
        let mut i = *scanned;
        while i < part.len() {
            let (p_node, p_began) = match self.dedup.alerts.get(&part[i].0) {
                Some(s) if s.node != NONE && s.severity >= Severity::Error => {
                    (s.node, s.first_seen)
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            for m in members {
                let Some(s) = self.dedup.alerts.get(m) else {
                    continue;
                };
                if s.node != p_node
                    || s.severity < Severity::Error
                    || (s.first_seen - p_began).abs() > CAUSE_LAG_TOLERANCE
                    || part.iter().any(|(f, _, _)| f == m)
                {
                    continue;
                }
                let (active, began, end) = (s.active, s.first_seen, s.last_seen);
                let (earlier, later) = (p_began.min(began), p_began.max(began));
                if self.outage_above_starting(members, p_node, earlier, later) {
                    continue;
                }
                let explained_from_above = self.outage_above_starting(
                    members,
                    p_node,
                    Millis::MIN,
                    began + CAUSE_LAG_TOLERANCE,
                );
                let recovered_apart = !active
                    && self
                        .recovery_hops(p_node, failing_node)
                        .is_none_or(|h| failing_at - end > recovery_tolerance(h));
                if explained_from_above && !recovered_apart {
                    if !active && failing_active {
                        // Recovered: the failure that goes on may yet show it was apart.
                        return false;
                    }
                    continue;
                }
                if active {
                    return false;
                }
                part.push((m.clone(), p_node, end));
                added.push(m.clone());
            }
            i += 1;
        }
        *scanned = i;
        true
    }

    /// Whether a member of `members` at error or above on a node within the root-cause reach
    /// above `node` started after `after` and by `by`.
    fn outage_above_starting(
        &mut self,
        members: &[Str],
        node: u32,
        after: Millis,
        by: Millis,
    ) -> bool {
        let above = self.rca_upstream(node);
        // Bound to a name: the scan borrows `above`, which must outlive it.
        let started = self
            .outages_above(members, node, &above)
            .any(|(_, s, _)| s.first_seen > after && s.first_seen <= by);
        started
    }

    /// *A shared symptom recovers with its cause*, once the recovery split has shown that the
    /// failure it joined was not it: `part` (members of `inc_id` that recovered apart from the
    /// failure that goes on there) is that symptom when each of its heads (its members the CMDB
    /// knows with no other member of the part above them within their rule's reach) was a
    /// shared symptom that passed over the same incident (`recovered_symptom_alternatives`),
    /// whose explanation of it recovered with it: its members above the head within that
    /// reach that had started by the time the head did have all recovered, one of them within
    /// [`recovery_tolerance`] of its hops from the head's recovery. A part with a head of its
    /// own (a cause nothing else explained) stays a failure of its own. Returns that incident
    /// (the first such in the order the first head preferred), with the member that explained
    /// the first head and its hops above it.
    fn explanation_recovered_with_part(
        &mut self,
        inc_id: u32,
        part: &[(Str, u32, Millis)],
    ) -> Option<(u32, (Str, u8))> {
        // Cheap test first: most parts hold no recorded shared symptom at all.
        if !part
            .iter()
            .any(|(m, _, _)| self.recovered_symptom_alternatives.contains_key(m))
        {
            return None;
        }
        let mut heads: Vec<(Str, u32, Millis, Millis, u8)> = Vec::new();
        for (m, node, end) in part {
            let Some((began, reach)) = self
                .dedup
                .alerts
                .get(m)
                .filter(|s| s.node().is_some())
                .map(|s| (s.first_seen, self.rules.groupings[s.rule as usize].reach()))
            else {
                continue;
            };
            let ups = self.rca_upstream(*node);
            let explained_in_part = part.iter().any(|&(_, other, _)| {
                other != *node
                    && ups
                        .iter()
                        .any(|&(up, hops)| up == other && hops > 0 && hops <= reach)
            });
            if !explained_in_part {
                heads.push((m.clone(), *node, *end, began, reach));
            }
        }
        let first = heads.first()?;
        let candidates: SmallVec<[u32; 2]> = self
            .recovered_symptom_alternatives
            .get(&first.0)?
            .iter()
            .map(|&c| self.find(c))
            .filter(|&c| c != inc_id && self.incidents.contains_key(&c))
            .collect();
        'candidates: for c in candidates {
            let mut first_explanation = None;
            for (m, node, end, began, reach) in &heads {
                let passed_over = self
                    .recovered_symptom_alternatives
                    .get(m)
                    .is_some_and(|alts| alts.iter().any(|&a| self.find(a) == c));
                if !passed_over {
                    continue 'candidates;
                }
                let ups = self.rca_upstream(*node);
                let mut recovered_with: Option<(Str, u8)> = None;
                for member in &self.incidents[&c].members {
                    let Some(ms) = self.dedup.alerts.get(member) else {
                        continue;
                    };
                    let Some(hops) = ms.node().and_then(|n| {
                        ups.iter()
                            .find(|&&(up, hops)| up == n && hops > 0 && hops <= *reach)
                            .map(|&(_, hops)| hops)
                    }) else {
                        continue;
                    };
                    if ms.first_seen > *began {
                        continue;
                    }
                    if ms.active {
                        // That failure goes on: no evidence yet that the head recovered with it.
                        continue 'candidates;
                    }
                    if recovered_with.is_none()
                        && (ms.last_seen - end).abs() <= recovery_tolerance(hops)
                    {
                        recovered_with = Some((member.clone(), hops));
                    }
                }
                let Some(explanation) = recovered_with else {
                    continue 'candidates;
                };
                first_explanation.get_or_insert(explanation);
            }
            if let Some(explanation) = first_explanation {
                return Some((c, explanation));
            }
        }
        None
    }

    /// Moves `part` (members of `inc_id` that recovered apart from `still_failing`, `hops` from
    /// it) into `to`, whose `explanation` (a member and its hops above the part) explained it
    /// too and recovered with it; both incidents say why. `to`, if resolving, resolves from
    /// `at` on, as a part split off into an incident of its own would.
    #[allow(clippy::too_many_arguments)]
    fn join_explanation_recovered_with(
        &mut self,
        inc_id: u32,
        to: u32,
        part: &[(Str, u32, Millis)],
        (still_failing, hops): (&Str, u8),
        (explained_by, explained_hops): &(Str, u8),
        reason: SplitReason,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let name_of = |fp: &Str| self.name_on_resource(fp).unwrap_or_default();
        let still = name_of(still_failing);
        let cause = name_of(explained_by);
        let (old_key, to_key) = (
            self.incidents[&inc_id].key.clone(),
            self.incidents[&to].key.clone(),
        );
        let names: Vec<String> = part.iter().map(|(m, _, _)| name_of(m)).collect();
        let plural = |n: u8| if n == 1 { "" } else { "s" };
        let why = format!(
            "{} recovered while {still} ({hops} hop{} away) kept failing beyond the time a \
             cause's recovery takes to reach its effects, and with {cause} ({explained_hops} \
             hop{} above), which explained it too",
            names.join(", "),
            plural(hops),
            plural(*explained_hops),
        );
        for (m, _, _) in part {
            self.move_resolved_member(m, inc_id, to, out);
        }
        let hold = self.rules.settings.resolve_hold;
        if let Some(inc) = self.incidents.get_mut(&inc_id) {
            if reason.failure_of_its_own() {
                inc.split_off.push(to);
            }
            if inc.explanation.len() < MAX_EXPLANATION {
                inc.explanation
                    .push(format!("{why}: it joined {to_key}").into());
            }
        }
        if let Some(inc) = self.incidents.get_mut(&to) {
            if inc.explanation.len() < MAX_EXPLANATION {
                inc.explanation
                    .push(format!("{why}: it joined this incident from {old_key}").into());
            }
            if let Phase::Resolving(since) = inc.phase {
                inc.phase = Phase::Resolving(since.max(at));
                self.state_timers
                    .push(Reverse((at + hold, StateTimer::Close(to))));
            }
        }
    }

    /// A part split off `inc_id` before, still open, with a member on a resource the CMDB knows
    /// that a member of `part` is on: the recovery check never tells one resource's alerts
    /// apart (it skips members on the recovered alert's own resource), so a part recovering
    /// apart from the same incident's failure on a resource that already recovered apart from
    /// it is that earlier part's failure, recovering a little later.
    fn earlier_part_sharing_a_resource(
        &self,
        inc_id: u32,
        part: &[(Str, u32, Millis)],
    ) -> Option<u32> {
        let inc = self.incidents.get(&inc_id)?;
        inc.split_off.iter().map(|&p| self.find(p)).find(|&p| {
            p != inc_id
                && self.incidents.get(&p).is_some_and(|earlier| {
                    earlier.members.iter().any(|m| {
                        self.dedup.alerts.get(m).is_some_and(|s| {
                            s.node != NONE && part.iter().any(|&(_, node, _)| node == s.node)
                        })
                    })
                })
        })
    }

    /// Moves `part` (members of `inc_id` that recovered apart from `still_failing`, `hops` from
    /// it) into `earlier`, a part split off `inc_id` before that shares a resource with it; both
    /// incidents say why.
    fn join_earlier_part(
        &mut self,
        inc_id: u32,
        earlier: u32,
        part: &[(Str, u32, Millis)],
        still_failing: &Str,
        hops: u8,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let (still_name, still_resource) = self
            .dedup
            .alerts
            .get(still_failing)
            .map(|s| (s.name.clone(), s.resource.clone()))
            .unwrap_or_default();
        let (old_key, earlier_key) = (
            self.incidents[&inc_id].key.clone(),
            self.incidents[&earlier].key.clone(),
        );
        let names: Vec<String> = part
            .iter()
            .filter_map(|(m, _, _)| self.name_on_resource(m))
            .collect();
        let why = format!(
            "{} recovered while {still_name} on {still_resource} ({hops} hop{} away) kept \
             failing beyond the time a cause's recovery takes to reach its effects",
            names.join(", "),
            if hops == 1 { "" } else { "s" }
        );
        for (m, _, _) in part {
            self.move_resolved_member(m, inc_id, earlier, out);
        }
        let notes = [
            (
                inc_id,
                format!("{why}: it joined {earlier_key}, split off before on the same resource"),
            ),
            (
                earlier,
                format!("{why}: it joined this part from {old_key}, on the same resource"),
            ),
        ];
        for (id, note) in notes {
            if let Some(inc) = self.incidents.get_mut(&id) {
                if inc.explanation.len() < MAX_EXPLANATION {
                    inc.explanation.push(note.into());
                }
            }
        }
    }

    /// A member of `inc_id` recovered after part of that incident was split off: when it
    /// recovered with a member of that part (within the tolerance of their hops), it follows.
    pub(super) fn follow_recovered_part(
        &mut self,
        fp: &Str,
        inc_id: u32,
        parts: &[u32],
        out: &mut Vec<IncidentUpdate>,
    ) -> bool {
        let Some((node, end)) = self.dedup.alerts.get(fp).map(|s| (s.node, s.last_seen)) else {
            return false;
        };
        for &p in parts {
            let part_id = self.find(p);
            if part_id == inc_id {
                continue;
            }
            let Some(part) = self.incidents.get(&part_id) else {
                continue;
            };
            let part = self.recovered_members(&part.members, None);
            // Closer to a recovery that stayed in `inc_id`, it may as well be part of that.
            let stayed = self.recovered_members(&self.incidents[&inc_id].members, Some(fp));
            if !self.recovered_with(node, end, &part) || self.recovered_with(node, end, &stayed) {
                continue;
            }
            self.move_resolved_member(fp, inc_id, part_id, out);
            return true;
        }
        false
    }

    /// *A silent guess right below a failure seen firing is that failure, seen from its
    /// effects*: after a split took away the part that explained them, what stays in incident
    /// `inc_id` may be explained only by a guess at a silent node (its root cause names no
    /// alert: a dependency of several alerting members that raised nothing itself). When that
    /// node depends directly on a node where another incident's alert at error or above still
    /// fires, the failure seen there is what the guess stands for: a dependency failing
    /// outright makes its dependent fail, and an observed cause explains what an unobserved
    /// one would. Its effects follow it as they would have followed it: the rest's first
    /// member started no more than the scrape interval a cause may lag before that alert, and
    /// no later than a scrape interval per hop after it; and that failure had explained members
    /// of the rest when they joined (a shared symptom's passed-over explanation,
    /// `placement_alternatives`): a failure that never reached them is no explanation, however
    /// close its node. The rest then merges into that incident (of several, the one whose
    /// alert started last). An operator looking at a service's callers failing and at one of
    /// the service's instances crash-looping sees one failure, not a monitoring gap beside it.
    pub(super) fn fold_silent_remainder(
        &mut self,
        inc_id: u32,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        // Only while the rest's failure goes on: the guess is then what it is named for.
        if self.incidents.get(&inc_id).is_none_or(|i| i.active == 0) {
            return;
        }
        let Some(inc) = self.incidents.remove(&inc_id) else {
            return;
        };
        let view = self.root_cause_view(&inc);
        let members = inc.members.clone();
        self.incidents.insert(inc_id, inc);
        if view.root.fingerprint.is_some() {
            return;
        }
        let Some(silent) = self
            .topology
            .resolve(&view.root.resource)
            .map(|n| n.index() as u32)
        else {
            return;
        };
        // The rest's first member to start, and its hops below the silent node.
        let mut first: Option<(Millis, u8)> = None;
        for m in &members {
            let Some((node, began)) = self
                .dedup
                .alerts
                .get(m)
                .and_then(|s| Some((s.node()?, s.first_seen)))
            else {
                continue;
            };
            let Some(hops) = self
                .rca_upstream(node)
                .iter()
                .find(|&&(up, _)| up == silent)
                .map(|&(_, hops)| hops)
            else {
                continue;
            };
            if first.is_none_or(|(f, _)| began < f) {
                first = Some((began, hops));
            }
        }
        let Some((rest_began, hops_to_silent)) = first else {
            return;
        };
        let dependencies: SmallVec<[u32; 4]> = self
            .rca_upstream(silent)
            .iter()
            .filter(|&&(_, hops)| hops == 1)
            .map(|&(up, _)| up)
            .collect();
        let reach = u64::from(hops_to_silent) + 1;
        // The failures that explained members of the rest when they joined, passed over for
        // the one the split took away: only such a failure is known to reach them.
        let mut passed_over: SmallVec<[u32; 4]> = SmallVec::new();
        for m in &members {
            for &c in self.placement_alternatives.get(m).into_iter().flatten() {
                let c = self.find(c);
                if !passed_over.contains(&c) {
                    passed_over.push(c);
                }
            }
        }
        let mut best: Option<(Millis, u32, Str)> = None;
        for &id in &passed_over {
            let Some(other) = self.incidents.get(&id).filter(|o| o.active > 0) else {
                continue;
            };
            if id == inc_id {
                continue;
            }
            for agg in other.resources.values() {
                if !dependencies.contains(&agg.node) || agg.severity < Severity::Error {
                    continue;
                }
                // The alert there still fires, and its start leads the rest's as a cause's
                // leads its effects.
                let firing = other.members.iter().find_map(|m| {
                    let s = self.dedup.alerts.get(m)?;
                    (s.active
                        && s.node == agg.node
                        && s.severity >= Severity::Error
                        && s.first_seen <= rest_began + CAUSE_LAG_TOLERANCE
                        && rest_began <= s.first_seen + reach as Millis * CAUSE_LAG_TOLERANCE)
                        .then_some((m, s.first_seen))
                });
                let Some((firing, began)) = firing else {
                    continue;
                };
                // Ties: the first passed over (the rest's members' order of preference).
                if best.as_ref().is_none_or(|(b, _, _)| began > *b) {
                    best = Some((began, id, firing.clone()));
                }
            }
        }
        let Some((_, to, firing)) = best else {
            return;
        };
        let Some(st) = self.dedup.alerts.get(&firing) else {
            return;
        };
        let (name, resource) = (st.name.clone(), st.resource.clone());
        let guess = view.root.resource.clone();
        tracing::trace!(from = inc_id, to, silent = %guess, cause = %firing, at, "silent guess below a firing failure: merged");
        let rest_key = self.incidents[&inc_id].key.clone();
        let because = format!(
            "{rest_key}, what stayed after a split, was named by a guess at silent {guess}, \
             which depends directly on {resource}, where {name} {firing} fires: the same \
             failure seen from its effects"
        );
        // The incident absorbed says why in its closing update even when its explanation is
        // full: that is where its ticket ends. The survivor says so too while it has room.
        let survivor = self.merge_survivor(&[to, inc_id]);
        let absorbed = if survivor == inc_id { to } else { inc_id };
        let survivor_key = self.incidents[&survivor].key.clone();
        let line = format!("merged into {survivor_key}: {because}");
        if let Some(inc) = self.incidents.get_mut(&absorbed) {
            inc.explanation.push(line.into());
        }
        let survivor = self.merge_explained(&[to, inc_id], at, out, |absorbed| {
            format!("merged {absorbed}: {because}")
        });
        self.mark_dirty(survivor, out);
    }
}
