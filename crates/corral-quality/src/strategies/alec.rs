//! ALEC-style clustering in event time: every `tick` the open alarms (one per fingerprint, timed
//! at the start of its current firing) are clustered with DBSCAN, minPts 1 (single linkage),
//! over d = α·(β·Δt_minutes + (1−β)·hops), where hops is the undirected shortest path between
//! the alarms' topology nodes. With ALEC's ε = 100, α = 144.47, β = 0.5526, alarms on one node
//! link within 75 s, one hop apart within 27 s, two hops never.
//!
//! Clusters become situations as ALEC maintains them: an alarm, once in a situation, stays there;
//! a cluster holding alarms of existing situations extends the oldest of them; a cluster of new
//! alarms opens a new one. Unlike ALEC's UI, a single unclustered alarm is emitted too (as a
//! one-alert incident): the operator still receives it. Alarms on resources the topology does
//! not know sit on a vertex of their own, named by the resource string.

use super::{AlertFacts, IncidentDraft};
use corral_core::incident::{EventAction, IncidentUpdate};
use corral_core::model::{Alert, Millis, Status};
use corral_core::topology::{EdgeMask, TopologyIndex};
use rustc_hash::{FxHashMap, FxHashSet};

#[derive(Clone, Debug, PartialEq)]
pub struct AlecConfig {
    pub epsilon: f64,
    pub alpha: f64,
    pub beta: f64,
    /// Re-clustering period.
    pub tick_ms: Millis,
}

impl Default for AlecConfig {
    /// ALEC's published defaults.
    fn default() -> Self {
        AlecConfig {
            epsilon: 100.0,
            alpha: 144.47,
            beta: 0.5526,
            tick_ms: 30_000,
        }
    }
}

impl AlecConfig {
    pub fn distance(&self, dt_ms: Millis, hops: u32) -> f64 {
        let minutes = dt_ms.unsigned_abs() as f64 / 60_000.0;
        self.alpha * (self.beta * minutes + (1.0 - self.beta) * hops as f64)
    }

    /// Most hops at which two alarms can still be within ε (at Δt = 0).
    fn max_hops(&self) -> u32 {
        let per_hop = self.alpha * (1.0 - self.beta);
        if per_hop <= 0.0 {
            return 0;
        }
        (self.epsilon / per_hop).floor().clamp(0.0, 16.0) as u32
    }
}

/// A vertex: a topology node, or a resource string the topology does not know.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Vertex {
    Node(u32),
    Unknown(String),
}

struct Alarm {
    facts: AlertFacts,
    vertex: Vertex,
    time: Millis,
    open: bool,
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Runs ALEC-style clustering over a stream in arrival order.
pub fn alec_style(alerts: &[Alert], topo: &TopologyIndex, cfg: &AlecConfig) -> Vec<IncidentUpdate> {
    // Undirected adjacency, built once from the index's one-hop upstream sets.
    let n = topo.node_count();
    let mut adjacency: Vec<Vec<u32>> = vec![Vec::new(); n];
    for i in 0..n {
        let idx = petgraph::graph::NodeIndex::new(i);
        for up in topo.upstream_within(idx, 1, EdgeMask::ALL, usize::MAX) {
            let j = up.node.index();
            if j != i {
                adjacency[i].push(j as u32);
                adjacency[j].push(i as u32);
            }
        }
    }
    for a in &mut adjacency {
        a.sort_unstable();
        a.dedup();
    }
    let max_hops = cfg.max_hops();

    let mut alarms: Vec<Alarm> = Vec::new();
    let mut alarm_of: FxHashMap<String, usize> = FxHashMap::default();
    let mut situation_of: FxHashMap<usize, usize> = FxHashMap::default(); // alarm → situation
    let mut situations: Vec<Option<IncidentDraft>> = Vec::new();
    let mut open_members: Vec<usize> = Vec::new(); // per situation, open alarms
    let mut out = Vec::new();
    let mut now = Millis::MIN;
    let mut next_tick: Option<Millis> = None;
    let mut dirty = false;

    let recluster = |at: Millis,
                     alarms: &mut Vec<Alarm>,
                     situation_of: &mut FxHashMap<usize, usize>,
                     situations: &mut Vec<Option<IncidentDraft>>,
                     open_members: &mut Vec<usize>,
                     out: &mut Vec<IncidentUpdate>| {
        let open: Vec<usize> = (0..alarms.len()).filter(|&i| alarms[i].open).collect();
        // Union-find over positions in `open`.
        let mut on_vertex: FxHashMap<&Vertex, Vec<usize>> = FxHashMap::default();
        for (p, &i) in open.iter().enumerate() {
            on_vertex.entry(&alarms[i].vertex).or_default().push(p);
        }
        let mut parent: Vec<usize> = (0..open.len()).collect();
        for (p, &i) in open.iter().enumerate() {
            // Vertices within max_hops of this alarm's vertex, with their distance in hops.
            let mut near: Vec<(Vertex, u32)> = vec![(alarms[i].vertex.clone(), 0)];
            if let Vertex::Node(v) = alarms[i].vertex {
                let mut seen: FxHashSet<u32> = FxHashSet::default();
                seen.insert(v);
                let mut frontier = vec![v];
                for h in 1..=max_hops {
                    let mut next = Vec::new();
                    for &u in &frontier {
                        for &w in &adjacency[u as usize] {
                            if seen.insert(w) {
                                next.push(w);
                                near.push((Vertex::Node(w), h));
                            }
                        }
                    }
                    frontier = next;
                }
            }
            for (vertex, hops) in near {
                let Some(others) = on_vertex.get(&vertex) else {
                    continue;
                };
                for &q in others {
                    let j = open[q];
                    if q != p && cfg.distance(alarms[i].time - alarms[j].time, hops) <= cfg.epsilon
                    {
                        let (rp, rq) = (find(&mut parent, p), find(&mut parent, q));
                        if rp != rq {
                            parent[rp.max(rq)] = rp.min(rq);
                        }
                    }
                }
            }
        }
        let mut clusters: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (p, &i) in open.iter().enumerate() {
            let r = find(&mut parent, p);
            clusters.entry(r).or_default().push(i);
        }
        for (_, members) in clusters {
            let existing = members
                .iter()
                .filter_map(|m| situation_of.get(m).copied())
                .min();
            let s = match existing {
                Some(s) => s,
                None => {
                    situations.push(Some(IncidentDraft::new(
                        format!("alec-{:06}", situations.len() + 1),
                        "alec-dbscan",
                    )));
                    open_members.push(0);
                    situations.len() - 1
                }
            };
            let mut grew = false;
            for &m in &members {
                if situation_of.contains_key(&m) {
                    continue;
                }
                situation_of.insert(m, s);
                open_members[s] += 1;
                if let Some(d) = situations[s].as_mut() {
                    grew |= d.add(&alarms[m].facts);
                }
            }
            if grew {
                if let Some(d) = &situations[s] {
                    let why = vec![format!(
                        "DBSCAN ε={} α={} β={}: {} alarms within reach",
                        cfg.epsilon,
                        cfg.alpha,
                        cfg.beta,
                        d.members.len()
                    )];
                    out.push(d.update(EventAction::Trigger, at, why));
                }
            }
        }
    };

    let close = |alarm: usize,
                 at: Millis,
                 situation_of: &mut FxHashMap<usize, usize>,
                 situations: &mut Vec<Option<IncidentDraft>>,
                 open_members: &mut Vec<usize>,
                 out: &mut Vec<IncidentUpdate>| {
        if let Some(s) = situation_of.get(&alarm).copied() {
            open_members[s] -= 1;
            if open_members[s] == 0 {
                if let Some(d) = situations[s].take() {
                    out.push(d.update(EventAction::Resolve, at, vec!["all alarms cleared".into()]));
                }
                situation_of.retain(|_, v| *v != s);
            }
        }
    };

    for a in alerts {
        now = now.max(a.event_time());
        if let Some(t) = next_tick {
            if t <= now {
                // One clustering at the first due tick sees every alarm received so far; the
                // ticks after it up to now would find nothing new.
                if dirty {
                    recluster(
                        t,
                        &mut alarms,
                        &mut situation_of,
                        &mut situations,
                        &mut open_members,
                        &mut out,
                    );
                    dirty = false;
                }
                next_tick = Some(t + ((now - t) / cfg.tick_ms + 1) * cfg.tick_ms);
            }
        }
        if next_tick.is_none() {
            next_tick = Some(now - now.rem_euclid(cfg.tick_ms) + cfg.tick_ms);
        }
        let fp = a.fingerprint.as_str();
        let idx = match alarm_of.get(fp) {
            Some(&i) => i,
            None => {
                if a.status == Status::Resolved {
                    continue;
                }
                let vertex = match topo.resolve(&a.resource) {
                    Some(n) => Vertex::Node(n.index() as u32),
                    None => Vertex::Unknown(a.resource.to_string()),
                };
                alarms.push(Alarm {
                    facts: AlertFacts::of(a),
                    vertex,
                    time: a.starts_at,
                    open: false,
                });
                alarm_of.insert(fp.to_string(), alarms.len() - 1);
                alarms.len() - 1
            }
        };
        match a.status {
            Status::Firing => {
                if !alarms[idx].open || alarms[idx].time != a.starts_at {
                    alarms[idx].open = true;
                    alarms[idx].time = a.starts_at;
                    alarms[idx].facts.first_seen = a.starts_at;
                    dirty = true;
                }
            }
            Status::Resolved => {
                if alarms[idx].open {
                    alarms[idx].open = false;
                    // Alarms still waiting for their first clustering are clustered first so
                    // that none is lost.
                    if dirty && !situation_of.contains_key(&idx) {
                        alarms[idx].open = true;
                        recluster(
                            now,
                            &mut alarms,
                            &mut situation_of,
                            &mut situations,
                            &mut open_members,
                            &mut out,
                        );
                        dirty = false;
                        alarms[idx].open = false;
                    }
                    close(
                        idx,
                        now,
                        &mut situation_of,
                        &mut situations,
                        &mut open_members,
                        &mut out,
                    );
                    situation_of.remove(&idx);
                }
            }
        }
        if let Some(s) = situation_of.get(&idx).copied() {
            if let Some(d) = situations[s].as_mut() {
                d.touch(a.event_time());
            }
        }
    }
    if dirty {
        let at = next_tick.unwrap_or(now);
        recluster(
            at,
            &mut alarms,
            &mut situation_of,
            &mut situations,
            &mut open_members,
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::topology::TopologyFile;

    fn topo() -> TopologyIndex {
        let f = TopologyFile::parse(
            "nodes:\n  - {id: sw}\n  - {id: h1}\n  - {id: h2}\n  - {id: app}\nedges:\n  - {from: h1, to: sw, type: depends_on}\n  - {from: h2, to: sw, type: depends_on}\n  - {from: app, to: h1, type: depends_on}\n",
            "t.yaml",
        )
        .unwrap();
        TopologyIndex::build(&f)
    }

    #[test]
    fn distance_thresholds_match_alec() {
        let c = AlecConfig::default();
        assert!(c.distance(75_000, 0) <= 100.0);
        assert!(c.distance(76_000, 0) > 100.0);
        assert!(c.distance(26_000, 1) <= 100.0);
        assert!(c.distance(27_000, 1) > 100.0);
        assert!(c.distance(0, 2) > 100.0);
        assert_eq!(c.max_hops(), 1);
    }

    fn ids(out: &[IncidentUpdate]) -> FxHashMap<String, String> {
        let mut m = FxHashMap::default();
        for u in out {
            for fp in &u.payload.custom_details.alerts {
                m.entry(fp.to_string())
                    .or_insert(u.incident_id().to_string());
            }
        }
        m
    }

    #[test]
    fn single_linkage_chains_through_neighbours_but_not_two_hops() {
        let t = topo();
        let sw = Alert::firing("SwitchDown", "sw", 0);
        let h1 = Alert::firing("HostDown", "h1", 20_000); // 1 hop from sw, 20 s
        let app = Alert::firing("AppDown", "app", 40_000); // 1 hop from h1, 20 s
        let h2 = Alert::firing("HostDown", "h2", 200_000); // 1 hop from sw but 200 s later
        let out = alec_style(
            &[sw.clone(), h1.clone(), app.clone(), h2.clone()],
            &t,
            &AlecConfig::default(),
        );
        let m = ids(&out);
        assert_eq!(m[sw.fingerprint.as_str()], m[h1.fingerprint.as_str()]);
        assert_eq!(m[h1.fingerprint.as_str()], m[app.fingerprint.as_str()]);
        assert_ne!(m[sw.fingerprint.as_str()], m[h2.fingerprint.as_str()]);
    }

    #[test]
    fn situations_resolve_when_all_alarms_clear_and_unknown_resources_stand_alone() {
        let t = topo();
        let a = Alert::firing("HostDown", "h1", 0);
        let b = Alert::firing("HostDown", "mystery-box", 1_000);
        let mut ra = a.clone();
        ra.status = Status::Resolved;
        ra.ends_at = Some(120_000);
        let out = alec_style(&[a.clone(), b.clone(), ra], &t, &AlecConfig::default());
        let m = ids(&out);
        assert_ne!(m[a.fingerprint.as_str()], m[b.fingerprint.as_str()]);
        let last = out.last().unwrap();
        assert_eq!(last.event_action, EventAction::Resolve);
        assert_eq!(last.incident_id(), m[a.fingerprint.as_str()]);
    }
}
