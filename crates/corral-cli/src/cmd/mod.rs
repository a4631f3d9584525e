pub mod bench_kafka;
pub mod check;
pub mod ingest;
pub mod replay;
pub mod run;
