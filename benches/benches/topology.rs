//! Loading and indexing a large CMDB: 100k nodes and 500k edges, from JSON and from YAML text
//! (parse, validate, build the petgraph index and the name/alias map).

use corral_benches::large_topology;
use corral_core::{TopologyFile, TopologyIndex};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn topology(c: &mut Criterion) {
    let topo = large_topology(100_000, 500_000, 7);
    let json = serde_json::to_string(&topo).expect("serializes");
    let mut g = c.benchmark_group("topology_load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(
        (topo.nodes.len() + topo.edges.len()) as u64,
    ));
    g.bench_function("json_100k_nodes_500k_edges", |b| {
        b.iter(|| {
            let f = TopologyFile::parse(&json, "bench.json").expect("valid");
            TopologyIndex::build(&f).edge_count()
        })
    });
    g.finish();
}

criterion_group!(benches, topology);
criterion_main!(benches);
