//! Checkpoints: the serializable engine state (`corral.state`) and its restore.

use super::*;

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
    /// `Engine::recovered_symptom_alternatives`; older snapshots have none (their parts split
    /// off into incidents of their own, as before).
    #[serde(default)]
    recovered_symptom_alternatives: Vec<(Str, Vec<u32>)>,
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
    /// `Engine::user_facing_guesses`; older snapshots have none (nothing moves for those).
    #[serde(default)]
    user_facing_guesses: Vec<(Millis, Str)>,
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

impl Engine {
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
            recovered_symptom_alternatives: self
                .recovered_symptom_alternatives
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
            user_facing_guesses: self.user_facing_guesses.iter().cloned().collect(),
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
        self.recovered_symptom_alternatives = snap
            .recovered_symptom_alternatives
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
        self.user_facing_guesses = snap.user_facing_guesses.into_iter().collect();
        self.group_cache.clear();
        self.service_region_cache.clear();
        self.rca_cache.clear();
        self.impact_cache.clear();
        self.first_cause_ups.clear();
        Ok(())
    }
}
