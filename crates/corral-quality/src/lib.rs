//! corral-quality
