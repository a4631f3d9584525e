//! Per-node caches of the topology's neighbourhoods (grouping, root cause, service regions).

use super::*;

/// A node's upstream neighbourhood for grouping: (node, hops, is a hub).
pub(super) type GroupNeighbourhood = Arc<[(u32, u8, bool)]>;

/// A node's upstream neighbourhood for root cause: (node, hops).
pub(super) type RcaNeighbourhood = Arc<[(u32, u8)]>;
/// The nodes of a business service and those upstream of them: (node, fewest hops).
pub(super) type ServiceRegion = Arc<[(u32, u8)]>;

/// Values cached per topology node, indexed by node: a lookup is one index where a map keyed
/// by node cost two dependent cache misses (its control bytes, then its slot) on a topology of
/// thousands of nodes, for every new alert. The vector grows (amortised) to the highest node
/// cached, 16 bytes per node for an `Arc<[_]>`.
#[derive(Debug)]
pub(super) struct NodeCache<T> {
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
    pub(super) fn get(&self, node: &u32) -> Option<&T> {
        self.by_node.get(*node as usize)?.as_ref()
    }

    fn insert(&mut self, node: u32, value: T) {
        let node = node as usize;
        if self.by_node.len() <= node {
            self.by_node.resize(node + 1, None);
        }
        self.by_node[node] = Some(value);
    }

    pub(super) fn clear(&mut self) {
        self.by_node.clear();
    }
}

/// The grouping neighbourhoods computed so far, by rule, then by node (`NodeCache`).
#[derive(Debug, Default)]
pub(super) struct GroupCache {
    by_rule: Vec<NodeCache<GroupNeighbourhood>>,
}

impl GroupCache {
    pub(super) fn get(&self, rule: u16, node: u32) -> Option<&GroupNeighbourhood> {
        self.by_rule.get(usize::from(rule))?.get(&node)
    }

    pub(super) fn insert(&mut self, rule: u16, node: u32, neighbourhood: GroupNeighbourhood) {
        let rule = usize::from(rule);
        if self.by_rule.len() <= rule {
            self.by_rule.resize_with(rule + 1, NodeCache::default);
        }
        self.by_rule[rule].insert(node, neighbourhood);
    }

    pub(super) fn clear(&mut self) {
        self.by_rule.clear();
    }
}

impl Engine {
    /// The nodes of a business service and every node within the rule's impact hops upstream
    /// of them, with the fewest hops: where a failure could explain a symptom of the service.
    /// Bounded by `max_neighbourhood`, like any alert's neighbourhood.
    pub(super) fn service_region(&mut self, rule_idx: u16, service: &Str) -> ServiceRegion {
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

    pub(super) fn rca_upstream(&mut self, node: u32) -> RcaNeighbourhood {
        rca_neighbourhood(&mut self.rca_cache, &self.topology, &self.rules, node)
    }
}

/// `Engine::rca_upstream` over the engine's fields it reads (`anchors_listed` holds the
/// alert's state while it takes it): the node's root-cause neighbourhood, walked once per node.
pub(super) fn rca_neighbourhood(
    cache: &mut NodeCache<RcaNeighbourhood>,
    topology: &TopologyIndex,
    rules: &RuleSet,
    node: u32,
) -> RcaNeighbourhood {
    if let Some(v) = cache.get(&node) {
        return v.clone();
    }
    let ups = topology.upstream_within(
        NodeIndex::new(node as usize),
        rules.settings.root_cause.max_hops,
        EdgeMask::ALL,
        rules.settings.max_neighbourhood,
    );
    let v: RcaNeighbourhood = ups
        .iter()
        .map(|u| (u.node.index() as u32, u.hops))
        .collect();
    cache.insert(node, v.clone());
    v
}

/// A node's upstream neighbourhood for grouping under `rule` (`GroupCache`'s values): the walk
/// within the rule's reach over its edges, each node with whether it is a hub. The root-cause
/// walk from the node (which `join` takes for every alert the CMDB knows) visits the same
/// nodes in the same order up to that reach when it follows the same edges as far or further
/// under the same limit (a breadth-first walk lists a level only after the one before): its
/// first levels are taken instead of a second walk (perf48: ~1,700 instructions per node).
pub(super) fn group_neighbourhood(
    rca_cache: &mut NodeCache<RcaNeighbourhood>,
    topology: &TopologyIndex,
    rules: &RuleSet,
    rule: &GroupingRule,
    node: u32,
) -> GroupNeighbourhood {
    let with_hub = |n: u32, hops: u8| {
        let hub =
            hops > 0 && topology.downstream_degree(NodeIndex::new(n as usize)) > rule.max_fanout;
        (n, hops, hub)
    };
    let reach = rule.reach();
    let walk = || {
        topology.upstream_within(
            NodeIndex::new(node as usize),
            reach,
            rule.edges,
            rules.settings.max_neighbourhood,
        )
    };
    let v: GroupNeighbourhood =
        if rule.edges == EdgeMask::ALL && rules.settings.root_cause.max_hops >= reach {
            let rca = rca_neighbourhood(rca_cache, topology, rules, node);
            // Counted first: collected from a slice, the `Arc` is allocated once at its size
            // (through `take_while`, a `Vec` was filled and copied into it).
            let within = rca.iter().take_while(|&&(_, hops)| hops <= reach).count();
            rca[..within]
                .iter()
                .map(|&(n, hops)| with_hub(n, hops))
                .collect()
        } else {
            walk()
                .iter()
                .map(|u| with_hub(u.node.index() as u32, u.hops))
                .collect()
        };
    debug_assert!(
        v.iter()
            .map(|&(n, hops, _)| (n, hops))
            .eq(walk().iter().map(|u| (u.node.index() as u32, u.hops))),
        "a grouping neighbourhood is the walk over the rule's edges within its reach"
    );
    v
}
