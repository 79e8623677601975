//! Whether a layout carries its load, as the report states it.
//!
//! A stand-in until the simulation reports its own capacity verdict (offered against
//! served load and the binding quota, issue 10): this derives what it honestly can from
//! the results already there — frames analysed against frames captured, throttles,
//! peak Lambda concurrency against its quota, and how long work went on after the
//! last frame was captured. [`capacity`] is the one function to switch when that
//! verdict exists.

use super::data::LayoutSummary;

/// A layout's capacity verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Capacity {
    /// Every frame analysed, nothing throttled.
    KeepsUp,
    /// Every frame analysed, but requests were throttled and retried: the layout is
    /// at a quota and its answers are delayed.
    Throttled,
    /// Frames left unanalysed, or work still running more than [`BACKLOG_S`] after
    /// the period ended: work queued faster than it was served.
    Overloaded {
        /// Fraction of captured frames that every detector analysed.
        analysed: f64,
    },
}

/// Seconds of work left after the period's end that read as a backlog: a layout that
/// keeps up finishes its last chunk within a few chunk periods (seconds); one that
/// queues drains for minutes or hours.
pub const BACKLOG_S: f64 = 60.0;

/// The verdict for one layout (see the module notes for what it rests on).
pub fn capacity(l: &LayoutSummary) -> Capacity {
    let analysed = if l.frames_captured > 0 {
        l.frames_analyzed as f64 / l.frames_captured as f64
    } else {
        1.0
    };
    let at_quota = l
        .lambda_concurrency_quota
        .is_some_and(|q| q > 0 && l.peak_lambda_concurrency >= q);
    let throttled = l.total_throttles() > 0 || at_quota;
    if analysed < 0.999 || l.drain_s > BACKLOG_S {
        Capacity::Overloaded { analysed }
    } else if throttled {
        Capacity::Throttled
    } else {
        Capacity::KeepsUp
    }
}

impl Capacity {
    /// A few words for a table cell.
    pub fn label(&self) -> String {
        match *self {
            Capacity::KeepsUp => "keeps up".into(),
            Capacity::Throttled => "throttled".into(),
            Capacity::Overloaded { analysed } if analysed < 0.999 => {
                format!("overloaded ({:.0}% analysed)", analysed * 100.0)
            }
            Capacity::Overloaded { .. } => "overloaded (queue grew)".into(),
        }
    }

    /// Whether the layout carries its load without a growing queue.
    pub fn keeps_up(&self) -> bool {
        !matches!(self, Capacity::Overloaded { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RunReport;

    #[test]
    fn verdicts_follow_frames_throttles_and_tail() {
        let r = RunReport::example();
        let mut l = r.layouts[1].clone();
        assert_eq!(capacity(&l), Capacity::KeepsUp);
        assert_eq!(capacity(&l).label(), "keeps up");

        l.throttles.insert("lambda".into(), 3);
        assert_eq!(capacity(&l), Capacity::Throttled);

        // Work still running 15 minutes after the period: a queue that grew.
        l.drain_s = 900.0;
        assert_eq!(capacity(&l).label(), "overloaded (queue grew)");
        assert!(!capacity(&l).keeps_up());

        let mut l = r.layouts[1].clone();
        l.frames_analyzed = l.frames_captured / 2;
        assert_eq!(capacity(&l).label(), "overloaded (50% analysed)");

        // At the concurrency quota counts as throttled even before a throttle.
        let mut l = r.layouts[1].clone();
        l.peak_lambda_concurrency = 1000;
        l.lambda_concurrency_quota = Some(1000);
        assert_eq!(capacity(&l), Capacity::Throttled);
    }
}
