//! Causal limits on a link through a topology node, shared by the engine (`correlate`) and
//! `corral explain`, so that an explanation never calls "linked" what the engine keeps apart.
//!
//! The hops and the window say whether two alerts *may* be related ([`crate::rules::GroupingRule::relates`]);
//! these say whether the later alert's link respects the direction of impact:
//! - a cause cannot start after its effects (beyond [`CAUSE_LAG_TOLERANCE`]);
//! - an alert below error severity never links as the cause of alerts on its dependents;
//! - a warning never links through a silent shared upstream;
//! - alerts below a silent shared upstream link only if they started together, within the
//!   detection delay of that node's failure ([`silent_cause_tolerance`]);
//! - an alert below an alerting node is its effect only if it started within that same
//!   detection delay after the node's alert ([`effect_too_late`]);
//! - a cause and its effect recover together, within a scrape interval per hop and one more
//!   ([`recovery_tolerance`]): two co-firing alerts that recover further apart were two failures.

use crate::model::{Millis, Severity};

/// Time coherence of propagation: how long a cause's own alert may start after the effects it
/// explains. Effects follow their cause; its alert may only lag them by the scrape interval in
/// which monitors notice the failure (15–60 s). Such a late cause joins its effects but never
/// ties several failures into one (`Engine::correlate`): it may as well be a failure of its own
/// that started just after them.
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
    /// Both alerts are below the node (a silent shared upstream) and started `gap` apart: more
    /// than `tolerance`, the time a failure of the node takes to reach both of them.
    SilentCauseApart { gap: Millis, tolerance: Millis },
    /// The joining alert sits below the node, where a member alerts, and started `delay` after
    /// the latest member there started: more than `tolerance`, the time the node's failure
    /// takes to reach it.
    EffectTooLate { delay: Millis, tolerance: Millis },
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
    } else if joiner_hops > 0 && member_hops > 0 {
        if weak {
            return Some(CausalBreach::WeakThroughSilentUpstream { severity });
        }
        let gap = (start - member_first).abs();
        let tolerance = silent_cause_tolerance(joiner_hops, member_hops);
        if gap > tolerance {
            return Some(CausalBreach::SilentCauseApart { gap, tolerance });
        }
    }
    None
}

/// Checks the link of a joining alert that started failing at `began`, `joiner_hops` below a
/// node where the latest member alert started at `cause_started`: had the node's failure
/// reached it, its monitors would have noticed within a scrape interval per hop
/// ([`silent_cause_tolerance`], the bound a silent common cause has), so a dependent that starts
/// later is a failure of its own beside it, not its effect. `None` when the link may stand.
pub fn effect_too_late(
    began: Millis,
    joiner_hops: u8,
    cause_started: Millis,
) -> Option<CausalBreach> {
    let delay = began.saturating_sub(cause_started);
    let tolerance = silent_cause_tolerance(joiner_hops, 0);
    (joiner_hops > 0 && delay > tolerance)
        .then_some(CausalBreach::EffectTooLate { delay, tolerance })
}

/// How far apart two alerts `joiner_hops` and `member_hops` below a silent node may start and
/// still share its failure as their cause: a scrape interval per hop between the farther of them
/// and the node. Had the node failed, each dependent would have lost it within that detection
/// delay; siblings that start further apart are evidence against a common cause.
pub fn silent_cause_tolerance(joiner_hops: u8, member_hops: u8) -> Millis {
    CAUSE_LAG_TOLERANCE * Millis::from(joiner_hops.max(member_hops))
}

/// How far apart a cause and its effect, `hops` apart (0: on the same resource), may recover:
/// a cause's recovery reaches each dependent within a scrape interval per hop, and each side's
/// recovery is noticed within a scrape interval of its own. Two alerts that co-fired and recover
/// further apart than this (one recovered, the other kept failing) were two failures, not cause
/// and effect (`Engine`'s recovery check).
pub fn recovery_tolerance(hops: u8) -> Millis {
    CAUSE_LAG_TOLERANCE * (Millis::from(hops) + 1)
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

    #[test]
    fn siblings_of_a_silent_node_link_only_within_a_scrape_interval_per_hop() {
        let t = 1_000_000;
        // One hop each: a scrape interval, either order (late delivery).
        assert_eq!(
            causal_breach(Severity::Error, t + CAUSE_LAG_TOLERANCE, 1, 1, t),
            None
        );
        assert_eq!(
            causal_breach(Severity::Error, t - CAUSE_LAG_TOLERANCE - 1, 1, 1, t),
            Some(CausalBreach::SilentCauseApart {
                gap: CAUSE_LAG_TOLERANCE + 1,
                tolerance: CAUSE_LAG_TOLERANCE
            })
        );
        // Two hops below the silent node: two intervals for the failure to reach the farther.
        assert_eq!(
            causal_breach(Severity::Critical, t + 2 * CAUSE_LAG_TOLERANCE, 1, 2, t),
            None
        );
        assert!(
            causal_breach(Severity::Critical, t + 2 * CAUSE_LAG_TOLERANCE + 1, 2, 1, t).is_some()
        );
        // A node that alerts (member on it) or a cause above its effects is not this rule's.
        assert_eq!(causal_breach(Severity::Error, t + 240_000, 1, 0, t), None);
    }

    #[test]
    fn an_effect_follows_an_alerting_node_within_a_scrape_interval_per_hop() {
        let t = 1_000_000;
        assert_eq!(effect_too_late(t + CAUSE_LAG_TOLERANCE, 1, t), None);
        assert_eq!(
            effect_too_late(t + CAUSE_LAG_TOLERANCE + 1, 1, t),
            Some(CausalBreach::EffectTooLate {
                delay: CAUSE_LAG_TOLERANCE + 1,
                tolerance: CAUSE_LAG_TOLERANCE
            })
        );
        // Two hops down, two intervals; an effect that starts first (late cause) is not this
        // rule's, nor is an alert on the node itself; no start known yet bounds nothing.
        assert_eq!(effect_too_late(t + 2 * CAUSE_LAG_TOLERANCE, 2, t), None);
        assert!(effect_too_late(t + 2 * CAUSE_LAG_TOLERANCE + 1, 2, t).is_some());
        assert_eq!(effect_too_late(t - 300_000, 1, t), None);
        assert_eq!(effect_too_late(t + 300_000, 0, t), None);
        assert_eq!(effect_too_late(t, 1, Millis::MAX), None);
    }

    #[test]
    fn a_cause_and_its_effect_recover_within_a_scrape_interval_per_hop_and_one_more() {
        assert_eq!(recovery_tolerance(0), CAUSE_LAG_TOLERANCE);
        assert_eq!(recovery_tolerance(1), 2 * CAUSE_LAG_TOLERANCE);
        assert_eq!(recovery_tolerance(4), 5 * CAUSE_LAG_TOLERANCE);
    }
}
