//! Co-firing links: the same check starting on two resources within one scrape interval
//! (`check_signature`, `CO_FIRING_WINDOW`), and the guesses made through them for alerts the
//! CMDB does not know, corrected when a nearer start arrives (`correct_co_firing_guesses`).

use super::*;

/// How close in time the same check must start on two resources for a co-firing link: one
/// scrape interval, the time monitors take to notice a failure. A cause makes the same check
/// fail on its dependents together; beyond that, in a busy estate, the same check failing
/// elsewhere is coincidence.
pub const CO_FIRING_WINDOW: Millis = crate::causality::CAUSE_LAG_TOLERANCE;

/// An alert on a resource the CMDB does not know that joined an incident on a co-firing link
/// alone: a guess, which a nearer start of the same check on a known resource, arriving later,
/// corrects (`Engine::correct_co_firing_guesses`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct CoFiringGuess {
    fingerprint: Str,
    /// When it started: what its co-firing links are measured from.
    pub(super) start: Millis,
    /// How far from `start` the check started in the incident it is in (the gap it joined on,
    /// then the nearest start on a known resource that joined that incident since).
    gap: Millis,
}

/// How many guesses one check keeps at most (the oldest go first): the correction's cost stays
/// bounded in a storm where one check fires on thousands of unknown resources.
const MAX_GUESSES_PER_CHECK: usize = 64;

impl Engine {
    /// Records (with `gap`: how far the check started in the incident it joined) or forgets
    /// (`None`) alert `fp`, on a resource the CMDB does not know, as placed by a co-firing link
    /// alone at `t`.
    pub(super) fn record_co_firing_guess(
        &mut self,
        check: u64,
        fp: &Str,
        t: Millis,
        gap: Option<Millis>,
    ) {
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
    pub(super) fn correct_co_firing_guesses(
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
pub(super) fn streamed_check_signature(
    name: &str,
    resource: &str,
    labels: &[(Str, Str)],
) -> Option<u64> {
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
pub(super) fn names_resource(value: &str, resource: &str) -> bool {
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
