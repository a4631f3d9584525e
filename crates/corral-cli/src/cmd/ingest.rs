//! `corral ingest --config corral.yaml`: only the HTTP ingest endpoints, forwarding validated
//! alerts to the input topic keyed by topology domain (for monitors that cannot write to Kafka).

use corral_kafka::runner::Mode;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Service configuration (YAML): kafka, http and topology sections are used.
    #[arg(long)]
    pub config: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::run::start(&args.config, None, Mode::IngestOnly)
}
