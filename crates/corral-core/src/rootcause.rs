//! Root cause: which resource most probably broke first.
//!
//! Every incident keeps, for each topology node upstream of its member resources (within the
//! configured hops), how many distinct member resources it could explain (`covered`) and how far
//! away they are (`hop_sum`). The most probable cause is the node that explains the most alerting
//! resources; an alerting node beats a silent one on equal footing, the nearer beats the farther,
//! then the earliest to fire, the most severe, and the rule hints (preferred kinds and names).
//! A silent node wins only when it explains strictly more, and at least twice as many resources
//! as any alerting one: the members share an upstream that is itself not monitored (a gap in
//! monitoring). An alerting node that explains more than half of it is observed evidence and
//! wins. A warning is not an outage: while any member fails outright (error or above), a node
//! with warnings only is not named, and a silent node counts only the failing resources below it.
//! Alert names matter only through the rules' hints (`prefer_names`), never built in.
//! A root cause has no cause of its own among the members: when the node chosen so depends on a
//! failing member that started no later than it, that member is named ([`name_first_cause`]).

use crate::model::{Millis, Severity, Str};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The reason [`choose`] gives for an alerting candidate that explains no other alerting
/// resource, before "; earliest" and any tie.
pub const EXPLAINS_ONLY_ITSELF: &str = "no other alerting resource depends on it";

/// Tolerance for "earliest": monitors scrape every 15–60 s, so alerts that start within this of
/// each other are treated as simultaneous and the other criteria decide.
pub const EARLIEST_TOLERANCE: Millis = 30_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cover {
    pub covered: u32,
    pub hop_sum: u32,
    /// Of the covered resources, those failing outright (an alert at error or above): the only
    /// evidence that a silent node failed (a warning says its own node is degraded, no more).
    #[serde(default)]
    pub failing: u32,
    #[serde(default)]
    pub failing_hop_sum: u32,
}

impl Cover {
    /// Counts a covered resource, `hops` below the node, as failing.
    pub fn add_failing(&mut self, hops: u8) {
        self.failing += 1;
        self.failing_hop_sum += u32::from(hops);
    }
}

/// One candidate as the chooser sees it.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    pub resource: &'a str,
    pub kind_rank: usize,
    pub cover: Cover,
    /// Present when the node has alerting members.
    pub alerting: Option<AlertingInfo<'a>>,
}

#[derive(Clone, Debug)]
pub struct AlertingInfo<'a> {
    pub first_seen: Millis,
    pub severity: Severity,
    pub fingerprint: &'a Str,
    pub name: &'a Str,
    pub name_rank: usize,
    /// In [0, 1]: how chronic (noise at baseline) the node's alerts are.
    pub chronic: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub index: usize,
    pub confidence: f64,
    pub reason: String,
    /// Runner-up, for explanations.
    pub runner_up: Option<usize>,
}

/// The candidate lists [`choose_with`] fills on every call, kept by the caller between calls so
/// that they are allocated once rather than per choice.
#[derive(Debug, Default)]
pub struct ChooseScratch {
    alerting: Vec<usize>,
    silent: Vec<usize>,
}

/// Picks the root cause among `cands`; `members` is the number of distinct member resources.
pub fn choose(cands: &[Candidate<'_>], members: usize) -> Option<Choice> {
    choose_with(cands, members, &mut ChooseScratch::default())
}

/// [`choose`], with its lists in `scratch` (what it held before is dropped).
pub fn choose_with(
    cands: &[Candidate<'_>],
    members: usize,
    scratch: &mut ChooseScratch,
) -> Option<Choice> {
    if cands.is_empty() {
        return None;
    }
    let members = members.max(1) as f64;
    // Chronic noise makes a poor root cause: consider such nodes only when nothing else alerts.
    let usable_alerting = |c: &Candidate| c.alerting.as_ref().is_some_and(|a| a.chronic < 0.5);
    // A warning is not an outage: a node that is merely degraded (its worst alert below error)
    // is named only when no usable member fails outright. A warning upstream of a failure (a
    // latency or certificate check on an instance whose service then goes down) is a
    // neighbour's symptom or noise, not what broke; the engine never links a warning as a cause
    // either (`causality`).
    let failing = |c: &Candidate| {
        usable_alerting(c)
            && c.alerting
                .as_ref()
                .is_some_and(|a| a.severity >= Severity::Error)
    };
    let any_failing = any_failing(cands);
    let any_usable = cands.iter().any(usable_alerting);
    let alerting = &mut scratch.alerting;
    alerting.clear();
    alerting.extend((0..cands.len()).filter(|&i| {
        let c = &cands[i];
        if any_failing {
            failing(c)
        } else if any_usable {
            usable_alerting(c)
        } else {
            c.alerting.is_some()
        }
    }));
    let alerting = &alerting[..];
    // Once a member fails outright, a silent node is only as likely a cause as the failures
    // below it: warnings under it (degraded neighbours, noise) are no evidence it went down.
    // Read in place (`Weigh`) rather than from a weighed copy of every candidate.
    let weigh = Weigh { any_failing };
    let best_alerting = best_of(cands, alerting.iter().copied(), weigh);
    let silent = &mut scratch.silent;
    silent.clear();
    silent.extend(
        (0..cands.len())
            .filter(|&i| cands[i].alerting.is_none() && weigh.cover(&cands[i]).covered >= 2),
    );
    let silent = &silent[..];
    let best_silent = best_of(cands, silent.iter().copied(), weigh);

    let covered = |i: usize| weigh.cover(&cands[i]).covered;
    let pick = match (best_alerting, best_silent) {
        // An observed failure that explains more than half of what a silent guess explains is
        // the better cause: the rest is more likely a second failure beside it (two VMs of one
        // hypervisor failing minutes apart) than a hidden common cause.
        (Some(a), Some(s)) if silent_outweighs(covered(s), covered(a)) => s,
        (Some(a), _) => a,
        (None, Some(s)) => s,
        (None, None) => return None,
    };
    let c = &cands[pick];
    let c_covered = covered(pick);
    let runner_up = best_of(
        cands,
        alerting
            .iter()
            .chain(silent)
            .copied()
            .filter(|&i| i != pick),
        weigh,
    );
    let mut confidence = f64::from(c_covered) / members;
    if c.alerting.is_none() {
        confidence *= 0.85;
    }
    if let Some(r) = runner_up {
        if covered(r) == c_covered {
            confidence *= 0.7;
        }
    }
    let confidence = (confidence.clamp(0.05, 0.99) * 100.0).round() / 100.0;
    let others = c_covered.saturating_sub(u32::from(c.alerting.is_some()));
    let reason = match &c.alerting {
        Some(a) => {
            let earliest = alerting.iter().all(|&i| {
                cands[i]
                    .alerting
                    .as_ref()
                    .is_none_or(|o| a.first_seen <= o.first_seen)
            });
            // Pieces pushed, not `format!`: `core::fmt` cost ~1,000 instructions a choice.
            let mut r = String::with_capacity(64);
            if others == 0 {
                r.push_str(EXPLAINS_ONLY_ITSELF);
            } else {
                r.push_str("upstream of ");
                r.push_str(itoa::Buffer::new().format(others));
                r.push_str(" other alerting resource");
                r.push_str(plural(others));
            }
            debug_assert_eq!(
                r,
                if others == 0 {
                    "no other alerting resource depends on it".to_string()
                } else {
                    format!(
                        "upstream of {others} other alerting resource{}",
                        plural(others)
                    )
                }
            );
            if earliest {
                r.push_str("; earliest");
            }
            if let Some(ru) = runner_up {
                if covered(ru) == c_covered {
                    // Pushed, not `format!`ted (a string built and dropped per tied choice).
                    r.push_str("; tie with ");
                    r.push_str(cands[ru].resource);
                    r.push_str(" broken by time, severity and hints");
                }
            }
            r
        }
        None => {
            let mut r = String::with_capacity(120);
            r.push_str("silent upstream of ");
            r.push_str(itoa::Buffer::new().format(others));
            r.push_str(" alerting resource");
            r.push_str(plural(others));
            r.push_str(": shared dependency not itself alerting (monitoring gap?)");
            debug_assert_eq!(
                r,
                format!(
                    "silent upstream of {others} alerting resource{}: shared dependency not itself alerting (monitoring gap?)",
                    plural(others)
                )
            );
            r
        }
    };
    Some(Choice {
        index: pick,
        confidence,
        reason,
        runner_up,
    })
}

/// A root cause has no cause of its own among the members: when the chosen node depends on an
/// alerting node that fails outright and started failing no later than it, that node broke first
/// and is upstream of everything the chosen one explains (coverage stops at the configured hops,
/// so a node high up is undercounted): name it instead, up the chain. `alerting_above(i)` lists
/// the candidates with alerting members upstream of `cands[i]` (itself excluded).
///
/// Two nodes each upstream of the other (peers on a symmetric `connects_to` path) have no
/// direction of impact: which one started first says who broke first only beyond the
/// simultaneity tolerance. Within it, as in any choice, severity decides: a peer's lesser alert
/// that fired a few seconds earlier (a core switch's uplink degraded 10 s before the switch
/// beside it went down) is the down switch's symptom, not its cause.
pub fn name_first_cause(
    cands: &[Candidate<'_>],
    choice: Choice,
    alerting_above: impl Fn(usize) -> Vec<usize>,
) -> Choice {
    let Some(chosen) = cands[choice.index].alerting.as_ref() else {
        return choice;
    };
    let chosen_at = chosen.first_seen;
    let started = |i: usize| cands[i].alerting.as_ref().map(|a| a.first_seen);
    let mut current = choice.index;
    // The nodes named on the way past the chosen one (none on most choices: no allocation).
    let mut visited: Vec<usize> = Vec::new();
    // Every node on the way is alerting (the chosen one, then only alerting causes).
    while let Some(current_alert) = cands[current].alerting.as_ref() {
        let at = current_alert.first_seen;
        let causes: Vec<usize> = alerting_above(current)
            .into_iter()
            .filter(|&i| i != choice.index && !visited.contains(&i))
            .filter(|&i| {
                cands[i].alerting.as_ref().is_some_and(|a| {
                    a.severity >= Severity::Error
                        && a.chronic < 0.5
                        && a.first_seen <= at
                        && !(a.severity < current_alert.severity
                            && at - a.first_seen <= EARLIEST_TOLERANCE
                            && alerting_above(i).contains(&current))
                })
            })
            .collect();
        // The earliest of its causes; coverage, nearness and hints break ties as for any choice.
        let Some(first) = causes.iter().filter_map(|&i| started(i)).min() else {
            break;
        };
        let earliest = causes
            .iter()
            .copied()
            .filter(|&i| started(i) == Some(first));
        let Some(next) = best_of(cands, earliest, Weigh::AS_IS) else {
            break;
        };
        visited.push(next);
        current = next;
    }
    if current == choice.index {
        return choice;
    }
    let symptom = &cands[choice.index];
    let others = symptom.cover.covered.saturating_sub(1);
    let cause_at = cands[current]
        .alerting
        .as_ref()
        .map_or(chosen_at, |a| a.first_seen);
    Choice {
        index: current,
        confidence: choice.confidence,
        reason: format!(
            "{} (upstream of {others} other alerting resource{}) depends on it and started \
             failing {}s after it: its cause, so theirs",
            symptom.resource,
            plural(others),
            (chosen_at - cause_at) / 1000
        ),
        runner_up: Some(choice.index),
    }
}

/// Whether a silent node that explains `silent_covered` member resources is named root cause
/// over the best alerting node, which explains `alerting_covered`: only with strictly more and at
/// least twice the evidence (a hidden common cause is a guess; an alert is an observation).
pub fn silent_outweighs(silent_covered: u32, alerting_covered: u32) -> bool {
    silent_covered > alerting_covered && silent_covered >= 2 * alerting_covered
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Which cover a candidate is weighed by. Once a member fails outright, a silent node counts
/// only the failing resources below it (read in place rather than copying every candidate).
#[derive(Clone, Copy)]
struct Weigh {
    any_failing: bool,
}

impl Weigh {
    const AS_IS: Weigh = Weigh { any_failing: false };

    fn cover(self, c: &Candidate<'_>) -> Cover {
        if c.alerting.is_none() {
            self.silent(c.cover)
        } else {
            c.cover
        }
    }

    /// The cover of a silent node as weighed.
    fn silent(self, cover: Cover) -> Cover {
        if self.any_failing {
            Cover {
                covered: cover.failing,
                hop_sum: cover.failing_hop_sum,
                ..cover
            }
        } else {
            cover
        }
    }
}

/// Best of a pool by coverage, then nearness, then (for alerting nodes) earliest within the
/// tolerance, severity, hints, exact time; the resource name keeps it deterministic.
fn best_of(
    cands: &[Candidate<'_>],
    pool: impl Iterator<Item = usize> + Clone,
    weigh: Weigh,
) -> Option<usize> {
    let cover = |i: usize| weigh.cover(&cands[i]);
    let top = pool.clone().map(|i| cover(i).covered).max()?;
    // Walked twice rather than collected: a list per call cost more than the second walk.
    let tied = || pool.clone().filter(move |&i| cover(i).covered == top);
    let earliest = tied()
        .filter_map(|i| cands[i].alerting.as_ref().map(|a| a.first_seen))
        .min();
    tied().min_by(|&x, &y| {
        let (a, b) = (&cands[x], &cands[y]);
        let (cover_a, cover_b) = (cover(x), cover(y));
        let early = |c: &Candidate| match (&c.alerting, earliest) {
            (Some(al), Some(e)) => al.first_seen - e > EARLIEST_TOLERANCE,
            _ => false,
        };
        // Mean distance to the explained members (compare hop_sum/covered without division).
        let dist_a = u64::from(cover_a.hop_sum) * u64::from(cover_b.covered);
        let dist_b = u64::from(cover_b.hop_sum) * u64::from(cover_a.covered);
        early(a)
            .cmp(&early(b))
            .then(dist_a.cmp(&dist_b))
            .then_with(|| {
                let sev = |c: &Candidate| c.alerting.as_ref().map(|a| a.severity);
                sev(b).cmp(&sev(a))
            })
            .then(a.kind_rank.cmp(&b.kind_rank))
            .then_with(|| {
                let nr = |c: &Candidate| c.alerting.as_ref().map_or(usize::MAX, |a| a.name_rank);
                nr(a).cmp(&nr(b))
            })
            .then_with(|| {
                let t = |c: &Candidate| c.alerting.as_ref().map_or(Millis::MAX, |a| a.first_seen);
                t(a).cmp(&t(b))
            })
            // Lazily: the name decides only full ties (eagerly, a string comparison a call).
            .then_with(|| a.resource.cmp(b.resource))
    })
}

/// Drops, keeping the order of the rest, the candidates that cannot change what [`choose`]
/// answers: silent nodes other than the best two ([`SilentTop`]).
///
/// Every alerting candidate stays. `choose(&kept, m)` names the same candidates, with the same
/// confidence and reason, as `choose(&all, m)` (proptest
/// `keeping_the_decisive_candidates_chooses_alike`).
pub fn keep_decisive<'a>(cands: &mut Vec<Candidate<'a>>) {
    let mut top = SilentTop::new(any_failing(cands));
    for c in cands.iter().filter(|c| c.alerting.is_none()) {
        top.offer(Silent {
            cover: c.cover,
            kind_rank: c.kind_rank,
            name: c.resource,
        });
    }
    let kept: Vec<&'a str> = top.into_kept().map(|s| s.name).collect();
    cands.retain(|c| c.alerting.is_some() || kept.contains(&c.resource));
}

/// Whether any usable (not chronic) alerting candidate fails outright (error or above): then
/// warnings are not named and a silent node is weighed by the failures below it alone. The
/// test [`choose`] makes, for a caller that must know before it offers silent nodes.
pub fn any_failing(cands: &[Candidate<'_>]) -> bool {
    cands.iter().any(|c| {
        c.alerting
            .as_ref()
            .is_some_and(|a| a.chronic < 0.5 && a.severity >= Severity::Error)
    })
}

/// Of the silent candidates, the only two that can change what [`choose`] answers, offered one by
/// one: the best two in the order `best_of` ranks silent nodes among themselves (explained
/// resources as weighed, then nearness, kind hint and name; a silent node has no time, severity
/// or name hint). The best is the silent pool's pick; the runner-up is the best of the rest, so
/// when the pick is the best silent node, the second may be it. Every other silent node loses to
/// both in any pool `choose` forms, so leaving it out changes nothing. On a two-resource incident
/// the shared upstream chain is a dozen nodes tied on coverage: all of them were weighed on
/// every new root cause, and `choose` compared their names.
pub struct SilentTop<N> {
    weigh: Weigh,
    best: [Option<Silent<N>>; 2],
}

/// A silent node as [`SilentTop`] ranks it, before its [`Candidate`] is built.
#[derive(Clone, Copy, Debug)]
pub struct Silent<N> {
    pub cover: Cover,
    pub kind_rank: usize,
    /// Orders nodes as their ids (the candidates' `resource`) do: the id itself, or the
    /// node's rank in id order (`TopologyIndex::name_rank`), which compares without reading
    /// two names (a tie on all but the name is common: a shared upstream chain).
    pub name: N,
}

impl<N: Ord> SilentTop<N> {
    /// `any_failing` as [`any_failing`] answers it for the candidates `choose` will see.
    pub fn new(any_failing: bool) -> Self {
        SilentTop {
            weigh: Weigh { any_failing },
            best: [None, None],
        }
    }

    /// Whether a silent node with this cover and kind rank (asked only when the cover could
    /// do) could be kept: false for most nodes of a wide coverage, before their candidate and
    /// name are looked up. Only a node that ties the second best on all but the name is offered
    /// in vain.
    #[inline]
    pub fn may_keep(&self, cover: &Cover, kind_rank: impl FnOnce() -> usize) -> bool {
        let cover = self.weigh.silent(*cover);
        if cover.covered < 2 {
            return false;
        }
        match &self.best[1] {
            None => true,
            Some(second) => {
                let second_cover = self.weigh.silent(second.cover);
                silent_rank(cover, kind_rank(), second_cover, second.kind_rank) != Ordering::Greater
            }
        }
    }

    /// Offers a silent node.
    pub fn offer(&mut self, cand: Silent<N>) {
        if !self.may_keep(&cand.cover, || cand.kind_rank) {
            return;
        }
        let weigh = self.weigh;
        let better = |c: &Silent<N>, than: &Option<Silent<N>>| {
            than.as_ref()
                .is_none_or(|t| silent_order(c, t, weigh) == Ordering::Less)
        };
        if better(&cand, &self.best[0]) {
            self.best[1] = self.best[0].replace(cand);
        } else if better(&cand, &self.best[1]) {
            self.best[1] = Some(cand);
        }
    }

    /// The kept nodes, best first.
    pub fn into_kept(self) -> impl Iterator<Item = Silent<N>> {
        self.best.into_iter().flatten()
    }
}

/// How `best_of` ranks two silent candidates (`Less`: `a` is the better cause), wherever they
/// meet: the more explained resources first (the pool's top), then its comparator, in which two
/// silent nodes differ only by nearness, kind hint and name.
fn silent_order<N: Ord>(a: &Silent<N>, b: &Silent<N>, weigh: Weigh) -> Ordering {
    let (cover_a, cover_b) = (weigh.silent(a.cover), weigh.silent(b.cover));
    silent_rank(cover_a, a.kind_rank, cover_b, b.kind_rank).then_with(|| a.name.cmp(&b.name))
}

/// [`silent_order`] but for the name, from weighed covers.
fn silent_rank(cover_a: Cover, kind_a: usize, cover_b: Cover, kind_b: usize) -> Ordering {
    let dist_a = u64::from(cover_a.hop_sum) * u64::from(cover_b.covered);
    let dist_b = u64::from(cover_b.hop_sum) * u64::from(cover_a.covered);
    cover_b
        .covered
        .cmp(&cover_a.covered)
        .then(dist_a.cmp(&dist_b))
        .then(kind_a.cmp(&kind_b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerting<'a>(
        resource: &'a str,
        covered: u32,
        hop_sum: u32,
        first_seen: Millis,
        fp: &'a Str,
    ) -> Candidate<'a> {
        Candidate {
            resource,
            kind_rank: 5,
            cover: Cover {
                covered,
                hop_sum,
                failing: covered,
                failing_hop_sum: hop_sum,
            },
            alerting: Some(AlertingInfo {
                first_seen,
                severity: Severity::Error,
                fingerprint: fp,
                name: fp,
                name_rank: 0,
                chronic: 0.0,
            }),
        }
    }

    fn silent(resource: &str, covered: u32, hop_sum: u32) -> Candidate<'_> {
        Candidate {
            resource,
            kind_rank: 1,
            cover: Cover {
                covered,
                hop_sum,
                failing: covered,
                failing_hop_sum: hop_sum,
            },
            alerting: None,
        }
    }

    #[test]
    fn most_explaining_alerting_node_wins() {
        let fp = Str::from("x");
        let c = vec![
            alerting("svc", 1, 0, 0, &fp),
            alerting("db", 3, 2, 60_000, &fp),
            silent("esx", 3, 4),
        ];
        let ch = choose(&c, 3).unwrap();
        assert_eq!(c[ch.index].resource, "db");
        assert!(ch.reason.contains("upstream of 2 other"));
    }

    #[test]
    fn silent_shared_upstream_wins_only_with_strictly_more() {
        let fp = Str::from("x");
        let c = vec![
            alerting("h1", 1, 0, 0, &fp),
            alerting("h2", 1, 0, 0, &fp),
            alerting("h3", 1, 0, 0, &fp),
            silent("switch", 3, 3),
            silent("core", 3, 6),
        ];
        let ch = choose(&c, 3).unwrap();
        assert_eq!(c[ch.index].resource, "switch", "nearest silent upstream");
        assert!(ch.reason.contains("monitoring gap"));
        assert!(ch.confidence < 0.9);
    }

    #[test]
    fn a_reused_scratch_chooses_as_a_fresh_one() {
        let fp = Str::from("x");
        let wide = vec![
            alerting("h1", 1, 0, 0, &fp),
            alerting("h2", 1, 0, 0, &fp),
            alerting("h3", 1, 0, 0, &fp),
            silent("switch", 3, 3),
            silent("core", 3, 6),
        ];
        let narrow = vec![alerting("vm-1", 2, 1, 0, &fp), silent("esx", 2, 2)];
        let mut scratch = ChooseScratch::default();
        // The lists left by one choice must not leak into the next (nor the other way round).
        assert_eq!(choose_with(&wide, 3, &mut scratch), choose(&wide, 3));
        let after_wide = choose_with(&narrow, 2, &mut scratch);
        assert_eq!(after_wide, choose(&narrow, 2));
        assert_eq!(narrow[after_wide.unwrap().index].resource, "vm-1");
        assert_eq!(choose_with(&wide, 3, &mut scratch), choose(&wide, 3));
        assert_eq!(choose_with(&[], 0, &mut scratch), None);
    }

    #[test]
    fn an_alerting_node_explaining_more_than_half_beats_a_silent_guess() {
        let fp = Str::from("x");
        let mut c = vec![
            alerting("vm-1", 3, 2, 0, &fp),
            alerting("vm-2", 1, 0, 90_000, &fp),
            silent("esx", 4, 6),
        ];
        assert_eq!(c[choose(&c, 4).unwrap().index].resource, "vm-1");
        // Explaining exactly half is not enough: the silent guess explains twice as much.
        c[0].cover = Cover {
            covered: 2,
            hop_sum: 1,
            failing: 2,
            failing_hop_sum: 1,
        };
        assert_eq!(c[choose(&c, 4).unwrap().index].resource, "esx");
    }

    #[test]
    fn earliest_then_severity_then_hints() {
        let fp = Str::from("x");
        let mut c = vec![
            alerting("a", 1, 0, 100_000, &fp),
            alerting("b", 1, 0, 0, &fp),
        ];
        assert_eq!(c[choose(&c, 2).unwrap().index].resource, "b");
        // Within the tolerance, severity decides.
        c[0].alerting.as_mut().unwrap().first_seen = 10_000;
        c[0].alerting.as_mut().unwrap().severity = Severity::Critical;
        assert_eq!(c[choose(&c, 2).unwrap().index].resource, "a");
        // Then the kind hint.
        c[0].alerting.as_mut().unwrap().severity = Severity::Error;
        c[0].kind_rank = 0;
        assert_eq!(c[choose(&c, 2).unwrap().index].resource, "a");
    }

    #[test]
    fn a_warning_is_named_only_when_nothing_fails_outright() {
        let fp = Str::from("x");
        let mut c = vec![
            alerting("slow-db", 2, 1, 0, &fp),
            alerting("api", 1, 0, 60_000, &fp),
            // The shared host covers both, but only the api fails outright below it.
            silent("host", 2, 3),
        ];
        c[0].alerting.as_mut().unwrap().severity = Severity::Warning;
        c[2].cover.failing = 1;
        c[2].cover.failing_hop_sum = 2;
        assert_eq!(c[choose(&c, 2).unwrap().index].resource, "api");
        // Counting the warning, the silent host would have had twice the api's evidence.
        c[2].cover.failing = 2;
        assert_eq!(c[choose(&c, 2).unwrap().index].resource, "host");
        // Only warnings: the one upstream of the other is named.
        c[1].alerting.as_mut().unwrap().severity = Severity::Warning;
        c.pop();
        assert_eq!(c[choose(&c, 2).unwrap().index].resource, "slow-db");
    }

    /// What a choice says, by resource name (indices differ between the two lists).
    fn named(
        cands: &[Candidate<'_>],
        ch: Option<Choice>,
    ) -> Option<(String, f64, String, Option<String>)> {
        ch.map(|ch| {
            (
                cands[ch.index].resource.to_string(),
                ch.confidence,
                ch.reason,
                ch.runner_up.map(|r| cands[r].resource.to_string()),
            )
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Dropping what `keep_decisive` drops changes nothing `choose` answers: random mixes of
        /// alerting (failing, warning, chronic) and silent candidates with many tied counts,
        /// `failing` below, equal to and above `covered`.
        #[test]
        fn keeping_the_decisive_candidates_chooses_alike(
            specs in proptest::collection::vec(
                (
                    proptest::prelude::any::<bool>(),
                    0u32..7,
                    0u32..8,
                    0u32..14,
                    0usize..3,
                    0usize..4,
                    0i64..5,
                    proptest::prelude::any::<bool>(),
                ),
                0..40,
            ),
            members in 0usize..30,
        ) {
            let names: Vec<Str> = (0..specs.len()).map(|i| Str::from(format!("r{i:02}"))).collect();
            let severities = [Severity::Warning, Severity::Error, Severity::Critical];
            let cands: Vec<Candidate<'_>> = specs
                .iter()
                .zip(&names)
                .map(|(&(is_alerting, covered, failing, hops, kind, sev, t, chronic), name)| {
                    Candidate {
                        resource: name.as_str(),
                        kind_rank: kind,
                        cover: Cover {
                            covered,
                            hop_sum: hops,
                            failing,
                            failing_hop_sum: hops / 2,
                        },
                        alerting: is_alerting.then(|| AlertingInfo {
                            first_seen: t * 20_000,
                            severity: severities[sev % 3],
                            fingerprint: name,
                            name,
                            name_rank: sev,
                            chronic: if chronic { 0.7 } else { 0.0 },
                        }),
                    }
                })
                .collect();
            let mut kept = cands.clone();
            keep_decisive(&mut kept);
            let all = named(&cands, choose(&cands, members));
            proptest::prop_assert_eq!(named(&kept, choose(&kept, members)), all);
        }
    }

    #[test]
    fn the_first_cause_up_the_chain_is_named() {
        let fp = Str::from("x");
        // esx (2 covered within the horizon) is upstream of inst, which covers more; vm sits
        // between them and fails too.
        let mut c = vec![
            alerting("esx", 2, 2, 0, &fp),
            alerting("vm", 2, 1, 5_000, &fp),
            alerting("inst", 4, 3, 10_000, &fp),
        ];
        let above = |i: usize| -> Vec<usize> {
            match i {
                2 => vec![0, 1],
                1 => vec![0],
                _ => vec![],
            }
        };
        let ch = choose(&c, 4).unwrap();
        assert_eq!(c[ch.index].resource, "inst");
        let ch = name_first_cause(&c, ch, above);
        assert_eq!(c[ch.index].resource, "esx");
        assert!(
            ch.reason.contains("inst (upstream of 3 other"),
            "{}",
            ch.reason
        );
        // A warning above is no outage, and a node that started failing after the chosen one
        // is not its cause.
        c[0].alerting.as_mut().unwrap().severity = Severity::Warning;
        let ch = name_first_cause(&c, choose(&c, 4).unwrap(), above);
        assert_eq!(c[ch.index].resource, "vm");
        c[1].alerting.as_mut().unwrap().first_seen = 11_000;
        let ch = name_first_cause(&c, choose(&c, 4).unwrap(), above);
        assert_eq!(c[ch.index].resource, "inst");
    }

    #[test]
    fn a_peer_less_severe_and_within_the_tolerance_is_no_first_cause() {
        let fp = Str::from("x");
        // Two core switches on a symmetric link, each upstream of the other; the down switch
        // explains most; its peer's uplink degraded 10 s earlier.
        let mut c = vec![
            alerting("core-0", 6, 6, 10_000, &fp),
            alerting("core-1", 5, 6, 0, &fp),
        ];
        c[0].alerting.as_mut().unwrap().severity = Severity::Critical;
        let peers = |i: usize| -> Vec<usize> { vec![1 - i] };
        let ch = choose(&c, 6).unwrap();
        assert_eq!(c[ch.index].resource, "core-0");
        assert_eq!(c[name_first_cause(&c, ch, peers).index].resource, "core-0");
        // Beyond the tolerance, time tells who broke first, whatever the severity.
        c[0].alerting.as_mut().unwrap().first_seen = EARLIEST_TOLERANCE + 1;
        let ch = choose(&c, 6).unwrap();
        assert_eq!(c[name_first_cause(&c, ch, peers).index].resource, "core-1");
        // Equally severe: the earlier one, as before.
        c[0].alerting.as_mut().unwrap().first_seen = 10_000;
        c[0].alerting.as_mut().unwrap().severity = Severity::Error;
        let ch = choose(&c, 6).unwrap();
        assert_eq!(c[name_first_cause(&c, ch, peers).index].resource, "core-1");
        // One-way (core-1 upstream of core-0 only): the direction of impact decides.
        c[0].alerting.as_mut().unwrap().severity = Severity::Critical;
        let one_way = |i: usize| -> Vec<usize> {
            if i == 0 {
                vec![1]
            } else {
                vec![]
            }
        };
        let ch = choose(&c, 6).unwrap();
        assert_eq!(
            c[name_first_cause(&c, ch, one_way).index].resource,
            "core-1"
        );
    }

    #[test]
    fn chronic_noise_is_not_a_root_cause() {
        let fp = Str::from("x");
        let mut c = vec![
            alerting("noisy", 2, 1, 0, &fp),
            alerting("real", 1, 0, 5_000, &fp),
        ];
        c[0].alerting.as_mut().unwrap().chronic = 0.9;
        assert_eq!(c[choose(&c, 2).unwrap().index].resource, "real");
    }
}
