//! The anchor index: what an alert can share with an incident (`AnchorKey`), each anchor's
//! entries and what is known of their incidents (`AnchorEntries`, `AnchorTable`), whether an
//! entry links an alert (`within_reach`, `link_hops`), and the engine's reads and writes of the
//! index (`anchors_of`, `register_anchors`, `release_anchors`, `sweep_anchors`).

use super::*;

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
    pub(super) fn is_weak(&self) -> bool {
        matches!(
            self,
            AnchorKey::Service(_) | AnchorKey::Cooccurring(_) | AnchorKey::CoFiring(_)
        )
    }
}

/// Hops recorded on a service anchor by an alert whose resource the topology knows: two such
/// alerts never link through it, one of them unknown to the topology does.
pub(super) const WEAK: u8 = u8::MAX;

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(super) struct AnchorEntry {
    pub(super) incident: u32,
    /// First and last time a member registered this anchor.
    pub(super) first: Millis,
    pub(super) last: Millis,
    /// Fewest hops from this anchor down to a member below it (`NO_HOPS`: none below; `WEAK`
    /// on a service anchor: only alerts the topology knows).
    pub(super) below_hops: u8,
    /// Members sitting on the anchor itself that are active (firing) now.
    pub(super) on_active: u32,
    /// When a member on the anchor was last active (`Millis::MIN`: never).
    pub(super) on_last: Millis,
    /// When the latest member on the anchor itself started (`Millis::MAX`: none, or an entry
    /// from an older snapshot: no bound).
    #[serde(default = "no_start")]
    pub(super) on_start: Millis,
    /// Members below the anchor that no alerting node above them explained when they joined
    /// (they opened the incident, or linked as a cause or through a silent shared upstream).
    /// Zero with members below: all are explained, and an alert on the anchor is no cause
    /// they need. Entries from older snapshots count as unexplained, linking as before.
    #[serde(default = "one")]
    pub(super) below_unexplained: u32,
}

fn one() -> u32 {
    1
}

pub(super) fn yes() -> bool {
    true
}

/// A candidate's anchor index when no anchor of the alert links it (a remote effect).
pub(super) const NO_ANCHOR: usize = usize::MAX;

fn no_start() -> Millis {
    Millis::MAX
}

/// `below_hops` of an entry with no member below its anchor (a member below is 1+ hops away).
pub(super) const NO_HOPS: u8 = 0;

impl AnchorEntry {
    /// Whether the anchor is an alerting node for a link at `t`: a member on it fires, or did
    /// within the window. A node whose alert is long gone is no reason to relate anything.
    pub(super) fn alerting_at(&self, t: Millis, window: Millis) -> bool {
        self.on_active > 0 || (self.on_last != Millis::MIN && t <= self.on_last + window)
    }

    /// Whether the entry can still link an alert starting at `t` or later under any rule whose
    /// window is at most `max_window`; a stale entry is dropped, so the entries of an anchor
    /// under a busy node stay few however many failures passed below it.
    pub(super) fn live_at(&self, t: Millis, max_window: Millis) -> bool {
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
pub(super) struct AnchorEntries {
    pub(super) entries: SmallVec<[AnchorEntry; 2]>,
    /// `Removals::count` when every entry's incident was last seen open and its own (`prune`
    /// makes an entry of an incident merged into another name the one it was merged into; an
    /// entry added since is of an open incident too). An entry's incident has stopped being
    /// open or its own since only if it is in `Removals::since(checked_at)`: `prune` looks up
    /// only those, and while nothing was removed `position_of` compares ids.
    pub(super) checked_at: u64,
    /// Bounds over the entries: a list that cannot link an alert, or has nothing stale to
    /// prune, is passed over without reading its entries.
    pub(super) bounds: EntryBounds,
    /// Bit `incident % 64` set for every entry's incident (and maybe others): a list none of
    /// whose bits an incident removed since `checked_at` has needs no check.
    pub(super) incident_bits: u64,
    /// Entries whose `quiet_since` is before this are stale (dead): `prune` raises it instead
    /// of dropping them at once, and every reader skips them (`iter`, `position_of`), as if
    /// they were gone. They are never changed again, so once dead they stay dead; `register`
    /// drops them before a push makes the list `compact_at` long.
    pub(super) stale_before: Millis,
    /// How long the list may grow before `register` drops its dead entries (twice the live
    /// entries after the last drop and 4 more; the inline capacity for a new list).
    pub(super) compact_at: u32,
    /// No entry's incident is greater (ids grow with time, so a new incident's first
    /// registration on a busy list is told apart without reading its entries).
    pub(super) max_incident: u32,
    /// Whether two live entries may be of one incident (an entry renamed to the incident its
    /// own was merged into, or restored from a snapshot): while not, an incident's first live
    /// entry is its last, and `position_of` looks from the end, where its recent registration
    /// sits.
    pub(super) repeats_incident: bool,
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
pub(super) fn repeats_an_incident(entries: &[AnchorEntry]) -> bool {
    (1..entries.len()).any(|i| {
        entries[..i]
            .iter()
            .any(|e| e.incident == entries[i].incident)
    })
}

/// The bit of `AnchorEntries::incident_bits` for an incident.
pub(super) fn incident_bit(id: u32) -> u64 {
    1 << (id & 63)
}

/// What every entry of an anchor is within, kept up to date by every change to the entries
/// (so the entries are private to `AnchorEntries`' methods). Loose where exactness would need
/// a pass over the entries (a released or pruned entry leaves them as they were); exact again
/// after each pass that `prune` makes anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct EntryBounds {
    /// Sum of the entries' `on_active`: members on the anchor firing now (exact).
    pub(super) on_active: u32,
    /// No entry's `on_last` is later (`Millis::MIN`: no entry ever had a member on the anchor).
    pub(super) on_last_max: Millis,
    /// No entry's `below_hops` (other than `NO_HOPS`) is fewer (`u8::MAX`: none below).
    pub(super) below_hops_min: u8,
    /// No entry's `quiet_since` is earlier: nothing is stale while the watermark is within
    /// `max_window` of it.
    pub(super) quiet_min: Millis,
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
    pub(super) fn of(entries: &[AnchorEntry]) -> EntryBounds {
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
    pub(super) fn hold_for(&self, entries: &[AnchorEntry]) -> bool {
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
pub(super) struct Removals {
    ids: Vec<u32>,
    /// How many were recorded before `ids[0]`.
    dropped: u64,
}

impl Removals {
    /// How many recent removals are kept at least.
    pub(super) const KEPT: usize = 256;

    pub(super) fn record(&mut self, id: u32) {
        if self.ids.len() == 2 * Self::KEPT {
            self.ids.drain(..Self::KEPT);
            self.dropped += Self::KEPT as u64;
        }
        self.ids.push(id);
    }

    /// How many incidents stopped being open so far.
    pub(super) fn count(&self) -> u64 {
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
    pub(super) fn new(removals: &Removals) -> AnchorEntries {
        AnchorEntries {
            checked_at: removals.count(),
            ..AnchorEntries::default()
        }
    }

    pub(super) fn from_vec(entries: Vec<AnchorEntry>) -> AnchorEntries {
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
    pub(super) fn iter(&self) -> impl Iterator<Item = &AnchorEntry> + '_ {
        let stale_before = self.stale_before;
        self.entries
            .iter()
            .filter(move |e| e.quiet_since() >= stale_before)
    }

    pub(super) fn is_empty(&self) -> bool {
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
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&mut AnchorEntry) -> bool) {
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
    pub(super) fn drop_stale(&mut self, oldest_live: Millis) {
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
    pub(super) fn drop_incident(&mut self, id: u32) {
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
    pub(super) fn mark_stale(&mut self, oldest_live: Millis) {
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
    pub(super) fn prune(
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
    pub(super) fn position_by_id(&self, inc_id: u32) -> Option<usize> {
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
    pub(super) fn position_of(
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
    pub(super) fn register(
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
    pub(super) fn live_entries(&self) -> Vec<AnchorEntry> {
        self.iter().copied().collect()
    }

    /// A member of incident `inc_id` on the anchor stops firing at `t`.
    pub(super) fn release(&mut self, inc_id: u32, t: Millis, merged: &FxHashMap<u32, u32>) {
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
    pub(super) fn may_link(
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
    pub(super) fn may_have_alerting_at(&self, t: Millis, window: Millis) -> bool {
        let b = &self.bounds;
        b.on_active > 0
            || (b.on_last_max != Millis::MIN && t <= b.on_last_max.saturating_add(window))
    }

    /// `may_link` through the node anchor `hops` above the alert's node (`hub`: a hub above
    /// it), with what it reads of the rule and the alert taken once per alert (`filter`).
    #[inline]
    pub(super) fn node_may_link(
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
pub(super) struct NodeLinkFilter {
    below_hops_max: u8,
}

impl NodeLinkFilter {
    pub(super) fn new(rule: &GroupingRule, severity: Severity) -> NodeLinkFilter {
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
pub(super) struct AnchorTable {
    /// The slot of `AnchorKey::Node(n)`'s list for every `n < by_node.len()` (`NO_SLOT`: none).
    by_node: Vec<u32>,
    /// The slot of every other anchor's list.
    by_key: FxHashMap<AnchorKey, u32>,
    /// The anchor of each slot; `None`: a free slot, listed in `free`.
    pub(super) keys: Vec<Option<AnchorKey>>,
    /// The list of each slot (empty in a free slot). Apart from the keys, which only `iter`
    /// and `retain` read: `correlate` passes over ~20 lists per new alert, most of them not in
    /// the cache, and reading a key beside each list cost a cache line more per list.
    pub(super) lists: Vec<AnchorEntries>,
    pub(super) free: Vec<u32>,
}

/// No list (`AnchorTable::by_node`, `AlertAnchors::slots`).
pub(super) const NO_SLOT: u32 = u32::MAX;

impl AnchorTable {
    /// An empty table whose node anchors `0..nodes` are found by index.
    pub(super) fn new(nodes: usize) -> AnchorTable {
        AnchorTable {
            by_node: vec![NO_SLOT; nodes],
            ..AnchorTable::default()
        }
    }

    /// How many anchors have a list.
    pub(super) fn len(&self) -> usize {
        self.lists.len() - self.free.len()
    }

    /// Where `key`'s list is, if it has one. Inlined for node anchors (the bulk of a new
    /// alert's ~20, an index read); the others hash and probe out of line.
    #[inline]
    pub(super) fn slot(&self, key: &AnchorKey) -> Option<u32> {
        match *key {
            AnchorKey::Node(n) if (n as usize) < self.by_node.len() => {
                Some(self.by_node[n as usize]).filter(|&slot| slot != NO_SLOT)
            }
            _ => self.slot_by_key(key),
        }
    }

    /// `slot(&AnchorKey::Node(n))`, `NO_SLOT` for none.
    #[inline]
    pub(super) fn node_slot(&self, n: u32) -> u32 {
        match self.by_node.get(n as usize) {
            Some(&slot) => slot,
            None => self.slot_by_key(&AnchorKey::Node(n)).unwrap_or(NO_SLOT),
        }
    }

    #[inline(never)]
    fn slot_by_key(&self, key: &AnchorKey) -> Option<u32> {
        self.by_key.get(key).copied()
    }

    pub(super) fn get(&self, key: &AnchorKey) -> Option<&AnchorEntries> {
        self.slot(key).map(|slot| self.at(slot))
    }

    pub(super) fn get_mut(&mut self, key: &AnchorKey) -> Option<&mut AnchorEntries> {
        let slot = self.slot(key)?;
        Some(self.at_mut(slot))
    }

    /// The list in `slot` (which holds one: `slot` or `slot_or_insert` answered it, and no
    /// list was dropped since).
    fn at(&self, slot: u32) -> &AnchorEntries {
        debug_assert!(self.keys[slot as usize].is_some(), "a slot in use");
        &self.lists[slot as usize]
    }

    pub(super) fn at_mut(&mut self, slot: u32) -> &mut AnchorEntries {
        debug_assert!(self.keys[slot as usize].is_some(), "a slot in use");
        &mut self.lists[slot as usize]
    }

    /// Where `key`'s list is, a new empty one if it had none.
    pub(super) fn slot_or_insert(&mut self, key: &AnchorKey, removals: &Removals) -> u32 {
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
    pub(super) fn iter(&self) -> impl Iterator<Item = (&AnchorKey, &AnchorEntries)> {
        self.keys
            .iter()
            .zip(&self.lists)
            .filter_map(|(key, list)| Some((key.as_ref()?, list)))
    }

    /// Keeps the lists `keep` says to keep (it may change them); frees the others' slots.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&mut AnchorEntries) -> bool) {
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
pub(super) fn link_hops(
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
pub(super) fn co_firing_gap(e: &AnchorEntry, a: &AlertAnchor, t: Millis) -> Option<Millis> {
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
pub(super) struct AlertAnchor {
    pub(super) key: AnchorKey,
    pub(super) hops: u8,
    /// An upstream hub with more dependents than the rule's `max_fanout`: it links only to
    /// incidents with an alert on the hub itself.
    pub(super) hub: bool,
}

/// The anchors of one alert, in the order `Engine::anchors_of` lists them: its node's upstream
/// neighbourhood (shared with the cache, not copied: ~20 anchors on a busy graph), then the
/// others (its node or resource without the topology, service, co-occurrence, co-firing check,
/// `group_by` values).
#[derive(Debug, Default)]
pub(super) struct AlertAnchors {
    pub(super) nodes: Option<GroupNeighbourhood>,
    pub(super) others: SmallVec<[AlertAnchor; 4]>,
    /// Where each anchor's list was (`NO_SLOT`: it had none) when `correlate` looked them up,
    /// for `register_anchors` when it joins the alert right after (no list is dropped in
    /// between: only `sweep_anchors` drops lists); empty when not looked up.
    pub(super) slots: Vec<u32>,
}

impl AlertAnchors {
    pub(super) fn node_count(&self) -> usize {
        self.nodes.as_ref().map_or(0, |n| n.len())
    }

    /// Anchor `i` (the index `correlate` records as the reason of a link).
    pub(super) fn get(&self, i: usize) -> Cow<'_, AlertAnchor> {
        match self.nodes.as_deref().and_then(|nodes| nodes.get(i)) {
            Some(n) => Cow::Owned(node_anchor(n)),
            None => Cow::Borrowed(&self.others[i - self.node_count()]),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Cow<'_, AlertAnchor>> {
        let nodes = self.nodes.as_deref().unwrap_or(&[]).iter();
        nodes
            .map(|n| Cow::Owned(node_anchor(n)))
            .chain(self.others.iter().map(Cow::Borrowed))
    }
}

/// The anchor of one node of a cached neighbourhood.
pub(super) fn node_anchor(&(node, hops, hub): &(u32, u8, bool)) -> AlertAnchor {
    AlertAnchor {
        key: AnchorKey::Node(node),
        hops,
        hub,
    }
}

impl Engine {
    /// Anchors of an alert under its grouping rule.
    pub(super) fn anchors_of(&mut self, fp: &Str) -> AlertAnchors {
        match self.dedup.alerts.position(fp) {
            Some(at) => self.anchors_listed(at, fp, false),
            None => AlertAnchors::default(),
        }
    }

    /// The anchors the alert sits on (`hops == 0`), the only ones a member that stops firing
    /// releases: the same as `anchors_of` keeps at 0 hops, without its node's neighbourhood and
    /// the anchors an alert the CMDB knows holds only weakly (whose check signature costs more
    /// than the rest).
    pub(super) fn anchors_on_alert(&mut self, fp: &Str) -> AlertAnchors {
        match self.dedup.alerts.position(fp) {
            Some(at) => self.anchors_listed(at, fp, true),
            None => AlertAnchors::default(),
        }
    }

    /// `anchors_of` the alert `fp` whose state is at `at`, or with `on_alert_only` only its
    /// anchors at 0 hops (in the same order).
    pub(super) fn anchors_listed(
        &mut self,
        at: AlertPos,
        fp: &Str,
        on_alert_only: bool,
    ) -> AlertAnchors {
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
                        let v = group_neighbourhood(
                            &mut self.rca_cache,
                            &self.topology,
                            &self.rules,
                            rule,
                            node,
                        );
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

    /// Records an active member's anchors; `becomes_active` counts it on the anchors it sits on,
    /// `explained` (an alerting member above explains it) on the anchors above it.
    pub(super) fn register_anchors(
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
    pub(super) fn release_anchors(&mut self, fp: &Str, inc_id: u32, t: Millis) {
        let anchors = self.anchors_on_alert(fp);
        self.release_anchors_of(&anchors, inc_id, t);
    }

    /// [`Engine::release_anchors`] through the alert's anchors at 0 hops, already listed.
    pub(super) fn release_anchors_of(&mut self, anchors: &AlertAnchors, inc_id: u32, t: Millis) {
        for a in anchors.iter() {
            debug_assert_eq!(a.hops, 0);
            if let Some(entries) = self.anchors.get_mut(&a.key) {
                entries.release(inc_id, t, &self.merged_into);
            }
        }
    }

    pub(super) fn sweep_anchors(&mut self) {
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
}
