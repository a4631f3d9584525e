//! Deduplication: see engine for now.
