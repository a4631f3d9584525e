//! Generated CMDBs with the layers of a real data centre: core and distribution switches with
//! peer links, top-of-rack switches and their uplink interfaces, hypervisors, virtual machines,
//! databases and service instances running on them, logical services calling services and
//! databases, and business services on top.
//!
//! Edges follow SPEC §3: `from` depends on `to`, so a fault on `to` shows up on `from`.

use corral_core::topology::{EdgeSpec, EdgeType, NodeSpec, TopologyFile};
use rand::seq::IndexedRandom;
use rand::Rng;
use std::collections::BTreeMap;

/// What a node is, for choosing failures and naming its alerts. Derived from the node's `kind`
/// so that a user-supplied topology works too.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    Switch,
    Interface,
    Hypervisor,
    Host,
    Database,
    ServiceInstance,
    Service,
    BusinessService,
    Other,
}

impl NodeRole {
    pub const ALL: [NodeRole; 9] = [
        NodeRole::Switch,
        NodeRole::Interface,
        NodeRole::Hypervisor,
        NodeRole::Host,
        NodeRole::Database,
        NodeRole::ServiceInstance,
        NodeRole::Service,
        NodeRole::BusinessService,
        NodeRole::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Switch => "switch",
            NodeRole::Interface => "interface",
            NodeRole::Hypervisor => "hypervisor",
            NodeRole::Host => "host",
            NodeRole::Database => "database",
            NodeRole::ServiceInstance => "service_instance",
            NodeRole::Service => "service",
            NodeRole::BusinessService => "business_service",
            NodeRole::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<NodeRole> {
        NodeRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Classifies the free-text `kind` of SPEC §3 by keyword.
    pub fn of_kind(kind: &str) -> NodeRole {
        let k = kind.to_ascii_lowercase();
        let has = |w: &str| k.contains(w);
        if has("business") {
            NodeRole::BusinessService
        } else if has("interface") || has("port") || has("link") {
            NodeRole::Interface
        } else if has("switch") || has("router") || has("firewall") || has("network") {
            NodeRole::Switch
        } else if has("hypervisor") || has("esx") || has("kvm") {
            NodeRole::Hypervisor
        } else if has("database") || has("db") || has("postgres") || has("mysql") {
            NodeRole::Database
        } else if has("instance") || has("pod") || has("container") {
            NodeRole::ServiceInstance
        } else if has("service") || has("app") {
            NodeRole::Service
        } else if has("host") || has("vm") || has("server") || has("node") {
            NodeRole::Host
        } else {
            NodeRole::Other
        }
    }
}

fn node(id: String, kind: &str, service: Option<String>, aliases: Vec<String>) -> NodeSpec {
    NodeSpec {
        id,
        kind: Some(kind.to_string()),
        service,
        aliases,
        labels: BTreeMap::new(),
    }
}

fn edge(from: &str, to: &str, edge_type: EdgeType) -> EdgeSpec {
    EdgeSpec {
        from: from.to_string(),
        to: to.to_string(),
        edge_type,
    }
}

/// Builds a layered topology of about `target_nodes` nodes (never fewer than one rack).
pub fn generate_topology<R: Rng>(target_nodes: usize, rng: &mut R) -> TopologyFile {
    // One rack: ToR switch, 2 uplink interfaces, 4 hypervisors, 16 VMs each running one
    // workload (database or service instance): 39 nodes; plus a share of the logical layers.
    const PER_RACK: usize = 39 + 4;
    let racks = (target_nodes / PER_RACK).max(1);
    let dcs = if racks >= 40 { 2 } else { 1 };
    let mut nodes = Vec::with_capacity(target_nodes + 16);
    let mut edges = Vec::with_capacity(target_nodes * 2);

    // Network core per data centre: two core switches linked as peers, distribution pairs.
    let mut dist_of_dc: Vec<Vec<String>> = Vec::new();
    for dc in 0..dcs {
        let core: Vec<String> = (0..2).map(|i| format!("core-sw-{dc}-{i}")).collect();
        for c in &core {
            nodes.push(node(c.clone(), "switch", None, vec![]));
        }
        edges.push(edge(&core[0], &core[1], EdgeType::ConnectsTo));
        let racks_here = racks / dcs + usize::from(dc < racks % dcs);
        let dists = racks_here.div_ceil(8).max(1);
        let mut dist_names = Vec::new();
        for d in 0..dists {
            let name = format!("dist-sw-{dc}-{d}");
            nodes.push(node(name.clone(), "switch", None, vec![]));
            edges.push(edge(&name, &core[d % 2], EdgeType::DependsOn));
            dist_names.push(name);
        }
        dist_of_dc.push(dist_names);
    }

    // Racks: compute and workloads.
    let mut vm_names: Vec<(usize, String)> = Vec::new(); // (dc, vm)
    for r in 0..racks {
        let dc = r % dcs;
        let dists = &dist_of_dc[dc];
        let tor = format!("tor-{r}");
        nodes.push(node(
            tor.clone(),
            "switch",
            None,
            vec![format!("10.{}.{}.1", dc * 10 + r / 250, r % 250)],
        ));
        edges.push(edge(
            &tor,
            &dists[(r / dcs) / 8 % dists.len()],
            EdgeType::DependsOn,
        ));
        for u in 0..2 {
            let iface = format!("tor-{r}-eth{u}");
            nodes.push(node(iface.clone(), "interface", None, vec![]));
            edges.push(edge(&iface, &tor, EdgeType::PartOf));
        }
        for h in 0..4 {
            let hv = format!("esx-{r}-{h}");
            nodes.push(node(
                hv.clone(),
                "hypervisor",
                None,
                vec![format!("{hv}.mgmt.example.com")],
            ));
            edges.push(edge(&hv, &tor, EdgeType::DependsOn));
            for v in 0..4 {
                let vm = format!("vm-{r}-{h}-{v}");
                let ip = format!(
                    "10.{}.{}.{}",
                    100 + dc * 10 + r / 250,
                    r % 250,
                    10 + h * 4 + v
                );
                nodes.push(node(
                    vm.clone(),
                    "host",
                    None,
                    vec![ip, format!("{vm}.prod.example.com")],
                ));
                edges.push(edge(&vm, &hv, EdgeType::RunsOn));
                vm_names.push((dc, vm));
            }
        }
    }

    // Workloads: one in five VMs runs a database, the rest run service instances. Logical
    // services have two to four instances; each may call one or two other services and use a
    // database; business services sit on top of a few services.
    let mut db_names: Vec<String> = Vec::new();
    let mut service_names: Vec<String> = Vec::new();
    let mut pending: Vec<(usize, String)> = Vec::new();
    for (i, (dc, vm)) in vm_names.iter().enumerate() {
        if i % 5 == 0 {
            let db = format!("db-{}", db_names.len());
            nodes.push(node(db.clone(), "database", None, vec![]));
            edges.push(edge(&db, vm, EdgeType::RunsOn));
            db_names.push(db);
        } else {
            pending.push((*dc, vm.clone()));
        }
    }
    let mut s = 0;
    while !pending.is_empty() {
        let take = rng.random_range(2..=4).min(pending.len());
        let svc = format!("svc-{s}");
        let business_name = format!("app-{}", s / 6);
        nodes.push(node(
            svc.clone(),
            "service",
            Some(business_name.clone()),
            vec![],
        ));
        for k in 0..take {
            let (_, vm) = pending.pop().expect("non-empty");
            let inst = format!("svc-{s}-i{k}");
            nodes.push(node(
                inst.clone(),
                "service instance",
                Some(business_name.clone()),
                vec![format!("{inst}.svc.cluster.local")],
            ));
            edges.push(edge(&inst, &vm, EdgeType::RunsOn));
            edges.push(edge(&svc, &inst, EdgeType::DependsOn));
        }
        if !db_names.is_empty() && rng.random_bool(0.6) {
            let db = db_names.choose(rng).expect("non-empty");
            edges.push(edge(&svc, db, EdgeType::DependsOn));
        }
        // Calls go to services created earlier: the call graph stays acyclic like real tiers.
        if !service_names.is_empty() {
            let calls = rng.random_range(0..=2);
            for _ in 0..calls {
                let callee = service_names.choose(rng).expect("non-empty").clone();
                if !edges
                    .iter()
                    .rev()
                    .take(8)
                    .any(|e: &EdgeSpec| e.from == svc && e.to == callee)
                {
                    edges.push(edge(&svc, &callee, EdgeType::DependsOn));
                }
            }
        }
        service_names.push(svc);
        s += 1;
    }
    for b in 0..service_names.len().div_ceil(6) {
        let biz = format!("app-{b}");
        nodes.push(node(
            biz.clone(),
            "business service",
            Some(biz.clone()),
            vec![],
        ));
        for svc in service_names.iter().skip(b * 6).take(6) {
            edges.push(edge(&biz, svc, EdgeType::DependsOn));
        }
    }
    TopologyFile { nodes, edges }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::topology::TopologyIndex;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn generated_topology_is_valid_layered_and_near_the_requested_size() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let topo = generate_topology(2000, &mut rng);
        let yaml = serde_norway::to_string(&topo).unwrap();
        let back = TopologyFile::parse(&yaml, "gen.yaml").expect("valid topology");
        assert_eq!(back, topo);
        let n = topo.nodes.len();
        assert!((1700..=2300).contains(&n), "{n} nodes");
        let idx = TopologyIndex::build(&topo);
        assert_eq!(idx.node_count(), n);
        for role in [
            NodeRole::Switch,
            NodeRole::Interface,
            NodeRole::Hypervisor,
            NodeRole::Host,
            NodeRole::Database,
            NodeRole::ServiceInstance,
            NodeRole::Service,
            NodeRole::BusinessService,
        ] {
            assert!(
                topo.nodes
                    .iter()
                    .any(|x| NodeRole::of_kind(x.kind.as_deref().unwrap_or("")) == role),
                "no {role:?}"
            );
        }
        // Aliases resolve: monitors report hosts by IP and FQDN.
        assert!(idx.resolve("vm-0-0-0.prod.example.com").is_some());
    }
}
