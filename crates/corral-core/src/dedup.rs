//! Deduplication: one [`AlertState`] per fingerprint. Repeats merge into it (count, first and
//! last seen, latest status and severity); `resolved` closes it; no update for the configured
//! expiry expires it; too many state changes in a window mark it flapping.

use crate::model::{Alert, AlertHead, Millis, Severity, Status, Str};
use crate::rules::Flapping;
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::BuildHasher;
use std::sync::Arc;

/// Why an alert takes no part in opening incidents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mute {
    None,
    /// Index of the suppress rule.
    Suppressed(u16),
    /// Index of the maintenance window.
    Maintenance(u16),
    /// Index of the inhibit rule.
    Inhibited(u16),
    /// Flapping and not a member of an open incident.
    Flapping,
}

impl Mute {
    pub fn is_muted(self) -> bool {
        self != Mute::None
    }
}

/// State changes of one alert, to tell a flapping check from a real one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlapState {
    pub window_start: Millis,
    pub changes: u16,
    pub last_change: Millis,
    pub flapping: bool,
    /// Times the alert fired again after resolving, over its whole life (saturating).
    pub refires: u16,
}

impl FlapState {
    /// Records a status change at `t`; returns true when the alert has just started flapping.
    pub fn record_change(&mut self, t: Millis, cfg: &Flapping) -> bool {
        if self.flapping && t - self.last_change >= cfg.quiet {
            // Quiet long enough: the check has settled (its history of refiring stays).
            *self = FlapState {
                refires: self.refires,
                ..FlapState::default()
            };
        }
        if self.changes == 0 || t - self.window_start > cfg.window {
            self.window_start = t;
            self.changes = 0;
        }
        self.changes = self.changes.saturating_add(1);
        self.last_change = t;
        if !self.flapping && u32::from(self.changes) >= cfg.max_changes {
            self.flapping = true;
            return true;
        }
        false
    }

    /// Whether the alert still counts as flapping at `t` (it clears after a quiet interval).
    pub fn is_flapping(&self, t: Millis, cfg: &Flapping) -> bool {
        self.flapping && t - self.last_change < cfg.quiet
    }
}

/// The flap history of an alert, boxed and allocated only when the alert first changes status
/// (most never do): 8 bytes in every `AlertState` instead of 24. Reads see the default history
/// until then; a mutable borrow allocates it. Serialized as a plain `FlapState`.
#[derive(Clone, Debug, Default)]
pub struct FlapHistory(Option<Box<FlapState>>);

static NO_FLAP_HISTORY: FlapState = FlapState {
    window_start: 0,
    changes: 0,
    last_change: 0,
    flapping: false,
    refires: 0,
};

impl std::ops::Deref for FlapHistory {
    type Target = FlapState;
    fn deref(&self) -> &FlapState {
        self.0.as_deref().unwrap_or(&NO_FLAP_HISTORY)
    }
}

impl std::ops::DerefMut for FlapHistory {
    fn deref_mut(&mut self) -> &mut FlapState {
        self.0.get_or_insert_with(Box::default)
    }
}

impl PartialEq for FlapHistory {
    fn eq(&self, other: &FlapHistory) -> bool {
        **self == **other
    }
}

impl Serialize for FlapHistory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FlapHistory {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FlapHistory, D::Error> {
        let flap = FlapState::deserialize(deserializer)?;
        Ok(FlapHistory(
            (flap != FlapState::default()).then(|| Box::new(flap)),
        ))
    }
}

/// What corral remembers of one alert between occurrences. Kept small: a storm holds millions
/// (128 bytes, so that with its fingerprint it fits the 160-byte allocator size class; see
/// `entry_fits_one_small_size_class`).
///
/// Laid out in declaration order (`repr(C)`), what a repeat reads and writes first: a table of
/// a million alerts is far larger than the caches, and a repeat's lookup misses on its entry.
/// With the fingerprint ([`AlertMap`]'s entry puts it first), the fields a repeat touches are
/// the entry's first 71 bytes: two cache lines however the allocator places the entry, where
/// the compiler's order spread them over three (`repeat_fields_share_the_first_cache_lines`).
/// Snapshots name fields, so they read the same in any order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[repr(C)]
pub struct AlertState {
    /// Event time of the first occurrence, and of the newest one.
    pub first_seen: Millis,
    pub last_seen: Millis,
    /// Event time at which the alert last fired or was repeated; expiry counts from here.
    pub last_update: Millis,
    /// Shared with every alert of the same service ([`ServiceNames`]): a thin pointer keeps the
    /// state at 128 bytes, and a million alerts of forty services hold forty strings.
    pub service: Option<Arc<Str>>,
    pub count: u32,
    /// Incident it belongs to (u32::MAX when none).
    pub incident: u32,
    pub mute: Mute,
    pub severity: Severity,
    pub status: Status,
    /// True while the alert counts as active for its incident (firing, not expired).
    pub active: bool,
    /// Grouping rule that applies.
    pub rule: u16,
    /// Topology node of the resource (u32::MAX when unknown).
    pub node: u32,
    pub flap: FlapHistory,
    /// A boxed slice, not a `Vec`: labels never change after the first occurrence, and the
    /// capacity word would cost 8 bytes per alert.
    pub labels: Box<[(Str, Str)]>,
    pub name: Str,
    pub resource: Str,
}

pub const NONE: u32 = u32::MAX;

impl AlertState {
    /// Its latest sign of failing in the stream: a firing occurrence while active, the end a
    /// resolve reported once resolved (recovery checks weigh evidence, never silence).
    pub fn failing_until(&self) -> Millis {
        if self.active {
            self.last_update
        } else {
            self.last_seen
        }
    }

    pub fn new(alert: &Alert, node: Option<u32>, rule: u16) -> AlertState {
        AlertState {
            name: alert.name.clone(),
            resource: alert.resource.clone(),
            // Filled in, shared, by `DedupTable::merge`.
            service: None,
            labels: alert.labels.as_slice().into(),
            severity: alert.severity,
            status: alert.status,
            first_seen: alert.starts_at,
            last_seen: alert.event_time(),
            last_update: alert.event_time(),
            count: 0,
            node: node.unwrap_or(NONE),
            rule,
            mute: Mute::None,
            flap: FlapHistory::default(),
            incident: NONE,
            active: false,
        }
    }

    pub fn node(&self) -> Option<u32> {
        (self.node != NONE).then_some(self.node)
    }

    pub fn incident(&self) -> Option<u32> {
        (self.incident != NONE).then_some(self.incident)
    }

    /// A view of this state as an alert, for matchers and the anomaly model.
    pub fn as_alert(&self, fingerprint: &Str) -> Alert {
        Alert {
            fingerprint: fingerprint.clone(),
            source: Str::default(),
            name: self.name.clone(),
            status: self.status,
            severity: self.severity,
            resource: self.resource.clone(),
            service: self.service.as_deref().cloned(),
            summary: None,
            labels: self.labels.to_vec(),
            annotations: Vec::new(),
            starts_at: self.first_seen,
            ends_at: None,
            value: None,
        }
    }
}

/// What an occurrence did to its alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// First occurrence of this fingerprint.
    New,
    /// Same status as before: a repeat notification.
    Repeat,
    /// Resolved → firing.
    Refired,
    /// Firing → resolved.
    Resolved,
}

/// The outcome of merging one occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Merged {
    pub change: Change,
    /// This occurrence made the alert start flapping.
    pub started_flapping: bool,
}

/// One alert of the table: its fingerprint and its state, side by side in the slab, the
/// fingerprint (what a lookup compares) first, next to the state's fields a repeat touches.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
struct Entry {
    fingerprint: Str,
    state: AlertState,
}

/// Where an alert sits in [`AlertMap`]'s slab: what [`AlertMap::position`] answers for its
/// fingerprint, for as long as nothing is removed from the map (a removal moves the last entry
/// into the hole; insertions move nothing). Reading an alert by it is an index where a lookup
/// by fingerprint hashes, probes and compares: the engine finds a new alert once and hands its
/// position along the new-alert path (checked against the lookup by debug assertions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertPos(u32);

/// Entries per slab chunk (2^10 × 152 bytes): the slab grows a chunk at a time, so growing
/// never copies the entries already there.
const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Index slots allocated at the first insertion.
const MIN_SLOTS: usize = 16;

/// Fingerprint → state: entries in a slab of chunks, found through an open-addressing index.
///
/// A repeat's lookup used to take three dependent loads, each a likely cache miss in a table
/// of a million alerts: the hash table's control bytes, its slot (a pointer), the boxed entry.
/// Here an index slot holds a 32-bit tag of the fingerprint's hash next to the entry's slab
/// position, so a lookup reads one slot (8 slots per cache line, linear probing, at most half
/// full) and then the entry: two. The slab has no per-entry allocation (152 bytes per entry,
/// not mimalloc's 160-byte class), and removal moves the last entry into the hole, so the
/// entries stay dense and in insertion order. Serialized as a map fingerprint → state, like
/// the `HashMap` it replaced, so snapshots keep their format.
#[derive(Clone, Debug, Default)]
pub struct AlertMap {
    /// 0 for an empty slot; else the fingerprint's tag in the high half and its entry's slab
    /// position + 1 in the low half. A slot's home is given by its tag alone (see [`home`]),
    /// so the index grows and deletes without reading entries. Empty or a power of two long.
    slots: Vec<u64>,
    /// Entry `i` is `chunks[i / CHUNK][i % CHUNK]`; every chunk before the last in use is full,
    /// and at most one empty chunk is kept after it (so removing and adding at a chunk boundary
    /// does not allocate every time).
    chunks: Vec<Vec<Entry>>,
    len: usize,
}

/// 32 bits of the fingerprint's hash: the high half of a multiplicative mix, which depends on
/// every bit of the Fx hash (whose own high bits are weak for short strings).
#[inline]
fn tag_of(fingerprint: &str) -> u32 {
    (FxBuildHasher
        .hash_one(fingerprint)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        >> 32) as u32
}

/// Whether two fingerprints are equal, compared inline: they are short (Alertmanager's are 16
/// hex digits), and `==` on strings calls `memcmp`, whose call costs more than comparing the
/// two words here (every lookup compares once).
#[inline(always)]
fn same_fingerprint(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        // The first and the last eight bytes (overlapping below 16) cover the whole string.
        let word = |s: &[u8], from: usize| {
            u64::from_le_bytes(s[from..from + 8].try_into().expect("eight bytes"))
        };
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    a == b
}

/// Where a tag's probe starts in an index of `slots` slots: the tag scaled to `0..slots`, i.e.
/// its top bits for a power of two.
#[inline]
fn home(tag: u32, slots: usize) -> usize {
    ((u64::from(tag) * slots as u64) >> 32) as usize
}

#[inline]
fn slot_value(tag: u32, position: u32) -> u64 {
    (u64::from(tag) << 32) | (u64::from(position) + 1)
}

#[inline]
fn slot_tag(slot: u64) -> u32 {
    (slot >> 32) as u32
}

/// The slab position a non-empty slot points to.
#[inline]
fn slot_position(slot: u64) -> u32 {
    (slot as u32).wrapping_sub(1)
}

impl AlertMap {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn entry(&self, position: u32) -> &Entry {
        let i = position as usize;
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }

    #[inline]
    fn entry_mut(&mut self, position: u32) -> &mut Entry {
        let i = position as usize;
        &mut self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }

    /// The index slot and slab position of `fingerprint` (whose tag is `tag`), if present.
    /// Always inlined, as hashbrown's lookup was: the engine looks alerts up from many places,
    /// and a call per lookup costs more than the probe (measured: +27 M instructions per
    /// 300,000 bench alerts when it was a call).
    #[inline(always)]
    fn find(&self, tag: u32, fingerprint: &str) -> Option<(usize, u32)> {
        let fingerprint = fingerprint.as_bytes();
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = home(tag, self.slots.len());
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return None;
            }
            if slot_tag(slot) == tag {
                let position = slot_position(slot);
                if same_fingerprint(self.entry(position).fingerprint.as_bytes(), fingerprint) {
                    return Some((at, position));
                }
            }
            // Never endless: the index is at most half full.
            at = (at + 1) & mask;
        }
    }

    /// Where `fingerprint`'s alert is, if present (see [`AlertPos`]).
    #[inline(always)]
    pub fn position(&self, fingerprint: &str) -> Option<AlertPos> {
        let (_, position) = self.find(tag_of(fingerprint), fingerprint)?;
        Some(AlertPos(position))
    }

    /// The state at `at`, which [`AlertMap::position`] or [`AlertMap::position_or_insert_with`]
    /// answered with no removal since.
    #[inline]
    pub fn at(&self, at: AlertPos) -> &AlertState {
        debug_assert!(
            (at.0 as usize) < self.len,
            "an alert position past the table"
        );
        &self.entry(at.0).state
    }

    #[inline]
    pub fn at_mut(&mut self, at: AlertPos) -> &mut AlertState {
        debug_assert!(
            (at.0 as usize) < self.len,
            "an alert position past the table"
        );
        &mut self.entry_mut(at.0).state
    }

    #[inline(always)]
    pub fn get(&self, fingerprint: &str) -> Option<&AlertState> {
        let (_, position) = self.find(tag_of(fingerprint), fingerprint)?;
        Some(&self.entry(position).state)
    }

    #[inline(always)]
    pub fn get_mut(&mut self, fingerprint: &str) -> Option<&mut AlertState> {
        let (_, position) = self.find(tag_of(fingerprint), fingerprint)?;
        Some(&mut self.entry_mut(position).state)
    }

    /// Puts `slot` in the first free slot from its home on (the index has one).
    fn place(slots: &mut [u64], slot: u64) {
        let mask = slots.len() - 1;
        let mut at = home(slot_tag(slot), slots.len());
        while slots[at] != 0 {
            at = (at + 1) & mask;
        }
        slots[at] = slot;
    }

    /// Doubles the index; slots move by their tags alone.
    fn grow_index(&mut self) {
        let larger = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![0; larger]);
        for slot in old.into_iter().filter(|&s| s != 0) {
            Self::place(&mut self.slots, slot);
        }
    }

    /// Appends an entry whose fingerprint is not in the map yet; returns its slab position.
    fn push(&mut self, tag: u32, entry: Entry) -> u32 {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow_index();
        }
        let position =
            u32::try_from(self.len).expect("an alert table holds fewer than 2^32 alerts");
        let chunk = self.len >> CHUNK_BITS;
        if chunk == self.chunks.len() {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks[chunk].push(entry);
        self.len += 1;
        Self::place(&mut self.slots, slot_value(tag, position));
        position
    }

    /// Empties index slot `hole` and moves back the slots after it that may take its place
    /// (backward-shift deletion: no tombstones, so probes stay as short as at insertion).
    fn delete_slot(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let slot = self.slots[at];
            if slot == 0 {
                break;
            }
            let from_home = at.wrapping_sub(home(slot_tag(slot), self.slots.len())) & mask;
            let from_hole = at.wrapping_sub(hole) & mask;
            // Its home is at or before the hole (cyclically): the probe would pass the hole.
            if from_home >= from_hole {
                self.slots[hole] = slot;
                hole = at;
            }
        }
        self.slots[hole] = 0;
    }

    pub fn remove(&mut self, fingerprint: &str) -> Option<AlertState> {
        let (at, position) = self.find(tag_of(fingerprint), fingerprint)?;
        self.delete_slot(at);
        let last = u32::try_from(self.len - 1).expect("positions fit u32");
        let last_chunk = &mut self.chunks[(last as usize) >> CHUNK_BITS];
        let mut removed = last_chunk
            .pop()
            .expect("the last entry is in the last chunk");
        if position != last {
            // The last entry fills the hole; its slot points there now.
            let moved_tag = tag_of(&removed.fingerprint);
            let mask = self.slots.len() - 1;
            let mut at = home(moved_tag, self.slots.len());
            while self.slots[at] != slot_value(moved_tag, last) {
                debug_assert_ne!(self.slots[at], 0, "every entry has a slot");
                at = (at + 1) & mask;
            }
            self.slots[at] = slot_value(moved_tag, position);
            std::mem::swap(self.entry_mut(position), &mut removed);
        }
        self.len -= 1;
        self.chunks.truncate(self.len.div_ceil(CHUNK) + 1);
        Some(removed.state)
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.chunks.iter().flatten()
    }

    /// Every state, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &AlertState> {
        self.entries().map(|e| &e.state)
    }

    /// Every alert, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Str, &AlertState)> {
        self.entries().map(|e| (&e.fingerprint, &e.state))
    }

    /// Every alert, in no particular order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Str, &mut AlertState)> {
        self.chunks.iter_mut().flatten().map(|e| {
            let Entry { fingerprint, state } = e;
            (&*fingerprint, state)
        })
    }

    /// The state of `fingerprint`, made by `make` if it is new; true when it was made.
    pub fn get_or_insert_with(
        &mut self,
        fingerprint: &Str,
        make: impl FnOnce() -> AlertState,
    ) -> (&mut AlertState, bool) {
        let (at, made) = self.position_or_insert_with(fingerprint, make);
        (self.at_mut(at), made)
    }

    /// Where the state of `fingerprint` is, made by `make` if it is new; true when it was made.
    pub fn position_or_insert_with(
        &mut self,
        fingerprint: &Str,
        make: impl FnOnce() -> AlertState,
    ) -> (AlertPos, bool) {
        let tag = tag_of(fingerprint);
        match self.find(tag, fingerprint) {
            Some((_, position)) => (AlertPos(position), false),
            None => {
                let entry = Entry {
                    fingerprint: fingerprint.clone(),
                    state: make(),
                };
                (AlertPos(self.push(tag, entry)), true)
            }
        }
    }

    /// Inserts or replaces the state of `fingerprint`.
    pub fn insert(&mut self, fingerprint: Str, state: AlertState) {
        let tag = tag_of(&fingerprint);
        match self.find(tag, &fingerprint) {
            Some((_, position)) => self.entry_mut(position).state = state,
            None => {
                self.push(tag, Entry { fingerprint, state });
            }
        }
    }
}

impl Serialize for AlertMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (fingerprint, state) in self.iter() {
            map.serialize_entry(fingerprint, state)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AlertMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AlertMap, D::Error> {
        struct AlertMapVisitor;
        impl<'de> Visitor<'de> for AlertMapVisitor {
            type Value = AlertMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of fingerprint to alert state")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<AlertMap, A::Error> {
                let mut map = AlertMap::default();
                while let Some((fingerprint, state)) = access.next_entry::<Str, AlertState>()? {
                    map.insert(fingerprint, state);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(AlertMapVisitor)
    }
}

/// The service names alerts carry, one allocation per distinct name. Names no alert holds any
/// more are dropped when the set has doubled since the last sweep, so churn through many
/// services costs amortised O(1) per new name and the set stays within twice the live names.
#[derive(Debug, Default)]
pub struct ServiceNames {
    names: HashTable<Arc<Str>>,
    sweep_at: usize,
}

impl ServiceNames {
    const MIN_SWEEP: usize = 64;

    fn hash(name: &str) -> u64 {
        FxBuildHasher.hash_one(name)
    }

    pub fn intern(&mut self, name: &str) -> Arc<Str> {
        let hash = Self::hash(name);
        if let Some(shared) = self.names.find(hash, |n| n.as_str() == name) {
            return shared.clone();
        }
        if self.names.len() >= self.sweep_at.max(Self::MIN_SWEEP) {
            // Only the set itself still holds these.
            self.names.retain(|n| Arc::strong_count(n) > 1);
            self.sweep_at = 2 * self.names.len();
        }
        let shared = Arc::new(Str::from(name));
        self.names
            .insert_unique(hash, shared.clone(), |n| Self::hash(n.as_str()));
        shared
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The dedup table: fingerprint → state.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DedupTable {
    pub alerts: AlertMap,
    /// Rebuilt as alerts arrive; states restored from a snapshot keep their own copies.
    #[serde(skip)]
    pub services: ServiceNames,
}

impl DedupTable {
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Makes states read from a snapshot (each with its own copy of its service name) share
    /// one name per service again.
    pub fn share_service_names(&mut self) {
        let services = &mut self.services;
        for (_, state) in self.alerts.iter_mut() {
            if let Some(name) = &state.service {
                state.service = Some(services.intern(name));
            }
        }
    }

    /// Merges an occurrence into the table; `make` builds the state of a new fingerprint.
    pub fn merge(
        &mut self,
        alert: &Alert,
        flapping: &Flapping,
        make: impl FnOnce() -> AlertState,
    ) -> (Merged, &mut AlertState) {
        let (merged, at) = self.merge_at(alert, flapping, make);
        (merged, self.alerts.at_mut(at))
    }

    /// [`DedupTable::merge`], answering where the alert's state is.
    pub fn merge_at(
        &mut self,
        alert: &Alert,
        flapping: &Flapping,
        make: impl FnOnce() -> AlertState,
    ) -> (Merged, AlertPos) {
        let (at, is_new) = self
            .alerts
            .position_or_insert_with(&alert.fingerprint, make);
        let state = self.alerts.at_mut(at);
        if is_new {
            state.count = state.count.saturating_add(1);
            state.service = alert.service.as_deref().map(|s| self.services.intern(s));
            let merged = Merged {
                change: Change::New,
                started_flapping: false,
            };
            return (merged, at);
        }
        let merged = state.merge_repeat(&alert.head(), flapping, &mut self.services);
        (merged, at)
    }
}

impl AlertState {
    /// Merges another occurrence of this alert. Only the head is read: a repeat never changes
    /// an alert's name, resource or labels (the first occurrence's stay).
    #[inline]
    pub fn merge_repeat(
        &mut self,
        occurrence: &AlertHead<'_>,
        flapping: &Flapping,
        services: &mut ServiceNames,
    ) -> Merged {
        let t = occurrence.event_time();
        self.count = self.count.saturating_add(1);
        let merged = |change| Merged {
            change,
            started_flapping: false,
        };
        // Repeats merge: the earliest start and the newest fields win, as in Alertmanager. An
        // occurrence older than what is known (late delivery) updates counts but not state.
        self.first_seen = self.first_seen.min(occurrence.starts_at);
        let newer = t >= self.last_seen;
        if !newer {
            return merged(Change::Repeat);
        }
        self.last_seen = t;
        self.severity = occurrence.severity;
        if let Some(service) = occurrence.service {
            // Compared first: most repeats carry the service they had, and that needs no lookup.
            if self.service.as_deref().map(Str::as_str) != Some(service) {
                self.service = Some(services.intern(service));
            }
        }
        let change = match (self.status, occurrence.status) {
            (Status::Firing, Status::Firing) | (Status::Resolved, Status::Resolved) => {
                Change::Repeat
            }
            (Status::Resolved, Status::Firing) => Change::Refired,
            (Status::Firing, Status::Resolved) => Change::Resolved,
        };
        let mut started_flapping = false;
        if change == Change::Refired {
            self.flap.refires = self.flap.refires.saturating_add(1);
        }
        if matches!(change, Change::Refired | Change::Resolved) {
            started_flapping = self.flap.record_change(t, flapping);
        }
        self.status = occurrence.status;
        if occurrence.status == Status::Firing {
            self.last_update = t;
        }
        Merged {
            change,
            started_flapping,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Flapping {
        Flapping {
            window: 600_000,
            max_changes: 4,
            quiet: 900_000,
        }
    }

    #[test]
    fn entry_fits_one_small_size_class() {
        // 160 bytes is a size class of mimalloc (the binary's allocator) and of most others;
        // 8 bytes more would put every entry (fingerprint + state) in the 192-byte class.
        assert_eq!(std::mem::size_of::<AlertState>(), 128);
        assert!(std::mem::size_of::<Entry>() <= 160);
    }

    #[test]
    fn repeat_fields_share_the_first_cache_lines() {
        use std::mem::offset_of;
        // Everything `merge_repeat` and `Engine::ingest_repeat` read or write of a state, and
        // the fingerprint the lookup compares: within the entry's first 72 bytes.
        let state = offset_of!(Entry, state);
        let hot_ends = [
            offset_of!(Entry, fingerprint) + std::mem::size_of::<Str>(),
            state + offset_of!(AlertState, first_seen) + 8,
            state + offset_of!(AlertState, last_seen) + 8,
            state + offset_of!(AlertState, last_update) + 8,
            state + offset_of!(AlertState, service) + 8,
            state + offset_of!(AlertState, count) + 4,
            state + offset_of!(AlertState, incident) + 4,
            state + offset_of!(AlertState, mute) + std::mem::size_of::<Mute>(),
            state + offset_of!(AlertState, severity) + 1,
            state + offset_of!(AlertState, status) + 1,
            state + offset_of!(AlertState, active) + 1,
        ];
        assert!(hot_ends.iter().all(|&end| end <= 72), "{hot_ends:?}");
    }

    #[test]
    fn alert_map_finds_removes_and_round_trips_as_a_map() {
        let mut t = DedupTable::default();
        for (i, host) in ["h1", "h2", "h3"].into_iter().enumerate() {
            let a = Alert::firing("Down", host, 1_000 * i as i64);
            t.merge(&a, &cfg(), || AlertState::new(&a, Some(i as u32), 0));
        }
        let fp = Alert::firing("Down", "h2", 0).fingerprint;
        assert_eq!(t.alerts.get(&fp).map(|s| s.node), Some(1));
        // Snapshots store the table as a JSON object fingerprint -> state.
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["alerts"].as_object().map(|m| m.len()), Some(3));
        assert_eq!(json["alerts"][fp.as_str()]["resource"], "h2");
        let restored: DedupTable = serde_json::from_value(json).unwrap();
        assert_eq!(restored.len(), 3);
        for (fp, state) in t.alerts.iter() {
            assert_eq!(restored.alerts.get(fp), Some(state));
        }
        assert_eq!(t.alerts.remove(&fp).map(|s| s.node), Some(1));
        assert_eq!(t.alerts.get(&fp), None);
        assert_eq!(t.alerts.remove(&fp), None);
        assert_eq!(t.len(), 2);
    }

    #[derive(Clone, Debug)]
    enum MapOp {
        GetOrInsert(u16),
        Insert(u16, u32),
        Remove(u16),
        Bump(u16),
    }

    fn map_op(keys: u16) -> impl proptest::strategy::Strategy<Value = MapOp> {
        use proptest::prelude::*;
        prop_oneof![
            3 => (0..keys).prop_map(MapOp::GetOrInsert),
            1 => (0..keys, any::<u32>()).prop_map(|(k, c)| MapOp::Insert(k, c)),
            3 => (0..keys).prop_map(MapOp::Remove),
            1 => (0..keys).prop_map(MapOp::Bump),
        ]
    }

    fn key(k: u16) -> Str {
        // Some share a prefix, some are longer than the 24 bytes a `Str` holds inline.
        match k % 3 {
            0 => compact_str::format_compact!("{k:016x}"),
            1 => compact_str::format_compact!("fp-{k}"),
            _ => compact_str::format_compact!("a-long-fingerprint-past-the-inline-size-{k}"),
        }
    }

    /// Replays `ops` on an `AlertMap` and on a `HashMap` (the straightforward table), checking
    /// after every step that both hold the same alerts with the same states.
    fn agrees_with_a_hash_map(ops: &[MapOp], keys: u16) {
        let a = Alert::firing("Down", "h1", 0);
        let state = |count: u32| {
            let mut s = AlertState::new(&a, None, 0);
            s.count = count;
            s
        };
        let mut map = AlertMap::default();
        let mut model: std::collections::HashMap<Str, AlertState> = Default::default();
        for (step, op) in ops.iter().enumerate() {
            match *op {
                MapOp::GetOrInsert(k) => {
                    let (got, made) = map.get_or_insert_with(&key(k), || state(k.into()));
                    assert_eq!(made, !model.contains_key(&key(k)));
                    let want = model.entry(key(k)).or_insert_with(|| state(k.into()));
                    assert_eq!(got, want);
                }
                MapOp::Insert(k, count) => {
                    map.insert(key(k), state(count));
                    model.insert(key(k), state(count));
                }
                MapOp::Remove(k) => assert_eq!(map.remove(&key(k)), model.remove(&key(k))),
                MapOp::Bump(k) => {
                    if let Some(s) = map.get_mut(&key(k)) {
                        s.count += 1;
                    }
                    if let Some(s) = model.get_mut(&key(k)) {
                        s.count += 1;
                    }
                }
            }
            assert_eq!(map.len(), model.len());
            assert!(map.slots.len() >= 2 * map.len());
            // Every step while small; now and then once large (quadratic otherwise).
            if model.len() > 100 && step % 101 != 0 {
                continue;
            }
            assert_eq!(map.iter().count(), model.len());
            for (fp, s) in map.iter() {
                assert_eq!(model.get(fp), Some(s), "{fp}");
            }
        }
        for k in 0..keys {
            assert_eq!(map.get(&key(k)), model.get(&key(k)));
            // A position reads the state the fingerprint's lookup finds.
            assert_eq!(
                map.position(&key(k)).map(|at| map.at(at)),
                model.get(&key(k))
            );
        }
        let json = serde_json::to_value(&map).unwrap();
        let restored: AlertMap = serde_json::from_value(json).unwrap();
        assert_eq!(restored.len(), model.len());
        for (fp, s) in &model {
            assert_eq!(restored.get(fp), Some(s));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Few keys: small indexes, probes that wrap around, deletions that shift slots back.
        #[test]
        fn alert_map_agrees_with_a_hash_map_on_few_keys(
            ops in proptest::collection::vec(map_op(40), 0..400)
        ) {
            agrees_with_a_hash_map(&ops, 40);
        }
    }

    #[test]
    fn same_fingerprint_is_string_equality() {
        // Every length up to 20 (below, within and above the inline words), a difference at
        // every position, and one string a prefix of the other.
        for n in 0..=20usize {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(same_fingerprint(&a, &a.clone()));
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 1;
                assert!(!same_fingerprint(&a, &b), "{n} {i}");
            }
            let mut longer = a.clone();
            longer.push(b'a');
            assert!(!same_fingerprint(&a, &longer));
        }
    }

    #[test]
    fn alert_map_agrees_with_a_hash_map_across_slab_chunks() {
        // More alerts than a chunk holds, then removals in a scattered order that move entries
        // from the last chunk into every other, empty it and fill it again.
        let keys = (2 * CHUNK + 100) as u16;
        let mut ops: Vec<MapOp> = (0..keys).map(MapOp::GetOrInsert).collect();
        ops.extend(
            (0..keys)
                .filter(|k| k % 3 != 1)
                .map(|k| MapOp::Remove((k * 7) % keys)),
        );
        ops.extend((0..keys).map(MapOp::Bump));
        ops.extend((0..keys).rev().map(MapOp::GetOrInsert));
        ops.extend((0..keys).map(MapOp::Remove));
        agrees_with_a_hash_map(&ops, keys);
    }

    #[test]
    fn alerts_of_one_service_share_its_name_and_a_new_service_replaces_it() {
        let mut t = DedupTable::default();
        let mut fingerprints = Vec::new();
        for host in ["h1", "h2"] {
            let mut a = Alert::firing("Down", host, 0);
            a.service = Some("payroll".into());
            t.merge(&a, &cfg(), || AlertState::new(&a, None, 0));
            fingerprints.push(a.fingerprint);
        }
        let service = |t: &DedupTable, fp: &Str| t.alerts.get(fp).unwrap().service.clone();
        let (s1, s2) = (service(&t, &fingerprints[0]), service(&t, &fingerprints[1]));
        assert_eq!(s1.as_deref().map(Str::as_str), Some("payroll"));
        assert!(Arc::ptr_eq(s1.as_ref().unwrap(), s2.as_ref().unwrap()));
        assert_eq!(t.services.len(), 1);

        // A repeat naming the same service keeps the shared name; a newer one naming another
        // service moves the alert to it; one naming none keeps what is known.
        let mut a = Alert::firing("Down", "h1", 0);
        a.service = Some("payroll".into());
        a.starts_at = 1_000;
        t.merge(&a, &cfg(), || unreachable!());
        assert!(Arc::ptr_eq(
            service(&t, &fingerprints[0]).as_ref().unwrap(),
            s2.as_ref().unwrap()
        ));
        a.service = Some("billing".into());
        a.starts_at = 2_000;
        t.merge(&a, &cfg(), || unreachable!());
        assert_eq!(
            service(&t, &fingerprints[0]).as_deref().map(Str::as_str),
            Some("billing")
        );
        a.service = None;
        a.starts_at = 3_000;
        t.merge(&a, &cfg(), || unreachable!());
        assert_eq!(
            service(&t, &fingerprints[0]).as_deref().map(Str::as_str),
            Some("billing")
        );

        // Restored from a snapshot, states share their names again.
        let json = serde_json::to_value(&t).unwrap();
        let mut restored: DedupTable = serde_json::from_value(json).unwrap();
        restored.alerts.insert(fingerprints[0].clone(), {
            let mut st = restored.alerts.get(&fingerprints[1]).unwrap().clone();
            st.service = Some(Arc::new("payroll".into()));
            st
        });
        restored.share_service_names();
        assert!(Arc::ptr_eq(
            service(&restored, &fingerprints[0]).as_ref().unwrap(),
            service(&restored, &fingerprints[1]).as_ref().unwrap()
        ));
    }

    #[test]
    fn service_names_no_alert_holds_are_swept_once_the_set_doubles() {
        let mut names = ServiceNames::default();
        let kept: Vec<Arc<Str>> = (0..10)
            .map(|i| names.intern(&compact_str::format_compact!("kept-{i}")))
            .collect();
        // Names dropped by their alerts stay until the set reaches its sweep size...
        for i in 0..ServiceNames::MIN_SWEEP - 10 {
            drop(names.intern(&compact_str::format_compact!("gone-{i}")));
        }
        assert_eq!(names.len(), ServiceNames::MIN_SWEEP);
        // ...then one new name sweeps every name no alert holds.
        let new = names.intern("new");
        assert_eq!(names.len(), kept.len() + 1);
        for name in &kept {
            assert!(Arc::ptr_eq(name, &names.intern(name)));
        }
        assert!(Arc::ptr_eq(&new, &names.intern("new")));
    }

    #[test]
    fn flap_history_reads_as_default_until_changed_and_serializes_as_flap_state() {
        let mut history = FlapHistory::default();
        assert_eq!(*history, FlapState::default());
        assert_eq!(
            serde_json::to_value(&history).unwrap(),
            serde_json::to_value(FlapState::default()).unwrap()
        );
        assert!(history.0.is_none());
        history.refires = 3;
        assert!(history.0.is_some());
        let json = serde_json::to_value(&history).unwrap();
        assert_eq!(json["refires"], 3);
        let restored: FlapHistory = serde_json::from_value(json).unwrap();
        assert_eq!(restored, history);
        // A default history restores unallocated.
        let plain = serde_json::to_value(FlapState::default()).unwrap();
        let restored: FlapHistory = serde_json::from_value(plain).unwrap();
        assert!(restored.0.is_none());
    }

    #[test]
    fn repeats_merge_and_resolve_closes() {
        let mut t = DedupTable::default();
        let mut a = Alert::firing("Down", "h1", 10_000);
        let (c, _) = t.merge(&a, &cfg(), || AlertState::new(&a, None, 0));
        assert_eq!(c.change, Change::New);
        a.starts_at = 40_000;
        let (c, s) = t.merge(&a, &cfg(), || unreachable!());
        assert_eq!(c.change, Change::Repeat);
        assert_eq!((s.count, s.first_seen, s.last_seen), (2, 10_000, 40_000));
        // An older repeat delivered late moves first_seen back but not the status.
        a.starts_at = 5_000;
        let (_, s) = t.merge(&a, &cfg(), || unreachable!());
        assert_eq!((s.first_seen, s.last_seen, s.count), (5_000, 40_000, 3));
        a.status = Status::Resolved;
        a.ends_at = Some(60_000);
        let (c, s) = t.merge(&a, &cfg(), || unreachable!());
        assert_eq!(c.change, Change::Resolved);
        assert_eq!(s.status, Status::Resolved);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn flapping_starts_after_max_changes_and_clears_after_quiet() {
        let c = cfg();
        let mut f = FlapState::default();
        assert!(!f.record_change(0, &c));
        assert!(!f.record_change(60_000, &c));
        assert!(!f.record_change(120_000, &c));
        assert!(f.record_change(180_000, &c));
        assert!(f.is_flapping(200_000, &c));
        assert!(!f.is_flapping(180_000 + 900_000, &c));
        // Changes spread wider than the window never flap.
        let mut g = FlapState::default();
        for i in 0..10 {
            assert!(!g.record_change(i * 700_000, &c));
        }
    }
}
