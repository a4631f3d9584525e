//! corral-formats
