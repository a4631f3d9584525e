//! corral-kafka
