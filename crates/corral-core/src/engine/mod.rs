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

/// How many join reasons an incident keeps for its `explanation`.
const MAX_EXPLANATION: usize = 12;
/// Times an alert must have fired again after resolving to count as a recurring check: from
/// then on it keeps to its own incident and relates nothing (a real failure's alert fires once,
/// or flaps once while it recovers; a chronic check comes back again and again).
const RECURRING_AFTER: u32 = 2;

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

/// What an alert can share with an incident to be related to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AnchorKey {
    Node(u32),
    Resource(Str),
    Group(u16, u64),
    /// Business service: links an alert on a resource the CMDB does not know to alerts of the
    /// same service (alerts the CMDB knows link to each other through the graph, not this).
    Service(Str),
    /// A learned group of alert names that fire together (`AnomalyModel::cooccurrence_group`):
    /// weak like `Service`, for alerts the CMDB does not know.
    Cooccurring(u32),
    /// The same check (alert name and every label that does not name the resource: cluster,
    /// environment, job, ...) firing on several resources: weak like `Service`, looked up only
    /// by an alert the CMDB does not know, and only within `CO_FIRING_WINDOW`.
    CoFiring(u64),
}

impl AnchorKey {
    /// Weak anchors link an alert the CMDB does not know; they never bridge incidents.
    fn is_weak(&self) -> bool {
        matches!(
            self,
            AnchorKey::Service(_) | AnchorKey::Cooccurring(_) | AnchorKey::CoFiring(_)
        )
    }
}

/// How close in time the same check must start on two resources for a co-firing link: one
/// scrape interval, the time monitors take to notice a failure. A cause makes the same check
/// fail on its dependents together; beyond that, in a busy estate, the same check failing
/// elsewhere is coincidence.
pub const CO_FIRING_WINDOW: Millis = crate::causality::CAUSE_LAG_TOLERANCE;

/// An alert on a resource the CMDB does not know that joined an incident on a co-firing link
/// alone: a guess, which a nearer start of the same check on a known resource, arriving later,
/// corrects (`Engine::correct_co_firing_guesses`).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CoFiringGuess {
    fingerprint: Str,
    /// When it started: what its co-firing links are measured from.
    start: Millis,
    /// How far from `start` the check started in the incident it is in (the gap it joined on,
    /// then the nearest start on a known resource that joined that incident since).
    gap: Millis,
}

/// How many guesses one check keeps at most (the oldest go first): the correction's cost stays
/// bounded in a storm where one check fires on thousands of unknown resources.
const MAX_GUESSES_PER_CHECK: usize = 64;

/// At most this many failures recorded as spreading around one alert's start
/// (`Engine::started_with`): bounds the record in a storm where dozens start each minute.
const MAX_SPREADING_RECORDED: usize = 64;
/// An alert the CMDB knows, at error or above, that opened an incident of its own because it
/// started just past the per-hop bound (`effect_too_late`) below a node alerting in another
/// incident: the time bound is a guess made at arrival; whether the two recover together
/// decides (`Engine::join_late_effect_recovered_with`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct LateEffect {
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

/// Hops recorded on a service anchor by an alert whose resource the topology knows: two such
/// alerts never link through it, one of them unknown to the topology does.
const WEAK: u8 = u8::MAX;

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct AnchorEntry {
    incident: u32,
    /// First and last time a member registered this anchor.
    first: Millis,
    last: Millis,
    /// Fewest hops from this anchor down to a member below it (`NO_HOPS`: none below; `WEAK`
    /// on a service anchor: only alerts the topology knows).
    below_hops: u8,
    /// Members sitting on the anchor itself that are active (firing) now.
    on_active: u32,
    /// When a member on the anchor was last active (`Millis::MIN`: never).
    on_last: Millis,
    /// When the latest member on the anchor itself started (`Millis::MAX`: none, or an entry
    /// from an older snapshot: no bound).
    #[serde(default = "no_start")]
    on_start: Millis,
    /// Members below the anchor that no alerting node above them explained when they joined
    /// (they opened the incident, or linked as a cause or through a silent shared upstream).
    /// Zero with members below: all are explained, and an alert on the anchor is no cause
    /// they need. Entries from older snapshots count as unexplained, linking as before.
    #[serde(default = "one")]
    below_unexplained: u32,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// A candidate's anchor index when no anchor of the alert links it (a remote effect).
const NO_ANCHOR: usize = usize::MAX;

fn no_start() -> Millis {
    Millis::MAX
}

/// `below_hops` of an entry with no member below its anchor (a member below is 1+ hops away).
const NO_HOPS: u8 = 0;

impl AnchorEntry {
    /// Whether the anchor is an alerting node for a link at `t`: a member on it fires, or did
    /// within the window. A node whose alert is long gone is no reason to relate anything.
    fn alerting_at(&self, t: Millis, window: Millis) -> bool {
        self.on_active > 0 || (self.on_last != Millis::MIN && t <= self.on_last + window)
    }

    /// Whether the entry can still link an alert starting at `t` or later under any rule whose
    /// window is at most `max_window`; a stale entry is dropped, so the entries of an anchor
    /// under a busy node stay few however many failures passed below it.
    fn live_at(&self, t: Millis, max_window: Millis) -> bool {
        self.alerting_at(t, max_window) || t <= self.last + max_window
    }

    /// Since when nothing happened on the entry (`Millis::MAX` while a member on the anchor
    /// fires): it is live at `t` exactly while `t <= quiet_since + max_window` (`live_at`).
    fn quiet_since(&self) -> Millis {
        if self.on_active > 0 {
            Millis::MAX
        } else {
            self.last.max(self.on_last)
        }
    }
}

/// The entries of one anchor, in registration order, with what is known of their incidents.
#[derive(Clone, Debug)]
struct AnchorEntries {
    entries: SmallVec<[AnchorEntry; 2]>,
    /// `Removals::count` when every entry's incident was last seen open and its own (`prune`
    /// makes an entry of an incident merged into another name the one it was merged into; an
    /// entry added since is of an open incident too). An entry's incident has stopped being
    /// open or its own since only if it is in `Removals::since(checked_at)`: `prune` looks up
    /// only those, and while nothing was removed `position_of` compares ids.
    checked_at: u64,
    /// Bounds over the entries: a list that cannot link an alert, or has nothing stale to
    /// prune, is passed over without reading its entries.
    bounds: EntryBounds,
    /// Bit `incident % 64` set for every entry's incident (and maybe others): a list none of
    /// whose bits an incident removed since `checked_at` has needs no check.
    incident_bits: u64,
    /// Entries whose `quiet_since` is before this are stale (dead): `prune` raises it instead
    /// of dropping them at once, and every reader skips them (`iter`, `position_of`), as if
    /// they were gone. They are never changed again, so once dead they stay dead; `register`
    /// drops them before a push makes the list `compact_at` long.
    stale_before: Millis,
    /// How long the list may grow before `register` drops its dead entries (twice the live
    /// entries after the last drop and 4 more; the inline capacity for a new list).
    compact_at: u32,
    /// No entry's incident is greater (ids grow with time, so a new incident's first
    /// registration on a busy list is told apart without reading its entries).
    max_incident: u32,
    /// Whether two live entries may be of one incident (an entry renamed to the incident its
    /// own was merged into, or restored from a snapshot): while not, an incident's first live
    /// entry is its last, and `position_of` looks from the end, where its recent registration
    /// sits.
    repeats_incident: bool,
}

impl Default for AnchorEntries {
    fn default() -> AnchorEntries {
        AnchorEntries {
            entries: SmallVec::new(),
            checked_at: 0,
            bounds: EntryBounds::default(),
            incident_bits: 0,
            stale_before: Millis::MIN,
            compact_at: AnchorEntries::INLINE as u32,
            max_incident: 0,
            repeats_incident: false,
        }
    }
}

/// Whether two of `entries` are of one incident: a scan over pairs, made only for a list
/// that may hold such a pair, at the end of a pass over it.
fn repeats_an_incident(entries: &[AnchorEntry]) -> bool {
    (1..entries.len()).any(|i| {
        entries[..i]
            .iter()
            .any(|e| e.incident == entries[i].incident)
    })
}

/// The bit of `AnchorEntries::incident_bits` for an incident.
fn incident_bit(id: u32) -> u64 {
    1 << (id & 63)
}

/// What every entry of an anchor is within, kept up to date by every change to the entries
/// (so the entries are private to `AnchorEntries`' methods). Loose where exactness would need
/// a pass over the entries (a released or pruned entry leaves them as they were); exact again
/// after each pass that `prune` makes anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EntryBounds {
    /// Sum of the entries' `on_active`: members on the anchor firing now (exact).
    on_active: u32,
    /// No entry's `on_last` is later (`Millis::MIN`: no entry ever had a member on the anchor).
    on_last_max: Millis,
    /// No entry's `below_hops` (other than `NO_HOPS`) is fewer (`u8::MAX`: none below).
    below_hops_min: u8,
    /// No entry's `quiet_since` is earlier: nothing is stale while the watermark is within
    /// `max_window` of it.
    quiet_min: Millis,
}

impl Default for EntryBounds {
    fn default() -> EntryBounds {
        EntryBounds {
            on_active: 0,
            on_last_max: Millis::MIN,
            below_hops_min: u8::MAX,
            quiet_min: Millis::MAX,
        }
    }
}

impl EntryBounds {
    /// The exact bounds of `entries`.
    fn of(entries: &[AnchorEntry]) -> EntryBounds {
        let mut bounds = EntryBounds::default();
        for e in entries {
            bounds.count(e);
        }
        bounds
    }

    /// Adds an entry to the bounds, its `on_active` included.
    fn count(&mut self, e: &AnchorEntry) {
        self.include(e);
        self.on_active += e.on_active;
    }

    /// Widens the bounds to an entry as it is now (its `on_active` counted by the caller).
    fn include(&mut self, e: &AnchorEntry) {
        self.on_last_max = self.on_last_max.max(e.on_last);
        if e.below_hops != NO_HOPS {
            self.below_hops_min = self.below_hops_min.min(e.below_hops);
        }
        self.quiet_min = self.quiet_min.min(e.quiet_since());
    }

    /// Whether the bounds hold for `entries`: `on_active` exact, the others no tighter.
    fn hold_for(&self, entries: &[AnchorEntry]) -> bool {
        let exact = EntryBounds::of(entries);
        self.on_active == exact.on_active
            && self.on_last_max >= exact.on_last_max
            && self.below_hops_min <= exact.below_hops_min
            && self.quiet_min <= exact.quiet_min
    }
}

/// The incidents that stopped being open (closed, or merged into another), most recent last,
/// counted from the start: what `AnchorEntries::prune` compares entries against instead of
/// looking each one up. Keeps between `KEPT` and twice that many of the latest.
#[derive(Clone, Debug, Default)]
struct Removals {
    ids: Vec<u32>,
    /// How many were recorded before `ids[0]`.
    dropped: u64,
}

impl Removals {
    /// How many recent removals are kept at least.
    const KEPT: usize = 256;

    fn record(&mut self, id: u32) {
        if self.ids.len() == 2 * Self::KEPT {
            self.ids.drain(..Self::KEPT);
            self.dropped += Self::KEPT as u64;
        }
        self.ids.push(id);
    }

    /// How many incidents stopped being open so far.
    fn count(&self) -> u64 {
        self.dropped + self.ids.len() as u64
    }

    /// The incidents removed after the first `count`, if they are still kept.
    fn since(&self, count: u64) -> Option<&[u32]> {
        let skip = usize::try_from(count.checked_sub(self.dropped)?).ok()?;
        self.ids.get(skip..)
    }
}

/// A set of incident ids that may answer yes for an id it does not hold (a bit per id modulo
/// 256), never no for one it holds.
struct RemovedSet([u64; 4]);

impl RemovedSet {
    fn of(ids: &[u32]) -> RemovedSet {
        let mut bits = [0u64; 4];
        for &id in ids {
            bits[(id as usize >> 6) & 3] |= 1 << (id & 63);
        }
        RemovedSet(bits)
    }

    /// The bits of `incident_bit` of the ids it may contain.
    fn folded(&self) -> u64 {
        self.0[0] | self.0[1] | self.0[2] | self.0[3]
    }

    fn may_contain(&self, id: u32) -> bool {
        self.0[(id as usize >> 6) & 3] & (1 << (id & 63)) != 0
    }
}

/// `checked_at` of entries whose incidents were never checked (restored from a snapshot).
const UNCHECKED: u64 = u64::MAX;

impl AnchorEntries {
    /// At most how many incidents removed since a list's last check `prune` compares with
    /// each entry's incident, rather than looking up the entries a `RemovedSet` may hold.
    const REMOVALS_COMPARED: usize = 8;

    /// Entries held without an allocation: a push past them on a list with dead entries
    /// drops those first.
    const INLINE: usize = 2;

    /// A list with no entries, checked now.
    fn new(removals: &Removals) -> AnchorEntries {
        AnchorEntries {
            checked_at: removals.count(),
            ..AnchorEntries::default()
        }
    }

    fn from_vec(entries: Vec<AnchorEntry>) -> AnchorEntries {
        let mut list = AnchorEntries {
            entries: SmallVec::from_vec(entries),
            checked_at: UNCHECKED,
            repeats_incident: true,
            ..AnchorEntries::default()
        };
        list.retain(|_| true);
        list
    }

    /// The live entries, in order (the dead ones skipped: see `stale_before`).
    fn iter(&self) -> impl Iterator<Item = &AnchorEntry> + '_ {
        let stale_before = self.stale_before;
        self.entries
            .iter()
            .filter(move |e| e.quiet_since() >= stale_before)
    }

    fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Drops the dead entries (their `quiet_since` before `stale_before`), making the bounds
    /// exact; none is left to tell apart afterwards.
    fn drop_dead(&mut self) {
        if self.stale_before > self.bounds.quiet_min {
            self.drop_stale(self.stale_before);
        }
        self.stale_before = Millis::MIN;
        self.compact_at = Self::compact_at_for(self.entries.len());
    }

    /// The length at which `register` next drops the dead entries of a list with `live`
    /// entries: dead entries are cheap to skip, a pass costs ~20 instructions per entry. Twice
    /// the live entries and 4 more since `register` finds an incident's entry from the end
    /// (perf37: half again the live ones made 85,304 passes in the bench storm's 300,000
    /// alerts, 67 M instructions; twice and 4 more, 14.8 M fewer in all).
    fn compact_at_for(live: usize) -> u32 {
        (2 * live + 4) as u32
    }

    /// Keeps the entries `keep` says to keep (it may rename an entry's incident), in order, and
    /// makes the bounds exact.
    fn retain(&mut self, mut keep: impl FnMut(&mut AnchorEntry) -> bool) {
        let (mut bounds, mut incident_bits, mut max_incident) = (EntryBounds::default(), 0u64, 0);
        // Over the slice, entries copied down over the dropped ones (none until one is dropped):
        // `SmallVec::retain` indexes (a spilled check per access) and swaps.
        let entries = self.entries.as_mut_slice();
        let stale_before = self.stale_before;
        let mut kept = 0;
        for read in 0..entries.len() {
            let e = &mut entries[read];
            if e.quiet_since() >= stale_before && keep(e) {
                bounds.count(e);
                incident_bits |= incident_bit(e.incident);
                max_incident = max_incident.max(e.incident);
                if kept != read {
                    entries[kept] = entries[read];
                }
                kept += 1;
            }
        }
        self.entries.truncate(kept);
        self.bounds = bounds;
        self.incident_bits = incident_bits;
        self.max_incident = max_incident;
        self.stale_before = Millis::MIN;
        self.compact_at = Self::compact_at_for(kept);
        self.note_repeats();
    }

    /// After a pass that kept only live entries: whether two may still be of one incident,
    /// answered exactly, so that the flag clears once the pair is gone.
    fn note_repeats(&mut self) {
        if self.repeats_incident {
            self.repeats_incident = repeats_an_incident(&self.entries);
        }
    }

    /// `retain(|e| e.live_at(watermark, max_window))` with `oldest_live` the watermark less
    /// `max_window` (saturating): an entry is live exactly while its `quiet_since` is not
    /// before that, so each entry's time is read once, for the test and for `quiet_min`
    /// alike. The path every read of a busy anchor takes whenever its stalest entry went
    /// stale (perf27).
    fn drop_stale(&mut self, oldest_live: Millis) {
        let (mut bounds, mut incident_bits) = (EntryBounds::default(), 0u64);
        let entries = self.entries.as_mut_slice();
        let len = entries.len();
        // Kept entries after the first dropped one move down one by one: the dead are
        // scattered (entries re-registered live on), and a `copy_within` per run of kept
        // entries cost a `memmove` call for runs of one or two (perf41: 418,591 calls,
        // ~28 M instructions in the bench storm's 300,000 alerts).
        let mut kept = 0;
        for read in 0..len {
            let e = &entries[read];
            let quiet = e.quiet_since();
            if quiet < oldest_live {
                continue;
            }
            bounds.on_active += e.on_active;
            bounds.on_last_max = bounds.on_last_max.max(e.on_last);
            if e.below_hops != NO_HOPS {
                bounds.below_hops_min = bounds.below_hops_min.min(e.below_hops);
            }
            bounds.quiet_min = bounds.quiet_min.min(quiet);
            incident_bits |= incident_bit(e.incident);
            if kept != read {
                entries[kept] = entries[read];
            }
            kept += 1;
        }
        self.entries.truncate(kept);
        self.bounds = bounds;
        self.incident_bits = incident_bits;
        // `max_incident` stays a bound (dropping entries lowers no incident).
        self.note_repeats();
    }

    /// Drops the entries of incident `id` (as they are named, not through merges): nothing to
    /// read when no entry can be of it.
    fn drop_incident(&mut self, id: u32) {
        // A reopened incident's entries from its last episode are mostly dead already (or
        // were dropped): the pass, which recounts the bounds over every entry, only when a
        // reader would still find one.
        if self.incident_bits & incident_bit(id) != 0 && self.iter().any(|e| e.incident == id) {
            self.retain(|e| e.incident != id);
        }
    }

    /// Called when incidents were removed since the list's last check: when none of them can
    /// have an entry here, the list is checked now (`checked_at` brought up to date, so that
    /// `position_of` compares ids, and `None` answered); otherwise answers which removed
    /// incidents to look up (`None` while the list stays unchecked: every entry, the removals
    /// since its last check no longer being kept). Callers tell the two `None`s apart by
    /// `checked_at`.
    fn catch_up(&mut self, removals: &Removals) -> Option<RemovedSet> {
        debug_assert_ne!(self.checked_at, removals.count());
        let since = removals.since(self.checked_at);
        // Only the removed incidents whose bit the list has can have an entry here: up to
        // `REMOVALS_COMPARED` of those are compared with the entries' incidents exactly,
        // however many were removed (on `incident_bits` alone, a quarter of all reads took
        // the lookup pass for a colliding bit, few for a real match; and a list read again
        // after more than a few removals elsewhere took it on a `RemovedSet`).
        let mut hits = [0u32; Self::REMOVALS_COMPARED];
        let mut hit_count = 0;
        let few_hits = since.is_some_and(|ids| {
            for &id in ids {
                if self.incident_bits & incident_bit(id) != 0 {
                    if hit_count == hits.len() {
                        return false;
                    }
                    hits[hit_count] = id;
                    hit_count += 1;
                }
            }
            true
        });
        let hits = &hits[..hit_count];
        // An entry can be of a hit only if its bit is one of theirs: one test per entry,
        // the exact comparison only for the few that pass it (perf36).
        let hit_bits = hits.iter().fold(0, |bits, &id| bits | incident_bit(id));
        let none_here = few_hits
            && (hits.is_empty()
                || !self.entries.iter().any(|e| {
                    hit_bits & incident_bit(e.incident) != 0 && hits.contains(&e.incident)
                }));
        if none_here {
            self.checked_at = removals.count();
            return None;
        }
        let removed = if few_hits {
            Some(RemovedSet::of(hits))
        } else {
            since.map(RemovedSet::of)
        };
        if removed
            .as_ref()
            .is_some_and(|r| r.folded() & self.incident_bits == 0)
        {
            self.checked_at = removals.count();
        }
        removed
    }

    /// Makes the entries whose `quiet_since` is before `oldest_live` (the watermark less the
    /// longest window) dead to every reader, reading no entry: `prune`'s path while no
    /// incident was removed since the last check, and all a list needs before `register`
    /// when no link can be read from it (`Engine::correlate`).
    #[inline]
    fn mark_stale(&mut self, oldest_live: Millis) {
        if oldest_live <= self.bounds.quiet_min {
            debug_assert!(
                self.entries.iter().all(|e| e.quiet_since() >= oldest_live),
                "a stale anchor entry was taken for live"
            );
            return;
        }
        // Stale entries stay where they are, dead to every reader: dropping them here cost a
        // pass over a busy list whenever one of its ~20 entries went stale (perf32).
        self.stale_before = self.stale_before.max(oldest_live);
    }

    /// Drops the entries that can no longer link anything: stale for an alert at `watermark`,
    /// or of an incident that closed (`open_root` answers an entry's incident, `find_in`, if
    /// that is open); an entry of an incident merged into another is renamed to the open one
    /// (`find_in` answers the same for both, and an incident that absorbed another is never
    /// reopened under its id). Keeps exactly what looking up every entry's incident would keep,
    /// looking up only the entries whose incident may have stopped being open or its own since
    /// the last check: an incident only does where the engine closes it or merges it away,
    /// which `removals` records, and entries are only registered for open incidents. With
    /// nothing removed since and no entry quiet for longer than `max_window` before the
    /// watermark (`bounds.quiet_min`), it reads no entry. It prunes no later than the eager
    /// check would, so an anchor holds no more entries than before.
    fn prune(
        &mut self,
        watermark: Millis,
        max_window: Millis,
        removals: &Removals,
        open_root: impl Fn(u32) -> Option<u32>,
    ) {
        // The incidents removed since the last check, if still known: only entries of those
        // need a lookup (`RemovedSet` may answer yes for others, never no for those), and none
        // when the list has none of their bits.
        let removed = if self.checked_at != removals.count() {
            self.catch_up(removals)
        } else {
            None
        };
        if self.checked_at == removals.count() {
            debug_assert!(
                self.entries
                    .iter()
                    .all(|e| open_root(e.incident) == Some(e.incident)),
                "an anchor entry of a closed or merged incident was taken for open"
            );
            self.mark_stale(watermark.saturating_sub(max_window));
            return;
        }
        let mut renamed = false;
        self.retain(|e| {
            if !e.live_at(watermark, max_window) {
                return false;
            }
            if removed.as_ref().is_some_and(|r| !r.may_contain(e.incident)) {
                debug_assert_eq!(open_root(e.incident), Some(e.incident));
                return true;
            }
            match open_root(e.incident) {
                Some(root) => {
                    renamed |= root != e.incident;
                    e.incident = root;
                    true
                }
                None => false,
            }
        });
        // An entry renamed to the incident its own was merged into: that one may have its own.
        if renamed {
            self.repeats_incident = repeats_an_incident(&self.entries);
        }
        self.checked_at = removals.count();
    }

    /// The live entry of incident `inc_id`, nothing having been merged into it (its first,
    /// where two may be of one incident), whether or not the list is checked.
    fn position_by_id(&self, inc_id: u32) -> Option<usize> {
        if self.incident_bits & incident_bit(inc_id) == 0 || inc_id > self.max_incident {
            return None;
        }
        let stale_before = self.stale_before;
        let its_live_entry =
            |e: &AnchorEntry| e.incident == inc_id && e.quiet_since() >= stale_before;
        if self.repeats_incident {
            self.entries.iter().position(its_live_entry)
        } else {
            // Its only live entry: registered recently, near the end.
            self.entries.iter().rposition(its_live_entry)
        }
    }

    /// The first entry of incident `inc_id` (open), its own or merged into it: comparing ids
    /// when nothing was removed since the last check (every entry's incident is its own then).
    fn position_of(
        &self,
        inc_id: u32,
        removals: &Removals,
        merged: &FxHashMap<u32, u32>,
    ) -> Option<usize> {
        if self.checked_at == removals.count() {
            debug_assert!(
                self.entries
                    .iter()
                    .all(|e| find_in(merged, e.incident) == e.incident),
                "an anchor entry of a merged incident was taken for its own"
            );
            // Every entry's incident is its own: compared by id.
            self.position_by_id(inc_id)
        } else {
            self.entries.iter().position(|e| {
                e.quiet_since() >= self.stale_before && find_in(merged, e.incident) == inc_id
            })
        }
    }

    /// A member of open incident `inc_id` registers the anchor `hops` above its node (0: on
    /// it) at `t`: updates the incident's entry (the first of it or of an incident merged into
    /// it, which it takes over), or adds one. `becomes_active` counts the member as firing on
    /// the anchor; `explained`, whether an alerting member above explains it. `ids_are_own`:
    /// no incident was ever merged into `inc_id`, so its entries are those named `inc_id`.
    #[allow(clippy::too_many_arguments)]
    fn register(
        &mut self,
        inc_id: u32,
        hops: u8,
        t: Millis,
        becomes_active: bool,
        explained: bool,
        ids_are_own: bool,
        removals: &Removals,
        merged: &FxHashMap<u32, u32>,
    ) {
        // A registration before `stale_before` (a late alert) would be dead at once, where
        // eager pruning kept it until the next prune: the dead go first. And a push that
        // would grow the list past `compact_at` drops them first too.
        if t < self.stale_before || self.entries.len() >= self.compact_at as usize {
            self.drop_dead();
        }
        // An incident nothing was merged into finds its entry by id without the removals since
        // the list's last check compared: an entry of a closed or absorbed incident is never
        // named by its id. The list stays as checked as it was (an entry of an open incident
        // added since `checked_at` keeps its meaning) until a reader needs it checked (perf45:
        // most lists a new alert passes are read by no link, and were checked only for this).
        let found = if ids_are_own {
            let found = self.position_by_id(inc_id);
            debug_assert_eq!(
                found.is_some(),
                self.iter().any(|e| find_in(merged, e.incident) == inc_id),
                "an incident nothing was merged into has an entry under another id"
            );
            found
        } else {
            // After a merge (a bridging alert merges before it joins), or when `correlate`
            // read no link from the list, it was checked before the latest removals: brought
            // up to date when no entry can be of them, so that `position_of` compares ids
            // instead of looking up every entry's incident.
            if self.checked_at != removals.count() {
                self.catch_up(removals);
            }
            self.position_of(inc_id, removals, merged)
        };
        let e = match found {
            Some(i) => &mut self.entries[i],
            None => {
                // The incident's first registration here (most of them: a new incident on a
                // busy list): the entry is written whole, as the updates below would leave it.
                let on_anchor = hops == 0;
                let e = AnchorEntry {
                    incident: inc_id,
                    first: t,
                    last: t,
                    below_hops: if on_anchor { NO_HOPS } else { hops },
                    on_active: u32::from(on_anchor && becomes_active),
                    on_last: if on_anchor { t } else { Millis::MIN },
                    on_start: if on_anchor { t } else { Millis::MAX },
                    below_unexplained: u32::from(!on_anchor && !explained),
                };
                self.bounds.on_active += e.on_active;
                self.bounds.include(&e);
                self.entries.push(e);
                self.incident_bits |= incident_bit(inc_id);
                self.max_incident = self.max_incident.max(inc_id);
                debug_assert!(self.bounds.hold_for(&self.entries));
                return;
            }
        };
        // An entry of an incident merged into `inc_id` taken over: its own may be further on.
        self.repeats_incident |= e.incident != inc_id;
        e.incident = inc_id;
        e.first = e.first.min(t);
        e.last = e.last.max(t);
        if hops == 0 {
            e.on_start = match e.on_start {
                Millis::MAX => t,
                start => start.max(t),
            };
            e.on_last = e.on_last.max(t);
            if becomes_active {
                e.on_active += 1;
                self.bounds.on_active += 1;
            }
        } else {
            e.below_hops = match e.below_hops {
                NO_HOPS => hops,
                h => h.min(hops),
            };
            if !explained {
                e.below_unexplained += 1;
            }
        }
        self.bounds.include(e);
        self.incident_bits |= incident_bit(inc_id);
        self.max_incident = self.max_incident.max(inc_id);
        debug_assert!(self.bounds.hold_for(&self.entries));
        debug_assert!(self.repeats_incident || !repeats_an_incident(&self.live_entries()));
    }

    /// The live entries, copied (for checks in debug builds and tests).
    fn live_entries(&self) -> Vec<AnchorEntry> {
        self.iter().copied().collect()
    }

    /// A member of incident `inc_id` on the anchor stops firing at `t`.
    fn release(&mut self, inc_id: u32, t: Millis, merged: &FxHashMap<u32, u32>) {
        if self.bounds.on_active == 0 {
            return;
        }
        // An entry quiet since before `stale_before` would be dead at once (see `register`).
        if t < self.stale_before {
            self.drop_dead();
        }
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.on_active > 0 && find_in(merged, e.incident) == inc_id)
        {
            e.on_active -= 1;
            e.on_last = e.on_last.max(t);
            self.bounds.on_active -= 1;
            self.bounds.include(e);
        }
        debug_assert!(self.bounds.hold_for(&self.entries));
    }

    /// Whether some entry may link an alert at `t`, of `severity`, through anchor `a` under
    /// `rule`: false only when `link_hops` answers `None` for every entry (and, for a co-firing
    /// anchor, `co_firing_gap`), read from the bounds alone. Through an anchor above the
    /// alert's node (the bulk of its anchors) only an entry whose anchor is alerting, or with
    /// members close enough below it, can link; most have neither.
    fn may_link(
        &self,
        a: &AlertAnchor,
        t: Millis,
        window: Millis,
        rule: &GroupingRule,
        severity: Severity,
    ) -> bool {
        let b = &self.bounds;
        if matches!(a.key, AnchorKey::CoFiring(_)) {
            // A known alert co-fires only with entries of alerts the CMDB does not know.
            return a.hops == 0 || b.on_last_max != Millis::MIN;
        }
        if a.hops == 0 {
            return true;
        }
        let alerting = b.on_active > 0
            || (b.on_last_max != Millis::MIN && t <= b.on_last_max.saturating_add(window));
        // A member below the anchor, not on it: `below_hops_min` bounds its hops.
        let below = b.below_hops_min != u8::MAX
            && !a.hub
            && !(matches!(a.key, AnchorKey::Node(_)) && severity < Severity::Error)
            && within_reach(rule, a, b.below_hops_min);
        alerting || below
    }

    /// Whether an entry may have a member on the anchor alerting at `t`
    /// ([`AnchorEntry::alerting_at`]), read from the bounds alone: `false` means none has.
    #[inline]
    fn may_have_alerting_at(&self, t: Millis, window: Millis) -> bool {
        let b = &self.bounds;
        b.on_active > 0
            || (b.on_last_max != Millis::MIN && t <= b.on_last_max.saturating_add(window))
    }

    /// `may_link` through the node anchor `hops` above the alert's node (`hub`: a hub above
    /// it), with what it reads of the rule and the alert taken once per alert (`filter`).
    #[inline]
    fn node_may_link(
        &self,
        hops: u8,
        hub: bool,
        t: Millis,
        window: Millis,
        filter: NodeLinkFilter,
    ) -> bool {
        if hops == 0 {
            return true;
        }
        let alerting = self.may_have_alerting_at(t, window);
        // `within_reach` of two hop counts above 0 (`below_hops_min` is never `NO_HOPS`, and
        // `u8::MAX` when no member is below): their sum within `max_hops`.
        let below_limit = if hub {
            0
        } else {
            filter.below_hops_max.saturating_sub(hops)
        };
        alerting || self.bounds.below_hops_min <= below_limit
    }
}

/// What `AnchorEntries::may_link` reads of the rule and the alert through a node anchor above
/// the alert's node: a member below the anchor links (`GroupingRule::relates`) when its hops
/// and the alert's sum to at most `below_hops_max`; 0 for an alert below error severity,
/// which links through members below no node.
#[derive(Clone, Copy, Debug)]
struct NodeLinkFilter {
    below_hops_max: u8,
}

impl NodeLinkFilter {
    fn new(rule: &GroupingRule, severity: Severity) -> NodeLinkFilter {
        NodeLinkFilter {
            below_hops_max: if severity < Severity::Error {
                0
            } else {
                rule.max_hops
            },
        }
    }
}

/// Every anchor's entries. The lists sit in a slab, so that `correlate` hands
/// `register_anchors` the place of each anchor's list it looked up (`AlertAnchors::slots`)
/// instead of both probing a map for the same ~20 anchors of a new alert; node anchors of the
/// topology the engine started with (the bulk of them) are found by node index, the others
/// through a map.
#[derive(Debug, Default)]
struct AnchorTable {
    /// The slot of `AnchorKey::Node(n)`'s list for every `n < by_node.len()` (`NO_SLOT`: none).
    by_node: Vec<u32>,
    /// The slot of every other anchor's list.
    by_key: FxHashMap<AnchorKey, u32>,
    /// The anchor of each slot; `None`: a free slot, listed in `free`.
    keys: Vec<Option<AnchorKey>>,
    /// The list of each slot (empty in a free slot). Apart from the keys, which only `iter`
    /// and `retain` read: `correlate` passes over ~20 lists per new alert, most of them not in
    /// the cache, and reading a key beside each list cost a cache line more per list.
    lists: Vec<AnchorEntries>,
    free: Vec<u32>,
}

/// No list (`AnchorTable::by_node`, `AlertAnchors::slots`).
const NO_SLOT: u32 = u32::MAX;

impl AnchorTable {
    /// An empty table whose node anchors `0..nodes` are found by index.
    fn new(nodes: usize) -> AnchorTable {
        AnchorTable {
            by_node: vec![NO_SLOT; nodes],
            ..AnchorTable::default()
        }
    }

    /// How many anchors have a list.
    fn len(&self) -> usize {
        self.lists.len() - self.free.len()
    }

    /// Where `key`'s list is, if it has one. Inlined for node anchors (the bulk of a new
    /// alert's ~20, an index read); the others hash and probe out of line.
    #[inline]
    fn slot(&self, key: &AnchorKey) -> Option<u32> {
        match *key {
            AnchorKey::Node(n) if (n as usize) < self.by_node.len() => {
                Some(self.by_node[n as usize]).filter(|&slot| slot != NO_SLOT)
            }
            _ => self.slot_by_key(key),
        }
    }

    /// `slot(&AnchorKey::Node(n))`, `NO_SLOT` for none.
    #[inline]
    fn node_slot(&self, n: u32) -> u32 {
        match self.by_node.get(n as usize) {
            Some(&slot) => slot,
            None => self.slot_by_key(&AnchorKey::Node(n)).unwrap_or(NO_SLOT),
        }
    }

    #[inline(never)]
    fn slot_by_key(&self, key: &AnchorKey) -> Option<u32> {
        self.by_key.get(key).copied()
    }

    fn get(&self, key: &AnchorKey) -> Option<&AnchorEntries> {
        self.slot(key).map(|slot| self.at(slot))
    }

    fn get_mut(&mut self, key: &AnchorKey) -> Option<&mut AnchorEntries> {
        let slot = self.slot(key)?;
        Some(self.at_mut(slot))
    }

    /// The list in `slot` (which holds one: `slot` or `slot_or_insert` answered it, and no
    /// list was dropped since).
    fn at(&self, slot: u32) -> &AnchorEntries {
        debug_assert!(self.keys[slot as usize].is_some(), "a slot in use");
        &self.lists[slot as usize]
    }

    fn at_mut(&mut self, slot: u32) -> &mut AnchorEntries {
        debug_assert!(self.keys[slot as usize].is_some(), "a slot in use");
        &mut self.lists[slot as usize]
    }

    /// Where `key`'s list is, a new empty one if it had none.
    fn slot_or_insert(&mut self, key: &AnchorKey, removals: &Removals) -> u32 {
        if let Some(slot) = self.slot(key) {
            return slot;
        }
        let list = AnchorEntries::new(removals);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.keys[slot as usize] = Some(key.clone());
                self.lists[slot as usize] = list;
                slot
            }
            None => {
                self.keys.push(Some(key.clone()));
                self.lists.push(list);
                (self.lists.len() - 1) as u32
            }
        };
        match *key {
            AnchorKey::Node(n) if (n as usize) < self.by_node.len() => {
                self.by_node[n as usize] = slot;
            }
            _ => {
                self.by_key.insert(key.clone(), slot);
            }
        }
        slot
    }

    /// Every anchor with its list, in no particular order.
    fn iter(&self) -> impl Iterator<Item = (&AnchorKey, &AnchorEntries)> {
        self.keys
            .iter()
            .zip(&self.lists)
            .filter_map(|(key, list)| Some((key.as_ref()?, list)))
    }

    /// Keeps the lists `keep` says to keep (it may change them); frees the others' slots.
    fn retain(&mut self, mut keep: impl FnMut(&mut AnchorEntries) -> bool) {
        let AnchorTable {
            by_node,
            by_key,
            keys,
            lists,
            free,
        } = self;
        for (slot, (place, list)) in keys.iter_mut().zip(lists.iter_mut()).enumerate() {
            let Some(key) = place else {
                continue;
            };
            if keep(list) {
                continue;
            }
            match *key {
                AnchorKey::Node(n) if (n as usize) < by_node.len() => by_node[n as usize] = NO_SLOT,
                _ => {
                    by_key.remove(key);
                }
            }
            *place = None;
            // Its entries go with it (a free slot holds an empty list).
            *list = AnchorEntries::default();
            free.push(slot as u32);
        }
        // Free slots at the end are given back, not kept for reuse.
        while keys.last().is_some_and(|place| place.is_none()) {
            keys.pop();
            lists.pop();
        }
        free.retain(|&slot| (slot as usize) < lists.len());
        by_key.shrink_to_fit();
    }
}

/// Whether an alert `a.hops` from the anchor and a member `member_hops` from it are related:
/// one on the anchor and the other within the rule's impact hops below it, or both below it (a
/// silent shared upstream) within `max_hops` together; through a service or learned
/// co-occurrence (one of the two not in the CMDB), any hops but two alerts the CMDB knows.
/// (For two hop counts above 0, false at `member_hops` implies false at more.)
fn within_reach(rule: &GroupingRule, a: &AlertAnchor, member_hops: u8) -> bool {
    if a.key.is_weak() {
        u16::from(a.hops) + u16::from(member_hops) <= u16::from(WEAK)
    } else {
        rule.relates(a.hops, member_hops)
    }
}

/// Whether entry `e` links an alert at `t`, of `severity`, that started failing at `began`
/// (its first occurrence), through anchor `a` (not co-firing) under `rule`, with the member's
/// hops from the anchor (0: on it) when it does.
fn link_hops(
    e: &AnchorEntry,
    a: &AlertAnchor,
    t: Millis,
    began: Millis,
    window: Millis,
    rule: &GroupingRule,
    severity: Severity,
) -> Option<u8> {
    // Related in time when the alert starts within the window of the first member related
    // through this anchor. That window never slides with later joiners: in a busy graph a
    // sliding window chains unrelated failures, minute after minute, into one giant incident
    // (the classic failure of single-linkage correlation); a cause makes its dependents fail
    // together. Only alerts on the very resource of a firing member follow the newest member
    // there.
    let alerting = e.alerting_at(t, window);
    let member_hops = if alerting {
        0
    } else if e.below_hops != NO_HOPS {
        e.below_hops
    } else {
        return None;
    };
    let until = if alerting && a.hops == 0 {
        e.last
    } else {
        e.first
    };
    let close = t >= e.first - window && t <= until + window;
    // Direction of impact (`causality`): a cause cannot start failing after its effects, beyond
    // the scrape interval that may delay its own alert; a warning (degraded, not down) explains
    // no failure of its dependents, and is no evidence that a silent shared upstream failed. A
    // warning still joins through its own upstream causes or a firing member on its resource.
    if matches!(a.key, AnchorKey::Node(_))
        && causal_breach(severity, t, a.hops, member_hops, e.first).is_some()
    {
        return None;
    }
    // Effects follow their cause within a scrape interval per hop: a dependent that starts
    // failing later than that after the alerting node above it is a failure of its own beside
    // it (a VM crashing two minutes after its hypervisor went down), not its impact, unless
    // that impact is still arriving behind the node (`impact_still_arriving`).
    if matches!(a.key, AnchorKey::Node(_))
        && member_hops == 0
        && effect_too_late(began, a.hops, e.on_start).is_some()
        && !impact_still_arriving(e, began, a.hops)
    {
        return None;
    }
    // Explaining away: members below the alert's node that an alerting node of their incident
    // already explains need no second cause. A failure beside the one that took them down (a
    // service whose callers are already failing because of another) is its own incident, not
    // a cause of theirs that merges the two.
    if matches!(a.key, AnchorKey::Node(_))
        && a.hops == 0
        && member_hops > 0
        && e.below_unexplained == 0
    {
        return None;
    }
    // Through a hub only when an alert is on the hub.
    let linked = within_reach(rule, a, member_hops) && (!a.hub || a.hops == 0 || member_hops == 0);
    (close && linked).then_some(member_hops)
}

/// Whether the failure alerting on entry `e`'s node was still reaching what lies behind it when
/// an alert `hops` below the node began at `began`, past the scrape interval per hop that
/// `effect_too_late` allows: another member below the node (not on it) started within a scrape
/// interval of it, so the impact that took that one down was arriving there at the same time.
/// Monitors notice one failure's simultaneous impacts within a scrape interval of one another,
/// so this stretches the bound by one scrape interval, never more (no chaining from effect to
/// effect). Only the latest registration is known (`last`): a member below started then when
/// it is later than the latest alert on the node itself (`on_start`).
fn impact_still_arriving(e: &AnchorEntry, began: Millis, hops: u8) -> bool {
    e.below_hops != NO_HOPS
        && e.on_start != Millis::MAX
        && e.last > e.on_start
        && (e.last - began).abs() <= CAUSE_LAG_TOLERANCE
        && began - e.on_start <= silent_cause_tolerance(hops, 0) + CAUSE_LAG_TOLERANCE
}

/// How far in time from `t` the same check started in entry `e`'s incident, when that is
/// close enough for a co-firing link through anchor `a` (a known alert, `a.hops != 0`, co-fires
/// only with alerts the CMDB does not know).
fn co_firing_gap(e: &AnchorEntry, a: &AlertAnchor, t: Millis) -> Option<Millis> {
    let known = a.hops != 0;
    if known && e.on_last == Millis::MIN {
        return None;
    }
    // The entry keeps only the first and the last start of the check in the incident: the
    // nearer of the two bounds how long ago it fired (a long incident where the check fired now
    // and then is not firing it now).
    let gap = (t - e.first).abs().min((t - e.last).abs());
    (gap <= CO_FIRING_WINDOW).then_some(gap)
}

/// One anchor of one alert, as computed for correlation.
#[derive(Clone, Debug)]
struct AlertAnchor {
    key: AnchorKey,
    hops: u8,
    /// An upstream hub with more dependents than the rule's `max_fanout`: it links only to
    /// incidents with an alert on the hub itself.
    hub: bool,
}

/// The anchors of one alert, in the order `Engine::anchors_of` lists them: its node's upstream
/// neighbourhood (shared with the cache, not copied: ~20 anchors on a busy graph), then the
/// others (its node or resource without the topology, service, co-occurrence, co-firing check,
/// `group_by` values).
#[derive(Debug, Default)]
struct AlertAnchors {
    nodes: Option<GroupNeighbourhood>,
    others: SmallVec<[AlertAnchor; 4]>,
    /// Where each anchor's list was (`NO_SLOT`: it had none) when `correlate` looked them up,
    /// for `register_anchors` when it joins the alert right after (no list is dropped in
    /// between: only `sweep_anchors` drops lists); empty when not looked up.
    slots: Vec<u32>,
}

impl AlertAnchors {
    fn node_count(&self) -> usize {
        self.nodes.as_ref().map_or(0, |n| n.len())
    }

    /// Anchor `i` (the index `correlate` records as the reason of a link).
    fn get(&self, i: usize) -> Cow<'_, AlertAnchor> {
        match self.nodes.as_deref().and_then(|nodes| nodes.get(i)) {
            Some(n) => Cow::Owned(node_anchor(n)),
            None => Cow::Borrowed(&self.others[i - self.node_count()]),
        }
    }

    fn iter(&self) -> impl Iterator<Item = Cow<'_, AlertAnchor>> {
        let nodes = self.nodes.as_deref().unwrap_or(&[]).iter();
        nodes
            .map(|n| Cow::Owned(node_anchor(n)))
            .chain(self.others.iter().map(Cow::Borrowed))
    }
}

/// The anchor of one node of a cached neighbourhood.
fn node_anchor(&(node, hops, hub): &(u32, u8, bool)) -> AlertAnchor {
    AlertAnchor {
        key: AnchorKey::Node(node),
        hops,
        hub,
    }
}

/// A node's upstream neighbourhood for grouping: (node, hops, is a hub).
type GroupNeighbourhood = Arc<[(u32, u8, bool)]>;

/// A node's upstream neighbourhood for root cause: (node, hops).
type RcaNeighbourhood = Arc<[(u32, u8)]>;
/// The nodes of a business service and those upstream of them: (node, fewest hops).
type ServiceRegion = Arc<[(u32, u8)]>;

/// Values cached per topology node, indexed by node: a lookup is one index where a map keyed
/// by node cost two dependent cache misses (its control bytes, then its slot) on a topology of
/// thousands of nodes, for every new alert. The vector grows (amortised) to the highest node
/// cached, 16 bytes per node for an `Arc<[_]>`.
#[derive(Debug)]
struct NodeCache<T> {
    by_node: Vec<Option<T>>,
}

impl<T> Default for NodeCache<T> {
    fn default() -> Self {
        NodeCache {
            by_node: Vec::new(),
        }
    }
}

impl<T: Clone> NodeCache<T> {
    fn get(&self, node: &u32) -> Option<&T> {
        self.by_node.get(*node as usize)?.as_ref()
    }

    fn insert(&mut self, node: u32, value: T) {
        let node = node as usize;
        if self.by_node.len() <= node {
            self.by_node.resize(node + 1, None);
        }
        self.by_node[node] = Some(value);
    }

    fn clear(&mut self) {
        self.by_node.clear();
    }
}

/// The grouping neighbourhoods computed so far, by rule, then by node (`NodeCache`).
#[derive(Debug, Default)]
struct GroupCache {
    by_rule: Vec<NodeCache<GroupNeighbourhood>>,
}

impl GroupCache {
    fn get(&self, rule: u16, node: u32) -> Option<&GroupNeighbourhood> {
        self.by_rule.get(usize::from(rule))?.get(&node)
    }

    fn insert(&mut self, rule: u16, node: u32, neighbourhood: GroupNeighbourhood) {
        let rule = usize::from(rule);
        if self.by_rule.len() <= rule {
            self.by_rule.resize_with(rule + 1, NodeCache::default);
        }
        self.by_rule[rule].insert(node, neighbourhood);
    }

    fn clear(&mut self) {
        self.by_rule.clear();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    Open,
    /// Every member resolved at the given time; closes after the resolve hold.
    Resolving(Millis),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ResourceAgg {
    node: u32,
    members: u32,
    first_seen: Millis,
    severity: Severity,
    fingerprint: Str,
    name: Str,
    chronic: f64,
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
struct Incident {
    seq: u64,
    key: String,
    /// Grouping rule of the first alert: its `min_alerts` decides when the incident opens.
    rule: u16,
    rules: BTreeSet<u16>,
    members: Vec<Str>,
    active: u32,
    events: u64,
    first_seen: Millis,
    last_seen: Millis,
    severity: Severity,
    resources: BTreeMap<Str, ResourceAgg>,
    coverage: FxHashMap<u32, Cover>,
    services: BTreeSet<Str>,
    merged_from: Vec<String>,
    /// Ids of the incidents merged into this one (directly or through another): their
    /// `merged_into` entries go when this incident closes, so that map does not grow for the
    /// life of the process. Older snapshots have none (their entries stay).
    #[serde(default)]
    merged_ids: Vec<u32>,
    /// Incidents split off this one because their members recovered apart from its own
    /// ([`Engine::fire_recovery_check`]): a member that recovers later with them follows.
    #[serde(default)]
    split_off: Vec<u32>,
    /// Shared with every update that reports them (`Arc`), not copied into each.
    explanation: Vec<Arc<str>>,
    /// Whether a `trigger` has been emitted (false while held below `min_alerts`).
    opened: bool,
    phase: Phase,
    dirty: bool,
    last_emit: Millis,
    emit_scheduled: bool,
    last_root: Option<(String, Severity)>,
    /// `events` as of the last emitted update.
    emitted_events: u64,
    /// The root-cause part of the last update, kept while nothing it depends on changed
    /// (see [`Incident::forget_root_cause`]). Not in snapshots: recomputed after a restore.
    #[serde(skip)]
    root_cause: Option<Box<RootCauseView>>,
    /// Whether `coverage` may lack a node of a member resource's root-cause neighbourhood:
    /// counted under another topology (a reload, or a snapshot's), or absorbed from an
    /// incident that was. While not, a member on a resource already counted, which does not
    /// make it fail, changes no cover and `add_to_resource` skips its neighbourhood.
    #[serde(skip, default = "yes")]
    coverage_may_lack: bool,
    /// `first_seen` as last formatted for an update, with the time it shows: an incident's
    /// start rarely moves while each update reports a new `last_seen`.
    #[serde(skip)]
    first_seen_text: Option<(Millis, Str)>,
}

impl Incident {
    /// Counts `view` (fingerprint `fp`, on topology node `node`, root-cause neighbourhood
    /// `rca_ups`) as a member of the resource `res_key`: its aggregate (the representative alert
    /// is the most severe, then the earliest) and the coverage of the nodes above it. Returns
    /// whether what the root-cause view reads of the resource changed.
    fn add_to_resource(
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
    fn first_seen_text(&mut self) -> Str {
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
    /// the next update computes its root cause afresh. (Debug builds check on every update
    /// that a kept root cause equals a fresh one, so a missed call shows in the tests.)
    fn forget_root_cause(&mut self) {
        self.root_cause = None;
    }
}

/// What an update says about the root cause, the resources and the services. It depends only on
/// the incident's resources, coverage and services, and on the rules and topology, so it is
/// computed once per change of those rather than for every update: most updates of a storm
/// report new event counts, severities or resolves of an unchanged membership.
#[derive(Clone, Debug, PartialEq)]
struct RootCauseView {
    root: RootCause,
    component: Str,
    class: Str,
    /// The explanation's last line, naming the root cause (and its runner-up).
    line: Option<Arc<str>>,
    resources: Arc<[Str]>,
    services: Arc<[Str]>,
    impacted: Arc<[Str]>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum StateTimer {
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

/// Why [`Engine::split_recovered`] splits a part off an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SplitReason {
    /// A member at error or above recovered apart from the failure it had joined: a failure of
    /// its own, which members that recover later with it follow (`Incident::split_off`).
    RecoveredApart,
    /// A warning recovered long before the named root cause it sat below: no symptom of it.
    /// Nothing follows it: it explains no other member's recovery.
    NoSymptom,
}

/// An alert's expiry timer, ordered as `Reverse<(Millis, Str)>` (the greatest is the earliest
/// deadline, ties by fingerprint), which is the order expiries fire in. Re-armed expiries share
/// deadlines (a repeat counts from the engine's clock, which moves in jumps), so their heap
/// compares fingerprints often: [`fingerprint_order`] does it inline, without `memcmp`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Expiry {
    at: Millis,
    fingerprint: Str,
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
struct StateTimers {
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

    fn push(&mut self, Reverse((at, timer)): Reverse<(Millis, StateTimer)>) {
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
    fn next(&self) -> Option<(Option<usize>, Millis)> {
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
    fn pop_from(&mut self, queue: Option<usize>) -> Option<Reverse<(Millis, StateTimer)>> {
        match queue {
            None => {
                let Expiry { at, fingerprint } = self.expiries.pop()?;
                Some(Reverse((at, StateTimer::Expire(fingerprint))))
            }
            Some(kind) => self.others[kind].pop(),
        }
    }

    #[cfg(test)]
    fn pop(&mut self) -> Option<Reverse<(Millis, StateTimer)>> {
        let (queue, _) = self.next()?;
        self.pop_from(queue)
    }

    /// Every timer, in no particular order.
    fn timers(&self) -> impl Iterator<Item = (Millis, StateTimer)> + '_ {
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

/// Serializable engine state for checkpoints (`corral.state`).
#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    dedup: DedupTable,
    incidents: Vec<(u32, Box<Incident>)>,
    merged_into: Vec<(u32, u32)>,
    anchors: Vec<(AnchorKey, Vec<AnchorEntry>)>,
    inhibit_sources: Vec<((u16, u64), u32)>,
    inhibited: Vec<((u16, u64), Vec<Str>)>,
    state_timers: Vec<(Millis, StateTimer)>,
    emit_timers: Vec<(Millis, u32)>,
    reopenable: Vec<(Str, Box<Incident>, Millis)>,
    now: Millis,
    next_seq: u64,
    stats: EngineStats,
    /// `Engine::placement_alternatives`; older snapshots have none.
    #[serde(default)]
    placement_alternatives: Vec<(Str, Vec<u32>)>,
    /// `Engine::co_firing_guesses`; older snapshots have none (nothing moves for those).
    #[serde(default)]
    co_firing_guesses: Vec<(u64, Vec<CoFiringGuess>)>,
    /// `Engine::recent_known_starts` and `Engine::started_with`; older snapshots have none
    /// (nothing folds for those alerts).
    #[serde(default)]
    recent_known_starts: Vec<(Millis, u32)>,
    #[serde(default)]
    started_with: Vec<(Str, Vec<u32>)>,
    /// `Engine::recent_unplaced_starts`; older snapshots have none.
    #[serde(default)]
    recent_unplaced_starts: Vec<(Millis, Str)>,
    /// `Engine::late_effects`; older snapshots have none (nothing joins for those alerts).
    #[serde(default)]
    late_effects: Vec<(Str, LateEffect)>,
}

const SNAPSHOT_VERSION: u32 = 2;

/// The engine's state at one moment, taken by [`Engine::snapshot_state`].
pub struct EngineSnapshot(Snapshot);

impl EngineSnapshot {
    /// The bytes [`Engine::restore`] reads.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).unwrap_or_default()
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

/// The record an alert's resolve is checked against (`placement_alternatives`,
/// `started_with`), taken once the alert has resolved and not fired again: `None`, keeping the
/// record for the next resolve, while the alert fires (a flap); `None`, dropping it, once the
/// alert is gone or expired (an expiry says nothing about when it ended).
fn take_after_resolve(
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
            co_firing_guesses: FxHashMap::default(),
            recent_known_starts: VecDeque::new(),
            started_with: FxHashMap::default(),
            recent_unplaced_starts: VecDeque::new(),
            late_effects: FxHashMap::default(),
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
            inc.forget_root_cause();
            inc.coverage_may_lack = true;
        }
        for (inc, _) in self.reopenable.values_mut() {
            inc.forget_root_cause();
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
        if let Some(alternatives) = self.placement_alternatives.remove(fp) {
            let failure_goes_on = self.rehome_recovered_symptom(fp, &alternatives, t, out);
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
    fn rehome_recovered_symptom(
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
    fn move_member(
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
    fn rehome_symptom_after_recovery(&mut self, fp: &Str, out: &mut Vec<IncidentUpdate>) {
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
    fn move_resolved_member(
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

    /// Notes that an alert the CMDB knows started failing at `began` in incident `inc_id`, and
    /// drops the starts no alert on time can follow within a scrape interval any more. Its
    /// failure is one spreading when each alert nothing placed (or a co-firing guess placed)
    /// started within a scrape interval before it: it joins their `started_with`.
    fn note_known_start(&mut self, began: Millis, inc_id: u32) {
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
    fn record_failures_spreading(&mut self, fp: &Str, began: Millis, own: u32) {
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

    /// Alert `fp`, on a node the CMDB knows, at error or above, started at `began` and opened
    /// incident `own` alone. Records the node alerting in another incident above it (within
    /// the rule's impact hops, the nearest, then the latest to start) whose failure it followed
    /// by more than the scrape interval per hop `effect_too_late` allows, but by no more than
    /// [`JUST_PAST_THE_BOUND`] beyond it: the link the bound refused, which its recovery may
    /// restore.
    fn record_late_effect(
        &mut self,
        fp: &Str,
        anchors: &AlertAnchors,
        rule_idx: u16,
        t: Millis,
        began: Millis,
        own: u32,
    ) {
        let rules = Arc::clone(&self.rules);
        let rule = &rules.groupings[rule_idx as usize];
        let mut nearest: Option<(LateEffect, Millis)> = None;
        for &(node, hops, _) in anchors.nodes.as_deref().unwrap_or(&[]) {
            if hops == 0 || !rule.relates(hops, 0) {
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
            tracing::trace!(alert = %fp, t, cause_incident = late.cause_incident, node = late.cause_node, hops = late.hops, "opened alone just past the per-hop bound below an alerting node");
            self.late_effects.insert(fp.clone(), late);
        }
    }

    /// Alert `fp` resolved at `t`: decides the late effects it is one side of, as the effect
    /// itself or as an alert on the node above one of them in that node's incident.
    fn join_late_effects_recovered_with(
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
        if st.severity < Severity::Error {
            return;
        }
        let inc = self.find(inc);
        let pairs: SmallVec<[Str; 2]> = self
            .late_effects
            .iter()
            .filter(|(effect, late)| {
                *effect == fp || (late.cause_node == node && self.find(late.cause_incident) == inc)
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
    /// above within the root-cause reach above it), and the node's failure shows no effect of
    /// its own (no member of its incident below it: [`Engine::failure_reached_below`]), the
    /// node's failure had reached it: the two incidents merge. A failure that already has its
    /// effects is more likely beside a second failure below it that recovers with it by chance
    /// (measured: the overlapping failures of seeds 10–12 that q32 merged; docs/quality.md,
    /// q37). A node member still firing keeps the record for its own resolve; one
    /// that recovered apart from it, an effect that fired again (a flap, looked at on its next
    /// resolve) or an incident gone end it.
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
        if self.failure_reached_below(cause, late.cause_node) {
            tracing::trace!(alert = %effect, end, own, cause, hops = late.hops, "late effect recovered with the node above it, whose failure has effects of its own: kept apart");
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

    fn fire_expire(&mut self, fp: &Str, at: Millis, out: &mut Vec<IncidentUpdate>) {
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
        self.release_inhibition_source(fp, at, out);
        self.deactivate_at(state_at, fp, at);
        self.schedule_forget(fp, at);
    }

    /// A maintenance window ended (the watermark passed its end): an alert it muted that still
    /// fires is looked at again as if it had just arrived, at the window's end. Its mute is
    /// re-evaluated, so another window, a suppression or an inhibition still holds it back.
    fn fire_maintenance_end(&mut self, fp: &Str, at: Millis, out: &mut Vec<IncidentUpdate>) {
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

    fn schedule_forget(&mut self, fp: &Str, t: Millis) {
        let at = t + self.retention();
        self.state_timers
            .push(Reverse((at, StateTimer::Forget(fp.clone()))));
    }

    fn fire_forget(&mut self, fp: &Str, at: Millis) {
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
        }
    }

    /// Drops a resolving alert's weight as an inhibition source; when the last source of a
    /// group resolves, its muted targets that still fire come back as ordinary alerts.
    fn release_inhibition_source(&mut self, fp: &Str, t: Millis, out: &mut Vec<IncidentUpdate>) {
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
    fn deactivate(&mut self, fp: &Str, t: Millis) {
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
    fn reactivate(&mut self, fp: &Str, inc_id: u32, t: Millis, out: &mut Vec<IncidentUpdate>) {
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

    // -----------------------------------------------------------------------------------------
    // Recovery: a cause and its effects recover together
    // -----------------------------------------------------------------------------------------

    /// An alert resolved (an explicit recovery; an expiry says nothing about when it ended). A
    /// member of an incident that had a part split off follows that part when it recovered with
    /// it; a member at error or above whose incident still has firing members is checked once
    /// the shortest recovery tolerance has passed ([`Engine::fire_recovery_check`]).
    fn on_recovery(&mut self, fp: &Str, t: Millis, out: &mut Vec<IncidentUpdate>) {
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
    fn fire_recovery_check(&mut self, fp: &Str, at: Millis, out: &mut Vec<IncidentUpdate>) {
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
        let Some((members, root)) = self.incidents.get(&inc_id).map(|i| {
            let root = i
                .last_root
                .as_ref()
                .and_then(|(r, _)| self.topology.resolve(r));
            (i.members.clone(), root.map(|n| n.index() as u32))
        }) else {
            return;
        };
        let Some(root) = root else {
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
    fn check_warning_against_root(&mut self, fp: &Str, at: Millis, out: &mut Vec<IncidentUpdate>) {
        let Some(st) = self.dedup.alerts.get(fp) else {
            return;
        };
        let (Some(node), Some(inc)) = (st.node(), st.incident()) else {
            return;
        };
        let (began, end) = (st.first_seen, st.last_seen);
        let inc_id = self.find(inc);
        let Some(root) = self
            .incidents
            .get(&inc_id)
            .filter(|i| i.active > 0)
            .and_then(|i| i.last_root.as_ref())
            .and_then(|(r, _)| self.topology.resolve(r))
            .map(|n| n.index() as u32)
        else {
            return;
        };
        if root == node {
            return;
        }
        let Some(hops) = self
            .rca_upstream(node)
            .iter()
            .find(|&&(n, _)| n == root)
            .map(|&(_, hops)| hops)
        else {
            return;
        };
        let tolerance = recovery_tolerance(hops);
        let mut kept_failing: Option<Str> = None;
        let mut pending = false;
        for m in &self.incidents[&inc_id].members {
            let Some(ms) = self.dedup.alerts.get(m) else {
                continue;
            };
            // A cause may be noticed up to a scrape interval after its effect (`causal_breach`):
            // a warning that started within it before the root's alert is judged the same way.
            if ms.node != root
                || ms.severity < Severity::Error
                || ms.first_seen > began + CAUSE_LAG_TOLERANCE
            {
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
            self.split_recovered(
                inc_id,
                fp,
                &still_failing,
                hops,
                SplitReason::NoSymptom,
                at,
                out,
            );
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

    /// Whether `effect` is another node within the root-cause reach below `cause`.
    fn is_effect_of(&mut self, effect: u32, cause: u32) -> bool {
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
    fn recovered_with(&mut self, node: u32, end: Millis, part: &[(Str, u32, Millis)]) -> bool {
        part.iter().any(|&(_, p_node, p_end)| {
            self.recovery_hops(node, p_node)
                .is_some_and(|hops| (end - p_end).abs() <= recovery_tolerance(hops))
        })
    }

    /// [`Engine::hops_between`] for recoveries: a resource the CMDB does not know (`NONE`) has
    /// no place in the topology, so it goes with a known one only if it recovered as if on the
    /// same resource (within a scrape interval), never with another unknown one.
    fn recovery_hops(&mut self, a: u32, b: u32) -> Option<u8> {
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
    fn members_nearer_recovered(
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
    fn split_recovered(
        &mut self,
        inc_id: u32,
        recovered: &Str,
        still_failing: &Str,
        hops: u8,
        reason: SplitReason,
        at: Millis,
        out: &mut Vec<IncidentUpdate>,
    ) -> bool {
        let Some((failing_node, failing_at)) = self
            .dedup
            .alerts
            .get(still_failing)
            .and_then(|s| Some((s.node()?, s.failing_until())))
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
        let mut candidates: Vec<(Str, u32, Millis)> = members
            .iter()
            .filter(|m| *m != recovered)
            .filter_map(|m| {
                let s = self.dedup.alerts.get(m)?;
                (!s.active).then_some((m.clone(), s.node, s.last_seen))
            })
            .collect();
        let still_failing_end = self
            .dedup
            .alerts
            .get(still_failing)
            .filter(|s| !s.active)
            .map(|s| s.last_seen);
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
        // An effect split off its cause says why: its own impact recovered with it.
        let with_its_own_impact = still_failing_is_its_cause && sided_part.is_some();
        match sided_part {
            Some(sided) => part.extend(sided),
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
                if part.len() == before {
                    break;
                }
            },
        }
        for &(_, p_node, p_end) in &part {
            let with_failing = self
                .recovery_hops(p_node, failing_node)
                .is_some_and(|h| failing_at - p_end <= recovery_tolerance(h));
            if with_failing {
                tracing::trace!(alert = %recovered, still_failing = %still_failing, at, from = inc_id, part = part.len(), bridge_node = p_node, bridge_end = p_end, failing_at, "recovered apart: split refused, a member of the part recovered with the still-failing one");
                return false;
            }
        }
        if let Some(earlier) = self.earlier_part_sharing_a_resource(inc_id, &part) {
            tracing::trace!(alert = %recovered, at, from = inc_id, to = earlier, "recovered apart: joined the part split off before on its resource");
            self.join_earlier_part(inc_id, earlier, &part, still_failing, hops, out);
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
        let hops_away = match (reason, hops) {
            (SplitReason::RecoveredApart, 1) => " (1 hop away)".to_string(),
            (SplitReason::RecoveredApart, _) => format!(" ({hops} hops away)"),
            (SplitReason::NoSymptom, 1) => " (1 hop above it)".to_string(),
            (SplitReason::NoSymptom, _) => format!(" ({hops} hops above it)"),
        };
        let why = [
            rec_name.as_str(),
            " on ",
            rec_resource.as_str(),
            if reason == SplitReason::NoSymptom {
                ", a warning, recovered while "
            } else {
                " recovered while "
            },
            still_name.as_str(),
            " on ",
            still_resource.as_str(),
            &hops_away,
            " kept failing beyond the time a cause's recovery takes to reach its effects",
            if with_its_own_impact {
                ", and its own effects recovered with it"
            } else {
                ""
            },
            if reason == SplitReason::NoSymptom {
                ": no symptom of it"
            } else {
                ""
            },
        ]
        .concat();
        {
            let inc = self.incidents.get_mut(&inc_id).expect("present");
            inc.members.retain(|m| !moving.contains(m));
            if reason == SplitReason::RecoveredApart {
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
        true
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
            .filter_map(|(m, _, _)| {
                let s = self.dedup.alerts.get(m)?;
                Some(format!("{} on {}", s.name, s.resource))
            })
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
    fn follow_recovered_part(
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
            let part: Vec<(Str, u32, Millis)> = part
                .members
                .iter()
                .filter_map(|m| {
                    let s = self.dedup.alerts.get(m)?;
                    (!s.active).then_some((m.clone(), s.node, s.last_seen))
                })
                .collect();
            // Closer to a recovery that stayed in `inc_id`, it may as well be part of that.
            let stayed: Vec<(Str, u32, Millis)> = self.incidents[&inc_id]
                .members
                .iter()
                .filter(|m| *m != fp)
                .filter_map(|m| {
                    let s = self.dedup.alerts.get(m)?;
                    (!s.active).then_some((m.clone(), s.node, s.last_seen))
                })
                .collect();
            if !self.recovered_with(node, end, &part) || self.recovered_with(node, end, &stayed) {
                continue;
            }
            self.move_resolved_member(fp, inc_id, part_id, out);
            return true;
        }
        false
    }

    /// Recomputes an incident's per-member aggregates (events, start, severity, rules,
    /// services, resources and root-cause coverage) from its members, as `join` builds them
    /// one by one: after members left it.
    fn rebuild_aggregates(&mut self, inc_id: u32) {
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
        self.incidents
            .get(&live)
            .is_some_and(|i| i.severity >= Severity::Error)
            .then_some(live)
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
    fn correlate(&mut self, view: &Alert, at: AlertPos, t: Millis, out: &mut Vec<IncidentUpdate>) {
        let fp = &view.fingerprint;
        debug_assert_eq!(self.dedup.alerts.position(fp), Some(at));
        if is_recurring(self.dedup.alerts.at(at)) {
            // A check that keeps firing and clearing is its own story: it goes back to its own
            // incident (or opens one) without linking, and registers no anchors, so it neither
            // absorbs nor bridges the failures that happen around it.
            let rule = self.dedup.alerts.at(at).rule;
            let inc_id = self.reopen_or_open(fp, t, rule);
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
        if rule.topology {
            let via = anchors
                .iter()
                .position(|a| matches!(a.key, AnchorKey::Service(_)));
            if let (Some(service), Some(via)) = (&unknown_service, via) {
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
        // Copied out of the rule: the remote-effect walk below borrows the engine mutably.
        let (topology_rule, rule_reach, rule_edges) = {
            let rule = &self.rules.groupings[rule_idx as usize];
            (rule.topology, rule.reach(), rule.edges)
        };
        let mut remote_cause = None;
        let outright = view.severity >= Severity::Error;
        if candidates.is_empty() && known && topology_rule {
            let (reach, rca_hops) = (rule_reach, self.rules.settings.root_cause.max_hops);
            // An outright failure follows only a failure still spreading behind a node it
            // depends on (`incidents_spreading_above`). That scan reads every entry of the
            // alert's node anchors; the walk below mostly finds no failure at all, so it runs
            // only once the walk found one, or first (to skip the walk) when the walk is not
            // the cached one.
            let mut spreading: Option<SmallVec<[u32; 2]>> = None;
            if outright && rule_edges != EdgeMask::ALL && rca_hops > reach {
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
                        if outright
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
            let failing = |c: u32| {
                self.incidents
                    .get(&c)
                    .is_some_and(|i| i.severity >= Severity::Error)
            };
            if candidates.iter().any(|c| failing(c.0)) {
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
                let failing = self
                    .incidents
                    .get(&inc)
                    .is_some_and(|i| i.severity >= Severity::Error);
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
            let nearest_cause = explained_by
                .iter()
                .min_by_key(|e| shared_symptom_order(e))
                .map(|&(inc, _, _)| inc);
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
        if strong.is_empty() && candidates.len() > 1 {
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
            let failing = |c: u32| {
                self.incidents
                    .get(&c)
                    .is_some_and(|i| i.severity >= Severity::Error)
            };
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
            0 => self.reopen_or_open(fp, t, rule_idx),
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
        if known && opened_alone && view.severity >= Severity::Error {
            self.record_late_effect(fp, &anchors, rule_idx, t, began, inc_id);
        }
        self.anchor_slots = anchors.slots;
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

    /// Records (with `gap`: how far the check started in the incident it joined) or forgets
    /// (`None`) alert `fp`, on a resource the CMDB does not know, as placed by a co-firing link
    /// alone at `t`.
    fn record_co_firing_guess(&mut self, check: u64, fp: &Str, t: Millis, gap: Option<Millis>) {
        if gap.is_none() && self.co_firing_guesses.is_empty() {
            return;
        }
        let oldest_start = self.watermark().saturating_sub(CO_FIRING_WINDOW);
        let guesses = self.co_firing_guesses.entry(check).or_default();
        guesses.retain(|g| g.start >= oldest_start && g.fingerprint != *fp);
        if let Some(gap) = gap {
            if guesses.len() == MAX_GUESSES_PER_CHECK {
                guesses.remove(0);
            }
            guesses.push(CoFiringGuess {
                fingerprint: fp.clone(),
                start: t,
                gap,
            });
        }
        if guesses.is_empty() {
            self.co_firing_guesses.remove(&check);
        }
    }

    /// The same check (`check`) started at `t` on a known resource, `known_resource`, which
    /// joined incident `to`. Nearest in time wins among co-firing incidents, whichever arrives
    /// first: an alert that a co-firing link alone placed in another incident, and that started
    /// nearer to this one than to any start of the check there, moves to `to` (had it arrived
    /// after this alert, it would have joined `to`). Unless it has become evidence there since
    /// (`co_firing_guess_is_evidence`): then it stays.
    fn correct_co_firing_guesses(
        &mut self,
        check: u64,
        t: Millis,
        to: u32,
        known_resource: &Str,
        out: &mut Vec<IncidentUpdate>,
    ) {
        let Some(mut guesses) = self.co_firing_guesses.remove(&check) else {
            return;
        };
        let oldest_start = self.watermark().saturating_sub(CO_FIRING_WINDOW);
        guesses.retain(|g| g.start >= oldest_start);
        // The latest placed first: an earlier guess may be what a later one joined through, and
        // stays while that one stays.
        for i in (0..guesses.len()).rev() {
            let distance = (guesses[i].start - t).abs();
            if distance > CO_FIRING_WINDOW {
                continue;
            }
            let fp = guesses[i].fingerprint.clone();
            let from = match self.dedup.alerts.get(&fp) {
                Some(st) if st.active && st.node().is_none() => st.incident().map(|c| self.find(c)),
                _ => None,
            };
            let Some(from) = from.filter(|f| self.incidents.contains_key(f)) else {
                // Resolved or gone: nothing left to correct.
                guesses.remove(i);
                continue;
            };
            let gap = guesses[i].gap;
            if from == to {
                guesses[i].gap = gap.min(distance);
                continue;
            }
            if distance >= gap || self.co_firing_guess_is_evidence(&guesses, i, from) {
                continue;
            }
            tracing::trace!(
                alert = %fp, t, from, to, distance, gap, "a nearer start of the same check: moved"
            );
            let st = self.dedup.alerts.get(&fp).expect("present");
            let to_key = self.incidents[&to].key.clone();
            let why = format!(
                "{} {fp} on {} left for {to_key}: the same check started on {known_resource} {} \
                 from it, nearer than in this incident ({})",
                st.name,
                st.resource,
                crate::duration::format_duration(distance),
                crate::duration::format_duration(gap),
            );
            let reason = self
                .anchors_of(&fp)
                .iter()
                .position(|a| matches!(a.key, AnchorKey::CoFiring(_)));
            self.move_member(&fp, from, to, t, why, reason, out);
            // The incident it leaves is the first place to go back to should `to` recover
            // without it (`rehome_recovered_symptom`).
            if let Some(alternatives) = self.placement_alternatives.get_mut(&fp) {
                alternatives.retain(|c| *c != to);
                alternatives.insert(0, from);
            }
            guesses[i].gap = distance;
        }
        if !guesses.is_empty() {
            self.co_firing_guesses.insert(check, guesses);
        }
    }

    /// Whether guess `i` of `guesses` (one check's, in the order placed), in incident `from`,
    /// may have become evidence there for another member since it joined: another member on its
    /// resource (they joined through it), a later guess of the check still there that started
    /// within a scrape interval of it (it may have joined through its start), or another
    /// member on a resource the CMDB does not know of its service.
    fn co_firing_guess_is_evidence(&self, guesses: &[CoFiringGuess], i: usize, from: u32) -> bool {
        let (g, dedup) = (&guesses[i], &self.dedup);
        let (Some(st), Some(inc)) = (dedup.alerts.get(&g.fingerprint), self.incidents.get(&from))
        else {
            return true;
        };
        if inc
            .resources
            .get(&st.resource)
            .is_some_and(|r| r.members > 1)
        {
            return true;
        }
        let in_from = |fp: &Str| {
            dedup
                .alerts
                .get(fp)
                .is_some_and(|o| o.active && o.incident().map(|c| self.find(c)) == Some(from))
        };
        if guesses[i + 1..]
            .iter()
            .any(|h| (h.start - g.start).abs() <= CO_FIRING_WINDOW && in_from(&h.fingerprint))
        {
            return true;
        }
        st.service.as_ref().is_some_and(|service| {
            inc.members.iter().any(|m| {
                *m != g.fingerprint
                    && dedup
                        .alerts
                        .get(m)
                        .is_some_and(|o| o.node().is_none() && o.service.as_ref() == Some(service))
            })
        })
    }

    /// The alert's own closed solo incident reopened, or a new incident.
    fn reopen_or_open(&mut self, fp: &Str, t: Millis, rule: u16) -> u32 {
        match self.take_reopenable(fp, t) {
            Some(id) => id,
            None => self.new_incident(t, rule),
        }
    }

    /// The nodes of a business service and every node within the rule's impact hops upstream
    /// of them, with the fewest hops: where a failure could explain a symptom of the service.
    /// Bounded by `max_neighbourhood`, like any alert's neighbourhood.
    fn service_region(&mut self, rule_idx: u16, service: &Str) -> ServiceRegion {
        // A service the CMDB does not know has no region, and is not cached: the cache holds at
        // most one entry per rule and CMDB service, whatever names alerts carry.
        if self.topology.nodes_of_service(service).is_empty() {
            return ServiceRegion::from([]);
        }
        let key = (rule_idx, service.clone());
        if let Some(r) = self.service_region_cache.get(&key) {
            return r.clone();
        }
        let rule = &self.rules.groupings[rule_idx as usize];
        let limit = self.rules.settings.max_neighbourhood;
        let mut hops_of: FxHashMap<u32, u8> = FxHashMap::default();
        let mut order: Vec<u32> = Vec::new();
        'nodes: for &n in self.topology.nodes_of_service(service) {
            for u in self
                .topology
                .upstream_within(n, rule.impact_hops, rule.edges, limit)
            {
                let id = u.node.index() as u32;
                match hops_of.get_mut(&id) {
                    Some(h) => *h = (*h).min(u.hops),
                    None => {
                        if order.len() >= limit {
                            break 'nodes;
                        }
                        hops_of.insert(id, u.hops);
                        order.push(id);
                    }
                }
            }
        }
        let region: ServiceRegion = order.iter().map(|n| (*n, hops_of[n])).collect();
        self.service_region_cache.insert(key, region.clone());
        region
    }

    /// Whether every member of the incident is on a resource the topology does not know.
    fn outside_topology(&self, inc_id: u32) -> bool {
        self.incidents
            .get(&inc_id)
            .is_some_and(|i| i.resources.values().all(|r| r.node == NONE))
    }

    /// Anchors of an alert under its grouping rule.
    fn anchors_of(&mut self, fp: &Str) -> AlertAnchors {
        match self.dedup.alerts.position(fp) {
            Some(at) => self.anchors_listed(at, fp, false),
            None => AlertAnchors::default(),
        }
    }

    /// The anchors the alert sits on (`hops == 0`), the only ones a member that stops firing
    /// releases: the same as `anchors_of` keeps at 0 hops, without its node's neighbourhood and
    /// the anchors an alert the CMDB knows holds only weakly (whose check signature costs more
    /// than the rest).
    fn anchors_on_alert(&mut self, fp: &Str) -> AlertAnchors {
        match self.dedup.alerts.position(fp) {
            Some(at) => self.anchors_listed(at, fp, true),
            None => AlertAnchors::default(),
        }
    }

    /// `anchors_of` the alert `fp` whose state is at `at`, or with `on_alert_only` only its
    /// anchors at 0 hops (in the same order).
    fn anchors_listed(&mut self, at: AlertPos, fp: &Str, on_alert_only: bool) -> AlertAnchors {
        let mut nodes = None;
        let mut out: SmallVec<[AlertAnchor; 4]> = SmallVec::new();
        debug_assert_eq!(self.dedup.alerts.position(fp), Some(at));
        let st = self.dedup.alerts.at(at);
        let rule_idx = st.rule;
        let rule = &self.rules.groupings[rule_idx as usize];
        match st.node() {
            // The neighbourhood's only node at 0 hops is the alert's own.
            Some(node) if rule.topology && on_alert_only => out.push(AlertAnchor {
                key: AnchorKey::Node(node),
                hops: 0,
                hub: false,
            }),
            Some(node) if rule.topology => {
                let nbrs = match self.group_cache.get(rule_idx, node) {
                    Some(n) => n.clone(),
                    None => {
                        let ups = self.topology.upstream_within(
                            NodeIndex::new(node as usize),
                            rule.reach(),
                            rule.edges,
                            self.rules.settings.max_neighbourhood,
                        );
                        let v: GroupNeighbourhood = ups
                            .iter()
                            .map(|u| {
                                let hub = u.hops > 0
                                    && self.topology.downstream_degree(u.node) > rule.max_fanout;
                                (u.node.index() as u32, u.hops, hub)
                            })
                            .collect();
                        self.group_cache.insert(rule_idx, node, v.clone());
                        v
                    }
                };
                nodes = Some(nbrs);
            }
            Some(node) => out.push(AlertAnchor {
                key: AnchorKey::Node(node),
                hops: 0,
                hub: false,
            }),
            None => out.push(AlertAnchor {
                key: AnchorKey::Resource(st.resource.clone()),
                hops: 0,
                hub: false,
            }),
        }
        // An alert the CMDB knows holds the weak anchors at `WEAK` hops, never on them.
        if rule.topology && !(on_alert_only && st.node().is_some()) {
            let node_service = st.node().and_then(|n| {
                self.topology
                    .node(NodeIndex::new(n as usize))
                    .service
                    .clone()
            });
            if let Some(service) = st.service.as_deref().cloned().or(node_service) {
                out.push(AlertAnchor {
                    key: AnchorKey::Service(service),
                    hops: if st.node().is_some() { WEAK } else { 0 },
                    hub: false,
                });
            }
            // Learned from history (`corral train`); `None` without a model.
            if let Some(group) = self.anomaly.cooccurrence_group(&st.name) {
                out.push(AlertAnchor {
                    key: AnchorKey::Cooccurring(group),
                    hops: if st.node().is_some() { WEAK } else { 0 },
                    hub: false,
                });
            }
            if let Some(check) = check_signature(&st.name, &st.resource, &st.labels) {
                out.push(AlertAnchor {
                    key: AnchorKey::CoFiring(check),
                    hops: if st.node().is_some() { WEAK } else { 0 },
                    hub: false,
                });
            }
        }
        if !rule.group_by.is_empty() {
            let view = st.as_alert(fp);
            let topo = &self.topology;
            let mut values: SmallVec<[Option<Str>; 4]> = SmallVec::new();
            for f in &rule.group_by {
                values.push(match f {
                    Field::Kind => kind_of(topo, &view),
                    other => field_value(&view, other).map(Str::from),
                });
            }
            // Alerts missing a group_by attribute do not group by it (Alertmanager groups them
            // under the empty value; for correlation that would glue unrelated alerts).
            if values
                .iter()
                .all(|v| v.as_deref().is_some_and(|s| !s.is_empty()))
            {
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                for v in values.iter().flatten() {
                    h.update(v.as_bytes());
                    h.update(&[0xff]);
                }
                out.push(AlertAnchor {
                    key: AnchorKey::Group(rule_idx, h.digest()),
                    hops: 0,
                    hub: false,
                });
            }
        }
        AlertAnchors {
            nodes,
            others: out,
            slots: Vec::new(),
        }
    }

    /// The date part (`YYYY-MM-DD`) of the key of an incident opened at `t`: formatted once
    /// per day (perf45: the whole timestamp was formatted for every new incident, ~500
    /// instructions, to keep its first ten bytes).
    fn incident_key_date(&mut self, t: Millis) -> Str {
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

    fn new_incident(&mut self, t: Millis, rule: u16) -> u32 {
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
    fn join(
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

    /// Records an active member's anchors; `becomes_active` counts it on the anchors it sits on,
    /// `explained` (an alerting member above explains it) on the anchors above it.
    fn register_anchors(
        &mut self,
        inc_id: u32,
        anchors: &AlertAnchors,
        t: Millis,
        becomes_active: bool,
        explained: bool,
    ) {
        // The node anchors read straight from the neighbourhood, then the others, in one loop
        // (one call of `register`, inlined): `AlertAnchors::iter` built and dropped a `Cow` per
        // anchor.
        let nodes = anchors.nodes.as_deref().unwrap_or(&[]);
        // An incident nothing was merged into (nearly all) has the entries named by its id:
        // found by comparing ids, whatever was removed since a list's last check.
        let ids_are_own = self.merged_ids_complete
            && self
                .incidents
                .get(&inc_id)
                .is_some_and(|i| i.merged_ids.is_empty());
        let (watermark, max_window) = (self.watermark(), self.rules.max_window());
        for i in 0..nodes.len() + anchors.others.len() {
            let listed = anchors
                .slots
                .get(i)
                .copied()
                .filter(|&slot| slot != NO_SLOT);
            let (slot, hops) = match nodes.get(i) {
                Some(&(node, hops, _)) => {
                    let slot = listed.unwrap_or_else(|| {
                        self.anchors
                            .slot_or_insert(&AnchorKey::Node(node), &self.removals)
                    });
                    debug_assert_eq!(self.anchors.slot(&AnchorKey::Node(node)), Some(slot));
                    (slot, hops)
                }
                None => {
                    let a = &anchors.others[i - nodes.len()];
                    let slot = listed
                        .unwrap_or_else(|| self.anchors.slot_or_insert(&a.key, &self.removals));
                    debug_assert_eq!(self.anchors.slot(&a.key), Some(slot));
                    (slot, a.hops)
                }
            };
            let list = self.anchors.at_mut(slot);
            // A list `correlate` left unpruned (it could not link) is pruned before an incident
            // that absorbed others looks for its entry there: `position_of` then compares ids,
            // where on a list left unchecked it would look up every entry's incident.
            if !ids_are_own && listed.is_some() {
                let (incidents, merged) = (&self.incidents, &self.merged_into);
                list.prune(watermark, max_window, &self.removals, |id| {
                    let root = find_in(merged, id);
                    incidents.contains_key(&root).then_some(root)
                });
            }
            list.register(
                inc_id,
                hops,
                t,
                becomes_active,
                explained,
                ids_are_own,
                &self.removals,
                &self.merged_into,
            );
        }
    }

    /// A member stops firing: the anchors it sits on stop counting it as alerting.
    fn release_anchors(&mut self, fp: &Str, inc_id: u32, t: Millis) {
        let anchors = self.anchors_on_alert(fp);
        self.release_anchors_of(&anchors, inc_id, t);
    }

    /// [`Engine::release_anchors`] through the alert's anchors at 0 hops, already listed.
    fn release_anchors_of(&mut self, anchors: &AlertAnchors, inc_id: u32, t: Millis) {
        for a in anchors.iter() {
            debug_assert_eq!(a.hops, 0);
            if let Some(entries) = self.anchors.get_mut(&a.key) {
                entries.release(inc_id, t, &self.merged_into);
            }
        }
    }

    /// Merges incidents bridged by one alert into the largest; returns the survivor.
    fn merge(&mut self, ids: &[u32], fp: &Str, t: Millis, out: &mut Vec<IncidentUpdate>) -> u32 {
        self.merge_explained(ids, t, out, |absorbed| {
            format!("merged {absorbed} (bridged by {fp})")
        })
    }

    /// [`Engine::merge`], the survivor's explanation saying `why(absorbed incident's key)`.
    fn merge_explained(
        &mut self,
        ids: &[u32],
        t: Millis,
        out: &mut Vec<IncidentUpdate>,
        why: impl Fn(&str) -> String,
    ) -> u32 {
        // The largest absorbs the others (ties: the oldest), so a big failure keeps its ticket.
        let survivor = *ids
            .iter()
            .min_by_key(|i| {
                let inc = &self.incidents[i];
                (Reverse(inc.members.len()), inc.seq)
            })
            .expect("at least two");
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

    fn rca_upstream(&mut self, node: u32) -> RcaNeighbourhood {
        if let Some(v) = self.rca_cache.get(&node) {
            return v.clone();
        }
        let ups = self.topology.upstream_within(
            NodeIndex::new(node as usize),
            self.rules.settings.root_cause.max_hops,
            EdgeMask::ALL,
            self.rules.settings.max_neighbourhood,
        );
        let v: Arc<[(u32, u8)]> = ups
            .iter()
            .map(|u| (u.node.index() as u32, u.hops))
            .collect();
        self.rca_cache.insert(node, v.clone());
        v
    }

    fn find(&self, id: u32) -> u32 {
        find_in(&self.merged_into, id)
    }

    fn sweep_anchors(&mut self) {
        let incidents = &self.incidents;
        let merged = &self.merged_into;
        let (watermark, max_window) = (self.watermark(), self.rules.max_window());
        self.anchors.retain(|entries| {
            entries.retain(|e| {
                e.live_at(watermark, max_window)
                    && incidents.contains_key(&find_in(merged, e.incident))
            });
            !entries.is_empty()
        });
        self.anchors_at_sweep = self.anchors.len().max(1024);
        let oldest_start = watermark.saturating_sub(CO_FIRING_WINDOW);
        self.co_firing_guesses.retain(|_, guesses| {
            guesses.retain(|g| g.start >= oldest_start);
            !guesses.is_empty()
        });
    }

    // -----------------------------------------------------------------------------------------
    // Output
    // -----------------------------------------------------------------------------------------

    fn mark_dirty(&mut self, inc_id: u32, out: &mut Vec<IncidentUpdate>) {
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

    fn fire_emit(&mut self, inc_id: u32, at: Millis, out: &mut Vec<IncidentUpdate>) {
        let Some(inc) = self.incidents.get_mut(&inc_id) else {
            return;
        };
        inc.emit_scheduled = false;
        if inc.dirty && inc.opened {
            self.emit(inc_id, EventAction::Trigger, at, out);
        }
    }

    fn fire_close(&mut self, inc_id: u32, at: Millis, out: &mut Vec<IncidentUpdate>) {
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

    /// Whether the alert is a recurring check: it has fired again after resolving at least
    /// `RECURRING_AFTER` times.
    fn recurring(&self, fp: &Str) -> bool {
        self.dedup.alerts.get(fp).is_some_and(is_recurring)
    }

    /// The closed solo incident this alert may reopen, taken out of the reopenable set.
    fn take_reopenable(&mut self, fp: &Str, t: Millis) -> Option<u32> {
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
        // and link anything in between: drop them; join registers fresh ones.
        for a in self.anchors_of(fp).iter() {
            if let Some(entries) = self.anchors.get_mut(&a.key) {
                entries.drop_incident(id);
            }
        }
        Some(id)
    }

    fn emit(
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

    fn build_update(
        &mut self,
        inc: &mut Incident,
        action: EventAction,
        at: Millis,
    ) -> IncidentUpdate {
        let view = match inc.root_cause.take() {
            Some(kept) if self.cache_root_causes => {
                debug_assert_eq!(
                    *kept,
                    self.root_cause_view(inc),
                    "a kept root cause must equal a fresh one: some change to the incident \
                     did not call forget_root_cause"
                );
                kept
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
    fn root_cause_view<'a>(&'a mut self, inc: &'a Incident) -> RootCauseView {
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
        // The member resources on the coverage's nodes.
        for &(n, agg) in &by_node.sorted {
            if let Some(cover) = inc.coverage.get(&n) {
                cands.push(candidate(n, cover, Some(alerting_info(agg))));
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
        cands.extend(
            silent
                .into_kept()
                .map(|kept| candidate(kept.name.1, &kept.cover, None)),
        );
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
                let Some(node) = topo.resolve(cands[i].resource) else {
                    return Vec::new();
                };
                let node = node.index() as u32;
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
        let impacted = match topo.resolve(&root.resource) {
            Some(n) => {
                let n = n.index() as u32;
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

    // -----------------------------------------------------------------------------------------
    // Checkpoints
    // -----------------------------------------------------------------------------------------

    /// Serializes the whole correlation state (for the `corral.state` changelog).
    pub fn snapshot(&self) -> Vec<u8> {
        self.snapshot_state().encode()
    }

    /// A copy of the whole correlation state, to be encoded with [`EngineSnapshot::encode`]
    /// (the costly part, which can run on another thread while the engine goes on).
    pub fn snapshot_state(&self) -> EngineSnapshot {
        EngineSnapshot(Snapshot {
            version: SNAPSHOT_VERSION,
            dedup: DedupTable {
                alerts: self.dedup.alerts.clone(),
                services: Default::default(),
            },
            incidents: self
                .incidents
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            merged_into: self.merged_into.iter().map(|(k, v)| (*k, *v)).collect(),
            anchors: self
                .anchors
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().copied().collect()))
                .collect(),
            inhibit_sources: self.inhibit_sources.iter().map(|(k, v)| (*k, *v)).collect(),
            inhibited: self
                .inhibited
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            state_timers: self.state_timers.timers().collect(),
            emit_timers: self.emit_timers.iter().map(|Reverse(t)| *t).collect(),
            reopenable: self
                .reopenable
                .iter()
                .map(|(k, (i, at))| (k.clone(), i.clone(), *at))
                .collect(),
            now: self.now,
            next_seq: self.next_seq,
            stats: self.stats.clone(),
            placement_alternatives: self
                .placement_alternatives
                .iter()
                .map(|(k, v)| (k.clone(), v.to_vec()))
                .collect(),
            co_firing_guesses: self
                .co_firing_guesses
                .iter()
                .map(|(k, v)| (*k, v.to_vec()))
                .collect(),
            recent_known_starts: self.recent_known_starts.iter().copied().collect(),
            started_with: self
                .started_with
                .iter()
                .map(|(k, v)| (k.clone(), v.to_vec()))
                .collect(),
            recent_unplaced_starts: self.recent_unplaced_starts.iter().cloned().collect(),
            late_effects: self
                .late_effects
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        })
    }

    /// Restores state written by [`Engine::snapshot`] into a fresh engine.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        let snap: Snapshot =
            serde_json::from_slice(bytes).map_err(|e| format!("corrupt engine snapshot: {e}"))?;
        if snap.version != SNAPSHOT_VERSION {
            return Err(format!(
                "engine snapshot version {} is not supported (expected {SNAPSHOT_VERSION})",
                snap.version
            ));
        }
        self.dedup = snap.dedup;
        self.dedup.share_service_names();
        self.incidents = snap.incidents.into_iter().collect();
        self.merged_into = snap.merged_into.into_iter().collect();
        let listed: FxHashSet<u32> = self
            .incidents
            .values()
            .flat_map(|i| i.merged_ids.iter().copied())
            .collect();
        self.merged_ids_complete = self.merged_into.keys().all(|id| listed.contains(id));
        self.anchors = AnchorTable::new(self.topology.node_count());
        for (key, entries) in snap.anchors {
            let slot = self.anchors.slot_or_insert(&key, &self.removals);
            *self.anchors.at_mut(slot) = AnchorEntries::from_vec(entries);
        }
        self.inhibit_sources = snap.inhibit_sources.into_iter().collect();
        self.inhibited = snap.inhibited.into_iter().collect();
        self.state_timers = snap.state_timers.into_iter().map(Reverse).collect();
        self.emit_timers = snap.emit_timers.into_iter().map(Reverse).collect();
        self.reopenable = snap
            .reopenable
            .into_iter()
            .map(|(k, i, at)| (k, (i, at)))
            .collect();
        self.now = snap.now;
        self.started = snap.now != Millis::MIN;
        self.next_seq = snap.next_seq;
        self.stats = snap.stats;
        self.placement_alternatives = snap
            .placement_alternatives
            .into_iter()
            .map(|(k, v)| (k, SmallVec::from_vec(v)))
            .collect();
        self.co_firing_guesses = snap
            .co_firing_guesses
            .into_iter()
            .map(|(k, v)| (k, SmallVec::from_vec(v)))
            .collect();
        self.recent_known_starts = snap.recent_known_starts.into_iter().collect();
        self.started_with = snap
            .started_with
            .into_iter()
            .map(|(k, v)| (k, SmallVec::from_vec(v)))
            .collect();
        self.recent_unplaced_starts = snap.recent_unplaced_starts.into_iter().collect();
        self.late_effects = snap.late_effects.into_iter().collect();
        self.group_cache.clear();
        self.service_region_cache.clear();
        self.rca_cache.clear();
        self.impact_cache.clear();
        self.first_cause_ups.clear();
        Ok(())
    }
}

/// The update's summary, "{component} {class}: {n} alert(s) on {m} resource(s)". Written piece
/// by piece: `format!` with six arguments cost ~1,500 instructions per update.
/// Drops the entries of a queue of (start, what) in arrival order that started before `oldest`.
fn drop_started_before<T>(queue: &mut VecDeque<(Millis, T)>, oldest: Millis) {
    while queue.front().is_some_and(|&(at, _)| at < oldest) {
        queue.pop_front();
    }
}

fn summary_line(component: &str, class: &str, alerts: usize, resources: usize) -> String {
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

/// `PREFIX-DATE-SEQ` with the sequence zero-padded to six digits, as
/// `format!("{prefix}-{date}-{seq:06}")` writes it; built by hand, without `core::fmt`, because
/// every new incident names itself.
fn incident_key(prefix: &str, date: &str, seq: u64) -> String {
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

fn push_decimal(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// `names` as a shared list, gathered in `scratch` and moved into one allocation (a drained
/// `Vec` tells `collect` its length); `empty` itself when there are none.
fn shared_names<'n>(
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
fn impacted_services(topo: &TopologyIndex, node: u32) -> Arc<[Str]> {
    // Sorted and deduplicated as a `BTreeSet` would be, by the topology's service indices: the
    // blast radius names a few services many times over.
    topo.services_impacted_by(NodeIndex::new(node as usize), EdgeMask::ALL, 6, 4096)
}

/// An incident's resources known to the topology, by node, for `root_cause_view`: a sorted list
/// searched by halves, behind a 64-bit filter of the nodes' low bits. The view asks it about
/// every node of the coverage and of the root cause's neighbourhood, mostly silent nodes that
/// the filter turns away in a few instructions; a hash map built per update cost more than the
/// lookups it served (`members_by_node_agrees_with_a_map`).
struct MembersByNode<'a> {
    filter: u64,
    /// On the stack: most incidents have one or two resources.
    sorted: SmallVec<[(u32, &'a ResourceAgg); 4]>,
}

impl<'a> MembersByNode<'a> {
    fn new(resources: impl Iterator<Item = &'a ResourceAgg>) -> Self {
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

    fn len(&self) -> usize {
        self.sorted.len()
    }

    fn get(&self, node: u32) -> Option<&'a ResourceAgg> {
        if self.filter & Self::bit(node) == 0 {
            return None;
        }
        self.sorted
            .binary_search_by_key(&node, |&(n, _)| n)
            .ok()
            .map(|i| self.sorted[i].1)
    }

    fn contains(&self, node: u32) -> bool {
        self.get(node).is_some()
    }
}

/// [`union_sorted`] as a shared list: one of the two itself when it holds the other (a root
/// cause's blast radius mostly names every service of its incident), without a copy.
fn union_shared(a: &Arc<[Str]>, b: &Arc<[Str]>) -> Arc<[Str]> {
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
fn union_sorted(a: &[Str], b: &[Str]) -> Vec<Str> {
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

/// Whether an alert is a recurring check (`Engine::recurring`).
fn is_recurring(st: &AlertState) -> bool {
    u32::from(st.flap.refires) >= RECURRING_AFTER
}

fn find_in(merged: &FxHashMap<u32, u32>, mut id: u32) -> u32 {
    while let Some(&next) = merged.get(&id) {
        id = next;
    }
    id
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

/// Why an alert joined through a node anchor. Built by hand, not `format!`: a node anchor
/// explains most joins, and `core::fmt` cost ~700 instructions a line.
fn push_node_anchor(line: &mut String, id: &str, hops: u8) {
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

/// Identity of the check an alert reports, independent of the resource it fires on: its name
/// and every label whose value does not name the resource (`instance`, `host`... carry it;
/// `cluster`, `env`, `job`, `service` do not). `None` without such a label: a bare alert name
/// firing somewhere in the estate at the same moment locates nothing.
///
/// The bytes hashed are the name, then `0xff key 0xfe value` per such label. They are gathered
/// in a buffer on the stack and hashed in one call: the streaming `Xxh3` (a 576-byte state set
/// up per call, a buffered copy per piece) cost ~900 instructions per new alert. The one-shot
/// hash of the same bytes is the same value (`streamed_check_signature`, which also takes
/// the rare signature longer than the buffer).
pub fn check_signature(name: &str, resource: &str, labels: &[(Str, Str)]) -> Option<u64> {
    let mut bytes = [0u8; 256];
    let mut len = 0;
    let mut put = |piece: &[u8]| match bytes.get_mut(len..len + piece.len()) {
        Some(to) => {
            to.copy_from_slice(piece);
            len += piece.len();
            true
        }
        None => false,
    };
    let mut fits = put(name.as_bytes());
    let mut scoped = false;
    for (k, v) in labels {
        if !resource.is_empty() && names_resource(v, resource) {
            continue;
        }
        scoped = true;
        fits = fits && put(&[0xff]) && put(k.as_bytes()) && put(&[0xfe]) && put(v.as_bytes());
    }
    if !fits {
        return streamed_check_signature(name, resource, labels);
    }
    scoped.then(|| xxhash_rust::xxh3::xxh3_64(&bytes[..len]))
}

/// [`check_signature`] hashed piece by piece with the streaming `Xxh3`, for signatures longer
/// than its buffer (and, in the tests, to check that the one-shot hash gives the same values:
/// signatures are keys of `co_firing_guesses`, which snapshots keep).
fn streamed_check_signature(name: &str, resource: &str, labels: &[(Str, Str)]) -> Option<u64> {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(name.as_bytes());
    let mut scoped = false;
    for (k, v) in labels {
        if !resource.is_empty() && names_resource(v, resource) {
            continue;
        }
        scoped = true;
        h.update(&[0xff]);
        h.update(k.as_bytes());
        h.update(&[0xfe]);
        h.update(v.as_bytes());
    }
    scoped.then(|| h.digest())
}

/// `value.contains(resource)` for a non-empty `resource`. Label values are mostly a few bytes
/// long, and setting up `str::contains`' substring searcher cost more than the search (three
/// per new alert, in `check_signature`): values up to 64 bytes are scanned byte by byte (a
/// match of UTF-8 bytes is a match of characters), longer ones searched as before.
fn names_resource(value: &str, resource: &str) -> bool {
    let (v, r) = (value.as_bytes(), resource.as_bytes());
    let Some(&first) = r.first() else {
        return true;
    };
    if r.len() > v.len() {
        return false;
    }
    if v.len() > 64 {
        return value.contains(resource);
    }
    (0..=v.len() - r.len()).any(|i| v[i] == first && &v[i..i + r.len()] == r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timer_heap::TimerHeap;
    use proptest::prelude::*;

    #[test]
    fn expiry_timers_stay_32_bytes() {
        // One per active alert: as small as the `(Millis, Str)` they replaced.
        assert_eq!(std::mem::size_of::<Expiry>(), 32);
    }

    /// Every hop count, with ids that are empty, plain and multi-byte: the node anchor's line
    /// reads as the `format!` it replaced.
    #[test]
    fn node_anchor_lines_read_as_the_format_they_replace() {
        for id in ["", "sw-core-1", "höst/ä 7"] {
            for hops in 0..=u8::MAX {
                let expected = if hops == 0 {
                    format!("same resource {id}")
                } else {
                    format!(
                        "shares upstream {id} ({hops} hop{})",
                        if hops == 1 { "" } else { "s" }
                    )
                };
                let mut line = String::from("x: ");
                push_node_anchor(&mut line, id, hops);
                assert_eq!(line, format!("x: {expected}"));
            }
        }
    }

    proptest! {
        /// The one-shot signature equals the streamed one: names and labels short and long, so
        /// that the gathered bytes fall in each of xxh3's length classes (up to 16, 128 and 240
        /// bytes, and longer) and past the 256-byte buffer (the streamed fallback); labels
        /// naming the resource left out, and alerts without a scoped label (`None`).
        #[test]
        fn check_signature_equals_the_streamed_hash(
            name in "[a-zA-Z]{0,40}",
            resource in "(|h[0-9])",
            labels in proptest::collection::vec(("[a-z]{1,12}", "(h[0-9]|[a-z0-9:.-]{0,90})"), 0..6),
        ) {
            let labels: Vec<(Str, Str)> = labels
                .into_iter()
                .map(|(k, v)| (Str::from(k), Str::from(v)))
                .collect();
            prop_assert_eq!(
                check_signature(&name, &resource, &labels),
                streamed_check_signature(&name, &resource, &labels)
            );
        }
    }

    proptest! {
        /// The short-value scan answers as `str::contains`: values and resources from a small
        /// alphabet (so that matches, partial matches and repeats are frequent), multi-byte
        /// characters among them, values on both sides of the 64-byte limit.
        #[test]
        fn names_resource_answers_as_contains(
            value in "[ab\u{e4}:-]{0,80}",
            resource in "[ab\u{e4}:-]{1,6}",
        ) {
            prop_assert_eq!(names_resource(&value, &resource), value.contains(resource.as_str()));
        }
    }

    proptest! {
        /// The sorted, filtered lookup answers as a map of the resources by node would, for
        /// nodes in and out of the set, with resources unknown to the topology among them and
        /// nodes that share their low bits (the filter's false positives).
        #[test]
        fn members_by_node_agrees_with_a_map(
            nodes in proptest::collection::btree_set(prop_oneof![0u32..200, Just(NONE)], 0..40),
            probes in proptest::collection::vec(0u32..260, 0..60),
        ) {
            let aggs: Vec<ResourceAgg> = nodes
                .iter()
                .map(|&node| ResourceAgg {
                    node,
                    members: 1,
                    first_seen: i64::from(node),
                    severity: Severity::Error,
                    fingerprint: Str::from(format!("fp{node}")),
                    name: Str::from("Down"),
                    chronic: 0.0,
                })
                .collect();
            let map: FxHashMap<u32, &ResourceAgg> = aggs
                .iter()
                .filter(|a| a.node != NONE)
                .map(|a| (a.node, a))
                .collect();
            let by_node = MembersByNode::new(aggs.iter());
            prop_assert_eq!(by_node.len(), map.len());
            for n in probes.into_iter().chain(nodes.iter().copied()) {
                let want = map.get(&n).map(|a| &a.fingerprint);
                prop_assert_eq!(by_node.get(n).map(|a| &a.fingerprint), want);
                prop_assert_eq!(by_node.contains(n), want.is_some());
            }
        }
    }

    proptest! {
        /// The incident key written piece by piece reads as the `format!` it replaced, for
        /// sequences below, at and far beyond the six padded digits.
        #[test]
        fn incident_key_reads_as_the_format_it_replaces(
            prefix in "[a-zä-]{0,8}",
            date in "[0-9-]{0,10}",
            seq in prop_oneof![0u64..2_000_000, any::<u64>()],
        ) {
            prop_assert_eq!(
                incident_key(&prefix, &date, seq),
                format!("{prefix}-{date}-{seq:06}")
            );
        }

        /// The summary written piece by piece reads as the `format!` it replaced.
        #[test]
        fn summary_line_reads_as_the_format_it_replaces(
            component in "[a-z-]{0,12}",
            class in "[A-Za-z]{0,12}",
            alerts in prop_oneof![0usize..3, any::<usize>()],
            resources in prop_oneof![0usize..3, any::<usize>()],
        ) {
            let want = format!(
                "{} {}: {} alert{} on {} resource{}",
                if component.is_empty() { "unknown" } else { &component },
                if class.is_empty() { "incident" } else { &class },
                alerts,
                if alerts == 1 { "" } else { "s" },
                resources,
                if resources == 1 { "" } else { "s" },
            );
            prop_assert_eq!(summary_line(&component, &class, alerts, resources), want);
        }

        /// The sorted, deduplicated services equal a `BTreeSet` of every impacted node's
        /// service, over random topologies (services reused in and out of runs, edges of every
        /// type, cycles).
        #[test]
        fn impacted_services_equal_the_set_of_the_blast_radius(
            services in proptest::collection::vec(proptest::option::of(0u8..5), 1..24),
            edges in proptest::collection::vec((0usize..24, 0usize..24, 0usize..4), 0..48),
        ) {
            let mut yaml = String::from("nodes:\n");
            for (i, svc) in services.iter().enumerate() {
                match svc {
                    Some(s) => yaml.push_str(&format!("  - {{id: n{i}, kind: host, service: svc-{s}}}\n")),
                    None => yaml.push_str(&format!("  - {{id: n{i}, kind: host}}\n")),
                }
            }
            yaml.push_str("edges:\n");
            let types = ["depends_on", "runs_on", "part_of", "connects_to"];
            for &(a, b, t) in &edges {
                let (a, b) = (a % services.len(), b % services.len());
                if a != b {
                    yaml.push_str(&format!("  - {{from: n{a}, to: n{b}, type: {}}}\n", types[t]));
                }
            }
            let topo = TopologyIndex::build(
                &crate::topology::TopologyFile::parse(&yaml, "t.yaml").unwrap(),
            );
            for node in 0..topo.node_count() {
                let n = NodeIndex::new(node);
                let mut want: BTreeSet<Str> = BTreeSet::new();
                let radius = topo.impact_of_bounded(n, EdgeMask::ALL, 6, 4096);
                for d in std::iter::once(n).chain(radius.iter().map(|&(d, _)| d)) {
                    want.extend(topo.node(d).service.clone());
                }
                let want: Vec<Str> = want.into_iter().collect();
                prop_assert_eq!(&impacted_services(&topo, node as u32)[..], &want[..]);
            }
        }

        /// Same list as collecting both into a `BTreeSet`, as the update builder once did.
        #[test]
        fn union_sorted_is_the_sorted_set_union(
            a in proptest::collection::btree_set("[a-c]{0,3}", 0..8),
            b in proptest::collection::btree_set("[a-c]{0,3}", 0..8),
        ) {
            let a_list: Vec<Str> = a.iter().map(Str::from).collect();
            let b_list: Vec<Str> = b.iter().map(Str::from).collect::<BTreeSet<Str>>().into_iter().collect();
            let expected: Vec<Str> = a.union(&b).map(Str::from).collect();
            prop_assert_eq!(union_sorted(&a_list, &b_list), expected.clone());
            // Shared: the same list, whichever holds the other (or neither).
            let (a_shared, b_shared): (Arc<[Str]>, Arc<[Str]>) = (a_list.into(), b_list.into());
            prop_assert_eq!(&union_shared(&a_shared, &b_shared)[..], &expected[..]);
            prop_assert_eq!(&union_shared(&b_shared, &a_shared)[..], &expected[..]);
            let union: Arc<[Str]> = expected.clone().into();
            prop_assert_eq!(&union_shared(&a_shared, &union)[..], &expected[..]);
            prop_assert_eq!(&union_shared(&union, &b_shared)[..], &expected[..]);
        }

        /// A view's shared list holds the names in order, whatever the scratch held before
        /// (long names too, which a `Str` keeps on the heap); no names is the shared empty list.
        #[test]
        fn shared_names_are_the_names_in_order(
            names in proptest::collection::btree_set("[a-c]{0,3}|[a-z]{25,30}", 0..8),
            stale in proptest::collection::vec("[a-z]{0,30}", 0..4),
        ) {
            let names: Vec<Str> = names.iter().map(Str::from).collect();
            let mut scratch: Vec<Str> = stale.iter().map(Str::from).collect();
            let empty: Arc<[Str]> = Arc::from([]);
            let shared = shared_names(&mut scratch, &empty, names.iter());
            prop_assert_eq!(&shared[..], &names[..]);
            prop_assert_eq!(Arc::ptr_eq(&shared, &empty), names.is_empty());
            prop_assert!(scratch.is_empty());
        }

        /// Split into a queue per kind, the timers still pop in the order of one heap of
        /// `StateTimer`s, ties at the same millisecond included, with pushes and pops
        /// interleaved: queues short and long, pushed in and far out of order.
        #[test]
        fn state_timers_pop_in_single_heap_order(
            ops in proptest::collection::vec((0i64..4, 0u8..5, "[a-c]{1,2}", any::<bool>()), 0..200),
        ) {
            let mut split = StateTimers::default();
            let mut single = TimerHeap::new();
            for (at, kind, fp, pop) in ops {
                if pop {
                    prop_assert_eq!(split.pop(), single.pop());
                    continue;
                }
                let fp = Str::from(fp);
                let timer = match kind {
                    0 => StateTimer::Expire(fp),
                    1 => StateTimer::Close(fp.len() as u32),
                    2 => StateTimer::Forget(fp),
                    3 => StateTimer::DropReopenable(fp),
                    _ => StateTimer::MaintenanceEnd(fp),
                };
                split.push(Reverse((at, timer.clone())));
                single.push(Reverse((at, timer)));
                prop_assert_eq!(split.next().map(|(_, at)| at), single.peek().map(|Reverse((at, _))| *at));
            }
            let mut snapshot: Vec<_> = split.timers().collect();
            let mut expected: Vec<_> = single.iter().map(|Reverse(t)| t.clone()).collect();
            snapshot.sort();
            expected.sort();
            prop_assert_eq!(snapshot, expected);
            while let Some(timer) = single.pop() {
                prop_assert_eq!(split.pop(), Some(timer));
            }
            prop_assert_eq!(split.pop(), None);
        }

        /// Expiry timers order as `Reverse<(Millis, Str)>`: fingerprints of the lengths the
        /// inline comparison takes (8 to 16 bytes, equal or not) and of others, sharing
        /// prefixes and deadlines often.
        #[test]
        fn expiries_order_as_reversed_time_and_fingerprint(
            (at_a, at_b) in (0i64..3, 0i64..3),
            (shared, end_a, end_b) in ("[ab]{0,14}", "[ab\\x00]{0,4}", "[ab\\x00]{0,4}"),
        ) {
            let a = (at_a, format!("{shared}{end_a}"));
            let b = (at_b, format!("{shared}{end_b}"));
            let expiry = |(at, fp): &(i64, String)| Expiry { at: *at, fingerprint: Str::from(fp.as_str()) };
            let tuple = |(at, fp): &(i64, String)| Reverse((*at, Str::from(fp.as_str())));
            prop_assert_eq!(expiry(&a).cmp(&expiry(&b)), tuple(&a).cmp(&tuple(&b)));
            prop_assert_eq!(expiry(&a) == expiry(&b), tuple(&a) == tuple(&b));
        }

        /// Pruning that skips the incident lookups (and, with nothing stale, the entries) keeps
        /// exactly what looking up every entry's incident at every visit keeps; `position_of`
        /// finds what looking up every entry finds; the bounds hold after every change; and an
        /// anchor `may_link` turns down links no entry makes: through opens, registrations on
        /// and below the anchor (new entries, and entries taken over by the incident their own
        /// was merged into), releases, closes, merges, reopens of a closed id, and removals of
        /// incidents with no entry on the anchor.
        #[test]
        fn pruning_without_lookups_keeps_what_eager_pruning_keeps(
            ops in proptest::collection::vec((0u8..9, any::<u16>(), any::<u16>()), 1..300),
            (max_hops, impact_hops, window) in (1u8..4, 1u8..4, 1i64..80),
        ) {
            let max_window = 100;
            let rule = GroupingRule { max_hops, impact_hops, window, ..GroupingRule::fallback() };
            let mut open: BTreeSet<u32> = BTreeSet::new();
            let mut closed: Vec<u32> = Vec::new();
            let mut absorbers: BTreeSet<u32> = BTreeSet::new();
            let mut merged: FxHashMap<u32, u32> = FxHashMap::default();
            let mut removals = Removals::default();
            let mut lazy = AnchorEntries::default();
            let mut eager: Vec<AnchorEntry> = Vec::new();
            let (mut next_id, mut now) = (1u32, 0 as Millis);
            let pick = |set: &BTreeSet<u32>, n: u16| set.iter().nth(n as usize % set.len().max(1)).copied();
            // An entry may name the incident its own was merged into: the same for `find_in`.
            let fields = |e: &AnchorEntry, merged: &FxHashMap<u32, u32>| {
                (find_in(merged, e.incident), e.first, e.last, e.below_hops, e.on_active, e.on_last, e.below_unexplained)
            };
            for (op, a, b) in ops {
                // Members registering the anchor: (incident, hops, t, becomes_active, explained).
                let mut registrations: Vec<(u32, u8, Millis, bool, bool)> = Vec::new();
                match op {
                    // An incident opens; at times 70 at once, each registering the anchor (more
                    // entries than `maybe_merged` has bits).
                    0 => {
                        let n = if a % 16 == 0 { 70 } else { 1 };
                        for _ in 0..n {
                            open.insert(next_id);
                            if n > 1 {
                                registrations.push((next_id, (b % 4) as u8, now, true, false));
                            }
                            next_id += 1;
                        }
                    }
                    // A member registers the anchor, on it or 1-3 hops below it, as
                    // `register_anchors` does (a little late at times).
                    1 => {
                        let Some(inc) = pick(&open, a) else { continue };
                        now += Millis::from(b % 30);
                        let t = now - Millis::from(b % 7 / 5);
                        registrations.push((inc, (a >> 8) as u8 % 4, t, b & 1 == 0, b & 2 == 0));
                    }
                    // A member on the anchor stops firing, as `release_anchors` does.
                    7 => {
                        let Some(inc) = pick(&open, a) else { continue };
                        now += Millis::from(b % 30);
                        lazy.release(inc, now, &merged);
                        if let Some(e) = eager.iter_mut().find(|e| e.on_active > 0 && find_in(&merged, e.incident) == inc) {
                            e.on_active -= 1;
                            e.on_last = e.on_last.max(now);
                        }
                    }
                    2 | 3 => {
                        let Some(inc) = pick(&open, a) else { continue };
                        open.remove(&inc);
                        removals.record(inc);
                        if op == 3 {
                            // Merged into another open incident, or closed when there is none.
                            if let Some(into) = pick(&open, b) {
                                merged.insert(inc, into);
                                absorbers.insert(into);
                                continue;
                            }
                        }
                        closed.push(inc);
                    }
                    // A closed incident reopens under its id, dropping its own entries (only one
                    // that absorbed no other, as `Engine::take_reopenable`).
                    4 => {
                        let reopenable: Vec<usize> = (0..closed.len()).filter(|&i| !absorbers.contains(&closed[i])).collect();
                        if reopenable.is_empty() { continue; }
                        let inc = closed.remove(reopenable[a as usize % reopenable.len()]);
                        open.insert(inc);
                        lazy.drop_incident(inc);
                        eager.retain(|e| e.incident != inc);
                    }
                    // Removals of incidents that have no entry here: a few, or more than
                    // `prune` compares, or more than are kept.
                    5 => {
                        let n = [1, 3, 300, 2 * Removals::KEPT][a as usize % 4];
                        for i in 0..n {
                            removals.record(u32::MAX - i as u32);
                        }
                    }
                    // An alert at about `now` looks the anchor up from 0-3 hops (through a hub,
                    // a service or a co-firing check at times): if the bounds say no entry
                    // links, none does.
                    8 => {
                        let t = now + Millis::from(b % 200) - 100;
                        let hops = (a % 4) as u8;
                        let (key, hops) = match (a >> 2) % 5 {
                            0 => (AnchorKey::Service(Str::from("s")), if hops == 0 { 0 } else { WEAK }),
                            1 => (AnchorKey::CoFiring(7), if hops == 0 { 0 } else { WEAK }),
                            _ => (AnchorKey::Node(1), hops),
                        };
                        let anchor = AlertAnchor { key, hops, hub: (a >> 5) % 3 == 0 };
                        let severity = if (a >> 7) % 2 == 0 { Severity::Warning } else { Severity::Critical };
                        if !lazy.may_link(&anchor, t, window, &rule, severity) {
                            for e in &eager {
                                if matches!(anchor.key, AnchorKey::CoFiring(_)) {
                                    prop_assert_eq!(co_firing_gap(e, &anchor, t), None);
                                } else {
                                    prop_assert_eq!(link_hops(e, &anchor, t, t, window, &rule, severity), None);
                                }
                            }
                        }
                    }
                    _ => {
                        let watermark = now - Millis::from(b % 150);
                        let open_root = |id| {
                            let root = find_in(&merged, id);
                            open.contains(&root).then_some(root)
                        };
                        lazy.prune(watermark, max_window, &removals, open_root);
                        eager.retain(|e| e.live_at(watermark, max_window) && open_root(e.incident).is_some());
                    }
                }
                for (inc, hops, t, becomes_active, explained) in registrations {
                    // The same entry (lazy's list may hold dead entries before it).
                    let found = eager.iter().position(|e| find_in(&merged, e.incident) == inc);
                    prop_assert_eq!(
                        lazy.position_of(inc, &removals, &merged).map(|i| fields(&lazy.entries[i], &merged)),
                        found.map(|i| fields(&eager[i], &merged))
                    );
                    // Found by id alone, whatever the list's last check, when nothing was
                    // merged into it (`Engine::register_anchors`' `ids_are_own`).
                    let ids_are_own = !absorbers.contains(&inc);
                    if ids_are_own {
                        prop_assert_eq!(
                            lazy.position_by_id(inc).map(|i| fields(&lazy.entries[i], &merged)),
                            found.map(|i| fields(&eager[i], &merged))
                        );
                    }
                    lazy.register(inc, hops, t, becomes_active, explained, ids_are_own, &removals, &merged);
                    let e = match found {
                        Some(i) => &mut eager[i],
                        None => {
                            eager.push(AnchorEntry {
                                incident: inc, first: t, last: t, below_hops: NO_HOPS,
                                on_active: 0, on_last: Millis::MIN, on_start: Millis::MAX, below_unexplained: 0,
                            });
                            eager.last_mut().unwrap()
                        }
                    };
                    e.incident = inc;
                    e.first = e.first.min(t);
                    e.last = e.last.max(t);
                    if hops == 0 {
                        e.on_start = if e.on_start == Millis::MAX { t } else { e.on_start.max(t) };
                        e.on_last = e.on_last.max(t);
                        e.on_active += u32::from(becomes_active);
                    } else {
                        e.below_hops = if e.below_hops == NO_HOPS { hops } else { e.below_hops.min(hops) };
                        e.below_unexplained += u32::from(!explained);
                    }
                }
                prop_assert!(lazy.bounds.hold_for(&lazy.entries), "bounds {:?} do not hold", lazy.bounds);
                prop_assert!(lazy.iter().all(|e| lazy.incident_bits & incident_bit(e.incident) != 0));
                prop_assert!(lazy.entries.iter().all(|e| e.incident <= lazy.max_incident));
                prop_assert!(lazy.repeats_incident || !repeats_an_incident(&lazy.live_entries()));
                let kept: Vec<_> = lazy.iter().map(|e| fields(e, &merged)).collect();
                let expected: Vec<_> = eager.iter().map(|e| fields(e, &merged)).collect();
                prop_assert_eq!(kept, expected);
            }
        }

        /// Dropping the stale entries by their `quiet_since` keeps what `live_at` keeps, in
        /// order, with exact bounds: entries firing on the anchor, quiet ones with and without a
        /// member ever on it, watermarks near `Millis::MIN` (the subtraction saturates) and
        /// entries exactly `max_window` old.
        #[test]
        fn dropping_stale_entries_keeps_what_live_at_keeps(
            entries in proptest::collection::vec(
                (0u32..200, 0i64..400, 0u8..4, 0u32..3, proptest::option::of(0i64..400)),
                0..40,
            ),
            watermark in prop_oneof![0i64..600, Just(Millis::MIN), Just(Millis::MIN + 5)],
            max_window in 0i64..200,
        ) {
            let entries: Vec<AnchorEntry> = entries
                .into_iter()
                .map(|(incident, last, below_hops, on_active, on_last)| AnchorEntry {
                    incident,
                    first: last / 2,
                    last,
                    below_hops,
                    on_active,
                    on_last: on_last.unwrap_or(Millis::MIN),
                    on_start: Millis::MAX,
                    below_unexplained: 0,
                })
                .collect();
            let mut fast = AnchorEntries::from_vec(entries.clone());
            let mut eager = AnchorEntries::from_vec(entries);
            fast.drop_stale(watermark.saturating_sub(max_window));
            eager.retain(|e| e.live_at(watermark, max_window));
            let incidents = |list: &AnchorEntries| list.iter().map(|e| (e.incident, e.last, e.on_last)).collect::<Vec<_>>();
            prop_assert_eq!(incidents(&fast), incidents(&eager));
            prop_assert_eq!(fast.bounds, eager.bounds);
            prop_assert_eq!(fast.bounds, EntryBounds::of(&fast.entries));
            prop_assert_eq!(fast.incident_bits, eager.incident_bits);
        }
    }

    /// Two racks under one core switch, a service on a host, and room for merges: enough for
    /// root causes to move between alerting and silent nodes as members join and merge.
    const ROOT_CAUSE_TOPOLOGY: &str = "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch}\n  - {id: tor-b, kind: switch}\n  - {id: host-a1, kind: host}\n  - {id: host-a2, kind: host}\n  - {id: host-b1, kind: host}\n  - {id: app-1, kind: service, service: shop}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: tor-b, to: core-1, type: connects_to}\n  - {from: host-a1, to: tor-a, type: part_of}\n  - {from: host-a2, to: tor-a, type: part_of}\n  - {from: host-b1, to: tor-b, type: part_of}\n  - {from: app-1, to: host-a1, type: runs_on}\n";

    /// Rules that rank root causes differently from the default ones (a reload must not keep
    /// a root cause chosen under the old ranking).
    const HOST_FIRST_RULES: &str = "settings:\n  alert_expiry: 4m\n  root_cause:\n    prefer_kinds: [host, service, switch]\n    prefer_names: [Disk.*]\n";

    /// The alerts the side-by-side proptests draw from: some resources carry two alerts (a
    /// second one joins a member resource), two are unknown to the topology.
    const SIDE_BY_SIDE_ALERTS: [(&str, &str); 11] = [
        ("HostDown", "host-a1"),
        ("HostUnreachable", "host-a1"),
        ("Restarts", "app-1"),
        ("HostDown", "host-a2"),
        ("DiskFull", "host-b1"),
        ("SwitchDown", "tor-a"),
        ("SwitchDown", "tor-b"),
        ("CoreDown", "core-1"),
        ("Errors", "app-1"),
        ("Errors", "pod-unknown-1"),
        ("Latency", "pod-unknown-2"),
    ];

    /// Runs two engines through the same steps (alert index, severity index, action, seconds
    /// since the previous step) and returns both outputs. Mostly firing (new or repeated); some
    /// resolves, a long silence, a reload of the ranking rules.
    fn side_by_side(
        steps: &[(usize, usize, u8, i64)],
        a: &mut Engine,
        b: &mut Engine,
    ) -> (Vec<IncidentUpdate>, Vec<IncidentUpdate>) {
        let severities = [
            Severity::Warning,
            Severity::Error,
            Severity::Critical,
            Severity::Info,
        ];
        let host_first = Arc::new(RuleSet::from_yaml(HOST_FIRST_RULES, "r.yaml").unwrap());
        let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
        let mut t = 0;
        for &(alert, severity, action, dt) in steps {
            t += dt * 1_000;
            let (name, resource) = SIDE_BY_SIDE_ALERTS[alert];
            let mut alert = Alert::firing(name, resource, t);
            alert.severity = severities[severity];
            match action {
                0 | 1 => {
                    alert.status = Status::Resolved;
                    alert.ends_at = Some(t);
                }
                2 => {
                    t += 600_000;
                    a.advance_to(t, &mut out_a);
                    b.advance_to(t, &mut out_b);
                    continue;
                }
                3 => {
                    let topology = a.topology.clone();
                    a.reload(host_first.clone(), topology.clone());
                    b.reload(host_first.clone(), topology);
                    continue;
                }
                _ => {}
            }
            a.ingest(alert.clone(), &mut out_a);
            b.ingest(alert, &mut out_b);
        }
        a.finish(&mut out_a);
        b.finish(&mut out_b);
        (out_a, out_b)
    }

    proptest! {
        /// Updates that reuse an incident's root cause while its members, resources, coverage
        /// and services are unchanged are exactly the updates that recompute it every time:
        /// through joins, merges, severities rising on repeats, resolves, expiries, closes,
        /// reopens, resources the topology does not know, and reloads of the ranking rules.
        #[test]
        fn kept_root_causes_equal_recomputed_ones(
            steps in proptest::collection::vec((0usize..11, 0usize..4, 0u8..10, 1i64..90), 1..80),
        ) {
            let mut kept = engine_over(ROOT_CAUSE_TOPOLOGY);
            let mut fresh = engine_over(ROOT_CAUSE_TOPOLOGY);
            fresh.cache_root_causes = false;
            let (out_kept, out_fresh) = side_by_side(&steps, &mut kept, &mut fresh);
            prop_assert_eq!(out_kept, out_fresh);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Root-cause views that skip the silent-node scan and the first-cause walk for an
        /// incident with one member resource on the topology (its first view, mostly) name the
        /// same root cause, confidence, reason and runner-up as views that run both: through
        /// joins of chained resources, unknown ones, severities, resolves, merges, reloads.
        #[test]
        fn single_member_views_equal_fully_scanned_ones(
            steps in proptest::collection::vec((0usize..11, 0usize..4, 0u8..10, 1i64..90), 1..60),
        ) {
            let mut skipping = engine_over(ROOT_CAUSE_TOPOLOGY);
            let mut scanning = engine_over(ROOT_CAUSE_TOPOLOGY);
            // Every update computes its view: none is carried over from an earlier one.
            skipping.cache_root_causes = false;
            scanning.cache_root_causes = false;
            scanning.skip_single_member_scans = false;
            let (out_skipping, out_scanning) = side_by_side(&steps, &mut skipping, &mut scanning);
            prop_assert_eq!(out_skipping, out_scanning);
        }
    }

    /// Stale entries left in place are gone to every reader: a later registration of their
    /// incident adds a fresh entry after the others (as after an eager drop), a late one (before
    /// the stale bound) stays visible until the next prune, and a long list drops its dead.
    #[test]
    fn dead_anchor_entries_are_skipped_as_if_dropped() {
        let (removals, merged) = (Removals::default(), FxHashMap::default());
        let mut list = AnchorEntries::new(&removals);
        let open = |id| Some(id);
        list.register(1, 1, 0, false, false, false, &removals, &merged);
        list.register(2, 1, 50, false, false, false, &removals, &merged);
        // Watermark 130, window 100: incident 1's entry (quiet since 0) is stale, 2's is not.
        list.prune(130, 100, &removals, open);
        let incidents = |list: &AnchorEntries| {
            list.iter()
                .map(|e| (e.incident, e.first))
                .collect::<Vec<_>>()
        };
        assert_eq!(incidents(&list), [(2, 50)]);
        assert_eq!(list.entries.len(), 2, "the stale entry stays in place");
        assert_eq!(list.position_of(1, &removals, &merged), None);
        // Incident 1 registers again: a fresh entry at the end, not the dead one revived.
        list.register(1, 2, 140, false, false, false, &removals, &merged);
        assert_eq!(incidents(&list), [(2, 50), (1, 140)]);
        // A late registration (t 20, before the stale bound 30) is live until the next prune.
        list.register(3, 1, 20, false, false, false, &removals, &merged);
        assert_eq!(incidents(&list), [(2, 50), (1, 140), (3, 20)]);
        list.prune(130, 100, &removals, open);
        assert_eq!(incidents(&list), [(2, 50), (1, 140)]);
        // Registrations on a list of dead entries drop them before it grows.
        list.prune(300, 100, &removals, open);
        assert!(list.is_empty());
        for id in 10..20 {
            list.register(id, 1, 300, false, false, false, &removals, &merged);
        }
        assert_eq!(list.entries.len(), 10, "the dead went before the pushes");
        assert!(list.bounds.hold_for(&list.entries));
    }

    #[test]
    fn a_node_anchor_may_link_as_may_link_says() {
        let (t, window) = (1_000_000, 300_000);
        for (max_hops, impact_hops) in [(0, 0), (1, 3), (2, 3), (3, 1), (4, 4), (255, 255)] {
            let rule = GroupingRule {
                max_hops,
                impact_hops,
                ..GroupingRule::fallback()
            };
            for severity in Severity::ALL {
                let filter = NodeLinkFilter::new(&rule, severity);
                for below_hops_min in [1, 2, 3, 4, 5, 253, 254, u8::MAX] {
                    for (on_active, on_last_max) in [
                        (0, Millis::MIN),
                        (1, Millis::MIN),
                        (0, t - window - 1),
                        (0, t - window),
                    ] {
                        let list = AnchorEntries {
                            bounds: EntryBounds {
                                on_active,
                                on_last_max,
                                below_hops_min,
                                quiet_min: 0,
                            },
                            ..AnchorEntries::default()
                        };
                        for (hops, hub) in (0..=6)
                            .chain([254, 255])
                            .flat_map(|h| [(h, false), (h, true)])
                        {
                            let a = node_anchor(&(7, hops, hub));
                            assert_eq!(
                                list.node_may_link(hops, hub, t, window, filter),
                                list.may_link(&a, t, window, &rule, severity),
                                "max_hops {max_hops}, {severity:?}, below {below_hops_min}, \
                                 active {on_active}, on_last {on_last_max}, hops {hops}, hub {hub}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_registration_after_a_removal_elsewhere_catches_the_list_up_and_finds_by_id() {
        let (mut removals, mut merged) = (Removals::default(), FxHashMap::default());
        let mut list = AnchorEntries::new(&removals);
        list.register(1, 1, 0, false, false, false, &removals, &merged);
        list.register(2, 1, 10, false, false, false, &removals, &merged);
        // Incident 65 (incident 1's bit) merged into 2 elsewhere: no entry here is of it, so
        // the next registration brings the list up to date and updates incident 1's entry.
        removals.record(65);
        merged.insert(65, 2);
        list.register(1, 2, 20, false, true, false, &removals, &merged);
        assert_eq!(list.checked_at, removals.count());
        let entries = |list: &AnchorEntries| {
            list.iter()
                .map(|e| (e.incident, e.first, e.last))
                .collect::<Vec<_>>()
        };
        assert_eq!(entries(&list), [(1, 0, 20), (2, 10, 10)]);
        // Incident 1 itself merged into 2: its entry is one of 2's now, so the list stays
        // unchecked (`position_of` looks incidents up) and 2 takes over the first of them.
        removals.record(1);
        merged.insert(1, 2);
        list.register(2, 1, 30, false, false, false, &removals, &merged);
        assert_ne!(list.checked_at, removals.count());
        assert_eq!(entries(&list), [(2, 0, 30), (2, 10, 10)]);
        assert!(list.bounds.hold_for(&list.entries));
    }

    #[test]
    fn an_incident_nothing_was_merged_into_finds_its_entry_by_id_on_an_unchecked_list() {
        let (mut removals, merged) = (Removals::default(), FxHashMap::default());
        let mut list = AnchorEntries::new(&removals);
        list.register(1, 1, 0, false, false, true, &removals, &merged);
        list.register(2, 1, 10, false, false, true, &removals, &merged);
        // Incidents 65 (incident 1's bit) and 2 closed: the list is left as it was checked
        // (as `correlate` leaves a list no link is read from).
        removals.record(65);
        removals.record(2);
        list.register(1, 2, 20, false, true, true, &removals, &merged);
        list.register(3, 0, 25, true, false, true, &removals, &merged);
        assert_ne!(list.checked_at, removals.count(), "no removal compared");
        let entries = |list: &AnchorEntries| {
            list.iter()
                .map(|e| (e.incident, e.first, e.last))
                .collect::<Vec<_>>()
        };
        // Incident 1's entry updated, not a second one added; a new incident's pushed.
        assert_eq!(entries(&list), [(1, 0, 20), (2, 10, 10), (3, 25, 25)]);
        assert!(list.bounds.hold_for(&list.entries));
        // The next prune compares the removals and drops the closed incident's entry.
        let open = |id: u32| (id != 2 && id != 65).then_some(id);
        list.prune(30, 100, &removals, open);
        assert_eq!(list.checked_at, removals.count());
        assert_eq!(entries(&list), [(1, 0, 20), (3, 25, 25)]);
    }

    #[test]
    fn incident_keys_carry_the_date_of_their_day() {
        let mut engine = Engine::new(
            Arc::new(RuleSet::default()),
            Arc::new(TopologyIndex::empty()),
        );
        let day = 86_400_000;
        // Same day twice (the cached date), the next day, back, and outside 1970..=9999.
        for t in [
            5 * day + 1,
            6 * day - 1,
            6 * day,
            5 * day,
            -1,
            300_000 * day,
        ] {
            let full = format_event_time_str(t);
            let date = engine.incident_key_date(t);
            assert_eq!(
                date.as_str(),
                full.get(..10).unwrap_or("0000-00-00"),
                "at {t}"
            );
        }
    }

    #[test]
    fn a_reopened_incident_drops_only_live_entries_of_its_last_episode() {
        let (removals, merged) = (Removals::default(), FxHashMap::default());
        let mut list = AnchorEntries::new(&removals);
        list.register(1, 1, 0, false, false, false, &removals, &merged);
        list.register(2, 1, 50, false, false, false, &removals, &merged);
        list.prune(130, 100, &removals, Some);
        // Incident 1's entry is dead: nothing for a reader to find, nothing to drop.
        list.drop_incident(1);
        assert_eq!(list.entries.len(), 2, "no pass made for a dead entry");
        list.drop_incident(2);
        assert!(list.is_empty());
        assert!(list.bounds.hold_for(&list.entries));
    }

    #[test]
    fn an_update_of_an_unchanged_membership_reuses_the_root_cause_and_a_join_replaces_it() {
        let mut engine = engine_over(ROOT_CAUSE_TOPOLOGY);
        let mut out = Vec::new();
        engine.ingest(Alert::firing("HostDown", "host-a1", 0), &mut out);
        let id = engine.incidents.keys().copied().next().unwrap();
        let kept = |e: &Engine| {
            e.incidents[&id]
                .root_cause
                .as_ref()
                .map(|v| v.root.resource.clone())
        };
        assert_eq!(
            kept(&engine).as_deref(),
            Some("host-a1"),
            "kept by the opening update"
        );
        // A join forgets it; the next update chooses again (the rack's switch, silent).
        engine.ingest(Alert::firing("HostDown", "host-a2", 1_000), &mut out);
        assert_eq!(kept(&engine), None);
        engine.advance_to(120_000, &mut out);
        assert_eq!(kept(&engine).as_deref(), Some("tor-a"));
        let updates = out.len();
        // A repeat with a higher severity is reported with the root cause it kept.
        let mut worse = Alert::firing("HostDown", "host-a1", 0);
        worse.severity = Severity::Critical;
        engine.ingest(worse, &mut out);
        engine.advance_to(240_000, &mut out);
        assert!(out.len() > updates, "the severity change is reported");
        assert_eq!(kept(&engine).as_deref(), Some("tor-a"));
        let last = &out.last().unwrap().payload;
        assert_eq!(last.severity, Severity::Critical);
        assert_eq!(last.custom_details.root_cause.resource, "tor-a");
    }

    /// A member on a resource already counted adds no cover, but only while the topology its
    /// neighbourhood was counted under holds: after a reload that puts a switch above its host,
    /// the next alert on the host counts the switch (with the default cover a probe adds).
    #[test]
    fn a_member_on_a_counted_resource_after_a_reload_counts_the_new_neighbourhood() {
        const NODES: &str =
            "nodes:\n  - {id: host-a1, kind: host}\n  - {id: tor-a, kind: switch}\n";
        let mut engine = engine_over(NODES);
        let mut out = Vec::new();
        engine.ingest(Alert::firing("HostDown", "host-a1", 0), &mut out);
        let id = engine.incidents.keys().copied().next().unwrap();
        let covers_switch = |e: &Engine| {
            let tor = e.topology.resolve("tor-a").unwrap().index() as u32;
            e.incidents[&id].coverage.contains_key(&tor)
        };
        assert!(!covers_switch(&engine));
        let linked = format!("{NODES}edges:\n  - {{from: host-a1, to: tor-a, type: part_of}}\n");
        let topo = crate::topology::TopologyFile::parse(&linked, "t.yaml").unwrap();
        let rules = engine.rules.clone();
        engine.reload(rules, Arc::new(TopologyIndex::build(&topo)));
        engine.ingest(Alert::firing("HostUnreachable", "host-a1", 1_000), &mut out);
        assert_eq!(engine.incidents.len(), 1, "joined the host's incident");
        assert!(covers_switch(&engine));
    }

    /// An engine with the default rules over a topology written inline.
    fn engine_over(topology_yaml: &str) -> Engine {
        let topo = crate::topology::TopologyFile::parse(topology_yaml, "t.yaml").unwrap();
        Engine::new(
            Arc::new(RuleSet::default()),
            Arc::new(TopologyIndex::build(&topo)),
        )
    }

    #[test]
    fn service_regions_are_cached_only_for_services_the_cmdb_knows() {
        let mut engine = engine_over(
            "nodes:\n  - {id: db-1, kind: database, service: payroll}\n  - {id: host-1, kind: host}\nedges:\n  - {from: db-1, to: host-1, type: runs_on}\n",
        );
        let mut out = Vec::new();
        engine.ingest(Alert::firing("HostDown", "host-1", 0), &mut out);
        // Unknown resources naming a thousand services the CMDB has never heard of...
        for i in 0..1000 {
            let mut a = Alert::firing("Errors", &format!("pod-{i}"), 1_000 + i);
            a.service = Some(compact_str::format_compact!("made-up-{i}"));
            engine.ingest(a, &mut out);
        }
        assert!(engine.service_region_cache.is_empty());
        // ...and one of a known service, which is cached once.
        let mut a = Alert::firing("Errors", "payroll-pod-7", 2_000);
        a.service = Some("payroll".into());
        engine.ingest(a, &mut out);
        assert_eq!(engine.service_region_cache.len(), 1);
    }

    proptest! {
        /// The anchor table answers as a map from anchor to list would, through insertions,
        /// registrations and sweeps that drop lists (slots freed and reused, trailing ones given
        /// back), with node anchors inside and beyond its node index and anchors of other kinds.
        #[test]
        fn the_anchor_table_holds_what_a_map_holds(
            nodes in 0usize..6,
            ops in proptest::collection::vec((0u8..3, 0u32..10, 0u32..40), 1..120),
        ) {
            let key = |k: u32| match k % 3 {
                0 => AnchorKey::Node(k / 3),
                1 => AnchorKey::Service(Str::from(format!("svc-{k}"))),
                _ => AnchorKey::CoFiring(u64::from(k)),
            };
            let removals = Removals::default();
            let mut table = AnchorTable::new(nodes);
            let mut map: FxHashMap<AnchorKey, Vec<u32>> = FxHashMap::default();
            for (op, k, inc) in ops {
                let k = key(k);
                match op {
                    // Register an entry of incident `inc` on the anchor.
                    0 | 1 => {
                        let slot = table.slot_or_insert(&k, &removals);
                        prop_assert_eq!(table.slot(&k), Some(slot));
                        table.at_mut(slot).register(inc, 0, 0, false, false, false, &removals, &FxHashMap::default());
                        let ids = map.entry(k.clone()).or_default();
                        if !ids.contains(&inc) {
                            ids.push(inc);
                        }
                    }
                    // Sweep: lists holding an incident below `inc` lose them; empty ones go.
                    _ => {
                        table.retain(|list| {
                            list.retain(|e| e.incident >= inc);
                            !list.is_empty()
                        });
                        map.retain(|_, ids| {
                            ids.retain(|&i| i >= inc);
                            !ids.is_empty()
                        });
                    }
                }
                prop_assert_eq!(table.len(), map.len());
                // Keys and lists side by side; a free slot holds no entries.
                prop_assert_eq!(table.keys.len(), table.lists.len());
                for &slot in &table.free {
                    prop_assert!(table.keys[slot as usize].is_none());
                    prop_assert!(table.lists[slot as usize].is_empty());
                }
                for k in (0..10).map(key) {
                    let held: Option<Vec<u32>> =
                        table.get(&k).map(|l| l.iter().map(|e| e.incident).collect());
                    prop_assert_eq!(held.as_ref(), map.get(&k));
                    // `correlate`'s pass over node anchors finds the same slots.
                    if let AnchorKey::Node(n) = k {
                        prop_assert_eq!(table.node_slot(n), table.slot(&k).unwrap_or(NO_SLOT));
                    }
                }
                let mut listed: Vec<AnchorKey> = table.iter().map(|(k, _)| k.clone()).collect();
                let mut expected: Vec<AnchorKey> = map.keys().cloned().collect();
                listed.sort();
                expected.sort();
                prop_assert_eq!(listed, expected);
            }
        }

        /// The neighbourhood caches answer as a map keyed by (rule, node): inserts, overwrites
        /// and clears, rules and nodes beyond what the vectors hold so far, lookups of what was
        /// never inserted (`GroupCache` is a `NodeCache` per rule, as `rca_cache` is one).
        #[test]
        fn the_group_cache_holds_what_a_map_holds(
            ops in proptest::collection::vec((0u8..8, 0u16..4, 0u32..30), 1..120),
        ) {
            let mut cache = GroupCache::default();
            let mut map: FxHashMap<(u16, u32), GroupNeighbourhood> = FxHashMap::default();
            for (step, (op, rule, node)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        cache.clear();
                        map.clear();
                    }
                    1..=3 => {
                        let v: GroupNeighbourhood = Arc::from([(node, op, step % 2 == 0)]);
                        cache.insert(rule, node, v.clone());
                        map.insert((rule, node), v);
                    }
                    _ => {}
                }
                for rule in 0..5 {
                    for node in 0..32 {
                        prop_assert_eq!(cache.get(rule, node), map.get(&(rule, node)));
                    }
                }
            }
        }

        /// What a member that stops firing releases: `anchors_on_alert` lists exactly the
        /// anchors of `anchors_of` at 0 hops, in order, under topology and `group_by` rules, for
        /// alerts the CMDB knows and does not, with and without a service and labels.
        #[test]
        fn the_anchors_on_an_alert_are_those_of_its_list_at_no_hops(
            rules in 0usize..3,
            alerts in proptest::collection::vec(
                (0usize..3, 0usize..6, 0usize..3, proptest::option::of(0usize..2)), 1..12),
        ) {
            let rules = [
                "groupings:\n  - name: topology\n",
                "groupings:\n  - name: by-cluster\n    group_by: [labels.cluster]\n",
                "groupings:\n  - name: by-cluster\n    match: {labels: {cluster: {exists: true}}}\n    group_by: [labels.cluster]\n    topology: false\n  - name: topology\n",
            ][rules];
            let topo = crate::topology::TopologyFile::parse(
                "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch, service: net}\n  - {id: host-a, kind: host}\n  - {id: host-b, kind: host}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: host-a, to: tor-a, type: part_of}\n  - {from: host-b, to: tor-a, type: part_of}\n",
                "t.yaml",
            )
            .unwrap();
            let mut engine = Engine::new(
                Arc::new(RuleSet::from_yaml(rules, "r.yaml").unwrap()),
                Arc::new(TopologyIndex::build(&topo)),
            );
            let resources = ["core-1", "tor-a", "host-a", "host-b", "pod-1", "pod-2"];
            let (mut out, mut fingerprints) = (Vec::new(), Vec::new());
            for (i, &(name, resource, service, cluster)) in alerts.iter().enumerate() {
                let mut a = Alert::firing(
                    ["HostDown", "Errors", "Latency"][name],
                    resources[resource],
                    i as Millis * 1_000,
                );
                a.service = [None, Some("net".into()), Some("payroll".into())][service].clone();
                if let Some(c) = cluster {
                    a.labels.push(("cluster".into(), ["eu", "us"][c].into()));
                }
                fingerprints.push(a.fingerprint.clone());
                engine.ingest(a, &mut out);
            }
            let described = |anchors: &AlertAnchors| -> Vec<(AnchorKey, u8, bool)> {
                anchors.iter().map(|a| (a.key.clone(), a.hops, a.hub)).collect()
            };
            for fp in &fingerprints {
                let mut at_no_hops = described(&engine.anchors_of(fp));
                at_no_hops.retain(|a| a.1 == 0);
                prop_assert_eq!(described(&engine.anchors_on_alert(fp)), at_no_hops);
            }
        }
    }

    #[test]
    fn repeats_of_an_absorbed_incidents_members_count_in_the_survivor() {
        let mut engine = engine_over(
            "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch}\n  - {id: tor-b, kind: switch}\n  - {id: host-a, kind: host}\n  - {id: host-b, kind: host}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: tor-b, to: core-1, type: connects_to}\n  - {from: host-a, to: tor-a, type: part_of}\n  - {from: host-b, to: tor-b, type: part_of}\n",
        );
        let mut out = Vec::new();
        // host-b's incident is absorbed by host-a's when the core switch bridges them.
        for (name, resource, t) in [
            ("HostDown", "host-a", 0),
            ("HostDown", "host-b", 5_000),
            ("SwitchDown", "core-1", 10_000),
        ] {
            engine.ingest(Alert::firing(name, resource, t), &mut out);
        }
        assert_eq!(engine.merged_into.len(), 1);
        let (&absorbed, &survivor) = engine.merged_into.iter().next().unwrap();
        let repeat = Alert::firing("HostDown", "host-b", 11_000);
        assert!(engine.ingest_repeat(&repeat.head(), &mut out));
        // An alert still naming the absorbed id (as a snapshot taken before the members were
        // re-pointed would) is counted through the merge records, in the survivor.
        engine
            .dedup
            .alerts
            .get_mut(&repeat.fingerprint)
            .unwrap()
            .incident = absorbed;
        let repeat = Alert::firing("HostDown", "host-b", 12_000);
        assert!(engine.ingest_repeat(&repeat.head(), &mut out));
        let inc = &engine.incidents[&survivor];
        assert_eq!((inc.events, inc.last_seen), (5, 12_000));
        assert_eq!(engine.stats().deduplicated, 2);
    }

    #[test]
    fn a_closed_incident_takes_its_merge_records_with_it() {
        let mut engine = engine_over(
            "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch}\n  - {id: tor-b, kind: switch}\n  - {id: host-a, kind: host}\n  - {id: host-b, kind: host}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: tor-b, to: core-1, type: connects_to}\n  - {from: host-a, to: tor-a, type: part_of}\n  - {from: host-b, to: tor-b, type: part_of}\n",
        );
        let mut out = Vec::new();
        // Two hosts four hops apart, then the core switch above both: one merge.
        let alerts = [
            ("HostDown", "host-a", 0),
            ("HostDown", "host-b", 5_000),
            ("SwitchDown", "core-1", 10_000),
        ];
        for (name, resource, t) in alerts {
            engine.ingest(Alert::firing(name, resource, t), &mut out);
        }
        assert_eq!(engine.stats().incidents_merged, 1);
        assert_eq!(engine.merged_into.len(), 1);
        // Everything resolves; once the survivor closes, nothing is left of the merge.
        for (name, resource, _) in alerts {
            let mut resolved = Alert::firing(name, resource, 0);
            resolved.status = Status::Resolved;
            resolved.ends_at = Some(60_000);
            engine.ingest(resolved, &mut out);
        }
        engine.advance_to(6 * 3_600_000, &mut out);
        assert!(engine.incidents.is_empty());
        assert!(engine.merged_into.is_empty());
    }
}
