//! Load and index a 100k-node, 500k-edge topology, from JSON and YAML files on disk, printing the
//! thread's CPU time (and wall time) for each step:
//! `cargo run --release -p corral-benches --example topology_load [ROUNDS]` (3 rounds by default;
//! the machine is shared, so compare CPU time, and medians over rounds). The files stay in the
//! temporary directory, for timing `corral check --topology` on them.

use corral_benches::{large_topology, ThreadCpuTime};
use corral_core::{TopologyFile, TopologyIndex};
use std::time::Instant;

// The allocator of the `corral` binary, so that the figures are those of `corral check`/`replay`.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let topo = large_topology(100_000, 500_000, 7);
    let dir = std::env::temp_dir();
    let json_path = dir.join("corral-topology-100k.json");
    let yaml_path = dir.join("corral-topology-100k.yaml");
    std::fs::write(&json_path, serde_json::to_string(&topo).expect("json")).expect("write");
    std::fs::write(&yaml_path, serde_norway::to_string(&topo).expect("yaml")).expect("write");
    for round in 1..=rounds {
        for path in [&json_path, &yaml_path] {
            let wall = Instant::now();
            let cpu = ThreadCpuTime::now_ns();
            let text = std::fs::read_to_string(path).expect("read");
            let file = TopologyFile::parse(&text, &path.display().to_string()).expect("valid");
            let parsed_cpu = ThreadCpuTime::now_ns();
            let index = TopologyIndex::build(&file);
            let done_cpu = ThreadCpuTime::now_ns();
            let secs = |ns: u64| ns as f64 / 1e9;
            println!(
                "round {round} {}: {} nodes, {} edges: CPU parsed+validated {:.2}s, indexed {:.2}s, total {:.2}s (wall {:.2}s)",
                path.display(),
                index.node_count(),
                index.edge_count(),
                secs(parsed_cpu - cpu),
                secs(done_cpu - parsed_cpu),
                secs(done_cpu - cpu),
                wall.elapsed().as_secs_f64()
            );
        }
    }
}
