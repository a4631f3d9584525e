//! `corral topology import --from FORMAT FILE...` and `corral topology impact NODE --topology FILE`.

use anyhow::{bail, Context, Result};
use corral_core::topology::EdgeMask;
use corral_core::TopologyIndex;
use corral_formats::topology_import::{import, to_yaml, ImportFormat};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TopologyCommand,
}

#[derive(clap::Subcommand)]
enum TopologyCommand {
    /// Convert a CMDB or inventory export into corral's native topology YAML.
    Import(ImportArgs),
    /// List the resources and services that break if NODE goes down.
    Impact(ImpactArgs),
}

#[derive(clap::Args)]
struct ImportArgs {
    /// Source: servicenow (cmdb_ci + cmdb_rel_ci JSON), backstage (catalog-info YAML),
    /// kubernetes (`kubectl get -o json`), alec (ALEC inventory.xml).
    #[arg(long = "from", value_name = "FORMAT")]
    from: String,
    /// Export files (`-` for stdin). ServiceNow's two tables may be two files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write the topology here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ImpactArgs {
    /// Node id or alias (host name, IP, ...).
    node: String,
    /// The native topology file.
    #[arg(long, value_name = "FILE")]
    topology: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        TopologyCommand::Import(a) => run_import(a),
        TopologyCommand::Impact(a) => run_impact(a),
    }
}

fn read_source(path: &PathBuf) -> Result<(String, String)> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin")?;
        return Ok(("<stdin>".into(), text));
    }
    text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path.display().to_string(), text))
}

fn run_import(a: ImportArgs) -> Result<ExitCode> {
    let format = ImportFormat::from_name(&a.from).map_err(anyhow::Error::msg)?;
    let sources = a
        .files
        .iter()
        .map(read_source)
        .collect::<Result<Vec<_>>>()?;
    let imported = import(format, &sources).map_err(anyhow::Error::msg)?;
    for w in &imported.warnings {
        eprintln!("corral: warning: {w}");
    }
    let yaml = to_yaml(&imported.topology).map_err(anyhow::Error::msg)?;
    match &a.output {
        Some(p) => std::fs::write(p, &yaml).with_context(|| format!("writing {}", p.display()))?,
        None => std::io::stdout().write_all(yaml.as_bytes())?,
    }
    eprintln!(
        "corral: imported {} nodes and {} edges ({} warnings)",
        imported.topology.nodes.len(),
        imported.topology.edges.len(),
        imported.warnings.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_impact(a: ImpactArgs) -> Result<ExitCode> {
    let file =
        crate::input::load_topology_file(&a.topology).map_err(crate::input::config_errors)?;
    let index = TopologyIndex::build(&file);
    let Some(start) = index.resolve(&a.node) else {
        bail!(
            "{:?} is neither a node id nor an alias in {}",
            a.node,
            a.topology.display()
        );
    };
    let root = index.node(start);
    let impacted = index.impact_of(start, EdgeMask::ALL);
    let mut services: BTreeSet<String> = BTreeSet::new();
    if let Some(s) = &root.service {
        services.insert(s.to_string());
    }
    let mut rows = Vec::with_capacity(impacted.len());
    for (idx, hops) in &impacted {
        let n = index.node(*idx);
        if let Some(s) = &n.service {
            services.insert(s.to_string());
        }
        let hop_limit = u8::try_from(*hops).unwrap_or(u8::MAX);
        let via = index
            .impact_path(start, *idx, hop_limit, EdgeMask::ALL)
            .map(|steps| {
                steps
                    .iter()
                    .map(|s| format!("{} -{}-> {}", s.from, s.edge.as_str(), s.to))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        rows.push((n, *hops, via));
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let resources: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, hops, via)| {
                serde_json::json!({"id": n.id.as_str(), "kind": n.kind.as_str(),
                    "service": n.service.as_ref().map(|s| s.as_str()), "hops": hops, "path": via})
            })
            .collect();
        let v = serde_json::json!({"node": root.id.as_str(), "resources": resources,
            "services": services});
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(
            out,
            "If {} goes down, {} resources and {} services are impacted.",
            root.id,
            rows.len(),
            services.len()
        )?;
        if !services.is_empty() {
            let list: Vec<&str> = services.iter().map(String::as_str).collect();
            writeln!(out, "services: {}", list.join(", "))?;
        }
        for (n, hops, _) in &rows {
            let service = n
                .service
                .as_ref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            writeln!(out, "  {hops} hop(s)  {} ({}){service}", n.id, n.kind)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
