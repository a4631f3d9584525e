//! The CMDB dependency graph (SPEC §3) and the index the correlator asks: "which node is this
//! resource", and "which nodes could have caused a symptom here, within k hops".
//!
//! Direction of impact: for `depends_on`, `runs_on` and `part_of` an edge `from -> to` means a
//! fault on `to` can cause symptoms on `from`, so `to` is *upstream* of `from`. `connects_to` is a
//! peer link: each end is upstream of the other.

use crate::model::Str;
use crate::topology_yaml::Loaded;
use crate::yaml_pos::{ConfigError, ErrorSink};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeType {
    DependsOn,
    RunsOn,
    PartOf,
    ConnectsTo,
}

impl EdgeType {
    pub const ALL: [EdgeType; 4] = [
        EdgeType::DependsOn,
        EdgeType::RunsOn,
        EdgeType::PartOf,
        EdgeType::ConnectsTo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EdgeType::DependsOn => "depends_on",
            EdgeType::RunsOn => "runs_on",
            EdgeType::PartOf => "part_of",
            EdgeType::ConnectsTo => "connects_to",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of edge types as a bit mask: rules name the edges their grouping may follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EdgeMask(u8);

impl EdgeMask {
    pub const ALL: EdgeMask = EdgeMask(0b1111);

    pub fn of(types: &[EdgeType]) -> EdgeMask {
        EdgeMask(types.iter().fold(0, |m, t| m | t.bit()))
    }

    pub fn contains(self, t: EdgeType) -> bool {
        self.0 & t.bit() != 0
    }
}

/// The native topology file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyFile {
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub edges: Vec<EdgeSpec>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    pub from: String,
    pub to: String,
    #[serde(rename = "type")]
    pub edge_type: EdgeType,
}

impl TopologyFile {
    /// Parses YAML or JSON (told apart by the first character) and validates references.
    pub fn parse(src: &str, file: &str) -> Result<TopologyFile, Vec<ConfigError>> {
        let mut sink = ErrorSink::new(file, src);
        let parsed: Option<TopologyFile> = if src.trim_start().starts_with('{') {
            serde_json::from_str(src).map_err(|e| sink.json(&e)).ok()
        } else if src.trim().is_empty() {
            Some(TopologyFile::default())
        } else {
            // The streaming loader reads the documents it can read exactly as serde_norway does,
            // without serde_norway's whole-document event buffer; serde_norway reads the others
            // (errors other than an unknown key, anchors, tags), so their results and messages
            // are its own.
            match crate::topology_yaml::load(src) {
                Loaded::Topology(topo) => Some(topo),
                Loaded::UnknownField { line, message } => {
                    sink.at_line(line, message);
                    None
                }
                Loaded::NotCovered => serde_norway::from_str(src).map_err(|e| sink.yaml(&e)).ok(),
            }
        };
        let Some(topo) = parsed else {
            return Err(sink.into_errors());
        };
        topo.validate(&mut sink);
        sink.finish(topo)
    }

    pub(crate) fn validate(&self, sink: &mut ErrorSink) {
        let mut names: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.id.trim().is_empty() {
                sink.at(&format!("nodes[{i}].id"), "node id is empty");
            }
            if let Some(prev) = names.insert(n.id.as_str(), i) {
                sink.at(
                    &format!("nodes[{i}].id"),
                    format!("duplicate node id {:?} (first at nodes[{prev}])", n.id),
                );
            }
        }
        // Aliases may be shared only when they are unambiguous; a clash is an error because a
        // resource that resolves to two nodes would correlate arbitrarily.
        let mut aliases: FxHashMap<&str, &str> = FxHashMap::default();
        for (i, n) in self.nodes.iter().enumerate() {
            for (j, a) in n.aliases.iter().enumerate() {
                if let Some(owner) = names.get(a.as_str()).map(|&k| &self.nodes[k].id) {
                    if *owner != n.id {
                        sink.at(
                            &format!("nodes[{i}].aliases[{j}]"),
                            format!("alias {a:?} of {:?} is the id of node {owner:?}", n.id),
                        );
                    }
                } else if let Some(owner) = aliases.insert(a.as_str(), n.id.as_str()) {
                    if owner != n.id {
                        sink.at(
                            &format!("nodes[{i}].aliases[{j}]"),
                            format!("alias {a:?} of {:?} is also an alias of {owner:?}", n.id),
                        );
                    }
                }
            }
        }
        for (i, e) in self.edges.iter().enumerate() {
            for (end, name) in [("from", &e.from), ("to", &e.to)] {
                if !names.contains_key(name.as_str()) && !aliases.contains_key(name.as_str()) {
                    sink.at(
                        &format!("edges[{i}].{end}"),
                        format!("edge {end} unknown node {name:?}"),
                    );
                }
            }
            if e.from == e.to {
                sink.at(&format!("edges[{i}]"), format!("self-loop on {:?}", e.from));
            }
        }
    }
}

/// What the index knows of a node.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub id: Str,
    pub kind: Str,
    pub service: Option<Str>,
}

/// A node that could have caused a symptom on another, with how far and over which edge types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub node: NodeIndex,
    pub hops: u8,
}

/// A path of impact, for explanations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpactStep {
    pub from: Str,
    pub to: Str,
    pub edge: EdgeType,
}

/// Which nodes a walk has seen, for every walk of one thread: node `i` is seen by the current
/// walk when `marks[i] == walk`. Starting a walk bumps `walk` instead of clearing anything, so a
/// walk costs what it visits (a hash set cost more than the rest of the walk), not the graph's
/// size; the marks grow to the largest graph walked once.
#[derive(Default)]
struct WalkMarks {
    walk: u32,
    marks: Vec<u32>,
}

/// The marks of one walk.
struct SeenNodes<'a> {
    walk: u32,
    marks: &'a mut [u32],
}

impl WalkMarks {
    fn start_walk(&mut self, nodes: usize) -> SeenNodes<'_> {
        if self.marks.len() < nodes {
            self.marks.resize(nodes, 0);
        }
        self.walk = self.walk.wrapping_add(1);
        if self.walk == 0 {
            // Marks of four billion walks ago would read as this walk's: start afresh.
            self.marks.fill(0);
            self.walk = 1;
        }
        SeenNodes {
            walk: self.walk,
            marks: &mut self.marks,
        }
    }
}

impl SeenNodes<'_> {
    /// Marks `node` seen; true when it was not yet.
    fn insert(&mut self, node: NodeIndex) -> bool {
        let mark = &mut self.marks[node.index()];
        let new = *mark != self.walk;
        *mark = self.walk;
        new
    }
}

/// Initial room of a neighbourhood walk's result: the default `max_neighbourhood`, a few KiB.
const WALK_CAPACITY: usize = 256;

thread_local! {
    static WALK_MARKS: std::cell::RefCell<WalkMarks> = std::cell::RefCell::default();
}

/// The indexed topology. Immutable once built; shared between engines with an `Arc`.
#[derive(Debug, Default)]
pub struct TopologyIndex {
    graph: DiGraph<NodeInfo, EdgeType>,
    by_name: FxHashMap<Str, NodeIndex>,
    /// Nodes carrying each business service, in file order.
    by_service: FxHashMap<Str, Vec<NodeIndex>>,
    /// Every node's upstream neighbours over all edge types, in the order the graph lists them
    /// (`upstream_neighbours_in_graph`), as one array sliced by `upstream_start`: a walk reads
    /// a node's few upstream links instead of scanning all its incoming edges for `connects_to`
    /// peers (thousands on a switch or database many things depend on).
    upstream: Vec<(NodeIndex, EdgeType)>,
    /// Where each node's slice of `upstream` starts; one more entry than there are nodes.
    upstream_start: Vec<u32>,
    /// Every node's downstream neighbours over all edge types, in the order the graph lists
    /// them (`downstream_neighbours_in_graph`), sliced by `downstream_start` as `upstream` is:
    /// a blast-radius walk reads each node's links from one array instead of following the
    /// graph's edge lists both ways. A node's downstream degree is the length of its slice.
    downstream: Vec<(NodeIndex, EdgeType)>,
    /// Where each node's slice of `downstream` starts; one more entry than there are nodes.
    downstream_start: Vec<u32>,
    /// Each node's business service as an index into `service_names`, or `NO_SERVICE`: a blast
    /// radius names a few services hundreds of times, and marking small integers cost a fraction
    /// of hashing the names (`services_of`).
    service_ids: Vec<u32>,
    /// The distinct business services, sorted.
    service_names: Vec<Str>,
    /// Each node's place when the nodes are sorted by id (`str` order): root-cause ties that
    /// come down to the name compare these rather than look up and compare two ids.
    name_ranks: Vec<u32>,
}

/// `TopologyIndex::service_ids` of a node without a service.
const NO_SERVICE: u32 = u32::MAX;

impl TopologyIndex {
    pub fn empty() -> TopologyIndex {
        TopologyIndex::default()
    }

    pub fn build(file: &TopologyFile) -> TopologyIndex {
        let mut graph = DiGraph::with_capacity(file.nodes.len(), file.edges.len());
        let mut by_name =
            FxHashMap::with_capacity_and_hasher(file.nodes.len() * 2, Default::default());
        let mut by_service: FxHashMap<Str, Vec<NodeIndex>> = FxHashMap::default();
        for n in &file.nodes {
            let idx = graph.add_node(NodeInfo {
                id: n.id.as_str().into(),
                kind: n.kind.as_deref().unwrap_or("").into(),
                service: n.service.as_deref().map(Str::from),
            });
            by_name.insert(Str::from(n.id.as_str()), idx);
            if let Some(service) = &n.service {
                by_service
                    .entry(Str::from(service.as_str()))
                    .or_insert_with(Vec::new)
                    .push(idx);
            }
        }
        for (n, idx) in file.nodes.iter().zip(graph.node_indices()) {
            for a in &n.aliases {
                by_name.entry(Str::from(a.as_str())).or_insert(idx);
            }
        }
        for e in &file.edges {
            if let (Some(&a), Some(&b)) = (by_name.get(e.from.as_str()), by_name.get(e.to.as_str()))
            {
                if a != b {
                    graph.add_edge(a, b, e.edge_type);
                }
            }
        }
        let mut index = TopologyIndex {
            graph,
            by_name,
            by_service,
            ..TopologyIndex::default()
        };
        index.index_neighbours();
        index.index_services();
        index.index_name_ranks();
        index
    }

    /// Fills `name_ranks`: nodes of equal ids (a file may repeat one) share a rank.
    fn index_name_ranks(&mut self) {
        let mut by_id: Vec<(&str, u32)> = self
            .graph
            .node_weights()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i as u32))
            .collect();
        by_id.sort_unstable();
        let mut ranks = vec![0; by_id.len()];
        let mut rank = 0;
        for (place, &(id, node)) in by_id.iter().enumerate() {
            if place > 0 && by_id[place - 1].0 != id {
                rank = place as u32;
            }
            ranks[node as usize] = rank;
        }
        self.name_ranks = ranks;
    }

    /// `node`'s place among the nodes sorted by id: `name_rank(a) < name_rank(b)` exactly when
    /// `a`'s id sorts before `b`'s.
    pub fn name_rank(&self, node: NodeIndex) -> u32 {
        self.name_ranks[node.index()]
    }

    /// Fills `service_names` and `service_ids` from the nodes' services.
    fn index_services(&mut self) {
        let mut names: Vec<Str> = self.by_service.keys().cloned().collect();
        names.sort_unstable();
        let ids: FxHashMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i as u32))
            .collect();
        self.service_ids = self
            .graph
            .node_weights()
            .map(|n| n.service.as_ref().map_or(NO_SERVICE, |s| ids[s.as_str()]))
            .collect();
        self.service_names = names;
    }

    /// The distinct business services of `nodes`, sorted by name.
    pub fn services_of<C: FromIterator<Str>>(&self, nodes: impl Iterator<Item = NodeIndex>) -> C {
        // A bit per service, by index: the names are sorted, so the set bits in order are the
        // answer in order.
        let mut seen = vec![0u64; self.service_names.len().div_ceil(64)];
        for n in nodes {
            self.mark_service(&mut seen, n);
        }
        self.services_marked(&seen)
    }

    /// Sets the bit of `node`'s service, if it has one, in a set of [`Self::services_of`].
    #[inline]
    fn mark_service(&self, seen: &mut [u64], node: NodeIndex) {
        let id = self.service_ids[node.index()];
        if id != NO_SERVICE {
            seen[id as usize / 64] |= 1 << (id % 64);
        }
    }

    /// The names of the services whose bits are set, in order (sorted by name).
    fn services_marked<C: FromIterator<Str>>(&self, seen: &[u64]) -> C {
        seen.iter()
            .enumerate()
            .flat_map(|(word, &bits)| {
                let mut bits = bits;
                std::iter::from_fn(move || {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits.wrapping_sub(1);
                    (bit < 64).then_some(word * 64 + bit)
                })
            })
            .map(|id| self.service_names[id].clone())
            .collect()
    }

    /// Fills `upstream`, `downstream` and their starts from the graph: one pass over
    /// each node's edges, O(nodes + edges).
    fn index_neighbours(&mut self) {
        let nodes = self.graph.node_count();
        let mut upstream = Vec::with_capacity(self.graph.edge_count());
        let mut upstream_start = Vec::with_capacity(nodes + 1);
        let mut downstream = Vec::with_capacity(self.graph.edge_count());
        let mut downstream_start = Vec::with_capacity(nodes + 1);
        for idx in self.graph.node_indices() {
            upstream_start.push(upstream.len() as u32);
            upstream.extend(self.upstream_neighbours_in_graph(idx, EdgeMask::ALL));
            downstream_start.push(downstream.len() as u32);
            downstream.extend(self.downstream_neighbours_in_graph(idx, EdgeMask::ALL));
        }
        upstream_start.push(upstream.len() as u32);
        downstream_start.push(downstream.len() as u32);
        self.upstream = upstream;
        self.upstream_start = upstream_start;
        self.downstream = downstream;
        self.downstream_start = downstream_start;
    }

    /// The nodes that carry a business service (empty when none does).
    pub fn nodes_of_service(&self, service: &str) -> &[NodeIndex] {
        self.by_service.get(service).map_or(&[], Vec::as_slice)
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Resolves a resource by node id or alias. Falls back to the host part of `host:port`
    /// and of a fully qualified name, the forms monitors put in `instance`.
    pub fn resolve(&self, resource: &str) -> Option<NodeIndex> {
        if let Some(&i) = self.by_name.get(resource) {
            return Some(i);
        }
        if let Some((host, port)) = resource.rsplit_once(':') {
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                if let Some(i) = self.resolve(host.trim_start_matches('[').trim_end_matches(']')) {
                    return Some(i);
                }
            }
        }
        if let Some((short, _)) = resource.split_once('.') {
            if !short.is_empty() && !short.bytes().all(|b| b.is_ascii_digit()) {
                return self.by_name.get(short).copied();
            }
        }
        None
    }

    pub fn node(&self, idx: NodeIndex) -> &NodeInfo {
        &self.graph[idx]
    }

    pub fn node_by_name(&self, name: &str) -> Option<&NodeInfo> {
        self.resolve(name).map(|i| &self.graph[i])
    }

    /// Whether `idx` is a business service's own node (its id is the service it carries) with
    /// nothing depending on it: the top of the graph, where users meet the service. An outright
    /// alert there (an SLO burning, a probe failing) shows a failure below it to its users; no
    /// failure spreads from it to anything the CMDB knows.
    pub fn is_business_service_on_top(&self, idx: NodeIndex) -> bool {
        let node = &self.graph[idx];
        node.service.as_deref() == Some(&*node.id) && self.downstream_degree(idx) == 0
    }

    /// Number of nodes directly impacted by `idx` (its fan-out in the direction of impact).
    pub fn downstream_degree(&self, idx: NodeIndex) -> usize {
        self.downstream_slice(idx).len()
    }

    /// `idx`'s slice of `downstream` (empty for a node the index does not hold).
    fn downstream_slice(&self, idx: NodeIndex) -> &[(NodeIndex, EdgeType)] {
        let i = idx.index();
        match (
            self.downstream_start.get(i),
            self.downstream_start.get(i + 1),
        ) {
            (Some(&from), Some(&to)) => &self.downstream[from as usize..to as usize],
            _ => &[],
        }
    }

    /// Neighbours one step against the direction of impact: the nodes whose fault can show here
    /// (`upstream_neighbours_in_graph`, read from the index built with the graph).
    fn upstream_neighbours(
        &self,
        idx: NodeIndex,
        mask: EdgeMask,
    ) -> impl Iterator<Item = (NodeIndex, EdgeType)> + '_ {
        let i = idx.index();
        let slice = match (self.upstream_start.get(i), self.upstream_start.get(i + 1)) {
            (Some(&from), Some(&to)) => &self.upstream[from as usize..to as usize],
            _ => &[],
        };
        slice
            .iter()
            .copied()
            .filter(move |&(_, t)| mask.contains(t))
    }

    /// Neighbours one step against the direction of impact, walking the graph's edges: the
    /// targets of outgoing edges, then the `connects_to` peers among incoming ones.
    fn upstream_neighbours_in_graph(
        &self,
        idx: NodeIndex,
        mask: EdgeMask,
    ) -> impl Iterator<Item = (NodeIndex, EdgeType)> + '_ {
        let out = self
            .graph
            .edges_directed(idx, Direction::Outgoing)
            .filter(move |e| mask.contains(*e.weight()))
            .map(|e| (e.target(), *e.weight()));
        let peers_in = self
            .graph
            .edges_directed(idx, Direction::Incoming)
            .filter(move |e| {
                *e.weight() == EdgeType::ConnectsTo && mask.contains(EdgeType::ConnectsTo)
            })
            .map(|e| (e.source(), EdgeType::ConnectsTo));
        out.chain(peers_in)
    }

    /// Neighbours one step in the direction of impact: the nodes a fault here can reach
    /// (`downstream_neighbours_in_graph`, read from the index built with the graph).
    fn downstream_neighbours(
        &self,
        idx: NodeIndex,
        mask: EdgeMask,
    ) -> impl Iterator<Item = (NodeIndex, EdgeType)> + '_ {
        self.downstream_slice(idx)
            .iter()
            .copied()
            .filter(move |&(_, t)| mask.contains(t))
    }

    /// Neighbours one step in the direction of impact, walking the graph's edges: the sources
    /// of incoming edges, then the `connects_to` peers among outgoing ones.
    fn downstream_neighbours_in_graph(
        &self,
        idx: NodeIndex,
        mask: EdgeMask,
    ) -> impl Iterator<Item = (NodeIndex, EdgeType)> + '_ {
        let inc = self
            .graph
            .edges_directed(idx, Direction::Incoming)
            .filter(move |e| mask.contains(*e.weight()))
            .map(|e| (e.source(), *e.weight()));
        let peers_out = self
            .graph
            .edges_directed(idx, Direction::Outgoing)
            .filter(move |e| {
                *e.weight() == EdgeType::ConnectsTo && mask.contains(EdgeType::ConnectsTo)
            })
            .map(|e| (e.target(), EdgeType::ConnectsTo));
        inc.chain(peers_out)
    }

    /// The node itself (hops 0) and every node upstream of it within `max_hops`, breadth first,
    /// at most `limit` nodes: a bounded neighbourhood, so one alert costs the same on a graph of
    /// ten nodes or a million. Cycles are harmless: each node is visited once, at its least depth.
    pub fn upstream_within(
        &self,
        start: NodeIndex,
        max_hops: u8,
        mask: EdgeMask,
        limit: usize,
    ) -> Vec<Upstream> {
        // Sized for a typical neighbourhood at once: grown a push at a time, a walk of a few
        // hundred nodes reallocated (and copied) eight times.
        let mut out = Vec::with_capacity(limit.clamp(1, WALK_CAPACITY));
        out.push(Upstream {
            node: start,
            hops: 0,
        });
        WALK_MARKS.with_borrow_mut(|marks| {
            let mut seen = marks.start_walk(self.graph.node_count());
            seen.insert(start);
            let mut frontier_start = 0;
            for depth in 1..=max_hops {
                let frontier_end = out.len();
                for i in frontier_start..frontier_end {
                    let here = out[i].node;
                    for (next, _) in self.upstream_neighbours(here, mask) {
                        if out.len() >= limit {
                            return;
                        }
                        if seen.insert(next) {
                            out.push(Upstream {
                                node: next,
                                hops: depth,
                            });
                        }
                    }
                }
                frontier_start = frontier_end;
            }
        });
        out
    }

    /// Shortest path of impact from `cause` to `symptom` (following upstream links from the
    /// symptom), within `max_hops`.
    pub fn impact_path(
        &self,
        cause: NodeIndex,
        symptom: NodeIndex,
        max_hops: u8,
        mask: EdgeMask,
    ) -> Option<Vec<ImpactStep>> {
        if cause == symptom {
            return Some(Vec::new());
        }
        let mut prev: FxHashMap<NodeIndex, (NodeIndex, EdgeType)> = FxHashMap::default();
        let mut frontier = vec![symptom];
        prev.insert(symptom, (symptom, EdgeType::DependsOn));
        for _ in 0..max_hops {
            let mut next = Vec::new();
            for &n in &frontier {
                for (up, et) in self.upstream_neighbours(n, mask) {
                    if prev.contains_key(&up) {
                        continue;
                    }
                    prev.insert(up, (n, et));
                    if up == cause {
                        let mut steps = Vec::new();
                        let mut cur = cause;
                        while cur != symptom {
                            let (p, et) = prev[&cur];
                            steps.push(ImpactStep {
                                from: self.graph[p].id.clone(),
                                to: self.graph[cur].id.clone(),
                                edge: et,
                            });
                            cur = p;
                        }
                        steps.reverse();
                        return Some(steps);
                    }
                    next.push(up);
                }
            }
            frontier = next;
        }
        None
    }

    /// The blast radius within `max_depth` steps, at most `limit` nodes.
    pub fn impact_of_bounded(
        &self,
        idx: NodeIndex,
        mask: EdgeMask,
        max_depth: usize,
        limit: usize,
    ) -> Vec<(NodeIndex, usize)> {
        // Visited nodes as a bitset over the node indices (a bit per node, 1.25 KiB for 10,000
        // nodes): the walk visits hundreds of nodes, and a hash set cost more in hashing and
        // growing than zeroing this does (checked against the hash-set walk in
        // `neighbour_index_agrees_with_the_graph`).
        let mut seen = vec![0u64; self.node_count().div_ceil(64)];
        let mut first_visit = |n: NodeIndex| {
            let (word, bit) = (n.index() / 64, 1u64 << (n.index() % 64));
            let fresh = seen[word] & bit == 0;
            seen[word] |= bit;
            fresh
        };
        first_visit(idx);
        // Breadth first; each level's nodes are read back from `out` (where they were pushed, in
        // the same order) rather than from a frontier list per level, and `out` is sized for a
        // typical walk at once instead of growing a push at a time.
        let mut out: Vec<(NodeIndex, usize)> = Vec::with_capacity(limit.min(WALK_CAPACITY));
        let mut last_level = 0..0;
        for depth in 1..=max_depth {
            let level_start = out.len();
            // Depth 1 walks from `idx` itself, which `out` does not hold.
            let sources = if depth == 1 { 1 } else { last_level.len() };
            for k in 0..sources {
                let n = if depth == 1 {
                    idx
                } else {
                    out[last_level.start + k].0
                };
                for (d, _) in self.downstream_neighbours(n, mask) {
                    if out.len() >= limit {
                        return out;
                    }
                    if first_visit(d) {
                        out.push((d, depth));
                    }
                }
            }
            last_level = level_start..out.len();
        }
        out
    }

    /// The services of `idx` and of its blast radius (`impact_of_bounded` with the same bounds),
    /// sorted by name: what a root-cause view reports as impacted. The walk marks each node's
    /// service as it first visits it and keeps only the nodes, not their depths, to read back
    /// as the next level's sources: the view never reads the radius itself.
    pub fn services_impacted_by<C: FromIterator<Str>>(
        &self,
        idx: NodeIndex,
        mask: EdgeMask,
        max_depth: usize,
        limit: usize,
    ) -> C {
        let mut services = vec![0u64; self.service_names.len().div_ceil(64)];
        self.mark_service(&mut services, idx);
        let mut seen = vec![0u64; self.node_count().div_ceil(64)];
        let mut first_visit = |n: NodeIndex| {
            let (word, bit) = (n.index() / 64, 1u64 << (n.index() % 64));
            let fresh = seen[word] & bit == 0;
            seen[word] |= bit;
            fresh
        };
        first_visit(idx);
        // As `impact_of_bounded`: breadth first, each level read back from where it was pushed.
        let mut walked: Vec<NodeIndex> = Vec::with_capacity(limit.min(WALK_CAPACITY));
        let mut last_level = 0..0;
        'walk: for depth in 1..=max_depth {
            let level_start = walked.len();
            let sources = if depth == 1 { 1 } else { last_level.len() };
            for k in 0..sources {
                let n = if depth == 1 {
                    idx
                } else {
                    walked[last_level.start + k]
                };
                for (d, _) in self.downstream_neighbours(n, mask) {
                    if walked.len() >= limit {
                        break 'walk;
                    }
                    if first_visit(d) {
                        walked.push(d);
                        self.mark_service(&mut services, d);
                    }
                }
            }
            last_level = level_start..walked.len();
        }
        self.services_marked(&services)
    }

    /// Everything a fault on `idx` can reach, with depth: the blast radius.
    pub fn impact_of(&self, idx: NodeIndex, mask: EdgeMask) -> Vec<(NodeIndex, usize)> {
        let mut seen = FxHashSet::default();
        seen.insert(idx);
        let mut out = Vec::new();
        let mut frontier = vec![idx];
        let mut depth = 0;
        while !frontier.is_empty() {
            depth += 1;
            let mut next = Vec::new();
            for n in frontier {
                for (d, _) in self.downstream_neighbours(n, mask) {
                    if seen.insert(d) {
                        out.push((d, depth));
                        next.push(d);
                    }
                }
            }
            frontier = next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
nodes:
  - {id: payroll-api, kind: service, service: payroll}
  - {id: payroll-db-04, kind: database, service: payroll, aliases: [10.0.4.17, payroll-db-04.prod.example.com]}
  - {id: esx-12, kind: hypervisor}
  - {id: switch-7, kind: switch}
  - {id: switch-9, kind: switch}
  - {id: lonely, kind: host}
edges:
  - {from: payroll-api, to: payroll-db-04, type: depends_on}
  - {from: payroll-db-04, to: esx-12, type: runs_on}
  - {from: esx-12, to: switch-7, type: part_of}
  - {from: switch-7, to: switch-9, type: connects_to}
"#;

    fn index() -> TopologyIndex {
        TopologyIndex::build(&TopologyFile::parse(SAMPLE, "t.yaml").unwrap())
    }

    #[test]
    fn resolves_ids_aliases_and_instance_forms() {
        let t = index();
        let db = t.resolve("payroll-db-04").unwrap();
        assert_eq!(t.resolve("10.0.4.17"), Some(db));
        assert_eq!(t.resolve("10.0.4.17:9100"), Some(db));
        assert_eq!(t.resolve("payroll-db-04.prod.example.com"), Some(db));
        assert_eq!(t.resolve("payroll-db-04.other.example.com"), Some(db));
        assert_eq!(t.resolve("nope"), None);
        assert_eq!(t.resolve("10.0.9.9"), None);
    }

    proptest::proptest! {
        /// `services_of` answers what collecting the nodes' services into a `BTreeSet` answers:
        /// random services (some shared, some nodes without), any subset of nodes, repeated.
        #[test]
        fn services_of_are_the_sorted_distinct_services(
            services in proptest::collection::vec(proptest::option::of(0usize..80), 1..40),
            picks in proptest::collection::vec(0usize..40, 0..60),
        ) {
            let file = TopologyFile {
                nodes: services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| NodeSpec {
                        id: format!("n{i}"),
                        service: s.map(|s| format!("svc-{s}")),
                        ..NodeSpec::default()
                    })
                    .collect(),
                edges: Vec::new(),
            };
            let t = TopologyIndex::build(&file);
            let nodes: Vec<NodeIndex> =
                picks.iter().map(|&p| NodeIndex::new(p % services.len())).collect();
            let expected: std::collections::BTreeSet<Str> = nodes
                .iter()
                .filter_map(|&n| t.node(n).service.clone())
                .collect();
            let answered: Vec<Str> = t.services_of(nodes.iter().copied());
            proptest::prop_assert_eq!(answered, expected.into_iter().collect::<Vec<_>>());
        }

        /// Name ranks order any two nodes as their ids compare: random ids (some repeated,
        /// prefixes of one another, bytes above ASCII), every pair.
        #[test]
        fn name_ranks_order_nodes_as_their_ids(
            ids in proptest::collection::vec("[ab\u{e9}-]{0,4}", 1..30),
        ) {
            let file = TopologyFile {
                nodes: ids
                    .iter()
                    .map(|id| NodeSpec {
                        id: id.clone(),
                        ..NodeSpec::default()
                    })
                    .collect(),
                edges: Vec::new(),
            };
            let t = TopologyIndex::build(&file);
            for a in 0..ids.len() {
                for b in 0..ids.len() {
                    let (na, nb) = (NodeIndex::new(a), NodeIndex::new(b));
                    proptest::prop_assert_eq!(
                        t.name_rank(na).cmp(&t.name_rank(nb)),
                        t.node(na).id.as_str().cmp(t.node(nb).id.as_str())
                    );
                }
            }
        }
    }

    #[test]
    fn nodes_are_indexed_by_service() {
        let t = index();
        let payroll: Vec<_> = t
            .nodes_of_service("payroll")
            .iter()
            .map(|&n| t.node(n).id.to_string())
            .collect();
        assert_eq!(payroll, vec!["payroll-api", "payroll-db-04"]);
        assert!(t.nodes_of_service("nobody").is_empty());
    }

    #[test]
    fn upstream_follows_impact_direction() {
        let t = index();
        let api = t.resolve("payroll-api").unwrap();
        let up: Vec<_> = t
            .upstream_within(api, 2, EdgeMask::ALL, 100)
            .into_iter()
            .map(|u| (t.node(u.node).id.to_string(), u.hops))
            .collect();
        assert_eq!(
            up,
            vec![
                ("payroll-api".into(), 0),
                ("payroll-db-04".into(), 1),
                ("esx-12".into(), 2)
            ]
        );
        // Nothing is upstream of the service from the database's point of view.
        let db = t.resolve("payroll-db-04").unwrap();
        assert!(t
            .upstream_within(db, 3, EdgeMask::ALL, 100)
            .iter()
            .all(|u| u.node != api));
        // connects_to is symmetric.
        let s9 = t.resolve("switch-9").unwrap();
        let s7 = t.resolve("switch-7").unwrap();
        assert!(t
            .upstream_within(s9, 1, EdgeMask::ALL, 100)
            .iter()
            .any(|u| u.node == s7));
        // Masks restrict the walk.
        let only_dep = EdgeMask::of(&[EdgeType::DependsOn]);
        assert_eq!(t.upstream_within(api, 3, only_dep, 100).len(), 2);
    }

    #[test]
    fn cycles_and_isolated_nodes_are_fine() {
        let src = "nodes: [{id: a}, {id: b}, {id: c}, {id: alone}]\nedges:\n  - {from: a, to: b, type: depends_on}\n  - {from: b, to: c, type: depends_on}\n  - {from: c, to: a, type: depends_on}\n";
        let t = TopologyIndex::build(&TopologyFile::parse(src, "c.yaml").unwrap());
        let a = t.resolve("a").unwrap();
        let up = t.upstream_within(a, 10, EdgeMask::ALL, 100);
        assert_eq!(up.len(), 3);
        let alone = t.resolve("alone").unwrap();
        assert_eq!(t.upstream_within(alone, 3, EdgeMask::ALL, 100).len(), 1);
        assert!(t.impact_of(alone, EdgeMask::ALL).is_empty());
        assert_eq!(t.impact_of(a, EdgeMask::ALL).len(), 2);
    }

    #[test]
    fn impact_path_names_the_edges() {
        let t = index();
        let api = t.resolve("payroll-api").unwrap();
        let esx = t.resolve("esx-12").unwrap();
        let path = t.impact_path(esx, api, 3, EdgeMask::ALL).unwrap();
        assert_eq!(path.len(), 2);
        assert_eq!(path[0].edge, EdgeType::DependsOn);
        assert_eq!(path[1].edge, EdgeType::RunsOn);
        assert!(t.impact_path(api, esx, 3, EdgeMask::ALL).is_none());
    }

    /// `upstream_within` as it was before the neighbour index: the same walk over the graph's
    /// edges.
    fn upstream_within_in_graph(
        t: &TopologyIndex,
        start: NodeIndex,
        max_hops: u8,
        mask: EdgeMask,
        limit: usize,
    ) -> Vec<Upstream> {
        let mut out = vec![Upstream {
            node: start,
            hops: 0,
        }];
        let mut seen: FxHashSet<NodeIndex> = FxHashSet::default();
        seen.insert(start);
        let mut frontier_start = 0;
        for depth in 1..=max_hops {
            let frontier_end = out.len();
            for i in frontier_start..frontier_end {
                for (next, _) in t.upstream_neighbours_in_graph(out[i].node, mask) {
                    if out.len() >= limit {
                        return out;
                    }
                    if seen.insert(next) {
                        out.push(Upstream {
                            node: next,
                            hops: depth,
                        });
                    }
                }
            }
            frontier_start = frontier_end;
        }
        out
    }

    /// `impact_of_bounded` as it was written first, with a hash set of the visited nodes.
    fn impact_of_bounded_with_a_hash_set(
        t: &TopologyIndex,
        idx: NodeIndex,
        mask: EdgeMask,
        max_depth: usize,
        limit: usize,
    ) -> Vec<(NodeIndex, usize)> {
        let mut seen = FxHashSet::default();
        seen.insert(idx);
        let mut out = Vec::new();
        let mut frontier = vec![idx];
        for depth in 1..=max_depth {
            let mut next = Vec::new();
            for n in frontier {
                for (d, _) in t.downstream_neighbours_in_graph(n, mask) {
                    if out.len() >= limit {
                        return out;
                    }
                    if seen.insert(d) {
                        out.push((d, depth));
                        next.push(d);
                    }
                }
            }
            frontier = next;
        }
        out
    }

    proptest::proptest! {
        /// The neighbour index answers what walking the graph answers, in the same order: every
        /// neighbourhood, path and degree over random graphs with every edge type, parallel
        /// edges, peers both ways and cycles, under every mask.
        #[test]
        fn neighbour_index_agrees_with_the_graph(
            nodes in 1usize..24,
            edges in proptest::collection::vec((0usize..24, 0usize..24, 0usize..4), 0..80),
            mask_bits in 1u8..16,
            max_hops in 0u8..6,
            limit in 1usize..30,
        ) {
            let file = TopologyFile {
                nodes: (0..nodes)
                    .map(|i| NodeSpec { id: format!("n{i}"), ..NodeSpec::default() })
                    .collect(),
                edges: edges
                    .iter()
                    .map(|&(a, b, k)| EdgeSpec {
                        from: format!("n{}", a % nodes),
                        to: format!("n{}", b % nodes),
                        edge_type: EdgeType::ALL[k],
                    })
                    .collect(),
            };
            let t = TopologyIndex::build(&file);
            let mask = EdgeMask(mask_bits);
            for a in t.graph.node_indices() {
                let indexed: Vec<_> = t.upstream_neighbours(a, mask).collect();
                let walked: Vec<_> = t.upstream_neighbours_in_graph(a, mask).collect();
                proptest::prop_assert_eq!(indexed, walked);
                let indexed: Vec<_> = t.downstream_neighbours(a, mask).collect();
                let walked: Vec<_> = t.downstream_neighbours_in_graph(a, mask).collect();
                proptest::prop_assert_eq!(indexed, walked);
                proptest::prop_assert_eq!(
                    t.downstream_degree(a),
                    t.downstream_neighbours_in_graph(a, EdgeMask::ALL).count()
                );
                proptest::prop_assert_eq!(
                    t.upstream_within(a, max_hops, mask, limit),
                    upstream_within_in_graph(&t, a, max_hops, mask, limit)
                );
                proptest::prop_assert_eq!(
                    t.impact_of_bounded(a, mask, usize::from(max_hops), limit),
                    impact_of_bounded_with_a_hash_set(&t, a, mask, usize::from(max_hops), limit)
                );
                for b in t.graph.node_indices() {
                    proptest::prop_assert_eq!(
                        t.impact_path(b, a, max_hops, mask).is_some(),
                        upstream_within_in_graph(&t, a, max_hops, mask, usize::MAX)
                            .iter()
                            .any(|u| u.node == b)
                    );
                }
            }
        }

        /// The services a walk marks as it goes are those of the node and of the radius that
        /// `impact_of_bounded` lists, under every mask, depth and node limit (limits below the
        /// radius cut the walk where it cuts that list).
        #[test]
        fn services_impacted_are_those_of_the_radius(
            services in proptest::collection::vec(proptest::option::of(0u8..70), 1..24),
            edges in proptest::collection::vec((0usize..24, 0usize..24, 0usize..4), 0..80),
            mask_bits in 1u8..16,
            max_depth in 0usize..7,
            limit in 0usize..30,
        ) {
            let nodes = services.len();
            let file = TopologyFile {
                nodes: services
                    .iter()
                    .enumerate()
                    // Up to 70 services: the marks span two words.
                    .map(|(i, s)| NodeSpec {
                        id: format!("n{i}"),
                        service: s.map(|s| format!("svc-{s}")),
                        ..NodeSpec::default()
                    })
                    .collect(),
                edges: edges
                    .iter()
                    .map(|&(a, b, k)| EdgeSpec {
                        from: format!("n{}", a % nodes),
                        to: format!("n{}", b % nodes),
                        edge_type: EdgeType::ALL[k],
                    })
                    .collect(),
            };
            let t = TopologyIndex::build(&file);
            let mask = EdgeMask(mask_bits);
            for a in t.graph.node_indices() {
                let radius = t.impact_of_bounded(a, mask, max_depth, limit);
                let want: Vec<Str> =
                    t.services_of(std::iter::once(a).chain(radius.iter().map(|&(d, _)| d)));
                let got: Vec<Str> = t.services_impacted_by(a, mask, max_depth, limit);
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn reports_every_reference_error_with_its_line() {
        let src = "nodes:\n  - {id: a}\n  - {id: a}\nedges:\n  - {from: a, to: ghost, type: depends_on}\n  - {from: nobody, to: a, type: runs_on}\n";
        let errs = TopologyFile::parse(src, "bad.yaml").unwrap_err();
        let lines: Vec<_> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![Some(3), Some(5), Some(6)], "{errs:?}");
        assert!(errs[1].message.contains("ghost"));
    }

    #[test]
    fn unknown_fields_and_edge_types_are_errors_with_lines() {
        let errs = TopologyFile::parse("nodes:\n  - {id: a, colour: red}\n", "x.yaml").unwrap_err();
        assert_eq!(errs[0].line, Some(2));
        assert!(errs[0].message.contains("colour"));
        let errs = TopologyFile::parse(
            "nodes: [{id: a}, {id: b}]\nedges:\n  - {from: a, to: b, type: loves}\n",
            "x.yaml",
        )
        .unwrap_err();
        assert_eq!(errs[0].line, Some(3));
    }
}
