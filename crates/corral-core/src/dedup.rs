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

/// One alert of the table: its fingerprint and its state, in one allocation, the fingerprint
/// (what a lookup compares) first, next to the state's fields a repeat touches.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
struct Entry {
    fingerprint: Str,
    state: AlertState,
}

/// Fingerprint → state, as a hash table of boxed entries that carry their own key.
///
/// A storm holds millions of alerts, and a hash table keeps up to half its slots empty after
/// growing: with the key in the box, a slot is one pointer (8 bytes, plus a control byte)
/// instead of key and pointer (32). The fingerprint and the state share one allocation (152
/// bytes, the 160-byte size class). Serialized as a map fingerprint → state, like the
/// `HashMap` it replaces, so snapshots keep their format.
#[derive(Clone, Debug, Default)]
pub struct AlertMap {
    entries: HashTable<Box<Entry>>,
}

fn hash_fingerprint(fingerprint: &str) -> u64 {
    FxBuildHasher.hash_one(fingerprint)
}

impl AlertMap {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, fingerprint: &str) -> Option<&AlertState> {
        self.entries
            .find(hash_fingerprint(fingerprint), |e| {
                e.fingerprint == fingerprint
            })
            .map(|e| &e.state)
    }

    pub fn get_mut(&mut self, fingerprint: &str) -> Option<&mut AlertState> {
        self.entries
            .find_mut(hash_fingerprint(fingerprint), |e| {
                e.fingerprint == fingerprint
            })
            .map(|e| &mut e.state)
    }

    pub fn remove(&mut self, fingerprint: &str) -> Option<AlertState> {
        self.entries
            .find_entry(hash_fingerprint(fingerprint), |e| {
                e.fingerprint == fingerprint
            })
            .ok()
            .map(|occupied| occupied.remove().0.state)
    }

    /// Every state, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &AlertState> {
        self.entries.iter().map(|e| &e.state)
    }

    /// Every alert, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Str, &AlertState)> {
        self.entries.iter().map(|e| (&e.fingerprint, &e.state))
    }

    /// Every alert, in no particular order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Str, &mut AlertState)> {
        self.entries.iter_mut().map(|e| {
            let Entry { fingerprint, state } = &mut **e;
            (&*fingerprint, state)
        })
    }

    /// The state of `fingerprint`, made by `make` if it is new; true when it was made.
    pub fn get_or_insert_with(
        &mut self,
        fingerprint: &Str,
        make: impl FnOnce() -> AlertState,
    ) -> (&mut AlertState, bool) {
        let entry = self.entries.entry(
            hash_fingerprint(fingerprint),
            |e| e.fingerprint == *fingerprint,
            |e| hash_fingerprint(&e.fingerprint),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(occupied) => {
                (&mut occupied.into_mut().state, false)
            }
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let entry = vacant.insert(Box::new(Entry {
                    fingerprint: fingerprint.clone(),
                    state: make(),
                }));
                (&mut entry.into_mut().state, true)
            }
        }
    }

    /// Inserts or replaces the state of `fingerprint`.
    pub fn insert(&mut self, fingerprint: Str, state: AlertState) {
        let hash = hash_fingerprint(&fingerprint);
        match self.entries.entry(
            hash,
            |e| e.fingerprint == fingerprint,
            |e| hash_fingerprint(&e.fingerprint),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut occupied) => {
                occupied.get_mut().state = state
            }
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                vacant.insert(Box::new(Entry { fingerprint, state }));
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
        let (state, is_new) = self.alerts.get_or_insert_with(&alert.fingerprint, make);
        if is_new {
            state.count = state.count.saturating_add(1);
            state.service = alert.service.as_deref().map(|s| self.services.intern(s));
            let merged = Merged {
                change: Change::New,
                started_flapping: false,
            };
            return (merged, state);
        }
        let merged = state.merge_repeat(&alert.head(), flapping, &mut self.services);
        (merged, state)
    }
}

impl AlertState {
    /// Merges another occurrence of this alert. Only the head is read: a repeat never changes
    /// an alert's name, resource or labels (the first occurrence's stay).
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
