//! The correlation engine: a deterministic state machine driven by event time.
//!
//! For each alert occurrence: map severity, dedup, apply maintenance, suppression and inhibition,
//! then correlate. An alert joins an open incident when it is close in event time AND related:
//! it shares an *anchor* with one of the incident's members. Anchors of an alert are its
//! resource's node and the nodes upstream of it within the rule's hops (a fault there could
//! explain it), or the resource name itself when the CMDB does not know it, and the values of
//! the rule's `group_by` attributes. An index anchor → incidents makes the cost of one alert
//! depend on its neighbourhood only, never on the number of open alerts. An alert that relates
//! to several incidents bridges them: they merge into the largest.
//!
//! Clocks: `now` is the newest event time seen; the watermark is `now − allowed_lateness`.
//! Decisions that only emit (a coalesced update) run on `now`; decisions that destroy state
//! (expiry, closing an incident) wait for the watermark, so that anything arriving within the
//! allowed lateness still finds the state it belongs to.

use crate::anomaly::{AnomalyModel, Burst, NoBaseline};
use crate::causality::{
    causal_breach, effect_too_late, recovery_tolerance, silent_cause_tolerance, CAUSE_LAG_TOLERANCE,
};
use crate::dedup::{AlertMap, AlertPos, AlertState, Change, DedupTable, Mute, NONE};
use crate::incident::{Details, EventAction, IncidentUpdate, Payload, RootCause};
use crate::matcher::{field_value, Field};
use crate::model::{format_event_time_str, Alert, AlertHead, Millis, Severity, Status, Str};
use crate::rootcause::{self, AlertingInfo, Candidate, Cover};
use crate::rules::{GroupingRule, RuleSet};
use crate::timer_heap::TimerQueue;
use crate::topology::{EdgeMask, TopologyIndex};
use petgraph::graph::NodeIndex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{btree_map, BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

mod anchors;
mod co_firing;
mod incident_state;
mod neighbourhoods;
mod output;
mod placement;
mod recovery;
mod rehoming;
mod snapshot;
mod splits;
mod timers;

pub use anchors::AnchorKey;
pub use co_firing::{check_signature, CO_FIRING_WINDOW};
pub use snapshot::EngineSnapshot;
// The parts share their items with one another through this module.
use anchors::*;
use co_firing::*;
use incident_state::*;
use neighbourhoods::*;
use output::*;
use placement::*;
use recovery::*;
use splits::*;
use timers::*;

/// How many join reasons an incident keeps for its `explanation`.
const MAX_EXPLANATION: usize = 12;

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Prefix of incident ids (`inc-2026-11-25-000042`); set per instance when several engines
    /// write to one topic.
    pub id_prefix: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            id_prefix: "inc".into(),
        }
    }
}

/// Counters of one engine's life; every figure `--stats` and `/metrics` report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Alert occurrences ingested (metric samples excluded).
    pub events: u64,
    /// Unique fingerprints seen.
    pub alerts: u64,
    /// Occurrences that repeated a known alert's state.
    pub deduplicated: u64,
    /// Occurrences older than the watermark when they arrived (still processed).
    pub late_events: u64,
    /// Resolves of fingerprints never seen firing.
    pub orphan_resolves: u64,
    /// Alerts kept out of incidents, by reason (`maintenance`, `suppress:<rule>`,
    /// `chronic:<rule>`, `inhibited`, `flapping`).
    pub suppressed: BTreeMap<String, u64>,
    pub flapping_alerts: u64,
    pub expired_alerts: u64,
    pub incidents_opened: u64,
    pub incidents_resolved: u64,
    pub incidents_merged: u64,
    /// Closed solo incidents reopened by their alert firing again (recurring checks).
    pub incidents_reopened: u64,
    /// Incidents that closed before reaching their rule's `min_alerts`.
    pub incidents_held: u64,
    pub updates_emitted: u64,
    pub metric_samples: u64,
    pub anomalies_raised: u64,
}

impl EngineStats {
    pub fn suppressed_total(&self) -> u64 {
        self.suppressed.values().sum()
    }

    /// Alerts kept out of incidents by `chronic_above` suppress rules (reasons `chronic:<rule>`).
    pub fn chronic_suppressed_total(&self) -> u64 {
        self.suppressed
            .iter()
            .filter(|(reason, _)| reason.starts_with("chronic:"))
            .map(|(_, n)| n)
            .sum()
    }
}

pub struct Engine {
    rules: Arc<RuleSet>,
    topology: Arc<TopologyIndex>,
    anomaly: Box<dyn AnomalyModel>,
    /// No severity rule and no anomaly model that reads alerts: a plain repeat needs only its
    /// head ([`Engine::ingest_repeat`]). Kept with the rules and the model, not asked per line.
    repeats_by_head: bool,
    config: EngineConfig,
    dedup: DedupTable,
    /// Boxed: the table is probed for every anchor entry an alert looks at, and slots of a
    /// pointer keep it in cache where ~300-byte incidents inline would not.
    incidents: FxHashMap<u32, Box<Incident>>,
    merged_into: FxHashMap<u32, u32>,
    anchors: AnchorTable,
    anchors_at_sweep: usize,
    /// `AlertAnchors::slots`' buffer, kept between correlations.
    anchor_slots: Vec<u32>,
    /// The incidents that stopped being open (closed or merged away): see
    /// `AnchorEntries::prune`.
    removals: Removals,
    /// (inhibit rule, hash of its `equal` values) → number of firing source alerts.
    inhibit_sources: FxHashMap<(u16, u64), u32>,
    /// Targets muted by each source group, released when the last source resolves.
    inhibited: FxHashMap<(u16, u64), Vec<Str>>,
    state_timers: StateTimers,
    emit_timers: TimerQueue<Reverse<(Millis, u32)>>,
    /// Closed incidents that had one alert to themselves, by that alert, with when they closed.
    reopenable: FxHashMap<Str, (Box<Incident>, Millis)>,
    /// Firing alerts that several incidents could hold: on resources the CMDB does not know, a
    /// weak link placed them among several; on known ones, firing members of several incidents
    /// above them explained them (a shared symptom). The incidents passed over, in the order
    /// preferred (see `Engine::rehome_recovered_symptom`).
    placement_alternatives: FxHashMap<Str, SmallVec<[u32; 2]>>,
    /// Known shared symptoms that recovered while the failure they had joined went on: the
    /// incidents passed over whose members above them explained them too (their
    /// `placement_alternatives` at the resolve). Read when a recovery split takes them away
    /// from that failure (`Engine::explanation_recovered_with_part`); dropped when they
    /// resolve again, expire or are forgotten.
    recovered_symptom_alternatives: FxHashMap<Str, SmallVec<[u32; 2]>>,
    /// Alerts on resources the CMDB does not know placed by a co-firing link alone, by check
    /// signature, in the order placed; pruned once no alert on time can start within
    /// `CO_FIRING_WINDOW` of them.
    co_firing_guesses: FxHashMap<u64, SmallVec<[CoFiringGuess; 2]>>,
    /// Alerts the CMDB knows as they start failing, (start, incident), in arrival order, kept
    /// while an alert on time can still start within a scrape interval after them: the failures
    /// spreading when an alert nothing places starts.
    recent_known_starts: VecDeque<(Millis, u32)>,
    /// Alerts on resources the CMDB does not know that nothing placed (they opened an incident
    /// of their own) or a co-firing guess placed, with the incidents in which an alert the CMDB
    /// knows started within a scrape interval before or after them: the failures they may have
    /// started with, which their recovery may confirm (`Engine::fold_piece_recovered_with`).
    started_with: FxHashMap<Str, SmallVec<[u32; 2]>>,
    /// The alerts `started_with` records, (start, fingerprint), in arrival order, kept while an
    /// alert the CMDB knows on time can still start within a scrape interval after them: a
    /// failure that starts spreading just after such an alert is one it may have started with
    /// too (`Engine::note_known_start`).
    recent_unplaced_starts: VecDeque<(Millis, Str)>,
    /// Alerts that opened an incident of their own just past the per-hop bound below a node
    /// alerting in another: their recovery with that node may join the two.
    late_effects: FxHashMap<Str, LateEffect>,
    /// Outright alerts on a business service on top that the user-facing link placed in a
    /// failure below (start, fingerprint), in arrival order, kept while an alert on time can
    /// still start within a scrape interval after them: a nearer failure starting that late is
    /// their late cause, and takes them (`Engine::late_cause_of_user_facing`).
    user_facing_guesses: VecDeque<(Millis, Str)>,
    /// Per (rule, node): the node's upstream neighbourhood for grouping.
    group_cache: GroupCache,
    /// Per (rule, business service): the service's nodes and what is upstream of them.
    service_region_cache: FxHashMap<(u16, Str), ServiceRegion>,
    /// Per node: its upstream neighbourhood for root cause.
    rca_cache: NodeCache<RcaNeighbourhood>,
    /// Per root-cause node: the services its failure impacts.
    impact_cache: FxHashMap<u32, Arc<[Str]>>,
    /// Per alerting root-cause node: the nodes strictly upstream of it within the root-cause
    /// hops (its `rca_cache` neighbourhood), sorted, for the first-cause walk to look up the
    /// few members rather than scan the whole neighbourhood on every new root cause.
    first_cause_ups: FxHashMap<u32, Arc<[u32]>>,
    /// `rootcause::choose_with`'s lists, allocated once rather than on every new root cause.
    choose_scratch: rootcause::ChooseScratch,
    /// Where a join's explanation line is written before it is copied into its `Arc<str>`.
    line_scratch: String,
    /// Where a root-cause view's resource and service names are gathered before they move
    /// into their `Arc<[Str]>`: one allocation a list (collected straight from the incident's
    /// maps, whose iterators do not tell their length to `collect`, a list cost two).
    names_scratch: Vec<Str>,
    /// The empty name list, shared by the views of incidents without a service (most).
    no_names: Arc<[Str]>,
    /// Root-cause preference rank of each node's kind.
    kind_ranks: Vec<u16>,
    /// Each grouping rule's name as an update's `rules` list, for the incidents of that rule
    /// alone (nearly all): shared rather than built for every update.
    single_rule_names: Vec<Arc<[Str]>>,
    /// Whether updates reuse an incident's root cause while it cannot have changed (always,
    /// but for the test that compares with recomputing it every time).
    cache_root_causes: bool,
    /// Whether a root-cause view skips the silent-node scan and the first-cause walk when one
    /// member resource is on the topology, where they cannot change it (always, but for the
    /// test that compares with running them).
    skip_single_member_scans: bool,
    now: Millis,
    started: bool,
    next_seq: u64,
    /// Whether every incident lists the incidents merged into it (`Incident::merged_ids`):
    /// false after restoring an older snapshot that did not, where an anchor entry may be of
    /// an incident merged into one that does not know it.
    merged_ids_complete: bool,
    /// The date part of incident keys for the day `new_incident` last opened one in:
    /// (day since the epoch, `YYYY-MM-DD`); a storm opens thousands an hour.
    key_date_cache: Option<(Millis, Str)>,
    stats: EngineStats,
}

impl Engine {
    pub fn new(rules: Arc<RuleSet>, topology: Arc<TopologyIndex>) -> Engine {
        Engine::with_config(rules, topology, EngineConfig::default())
    }

    pub fn with_config(
        rules: Arc<RuleSet>,
        topology: Arc<TopologyIndex>,
        config: EngineConfig,
    ) -> Engine {
        let kind_ranks = kind_ranks(&rules, &topology);
        let nodes = topology.node_count();
        let repeats_by_head = rules.severity.is_empty() && !NoBaseline.observes_alerts();
        let single_rule_names = single_rule_names(&rules);
        Engine {
            kind_ranks,
            single_rule_names,
            rules,
            topology,
            repeats_by_head,
            anomaly: Box::new(NoBaseline),
            config,
            dedup: DedupTable::default(),
            incidents: FxHashMap::default(),
            merged_into: FxHashMap::default(),
            anchors: AnchorTable::new(nodes),
            anchors_at_sweep: 1024,
            anchor_slots: Vec::new(),
            removals: Removals::default(),
            inhibit_sources: FxHashMap::default(),
            inhibited: FxHashMap::default(),
            state_timers: StateTimers::default(),
            emit_timers: TimerQueue::new(),
            reopenable: FxHashMap::default(),
            placement_alternatives: FxHashMap::default(),
            recovered_symptom_alternatives: FxHashMap::default(),
            co_firing_guesses: FxHashMap::default(),
            recent_known_starts: VecDeque::new(),
            started_with: FxHashMap::default(),
            recent_unplaced_starts: VecDeque::new(),
            late_effects: FxHashMap::default(),
            user_facing_guesses: VecDeque::new(),
            group_cache: GroupCache::default(),
            service_region_cache: FxHashMap::default(),
            rca_cache: NodeCache::default(),
            impact_cache: FxHashMap::default(),
            first_cause_ups: FxHashMap::default(),
            choose_scratch: rootcause::ChooseScratch::default(),
            line_scratch: String::new(),
            names_scratch: Vec::new(),
            no_names: Arc::from([]),
            cache_root_causes: true,
            skip_single_member_scans: true,
            now: Millis::MIN,
            started: false,
            next_seq: 1,
            merged_ids_complete: true,
            key_date_cache: None,
            stats: EngineStats::default(),
        }
    }

    /// Installs learned baselines (`corral train` models).
    pub fn set_anomaly_model(&mut self, model: Box<dyn AnomalyModel>) {
        self.anomaly = model;
        self.repeats_by_head = self.rules.severity.is_empty() && !self.anomaly.observes_alerts();
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn topology(&self) -> &TopologyIndex {
        &self.topology
    }

    /// Alerts currently known (firing or recently resolved).
    pub fn active_alerts(&self) -> usize {
        self.dedup
            .alerts
            .values()
            .filter(|a| a.status == Status::Firing)
            .count()
    }

    pub fn tracked_alerts(&self) -> usize {
        self.dedup.len()
    }

    /// What the engine remembers of one alert (status, mute reason, grouping rule), for rule
    /// tests and explanations.
    pub fn alert_state(&self, fingerprint: &str) -> Option<&AlertState> {
        self.dedup.alerts.get(fingerprint)
    }

    pub fn open_incidents(&self) -> usize {
        self.incidents.values().filter(|i| i.opened).count()
    }

    pub fn now(&self) -> Option<Millis> {
        self.started.then_some(self.now)
    }

    pub fn watermark(&self) -> Millis {
        self.now
            .saturating_sub(self.rules.settings.allowed_lateness)
    }

    /// Swaps rules and topology (SIGHUP reload). Open incidents and alerts are kept; alerts are
    /// re-resolved against the new topology and re-assigned to the new grouping rules.
    pub fn reload(&mut self, rules: Arc<RuleSet>, topology: Arc<TopologyIndex>) {
        self.rules = rules;
        self.repeats_by_head = self.rules.severity.is_empty() && !self.anomaly.observes_alerts();
        self.topology = topology;
        self.group_cache.clear();
        self.service_region_cache.clear();
        self.rca_cache.clear();
        self.impact_cache.clear();
        self.first_cause_ups.clear();
        self.kind_ranks = kind_ranks(&self.rules, &self.topology);
        self.single_rule_names = single_rule_names(&self.rules);
        // Root causes name topology nodes and rank by the rules' hints.
        for inc in self.incidents.values_mut() {
            inc.drop_root_cause();
            inc.coverage_may_lack = true;
        }
        for (inc, _) in self.reopenable.values_mut() {
            inc.drop_root_cause();
        }
        let topo = self.topology.clone();
        let rules = self.rules.clone();
        for (fp, st) in self.dedup.alerts.iter_mut() {
            st.node = topo
                .resolve(&st.resource)
                .map_or(NONE, |n| n.index() as u32);
            let view = st.as_alert(fp);
            st.rule = rules.grouping_for(&view, &|a| kind_of(&topo, a)) as u16;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Input
    // -----------------------------------------------------------------------------------------

    /// Processes one alert occurrence (or metric sample) and appends the incident updates it
    /// causes, in order.
    pub fn ingest(&mut self, mut alert: Alert, out: &mut Vec<IncidentUpdate>) {
        let t = alert.event_time();
        let late = self.started && t < self.watermark();
        self.advance_to(t, out);

        if alert.value.is_some() {
            self.stats.metric_samples += 1;
            if let Some(mut synthetic) = self.anomaly.observe_metric(&alert) {
                self.stats.anomalies_raised += 1;
                synthetic.value = None;
                self.ingest(synthetic, out);
            }
            return;
        }
        self.stats.events += 1;
        for rule in &self.rules.severity {
            if rule.matcher.matches(&alert) {
                alert.severity = rule.set;
                break;
            }
        }
        self.anomaly.observe_alert(&alert);

        // Topology and rule lookups happen once per fingerprint, not per repeat. Borrowed, not
        // cloned: two `Arc` clones are atomic operations on every occurrence.
        let (topo, rules) = (&self.topology, &self.rules);
        let (merged, at) = self.dedup.merge_at(&alert, &rules.settings.flapping, || {
            let node = topo.resolve(&alert.resource).map(|n| n.index() as u32);
            let rule = rules.grouping_for(&alert, &|a| kind_of(topo, a)) as u16;
            AlertState::new(&alert, node, rule)
        });
        // Nothing leaves the table until the next timers fire: `at` holds for this occurrence.
        let state = self.dedup.alerts.at_mut(at);
        // Re-notifications carry the alert's original start (Alertmanager re-sends `startsAt`):
        // they are not late, and they prove the alert still fires as of the engine's clock, so
        // expiry counts from now rather than from that old start.
        if merged.change == Change::Repeat && alert.status == Status::Firing {
            state.last_update = state.last_update.max(self.now);
        } else if late {
            self.stats.late_events += 1;
        }
        let fp = alert.fingerprint.clone();
        if merged.started_flapping {
            self.stats.flapping_alerts += 1;
        }
        match merged.change {
            Change::New => {
                self.stats.alerts += 1;
                if alert.status == Status::Firing {
                    let deadline = state.last_update + self.rules.settings.alert_expiry;
                    self.state_timers
                        .push(Reverse((deadline, StateTimer::Expire(fp.clone()))));
                    self.on_fire(&alert, at, t, true, out);
                } else {
                    self.stats.orphan_resolves += 1;
                }
            }
            Change::Repeat => {
                let (status, mute) = (state.status, state.mute);
                let member = (state.incident(), state.active, state.severity);
                self.count_repeat(member, t, out);
                // A muted alert that keeps firing is looked at again: its maintenance window
                // may have ended or its inhibiting source resolved.
                if status == Status::Firing && mute.is_muted() {
                    self.on_fire(&alert, at, t, false, out);
                }
            }
            Change::Refired => {
                let deadline = state.last_update + self.rules.settings.alert_expiry;
                self.state_timers
                    .push(Reverse((deadline, StateTimer::Expire(fp.clone()))));
                self.on_fire(&alert, at, t, true, out);
            }
            Change::Resolved => {
                self.on_resolve(&fp, t, out);
            }
        }
    }

    /// Takes an occurrence by its head alone when it is a plain repeat: an alert that is already
    /// firing and not muted fires again, and nothing in the engine would read more of it than
    /// the head (no severity rules, no anomaly model watching alerts, not a metric sample).
    /// Returns true when it was ingested, with exactly the effect [`Engine::ingest`] of the
    /// whole alert would have had; false when the whole alert is needed: then pass it to
    /// `ingest`. In both cases the updates due by the occurrence's time are already in `out`
    /// (moving the clock first is what `ingest` does too, and it does not do it twice).
    ///
    /// This is what lets a decoder skip building 90% of a storm's alerts.
    pub fn ingest_repeat(&mut self, head: &AlertHead<'_>, out: &mut Vec<IncidentUpdate>) -> bool {
        if head.status != Status::Firing || head.value.is_some() || !self.repeats_by_head {
            return false;
        }
        let t = head.event_time();
        // Timers due by `t` may change this very alert (expire it), so they fire before the
        // state is looked at. Not late: `advance_to` leaves `now` at `t` or later.
        self.advance_to(t, out);
        let flapping = &self.rules.settings.flapping;
        let now = self.now;
        let Some(state) = self.dedup.alerts.get_mut(head.fingerprint) else {
            return false;
        };
        if state.status != Status::Firing || state.mute.is_muted() {
            return false;
        }
        self.stats.events += 1;
        let merged = state.merge_repeat(head, flapping, &mut self.dedup.services);
        debug_assert_eq!(merged.change, Change::Repeat);
        // As in `ingest`: a re-notification proves the alert fires as of the engine's clock.
        state.last_update = state.last_update.max(now);
        let member = (state.incident(), state.active, state.severity);
        self.count_repeat(member, t, out);
        true
    }

    /// What a repeat does to its alert's incident: one more event, a later `last_seen`, and a
    /// higher severity when an active member's rose (which is worth an update). `member` is the
    /// alert's (incident, active, severity) after the merge.
    // Always inlined: as a call it cost a frame (~25 instructions) on every repeat.
    #[inline(always)]
    fn count_repeat(
        &mut self,
        (inc, active, sev): (Option<u32>, bool, Severity),
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) {
        self.stats.deduplicated += 1;
        let Some(id) = inc else {
            return;
        };
        // An id found among the open incidents is its own survivor: an incident merged away
        // leaves `incidents` for good (ids are never reused), and a merge re-points its members
        // at the survivor. So the merged-into chain, a second hash probe, is walked only when
        // the alert's incident is not open.
        debug_assert!(!self.incidents.contains_key(&id) || self.find(id) == id);
        let (inc_id, incident) = match self.incidents.get_mut(&id) {
            Some(incident) => (id, Some(incident)),
            None => {
                let survivor = find_in(&self.merged_into, id);
                (survivor, self.incidents.get_mut(&survivor))
            }
        };
        let Some(i) = incident else {
            return;
        };
        i.events += 1;
        i.last_seen = i.last_seen.max(t);
        if sev > i.severity && active {
            i.severity = sev;
            self.mark_dirty(inc_id, out);
        }
    }

    /// Moves event time forward to `t` (if later) and fires every timer that is due: coalesced
    /// updates, expiries, incident closes. Live services call this on idle ticks too.
    #[inline]
    pub fn advance_to(&mut self, t: Millis, out: &mut Vec<IncidentUpdate>) {
        // Most occurrences of a storm do not move the clock: they return here, inlined into
        // the caller, without the frame of the timer loop.
        if self.started && t <= self.now {
            return;
        }
        self.advance_clock_to(t, out);
    }

    #[inline(never)]
    fn advance_clock_to(&mut self, t: Millis, out: &mut Vec<IncidentUpdate>) {
        self.now = t;
        self.started = true;
        let watermark = self.watermark();
        loop {
            let due_state = self.state_timers.next().filter(|&(_, at)| at <= watermark);
            let due_emit = self
                .emit_timers
                .peek()
                .map(|Reverse((at, _))| *at)
                .filter(|&at| at <= self.now);
            // Fire in time order across both queues, emits first on a tie (they only report).
            let state_queue = match (due_emit, due_state) {
                (None, None) => break,
                (Some(emit_at), Some((queue, state_at))) if state_at < emit_at => queue,
                (None, Some((queue, _))) => queue,
                (Some(_), _) => {
                    let Reverse((at, inc)) = self.emit_timers.pop().expect("peeked");
                    self.fire_emit(inc, at, out);
                    continue;
                }
            };
            let Reverse((at, timer)) = self.state_timers.pop_from(state_queue).expect("peeked");
            match timer {
                StateTimer::Expire(fp) => self.fire_expire(&fp, at, out),
                StateTimer::Close(inc) => self.fire_close(inc, at, out),
                StateTimer::Forget(fp) => self.fire_forget(&fp, at),
                StateTimer::MaintenanceEnd(fp) => self.fire_maintenance_end(&fp, at, out),
                StateTimer::RecoveryCheck(fp) => self.fire_recovery_check(&fp, at, out),
                StateTimer::DropReopenable(fp) => {
                    let window = self.rules.settings.reopen_window;
                    if self
                        .reopenable
                        .get(&fp)
                        .is_some_and(|(_, closed)| closed + window <= at)
                    {
                        self.reopenable.remove(&fp);
                    }
                }
            }
        }
        if self.anchors.len() > self.anchors_at_sweep * 2 {
            self.sweep_anchors();
        }
    }

    /// End of input (replay): emits every pending change, including event counts that grew
    /// through repeats since the last update, so the last update of each incident is complete.
    /// Open incidents stay open.
    pub fn finish(&mut self, out: &mut Vec<IncidentUpdate>) {
        // A recovery check not yet due waits for evidence that a member kept failing: nothing
        // more arrives, so it judges on what the stream showed, as it would once the clock
        // passed its time with the stream silent. Each fires once (one that would look again
        // stays queued): without this a split live traffic makes never happens at a replay's
        // end.
        for (at, fp) in self.state_timers.take_recovery_checks() {
            self.fire_recovery_check(&fp, at, out);
        }
        self.emit_timers.clear();
        let mut ids: Vec<(u64, u32)> = self
            .incidents
            .iter()
            .filter(|(_, i)| i.opened && (i.dirty || i.events != i.emitted_events))
            .map(|(id, i)| (i.seq, *id))
            .collect();
        ids.sort_unstable();
        for (_, inc) in ids {
            if let Some(i) = self.incidents.get_mut(&inc) {
                i.emit_scheduled = false;
                let at = i.last_seen;
                self.emit(inc, EventAction::Trigger, at, out);
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Alert lifecycle
    // -----------------------------------------------------------------------------------------

    /// A firing alert: `transition` is true when it just started firing (new or re-fired),
    /// false when an already firing alert is looked at again.
    /// `view` is the occurrence (or, for a released target, its state as an alert), `at` where
    /// its state is in the dedup table (handed along, so the new-alert path reads the state by
    /// index: nothing leaves the table before the next timers fire).
    fn on_fire(
        &mut self,
        view: &Alert,
        at: AlertPos,
        t: Millis,
        transition: bool,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let rules = self.rules.clone();
        let topo = self.topology.clone();
        let fp = &view.fingerprint;
        debug_assert_eq!(self.dedup.alerts.position(fp), Some(at));
        let state = self.dedup.alerts.at(at);
        let current_incident = state.incident().map(|i| self.find(i));
        let member_of_open = current_incident.filter(|i| self.incidents.contains_key(i));

        // Register as an inhibition source first: a source is never muted by its own rule.
        if transition {
            for (ri, rule) in rules.inhibit.iter().enumerate() {
                if rule.source.matches_with(view, &|a| kind_of(&topo, a)) {
                    let key = (ri as u16, equal_hash(view, &rule.equal));
                    *self.inhibit_sources.entry(key).or_default() += 1;
                }
            }
        }
        let previous_mute = state.mute;

        if member_of_open.is_none() {
            if let Some(mute) = self.mute_for(view, at, t) {
                let reason = match mute {
                    Mute::Maintenance(i) => {
                        format!("maintenance:{}", rules.maintenance[i as usize].name)
                    }
                    Mute::Suppressed(i) => rules.suppress[i as usize].reason(),
                    Mute::Inhibited(_) => "inhibited".to_string(),
                    Mute::Flapping => "flapping".to_string(),
                    Mute::None => unreachable!("mute_for returns a mute"),
                };
                if mute == previous_mute && !transition {
                    return;
                }
                *self.stats.suppressed.entry(reason).or_default() += 1;
                self.dedup.alerts.at_mut(at).mute = mute;
                // Like an expired silence in Alertmanager, the window's end must bring a still
                // firing alert back without waiting for another occurrence of it.
                if let Mute::Maintenance(i) = mute {
                    let end = rules.maintenance[i as usize].end;
                    self.state_timers
                        .push(Reverse((end, StateTimer::MaintenanceEnd(fp.clone()))));
                }
                if let Mute::Inhibited(ri) = mute {
                    let key = (ri, equal_hash(view, &rules.inhibit[ri as usize].equal));
                    self.inhibited.entry(key).or_default().push(fp.clone());
                }
                return;
            }
        }
        self.dedup.alerts.at_mut(at).mute = Mute::None;

        match member_of_open {
            Some(inc) => self.reactivate(fp, inc, t, out),
            None => self.correlate(view, at, t, out),
        }
    }

    /// Why a firing alert should stay out of incidents, if it should.
    fn mute_for(&self, view: &Alert, at: AlertPos, t: Millis) -> Option<Mute> {
        let rules = &self.rules;
        let topo = &self.topology;
        let kind = |a: &Alert| kind_of(topo, a);
        for (i, w) in rules.maintenance.iter().enumerate() {
            if w.start <= t && t < w.end && w.matcher.matches_with(view, &kind) {
                return Some(Mute::Maintenance(i as u16));
            }
        }
        for (i, s) in rules.suppress.iter().enumerate() {
            // The chronic score is asked only of alerts the rule's matcher accepts.
            if s.matcher.matches_with(view, &kind)
                && s.chronic_above
                    .is_none_or(|min| self.anomaly.chronic_noise(view) > min)
            {
                return Some(Mute::Suppressed(i as u16));
            }
        }
        for (i, r) in rules.inhibit.iter().enumerate() {
            if r.target.matches_with(view, &kind) {
                let key = (i as u16, equal_hash(view, &r.equal));
                let sources = self.inhibit_sources.get(&key).copied().unwrap_or(0);
                // The alert itself may be a source of the same rule: it does not mute itself.
                let own = u32::from(r.source.matches_with(view, &kind));
                if sources > own {
                    return Some(Mute::Inhibited(i as u16));
                }
            }
        }
        let st = self.dedup.alerts.at(at);
        if st.flap.is_flapping(t, &rules.settings.flapping) {
            return Some(Mute::Flapping);
        }
        None
    }

    fn on_resolve(&mut self, fp: &Str, t: Millis, out: &mut Vec<IncidentUpdate>) {
        self.release_inhibition_source(fp, t, out);
        if !self.recovered_symptom_alternatives.is_empty() {
            self.recovered_symptom_alternatives.remove(fp);
        }
        if let Some(alternatives) = self.placement_alternatives.remove(fp) {
            let joined = self.dedup.alerts.get(fp).and_then(|s| {
                s.node()?;
                s.active.then_some(self.find(s.incident()?))
            });
            let failure_goes_on = self.rehome_recovered_symptom(fp, &alternatives, t, out);
            // A known shared symptom that stays where the failure goes on: should a recovery
            // split take it away from that failure, the ones it passed over may claim it.
            let stayed_with_failing = joined.is_some_and(|from| {
                self.dedup
                    .alerts
                    .get(fp)
                    .and_then(|s| s.incident())
                    .is_some_and(|i| self.find(i) == from)
                    && self.incidents.get(&from).is_some_and(|i| i.active > 1)
            });
            if stayed_with_failing {
                self.recovered_symptom_alternatives
                    .insert(fp.clone(), alternatives.clone());
            }
            if failure_goes_on {
                // Whether it recovered with a passed-over failure shows once every recovery
                // within a scrape interval of its own has arrived (`fire_recovery_check`): for
                // an alert its service placed as for one a co-firing check placed.
                self.placement_alternatives.insert(fp.clone(), alternatives);
                self.state_timers.push(Reverse((
                    t + recovery_tolerance(0),
                    StateTimer::RecoveryCheck(fp.clone()),
                )));
            }
        }
        if !self.started_with.is_empty() && self.started_with.contains_key(fp) {
            // Whether it recovered with a failure it started with shows once every recovery
            // within a scrape interval of its own has arrived (`fold_piece_recovered_with`).
            self.state_timers.push(Reverse((
                t + recovery_tolerance(0),
                StateTimer::RecoveryCheck(fp.clone()),
            )));
        }
        self.deactivate(fp, t);
        self.schedule_forget(fp, t);
        self.on_recovery(fp, t, out);
        if !self.late_effects.is_empty() {
            self.join_late_effects_recovered_with(fp, t, out);
        }
    }
}

fn single_rule_names(rules: &RuleSet) -> Vec<Arc<[Str]>> {
    rules
        .groupings
        .iter()
        .map(|g| Arc::from([Str::new(&g.name)]))
        .collect()
}

fn kind_ranks(rules: &RuleSet, topo: &TopologyIndex) -> Vec<u16> {
    (0..topo.node_count())
        .map(|i| {
            let kind = &topo.node(NodeIndex::new(i)).kind;
            rules.kind_rank(kind).min(u16::MAX as usize) as u16
        })
        .collect()
}

fn kind_of(topo: &TopologyIndex, alert: &Alert) -> Option<Str> {
    topo.resolve(&alert.resource)
        .map(|n| topo.node(n).kind.clone())
}

fn equal_hash(alert: &Alert, fields: &[Field]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for f in fields {
        h.update(field_value(alert, f).unwrap_or("").as_bytes());
        h.update(&[0xff]);
    }
    h.digest()
}

#[cfg(test)]
mod tests;
