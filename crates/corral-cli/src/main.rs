//! `corral`: the command line (SPEC §7). Each subcommand lives in `cmd/<name>.rs` with its own
//! clap `Args` and a `run` function; shared input flags are in `input.rs`.

mod cmd;
mod input;
mod pipeline;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Correlation allocates many small, short-lived strings and vectors; mimalloc handles that
// pattern markedly better than the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "corral",
    version,
    about = "Alert correlation for SREs: fewer, better incidents"
)]
struct Cli {
    /// Log filter for diagnostics on stderr (tracing's RUST_LOG syntax).
    #[arg(long, global = true, env = "CORRAL_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay the shipped demo (built in): a 400-node topology and 4 hours of alerts.
    Demo(cmd::demo::Args),
    /// Run the whole pipeline over files at full speed in event time and write incidents.
    Replay(cmd::replay::Args),
    /// Validate rules, topology and config; list every error with file and line.
    Check(cmd::check::Args),
    /// Import a CMDB into a topology, or list what breaks if a node goes down.
    Topology(cmd::topology::Args),
    /// The service: Kafka in, Kafka out, HTTP metrics, health, reload and ingest.
    Run(cmd::run::Args),
    /// Only the HTTP ingest endpoints, forwarding alerts to the Kafka input topic.
    Ingest(cmd::ingest::Args),
    /// Load harness: produce alerts into Kafka, run the service, report alerts/s and latency.
    BenchKafka(cmd::bench_kafka::Args),
    /// Write synthetic alert storms with ground truth (SPEC §5).
    Simulate(Box<cmd::simulate::Args>),
    /// Score incidents against ground truth (SPEC §5): one JSON object of figures.
    Score(cmd::score::Args),
    /// Run the default anomaly detector over the NAB corpus and score it with NAB's rules.
    Nab(cmd::nab::Args),
    /// Learn baselines and noise statistics from historical alert and metric files.
    Train(cmd::train::Args),
    /// Run rule unit tests: input alerts at event-time offsets and the incidents expected.
    Test(cmd::test::Args),
    /// Why alerts were (or were not) grouped, and why a root cause was chosen.
    Explain(cmd::explain::Args),
    /// How incidents and the SPEC §5 figures change between two rule sets.
    Diff(cmd::diff::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::new(&cli.log);
    // Services log structured JSON (one object per line) for log shippers.
    if matches!(cli.command, Command::Run(_) | Command::Ingest(_)) {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Topology(a) => cmd::topology::run(a),
        Command::Simulate(a) => cmd::simulate::run(*a),
        Command::Run(a) => cmd::run::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::BenchKafka(a) => cmd::bench_kafka::run(a),
        Command::Score(a) => cmd::score::run(a),
        Command::Nab(a) => cmd::nab::run(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Test(a) => cmd::test::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Diff(a) => cmd::diff::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("corral: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
