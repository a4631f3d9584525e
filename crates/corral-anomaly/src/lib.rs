//! corral-anomaly
