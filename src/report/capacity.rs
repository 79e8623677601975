//! Whether a layout carries its load, as the report states it: the simulation's own
//! verdict (offered against served items and the binding quota,
//! `layouts::accounting::capacity`), with "throttled" for a layout that keeps up
//! while requests were throttled or Lambda concurrency sat at its quota.

use super::data::LayoutSummary;

/// A layout's capacity verdict, as shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Capacity {
    /// Every item served, nothing throttled.
    KeepsUp,
    /// Every item served, but requests were throttled and retried: the layout is at a
    /// quota and its answers are delayed.
    Throttled,
    /// Items dropped, or a backlog drained after the period: the simulation's
    /// verdict, with the served share and what binds.
    Overloaded(crate::layouts::Capacity),
}

/// The verdict for one layout.
pub fn capacity(l: &LayoutSummary) -> Capacity {
    if !l.capacity.keeps_up() {
        return Capacity::Overloaded(l.capacity);
    }
    let at_quota = l
        .lambda_concurrency_quota
        .is_some_and(|q| q > 0 && l.peak_lambda_concurrency >= q);
    if l.total_throttles() > 0 || at_quota {
        Capacity::Throttled
    } else {
        Capacity::KeepsUp
    }
}

impl Capacity {
    /// A few words for a table cell.
    pub fn label(&self) -> String {
        match self {
            Capacity::KeepsUp => "keeps up".into(),
            Capacity::Throttled => "throttled".into(),
            Capacity::Overloaded(c) => c.label(),
        }
    }

    /// Whether the layout carries its load.
    pub fn keeps_up(&self) -> bool {
        !matches!(self, Capacity::Overloaded(_))
    }
}

/// The latency figure of `l` as shown: marked when the layout is overloaded (its
/// latency is that of the items it served, not of its load).
pub fn mark_latency(l: &LayoutSummary, shown: String) -> String {
    if l.capacity.keeps_up() {
        shown
    } else {
        format!("{shown} (overloaded)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layouts::{Gate, GateWaits, ItemCounts};
    use crate::report::RunReport;

    #[test]
    fn verdicts_follow_the_simulation_and_throttles() {
        let r = RunReport::example();
        let mut l = r.layouts[1].clone();
        assert_eq!(capacity(&l), Capacity::KeepsUp);
        assert_eq!(capacity(&l).label(), "keeps up");

        l.throttles.insert("lambda".into(), 3);
        assert_eq!(capacity(&l), Capacity::Throttled);
        assert_eq!(mark_latency(&l, "1 s".into()), "1 s");

        let mut gates = GateWaits::default();
        gates.add(Gate::StateTransitions, 5);
        let items = ItemCounts {
            offered: 100,
            analysed: 40,
            late: 0,
            dropped: 60,
        };
        l.capacity = crate::layouts::accounting::capacity(&items, &gates, 10.0, 60.0);
        assert_eq!(capacity(&l).label(), "overloaded: 40% served");
        assert!(!capacity(&l).keeps_up());
        assert_eq!(mark_latency(&l, "1 s".into()), "1 s (overloaded)");

        // At the concurrency quota counts as throttled even before a throttle.
        let mut l = r.layouts[1].clone();
        l.peak_lambda_concurrency = 1000;
        l.lambda_concurrency_quota = Some(1000);
        assert_eq!(capacity(&l), Capacity::Throttled);
    }
}
