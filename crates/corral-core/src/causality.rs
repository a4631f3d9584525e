//! Causal limits on a link through a topology node, shared by the engine (`correlate`) and
//! `corral explain`, so that an explanation never calls "linked" what the engine keeps apart.
//!
//! The hops and the window say whether two alerts *may* be related ([`crate::rules::GroupingRule::relates`]);
//! these say whether the later alert's link respects the direction of impact:
//! - a cause cannot start after its effects (beyond [`CAUSE_LAG_TOLERANCE`]);
//! - an alert below error severity never links as the cause of alerts on its dependents;
//! - a warning never links through a silent shared upstream.

use crate::model::{Millis, Severity};

/// Time coherence of propagation: how long a cause's own alert may start after the effects it
/// explains. Effects follow their cause; its alert may only lag them by the scrape interval in
/// which monitors notice the failure (15–60 s).
pub const CAUSE_LAG_TOLERANCE: Millis = 60_000;

/// Why a link through a topology node breaks causality, although hops and window allow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CausalBreach {
    /// The joining alert sits on the node, above the member, and started `lag` after the
    /// member's first alert there: more than a cause may lag its effects.
    CauseLagsEffect { lag: Millis },
    /// The joining alert sits on the node, above the member, and is below error severity: a
    /// degraded node explains no failure of its dependents.
    WeakCause { severity: Severity },
    /// Both alerts are below the node (a silent shared upstream) and the joining one is below
    /// error severity: a degraded node is no evidence that the silent upstream failed.
    WeakThroughSilentUpstream { severity: Severity },
}

/// Checks the link of a joining alert (`severity`, starting at `start`, `joiner_hops` below a
/// topology node) to a member `member_hops` below that node (0: on it) whose first alert there
/// started at `member_first`. `None` when causality allows the link.
pub fn causal_breach(
    severity: Severity,
    start: Millis,
    joiner_hops: u8,
    member_hops: u8,
    member_first: Millis,
) -> Option<CausalBreach> {
    let weak = severity < Severity::Error;
    if joiner_hops == 0 && member_hops > 0 {
        // The joining alert would be the cause of the member below its node.
        if weak {
            return Some(CausalBreach::WeakCause { severity });
        }
        let lag = start - member_first;
        if lag > CAUSE_LAG_TOLERANCE {
            return Some(CausalBreach::CauseLagsEffect { lag });
        }
    } else if joiner_hops > 0 && member_hops > 0 && weak {
        return Some(CausalBreach::WeakThroughSilentUpstream { severity });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_may_lag_its_effects_by_the_tolerance_only() {
        let t = 1_000_000;
        let at_tolerance = t + CAUSE_LAG_TOLERANCE;
        assert_eq!(causal_breach(Severity::Error, at_tolerance, 0, 1, t), None);
        assert_eq!(
            causal_breach(Severity::Critical, at_tolerance + 1, 0, 2, t),
            Some(CausalBreach::CauseLagsEffect {
                lag: CAUSE_LAG_TOLERANCE + 1
            })
        );
        // A cause that fires first is the usual order.
        assert_eq!(causal_breach(Severity::Error, t - 300_000, 0, 1, t), None);
    }

    #[test]
    fn a_warning_is_never_a_cause_nor_links_through_a_silent_upstream() {
        assert_eq!(
            causal_breach(Severity::Warning, 0, 0, 1, 0),
            Some(CausalBreach::WeakCause {
                severity: Severity::Warning
            })
        );
        assert_eq!(
            causal_breach(Severity::Info, 0, 1, 1, 0),
            Some(CausalBreach::WeakThroughSilentUpstream {
                severity: Severity::Info
            })
        );
        // A warning below a failing node, or on the node of a firing member, still links.
        assert_eq!(causal_breach(Severity::Warning, 0, 1, 0, 0), None);
        assert_eq!(causal_breach(Severity::Warning, 0, 0, 0, 0), None);
        assert_eq!(causal_breach(Severity::Error, 0, 1, 2, 0), None);
    }
}
