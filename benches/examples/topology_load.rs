//! Load and index a 100k-node, 500k-edge topology once, from JSON and YAML files on disk,
//! printing wall time for each step (`cargo run --release -p corral-benches --example topology_load`).

use corral_benches::large_topology;
use corral_core::{TopologyFile, TopologyIndex};
use std::time::Instant;

fn main() {
    let topo = large_topology(100_000, 500_000, 7);
    let dir = std::env::temp_dir();
    let json_path = dir.join("corral-topology-100k.json");
    let yaml_path = dir.join("corral-topology-100k.yaml");
    std::fs::write(&json_path, serde_json::to_string(&topo).expect("json")).expect("write");
    std::fs::write(&yaml_path, serde_norway::to_string(&topo).expect("yaml")).expect("write");
    for path in [&json_path, &yaml_path] {
        let start = Instant::now();
        let text = std::fs::read_to_string(path).expect("read");
        let file = TopologyFile::parse(&text, &path.display().to_string()).expect("valid");
        let parsed = start.elapsed();
        let index = TopologyIndex::build(&file);
        println!(
            "{}: {} nodes, {} edges: parsed+validated {:.2}s, indexed {:.2}s, total {:.2}s",
            path.display(),
            index.node_count(),
            index.edge_count(),
            parsed.as_secs_f64(),
            (start.elapsed() - parsed).as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
    }
}
