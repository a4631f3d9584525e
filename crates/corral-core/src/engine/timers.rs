//! The engine's timers (`StateTimer`, `StateTimers`, alert expiries) and what they fire:
//! expiry, maintenance end, forgetting an alert, releasing an inhibition; deactivation and
//! reactivation of an alert.

use super::*;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) enum StateTimer {
    Expire(Str),
    Close(u32),
    /// Drop a resolved alert that belongs to no open incident, once its flap history is stale.
    Forget(Str),
    /// Stop offering a closed solo incident for reopening.
    DropReopenable(Str),
    /// The maintenance window muting this alert ended: if it still fires, it comes back.
    /// (A new variant: snapshots written before it existed still load.)
    MaintenanceEnd(Str),
    /// A member at error or above recovered while others of its incident kept failing: see,
    /// once the recovery tolerance has passed, whether it recovered apart from them. (A
    /// member below error is checked against the named root cause only.)
    RecoveryCheck(Str),
}

/// An alert's expiry timer, ordered as `Reverse<(Millis, Str)>` (the greatest is the earliest
/// deadline, ties by fingerprint), which is the order expiries fire in. Re-armed expiries share
/// deadlines (a repeat counts from the engine's clock, which moves in jumps), so their heap
/// compares fingerprints often: [`fingerprint_order`] does it inline, without `memcmp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Expiry {
    pub(super) at: Millis,
    pub(super) fingerprint: Str,
}

impl Ord for Expiry {
    #[inline]
    fn cmp(&self, other: &Expiry) -> std::cmp::Ordering {
        other.at.cmp(&self.at).then_with(|| {
            fingerprint_order(other.fingerprint.as_bytes(), self.fingerprint.as_bytes())
        })
    }
}

impl PartialOrd for Expiry {
    #[inline]
    fn partial_cmp(&self, other: &Expiry) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// `a.cmp(b)`, with fingerprints of 8 to 16 bytes (Alertmanager's are 16 hex digits) compared
/// as two big-endian words: the first and the last eight bytes (overlapping below 16).
#[inline]
fn fingerprint_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let n = a.len();
    if n == b.len() && (8..=16).contains(&n) {
        let word =
            |s: &[u8], from: usize| u64::from_be_bytes(s[from..from + 8].try_into().expect("8"));
        // With the first words equal, the overlap is equal too: the last words decide.
        return word(a, 0)
            .cmp(&word(b, 0))
            .then_with(|| word(a, n - 8).cmp(&word(b, n - 8)));
    }
    a.cmp(b)
}

/// The engine's alert and incident timers, earliest first, ties in `StateTimer` order.
///
/// Expiries (one per active alert) live in a queue of their own as [`Expiry`], 32 bytes,
/// instead of 40 as a `StateTimer`: a storm holds millions. The other kinds have a queue each,
/// because each kind is pushed in about deadline order (a close is its last member's expiry
/// plus the resolve hold, a forget the resolve plus the retention), which a [`TimerQueue`]
/// keeps in a sorted run, while the kinds mixed are not. `pop` takes the earliest head
/// (`Expire` being the smallest variant, an expiry first on a tie), so every timer fires in
/// exactly the order of a single heap.
#[derive(Clone, Debug, Default)]
pub(super) struct StateTimers {
    expiries: TimerQueue<Expiry>,
    /// By `StateTimers::kind`.
    others: [TimerQueue<Reverse<(Millis, StateTimer)>>; 5],
}

impl StateTimers {
    /// The queue in `others` of a timer other than an expiry (which has its own).
    fn kind(timer: &StateTimer) -> usize {
        match timer {
            StateTimer::Close(_) | StateTimer::Expire(_) => 0,
            StateTimer::Forget(_) => 1,
            StateTimer::DropReopenable(_) => 2,
            StateTimer::MaintenanceEnd(_) => 3,
            StateTimer::RecoveryCheck(_) => 4,
        }
    }

    pub(super) fn push(&mut self, Reverse((at, timer)): Reverse<(Millis, StateTimer)>) {
        match timer {
            StateTimer::Expire(fingerprint) => self.expiries.push(Expiry { at, fingerprint }),
            other => self.others[Self::kind(&other)].push(Reverse((at, other))),
        }
    }

    /// The `others` queue whose head is the earliest (the greatest under `Reverse`, ties in
    /// `StateTimer` order), with that head's time, if any holds a timer.
    fn earliest_other(&self) -> Option<(usize, Millis)> {
        let mut best: Option<(usize, &Reverse<(Millis, StateTimer)>)> = None;
        for (kind, queue) in self.others.iter().enumerate() {
            if let Some(head) = queue.peek() {
                if best.is_none_or(|(_, b)| head > b) {
                    best = Some((kind, head));
                }
            }
        }
        best.map(|(kind, Reverse((at, _)))| (kind, *at))
    }

    /// The queue holding the earliest timer (`None`: the expiries) and when that timer falls
    /// due, if any timer is pending: what `advance_clock_to` compares with the coalesced emits
    /// before it pops from that very queue with [`StateTimers::pop_from`], so the heads are
    /// read once per fired timer.
    pub(super) fn next(&self) -> Option<(Option<usize>, Millis)> {
        let other = self.earliest_other();
        match (self.expiries.peek(), other) {
            // `Expire` is the smallest variant: an expiry fires first on a tie.
            (Some(e), Some((_, o))) if e.at <= o => Some((None, e.at)),
            (Some(e), None) => Some((None, e.at)),
            (_, Some((kind, o))) => Some((Some(kind), o)),
            (None, None) => None,
        }
    }

    /// Takes the head of the queue [`StateTimers::next`] named.
    pub(super) fn pop_from(
        &mut self,
        queue: Option<usize>,
    ) -> Option<Reverse<(Millis, StateTimer)>> {
        match queue {
            None => {
                let Expiry { at, fingerprint } = self.expiries.pop()?;
                Some(Reverse((at, StateTimer::Expire(fingerprint))))
            }
            Some(kind) => self.others[kind].pop(),
        }
    }

    /// Takes every pending recovery check out of the queue, earliest first.
    pub(super) fn take_recovery_checks(&mut self) -> Vec<(Millis, Str)> {
        let queue = &mut self.others[Self::kind(&StateTimer::RecoveryCheck(Str::default()))];
        let mut checks = Vec::with_capacity(queue.len());
        while let Some(Reverse((at, timer))) = queue.pop() {
            if let StateTimer::RecoveryCheck(fp) = timer {
                checks.push((at, fp));
            }
        }
        checks
    }

    #[cfg(test)]
    pub(super) fn pop(&mut self) -> Option<Reverse<(Millis, StateTimer)>> {
        let (queue, _) = self.next()?;
        self.pop_from(queue)
    }

    /// Every timer, in no particular order.
    pub(super) fn timers(&self) -> impl Iterator<Item = (Millis, StateTimer)> + '_ {
        let expiries = self
            .expiries
            .iter()
            .map(|e| (e.at, StateTimer::Expire(e.fingerprint.clone())));
        expiries.chain(
            self.others
                .iter()
                .flat_map(|q| q.iter().map(|Reverse(t)| t.clone())),
        )
    }
}

impl FromIterator<Reverse<(Millis, StateTimer)>> for StateTimers {
    fn from_iter<I: IntoIterator<Item = Reverse<(Millis, StateTimer)>>>(iter: I) -> StateTimers {
        let mut timers = StateTimers::default();
        for timer in iter {
            timers.push(timer);
        }
        timers
    }
}

impl Engine {
    pub(super) fn fire_expire(&mut self, fp: &Str, at: Millis, out: &mut Vec<IncidentUpdate>) {
        let expiry = self.rules.settings.alert_expiry;
        // Looked up once for the whole expiry: nothing leaves the table until a forget fires.
        let Some(state_at) = self.dedup.alerts.position(fp) else {
            return;
        };
        let st = self.dedup.alerts.at_mut(state_at);
        if st.status != Status::Firing {
            return;
        }
        if st.last_update + expiry > at {
            // Updated since this timer was set: wait for the newer deadline.
            let next = st.last_update + expiry;
            self.state_timers
                .push(Reverse((next, StateTimer::Expire(fp.clone()))));
            return;
        }
        st.status = Status::Resolved;
        self.stats.expired_alerts += 1;
        // Expiry says when it was last reported, not when it recovered: no lifecycle evidence.
        self.placement_alternatives.remove(fp);
        if !self.recovered_symptom_alternatives.is_empty() {
            self.recovered_symptom_alternatives.remove(fp);
        }
        self.release_inhibition_source(fp, at, out);
        self.deactivate_at(state_at, fp, at);
        self.schedule_forget(fp, at);
    }

    /// A maintenance window ended (the watermark passed its end): an alert it muted that still
    /// fires is looked at again as if it had just arrived, at the window's end. Its mute is
    /// re-evaluated, so another window, a suppression or an inhibition still holds it back.
    pub(super) fn fire_maintenance_end(
        &mut self,
        fp: &Str,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let view = self
            .dedup
            .alerts
            .get(fp)
            .filter(|s| s.status == Status::Firing && matches!(s.mute, Mute::Maintenance(_)))
            .map(|s| s.as_alert(fp));
        let Some(view) = view else {
            return;
        };
        let Some(state_at) = self.dedup.alerts.position(fp) else {
            return;
        };
        let mute_before = Some(self.dedup.alerts.at(state_at).mute);
        self.on_fire(&view, state_at, at, false, out);
        // Still muted by the same window: a reload moved its end later, and `on_fire` schedules
        // nothing for an unchanged mute, so wait for the new end here.
        let mute_after = self.dedup.alerts.get(fp).map(|s| s.mute);
        if let Some(Mute::Maintenance(i)) = mute_after.filter(|m| Some(*m) == mute_before) {
            let end = self.rules.maintenance[i as usize].end;
            if end > at {
                self.state_timers
                    .push(Reverse((end, StateTimer::MaintenanceEnd(fp.clone()))));
            }
        }
    }

    /// How long a resolved alert is remembered: long enough to recognise it flapping.
    fn retention(&self) -> Millis {
        let f = &self.rules.settings.flapping;
        f.window.max(f.quiet)
    }

    pub(super) fn schedule_forget(&mut self, fp: &Str, t: Millis) {
        let at = t + self.retention();
        self.state_timers
            .push(Reverse((at, StateTimer::Forget(fp.clone()))));
    }

    pub(super) fn fire_forget(&mut self, fp: &Str, at: Millis) {
        let retention = self.retention();
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        // The incident lookups last: a forget timer of an alert that fired again or was seen
        // since needs none.
        if st.status != Status::Resolved || st.last_seen + retention > at {
            return;
        }
        let in_open = st
            .incident()
            .is_some_and(|i| self.incidents.contains_key(&self.find(i)));
        if !in_open {
            self.dedup.alerts.remove(fp);
            if !self.late_effects.is_empty() {
                self.late_effects.remove(fp);
            }
            if !self.recovered_symptom_alternatives.is_empty() {
                self.recovered_symptom_alternatives.remove(fp);
            }
        }
    }

    /// Drops a resolving alert's weight as an inhibition source; when the last source of a
    /// group resolves, its muted targets that still fire come back as ordinary alerts.
    pub(super) fn release_inhibition_source(
        &mut self,
        fp: &Str,
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        // No firing source at all (always, without inhibit rules): nothing to count down.
        if self.inhibit_sources.is_empty() {
            return;
        }
        let rules = self.rules.clone();
        let topo = self.topology.clone();
        let Some(view) = self.dedup.alerts.get(fp).map(|s| s.as_alert(fp)) else {
            return;
        };
        let mut released = Vec::new();
        for (ri, rule) in rules.inhibit.iter().enumerate() {
            if !rule.source.matches_with(&view, &|a| kind_of(&topo, a)) {
                continue;
            }
            let key = (ri as u16, equal_hash(&view, &rule.equal));
            if let Some(n) = self.inhibit_sources.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.inhibit_sources.remove(&key);
                    released.extend(self.inhibited.remove(&key).unwrap_or_default());
                }
            }
        }
        for target in released {
            let Some(at) = self.dedup.alerts.position(&target) else {
                continue;
            };
            let s = self.dedup.alerts.at(at);
            if s.status == Status::Firing && matches!(s.mute, Mute::Inhibited(_)) {
                let view = s.as_alert(&target);
                self.on_fire(&view, at, t, false, out);
            }
        }
    }

    /// Marks an alert inactive for its incident; the last one starts the resolve hold.
    pub(super) fn deactivate(&mut self, fp: &Str, t: Millis) {
        if let Some(at) = self.dedup.alerts.position(fp) {
            self.deactivate_at(at, fp, t);
        }
    }

    /// [`Engine::deactivate`] of the alert whose state is at `at`.
    fn deactivate_at(&mut self, at: AlertPos, fp: &Str, t: Millis) {
        let st = self.dedup.alerts.at_mut(at);
        if !st.active {
            return;
        }
        st.active = false;
        let Some(inc_id) = st.incident() else {
            return;
        };
        let recurring = is_recurring(st);
        let inc_id = self.find(inc_id);
        // A recurring check registered nothing when it last fired (see `reactivate`).
        if !recurring {
            let anchors = self.anchors_listed(at, fp, true);
            self.release_anchors_of(&anchors, inc_id, t);
        }
        let hold = self.rules.settings.resolve_hold;
        if let Some(inc) = self.incidents.get_mut(&inc_id) {
            inc.active = inc.active.saturating_sub(1);
            inc.last_seen = inc.last_seen.max(t);
            if inc.active == 0 {
                inc.phase = Phase::Resolving(t);
                self.state_timers
                    .push(Reverse((t + hold, StateTimer::Close(inc_id))));
            }
        }
    }

    /// A member of an open incident fires again: it counts as active once more.
    pub(super) fn reactivate(
        &mut self,
        fp: &Str,
        inc_id: u32,
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(st) = self.dedup.alerts.get_mut(fp) else {
            return;
        };
        let was_active = std::mem::replace(&mut st.active, true);
        st.incident = inc_id;
        let severity = st.severity;
        // A recurring check stays in its incident but no longer makes its node an alerting one.
        let anchors = if self.recurring(fp) {
            AlertAnchors::default()
        } else {
            self.anchors_of(fp)
        };
        if let Some(inc) = self.incidents.get_mut(&inc_id) {
            if !was_active {
                inc.active += 1;
            }
            inc.phase = Phase::Open;
            inc.last_seen = inc.last_seen.max(t);
            inc.severity = inc.severity.max(severity);
        }
        // Coming back, it counts as unexplained: that never refuses a link.
        let mut anchors = anchors;
        // A flapping alert firing again is no new start of its check (as `correlate`'s `began`
        // says for links): its co-firing anchor keeps the start it had, so a check flapping on
        // one resource does not look as if it started now, next to every alert that does.
        let began = self
            .dedup
            .alerts
            .get(fp)
            .map_or(t, |st| st.first_seen.min(t));
        let co_firing: SmallVec<[AlertAnchor; 4]> = anchors
            .others
            .iter()
            .filter(|a| matches!(a.key, AnchorKey::CoFiring(_)))
            .cloned()
            .collect();
        anchors
            .others
            .retain(|a| !matches!(a.key, AnchorKey::CoFiring(_)));
        self.register_anchors(inc_id, &anchors, t, !was_active, false);
        if !co_firing.is_empty() {
            let check_only = AlertAnchors {
                nodes: None,
                others: co_firing,
                slots: Vec::new(),
            };
            self.register_anchors(inc_id, &check_only, began, !was_active, false);
        }
        if !was_active {
            self.mark_dirty(inc_id, out);
        }
    }
}
