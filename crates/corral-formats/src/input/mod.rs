//! One module per input format of SPEC §2.

pub mod alertmanager;
pub mod native;
