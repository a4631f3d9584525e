//! What the engine keeps of one incident (`Incident`, its per-resource `ResourceAgg`, its
//! `Phase`) and the union-find of merged incidents (`find`).

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Phase {
    Open,
    /// Every member resolved at the given time; closes after the resolve hold.
    Resolving(Millis),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct ResourceAgg {
    pub(super) node: u32,
    pub(super) members: u32,
    pub(super) first_seen: Millis,
    pub(super) severity: Severity,
    pub(super) fingerprint: Str,
    pub(super) name: Str,
    pub(super) chronic: f64,
}

impl ResourceAgg {
    fn node(&self) -> Option<u32> {
        (self.node != NONE).then_some(self.node)
    }

    /// The aggregate a resource starts with when `view` (fingerprint `fp`) is its first member.
    fn first(node: Option<u32>, view: &Alert, fp: &Str, chronic: f64) -> ResourceAgg {
        ResourceAgg {
            node: node.unwrap_or(NONE),
            members: 0,
            first_seen: view.starts_at,
            severity: view.severity,
            fingerprint: fp.clone(),
            name: view.name.clone(),
            chronic,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Incident {
    pub(super) seq: u64,
    pub(super) key: String,
    /// Grouping rule of the first alert: its `min_alerts` decides when the incident opens.
    pub(super) rule: u16,
    pub(super) rules: BTreeSet<u16>,
    pub(super) members: Vec<Str>,
    pub(super) active: u32,
    pub(super) events: u64,
    pub(super) first_seen: Millis,
    pub(super) last_seen: Millis,
    pub(super) severity: Severity,
    pub(super) resources: BTreeMap<Str, ResourceAgg>,
    pub(super) coverage: FxHashMap<u32, Cover>,
    pub(super) services: BTreeSet<Str>,
    pub(super) merged_from: Vec<String>,
    /// Ids of the incidents merged into this one (directly or through another): their
    /// `merged_into` entries go when this incident closes, so that map does not grow for the
    /// life of the process. Older snapshots have none (their entries stay).
    #[serde(default)]
    pub(super) merged_ids: Vec<u32>,
    /// Incidents split off this one because their members recovered apart from its own
    /// ([`Engine::fire_recovery_check`]): a member that recovers later with them follows.
    #[serde(default)]
    pub(super) split_off: Vec<u32>,
    /// Shared with every update that reports them (`Arc`), not copied into each.
    pub(super) explanation: Vec<Arc<str>>,
    /// Whether a `trigger` has been emitted (false while held below `min_alerts`).
    pub(super) opened: bool,
    pub(super) phase: Phase,
    pub(super) dirty: bool,
    pub(super) last_emit: Millis,
    pub(super) emit_scheduled: bool,
    pub(super) last_root: Option<(String, Severity)>,
    /// `events` as of the last emitted update.
    pub(super) emitted_events: u64,
    /// The root-cause part of the last update, kept while nothing it depends on changed
    /// (see [`Incident::forget_root_cause`]). Not in snapshots: recomputed after a restore.
    #[serde(skip)]
    pub(super) root_cause: Option<Box<RootCauseView>>,
    /// Whether `coverage` may lack a node of a member resource's root-cause neighbourhood:
    /// counted under another topology (a reload, or a snapshot's), or absorbed from an
    /// incident that was. While not, a member on a resource already counted, which does not
    /// make it fail, changes no cover and `add_to_resource` skips its neighbourhood.
    #[serde(skip, default = "yes")]
    pub(super) coverage_may_lack: bool,
    /// `first_seen` as last formatted for an update, with the time it shows: an incident's
    /// start rarely moves while each update reports a new `last_seen`.
    #[serde(skip)]
    pub(super) first_seen_text: Option<(Millis, Str)>,
}

impl Incident {
    /// Counts `view` (fingerprint `fp`, on topology node `node`, root-cause neighbourhood
    /// `rca_ups`) as a member of the resource `res_key`: its aggregate (the representative alert
    /// is the most severe, then the earliest) and the coverage of the nodes above it. Returns
    /// whether what the root-cause view reads of the resource changed.
    pub(super) fn add_to_resource(
        &mut self,
        res_key: Str,
        node: Option<u32>,
        view: &Alert,
        fp: &Str,
        chronic: f64,
        rca_ups: Option<RcaNeighbourhood>,
    ) -> bool {
        // One search of the map, not a `get` and then an `entry`.
        let (agg, new_resource, was_failing, counted_on_node) = match self.resources.entry(res_key)
        {
            btree_map::Entry::Occupied(known) => {
                let agg = known.into_mut();
                let (was_failing, counted_on_node) = (agg.severity >= Severity::Error, agg.node());
                (agg, false, was_failing, counted_on_node)
            }
            btree_map::Entry::Vacant(new) => (
                new.insert(ResourceAgg::first(node, view, fp, chronic)),
                true,
                false,
                None,
            ),
        };
        agg.members += 1;
        let mut changed = new_resource;
        if (view.severity, Reverse(view.starts_at)) > (agg.severity, Reverse(agg.first_seen)) {
            agg.severity = view.severity;
            agg.fingerprint = fp.clone();
            agg.name = view.name.clone();
            changed = true;
        }
        let (first_seen, least_chronic) =
            (agg.first_seen.min(view.starts_at), agg.chronic.min(chronic));
        changed |= first_seen != agg.first_seen || least_chronic != agg.chronic;
        agg.first_seen = first_seen;
        agg.chronic = least_chronic;
        let becomes_failing = !was_failing && agg.severity >= Severity::Error;
        // The resource's neighbourhood was counted when it joined, on this node: only a new
        // resource or a new failure changes a cover (`or_default` adds none then).
        let counted = !new_resource && counted_on_node == node && !self.coverage_may_lack;
        if let Some(ups) = rca_ups.filter(|_| !counted || becomes_failing) {
            // A new incident's coverage is its first neighbourhood: sized once, not rehashed
            // as it fills (the cover is summed, so the map's order does not matter).
            if self.coverage.is_empty() {
                self.coverage.reserve(ups.len());
            }
            for &(n, hops) in ups.iter() {
                let c = self.coverage.entry(n).or_default();
                if new_resource {
                    c.covered += 1;
                    c.hop_sum += u32::from(hops);
                }
                if becomes_failing {
                    c.add_failing(hops);
                }
            }
        }
        changed
    }

    /// `first_seen` in RFC 3339, formatted only when it changed since the last update.
    pub(super) fn first_seen_text(&mut self) -> Str {
        match &self.first_seen_text {
            Some((at, text)) if *at == self.first_seen => text.clone(),
            _ => {
                let text = format_event_time_str(self.first_seen);
                self.first_seen_text = Some((self.first_seen, text.clone()));
                text
            }
        }
    }

    /// To be called whenever the incident's members, resources, coverage or services change:
    /// the next update does not take the kept root cause as it is. The view stays, marked
    /// outdated: that update takes it only where it provably still holds (a lone resource,
    /// `RootCauseView::holds_for_one_resource`) and otherwise rebuilds it in its box. (Debug
    /// builds check on every update that a kept root cause equals a fresh one, so a missed call
    /// shows in the tests.)
    pub(super) fn forget_root_cause(&mut self) {
        if let Some(view) = &mut self.root_cause {
            view.outdated = true;
        }
    }

    /// After a change of rules or topology, which any part of a view may rest on: nothing of
    /// the kept root cause is reused.
    pub(super) fn drop_root_cause(&mut self) {
        self.root_cause = None;
    }
}

impl Engine {
    /// Recomputes an incident's per-member aggregates (events, start, severity, rules,
    /// services, resources and root-cause coverage) from its members, as `join` builds them
    /// one by one: after members left it.
    pub(super) fn rebuild_aggregates(&mut self, inc_id: u32) {
        let Some(inc) = self.incidents.get_mut(&inc_id) else {
            return;
        };
        let members = inc.members.clone();
        inc.events = 0;
        inc.first_seen = Millis::MAX;
        inc.severity = Severity::Info;
        inc.rules.clear();
        inc.services.clear();
        inc.resources.clear();
        inc.coverage.clear();
        inc.coverage_may_lack = false;
        inc.forget_root_cause();
        for fp in &members {
            let Some(st) = self.dedup.alerts.get(fp) else {
                continue;
            };
            let view = st.as_alert(fp);
            let (node, rule, count) = (st.node(), st.rule, st.count);
            let chronic = self.anomaly.chronic_noise(&view);
            let node_service = node.and_then(|n| {
                self.topology
                    .node(NodeIndex::new(n as usize))
                    .service
                    .clone()
            });
            let res_key = node
                .map(|n| self.topology.node(NodeIndex::new(n as usize)).id.clone())
                .unwrap_or_else(|| view.resource.clone());
            let rca_ups = node.map(|n| self.rca_upstream(n));
            let inc = self.incidents.get_mut(&inc_id).expect("present");
            inc.events += u64::from(count);
            inc.first_seen = inc.first_seen.min(view.starts_at);
            inc.severity = inc.severity.max(view.severity);
            inc.rules.insert(rule);
            if let Some(s) = view.service.clone().or(node_service) {
                inc.services.insert(s);
            }
            inc.add_to_resource(res_key, node, &view, fp, chronic, rca_ups);
        }
        let now = self.now;
        if let Some(inc) = self.incidents.get_mut(&inc_id) {
            if inc.first_seen == Millis::MAX {
                inc.first_seen = now;
            }
        }
    }

    pub(super) fn find(&self, id: u32) -> u32 {
        find_in(&self.merged_into, id)
    }
}

pub(super) fn find_in(merged: &FxHashMap<u32, u32>, mut id: u32) -> u32 {
    while let Some(&next) = merged.get(&id) {
        id = next;
    }
    id
}
