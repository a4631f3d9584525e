//! Topology domains: the connected components of the topology graph (edge direction ignored).
//! Correlation only ever groups alerts whose resources are connected, so every alert of one
//! domain must reach the same engine. Keying input records by domain makes Kafka's partitioner
//! send a domain to one partition, and so to one `corral run` process of the consumer group.

use corral_core::{Alert, TopologyFile};
use rustc_hash::FxHashMap;

#[derive(Debug, Default)]
pub struct DomainMap {
    /// Node id or alias → the id of its component's representative node.
    domain_of_name: FxHashMap<String, u32>,
    representative: Vec<String>,
}

impl DomainMap {
    pub fn build(file: &TopologyFile) -> DomainMap {
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, n) in file.nodes.iter().enumerate() {
            index.insert(n.id.as_str(), i);
        }
        for (i, n) in file.nodes.iter().enumerate() {
            for a in &n.aliases {
                index.entry(a.as_str()).or_insert(i);
            }
        }
        let mut parent: Vec<usize> = (0..file.nodes.len()).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for e in &file.edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                // The smaller index wins so that the representative does not depend on edge order.
                if ra != rb {
                    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
                    parent[hi] = lo;
                }
            }
        }
        let mut component_of_root: FxHashMap<usize, u32> = FxHashMap::default();
        let mut representative = Vec::new();
        let mut domain_of_name = FxHashMap::default();
        for (name, &i) in &index {
            let root = find(&mut parent, i);
            let d = *component_of_root.entry(root).or_insert_with(|| {
                representative.push(file.nodes[root].id.clone());
                (representative.len() - 1) as u32
            });
            domain_of_name.insert((*name).to_string(), d);
        }
        DomainMap {
            domain_of_name,
            representative,
        }
    }

    pub fn domain_count(&self) -> usize {
        self.representative.len()
    }

    /// The domain key of a resource: the representative node of its component. A resource the
    /// topology does not know is a domain of its own (its service when it has one, since rules
    /// may group by service).
    pub fn domain_of(&self, alert: &Alert) -> String {
        if let Some(d) = self.lookup(&alert.resource) {
            return format!("d:{}", self.representative[d as usize]);
        }
        match &alert.service {
            Some(s) => format!("s:{s}"),
            None => format!("r:{}", alert.resource),
        }
    }

    /// Same forms as `TopologyIndex::resolve`: exact, host of `host:port`, short host name.
    fn lookup(&self, resource: &str) -> Option<u32> {
        if let Some(&d) = self.domain_of_name.get(resource) {
            return Some(d);
        }
        if let Some((host, port)) = resource.rsplit_once(':') {
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if let Some(d) = self.lookup(host) {
                    return Some(d);
                }
            }
        }
        if let Some((short, _)) = resource.split_once('.') {
            if !short.is_empty() && !short.bytes().all(|b| b.is_ascii_digit()) {
                return self.domain_of_name.get(short).copied();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPO: &str = "\
nodes:
  - {id: api, aliases: [10.0.0.1]}
  - {id: db}
  - {id: esx-1}
  - {id: lonely}
  - {id: sw-1}
  - {id: sw-2}
edges:
  - {from: api, to: db, type: depends_on}
  - {from: db, to: esx-1, type: runs_on}
  - {from: sw-1, to: sw-2, type: connects_to}
";

    #[test]
    fn connected_resources_share_a_domain_and_others_do_not() {
        let file = TopologyFile::parse(TOPO, "t.yaml").unwrap();
        let map = DomainMap::build(&file);
        assert_eq!(map.domain_count(), 3);
        let d = |r: &str| map.domain_of(&Alert::firing("X", r, 0));
        assert_eq!(d("api"), d("esx-1"));
        assert_eq!(d("10.0.0.1:9100"), d("db"));
        assert_eq!(d("api.prod.example.com"), d("db"));
        assert_eq!(d("sw-1"), d("sw-2"));
        assert_ne!(d("api"), d("sw-1"));
        assert_ne!(d("lonely"), d("api"));
        assert_eq!(d("unknown-host"), "r:unknown-host");
    }

    #[test]
    fn unknown_resource_with_a_service_is_keyed_by_service() {
        let map = DomainMap::build(&TopologyFile::parse(TOPO, "t.yaml").unwrap());
        let mut a = Alert::firing("X", "pod-123", 0);
        a.service = Some("payroll".into());
        assert_eq!(map.domain_of(&a), "s:payroll");
    }
}
