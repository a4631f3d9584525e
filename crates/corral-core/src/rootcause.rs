//! Root cause.
