//! What a layout does with load it cannot carry, and the soft quotas it runs under.
//!
//! `overload = { drop_after = "60s" }` (the default) or `overload = "queue"`, at the
//! scenario's top level and optionally per layout; a `[quotas]` table with each soft
//! quota at `"default"` (the catalog's figure) or `{ raised = N }`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::sim::{Dur, Time, NS_PER_SEC};

/// What happens to an item (a frame, a request) the layout cannot start at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverloadPolicy {
    /// An item that waited in line longer than `after` is dropped and counted, as a
    /// monitor that falls behind skips frames; `per` says over which waits.
    DropAfter { after: Time, per: DeadlineScope },
    /// Items wait without limit (today's unbounded queue, kept for teaching: its
    /// latency grows with the simulated period).
    Queue,
}

/// Which waits an overload deadline bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeadlineScope {
    /// The item's waits in all its queues together, along each path through the
    /// pipeline (a stage's code checks the item's age and skips a stale one): its
    /// latency stays within one deadline plus its own service time, at the price of
    /// dropping items a later stage would have finished.
    #[default]
    Item,
    /// Each queue on its own: an item that waited longer in one queue is dropped
    /// there, as Lambda discards an async event older than its function's
    /// MaximumEventAgeInSeconds and a consumer discards a stale SQS message. An item
    /// passing several queues can wait up to the deadline in each.
    Queue,
}

impl Default for OverloadPolicy {
    fn default() -> Self {
        OverloadPolicy::drop_after(60 * NS_PER_SEC)
    }
}

impl OverloadPolicy {
    /// The policy dropping items that waited longer than `after` in all.
    pub fn drop_after(after: Time) -> OverloadPolicy {
        OverloadPolicy::DropAfter {
            after,
            per: DeadlineScope::Item,
        }
    }

    /// The deadline to start an item, if there is one.
    pub fn deadline(self) -> Option<Time> {
        match self {
            OverloadPolicy::DropAfter { after, .. } => Some(after),
            OverloadPolicy::Queue => None,
        }
    }

    /// Whether the deadline bounds an item's waits summed along its path.
    pub fn per_item(self) -> bool {
        matches!(
            self,
            OverloadPolicy::DropAfter {
                per: DeadlineScope::Item,
                ..
            }
        )
    }

    /// Whether an item that waited `before` in earlier queues on its path and
    /// entered this one at `arrived` may still start at `start`.
    pub fn may_start_after(self, before: Time, arrived: Time, start: Time) -> bool {
        match self {
            OverloadPolicy::DropAfter { after, per } => {
                let here = start.saturating_sub(arrived);
                match per {
                    DeadlineScope::Queue => here <= after,
                    DeadlineScope::Item => before.saturating_add(here) <= after,
                }
            }
            OverloadPolicy::Queue => true,
        }
    }

    /// Whether an item that arrived at `arrived`, with no wait before, may still
    /// start at `start`.
    pub fn may_start(self, arrived: Time, start: Time) -> bool {
        self.may_start_after(0, arrived, start)
    }

    /// As written in a scenario (`drop_after 1m`, `drop_after 1m per queue`,
    /// `queue`), for reports.
    pub fn label(self) -> String {
        match self {
            OverloadPolicy::DropAfter {
                after,
                per: DeadlineScope::Item,
            } => format!("drop_after {}", Dur(after)),
            OverloadPolicy::DropAfter {
                after,
                per: DeadlineScope::Queue,
            } => format!("drop_after {} per queue", Dur(after)),
            OverloadPolicy::Queue => "queue".into(),
        }
    }
}

const EXPECTED_POLICY: &str =
    "`\"queue\"` or a table `{ drop_after = \"60s\" }` (optionally with `per = \"queue\"|\"item\"`)";

impl<'de> Deserialize<'de> for OverloadPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OverloadPolicy;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(EXPECTED_POLICY)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<OverloadPolicy, E> {
                match s {
                    "queue" => Ok(OverloadPolicy::Queue),
                    other => Err(E::custom(format!(
                        "unknown overload policy `{other}`; expected {EXPECTED_POLICY}"
                    ))),
                }
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<OverloadPolicy, M::Error> {
                let mut after: Option<Dur> = None;
                let mut per = DeadlineScope::Item;
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "drop_after" => after = Some(m.next_value()?),
                        "per" => {
                            per = match m.next_value::<String>()?.as_str() {
                                "queue" => DeadlineScope::Queue,
                                "item" => DeadlineScope::Item,
                                other => {
                                    return Err(de::Error::custom(format!(
                                        "unknown deadline scope `{other}`; expected `per = \"item\"` (the item's waits together, the default) or `per = \"queue\"` (each queue on its own)"
                                    )))
                                }
                            }
                        }
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown field `{other}` in overload; expected `drop_after` and optionally `per` (or write overload = \"queue\")"
                            )))
                        }
                    }
                }
                let Some(Dur(t)) = after else {
                    return Err(de::Error::custom(format!(
                        "overload needs `drop_after`; expected {EXPECTED_POLICY}"
                    )));
                };
                if t == 0 {
                    return Err(de::Error::custom(
                        "drop_after must be longer than 0 (an item needs time to start)",
                    ));
                }
                Ok(OverloadPolicy::DropAfter { after: t, per })
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for OverloadPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            OverloadPolicy::Queue => s.serialize_str("queue"),
            OverloadPolicy::DropAfter { after, per } => {
                // The default scope is left out, as a scenario usually writes it.
                let queue = *per == DeadlineScope::Queue;
                let mut m = s.serialize_map(Some(1 + queue as usize))?;
                m.serialize_entry("drop_after", &Dur(*after))?;
                if queue {
                    m.serialize_entry("per", "queue")?;
                }
                m.end()
            }
        }
    }
}

/// One soft quota's setting: the catalog's default, or raised to a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuotaSetting {
    #[default]
    Default,
    /// Raised on request to this value (in the quota's own unit).
    Raised(u32),
}

const EXPECTED_QUOTA: &str = "`\"default\"` or a table `{ raised = N }` with N ≥ 1";

impl<'de> Deserialize<'de> for QuotaSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = QuotaSetting;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(EXPECTED_QUOTA)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<QuotaSetting, E> {
                match s {
                    "default" => Ok(QuotaSetting::Default),
                    other => Err(E::custom(format!(
                        "unknown quota setting `{other}`; expected {EXPECTED_QUOTA}"
                    ))),
                }
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<QuotaSetting, M::Error> {
                let mut raised: Option<i64> = None;
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "raised" => raised = Some(m.next_value()?),
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown field `{other}` in a quota; expected `raised` (or write \"default\")"
                            )))
                        }
                    }
                }
                match raised {
                    Some(n) if (1..=u32::MAX as i64).contains(&n) => {
                        Ok(QuotaSetting::Raised(n as u32))
                    }
                    Some(n) => Err(de::Error::custom(format!(
                        "raised must be a whole number from 1 to {}, got {n}",
                        u32::MAX
                    ))),
                    None => Err(de::Error::custom(format!(
                        "a quota table needs `raised`; expected {EXPECTED_QUOTA}"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for QuotaSetting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            QuotaSetting::Default => s.serialize_str("default"),
            QuotaSetting::Raised(n) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("raised", n)?;
                m.end()
            }
        }
    }
}

/// The scenario's `[quotas]`: every soft quota a layout can meet, each at the
/// catalog's default unless raised. Units: concurrent executions (Lambda), tokens
/// refilled per second (Step Functions buckets), vCPUs (EC2 On-Demand Standard
/// instances, L-1216C47A; Fargate On-Demand vCPUs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotasSpec {
    pub lambda_concurrency: QuotaSetting,
    pub step_functions_state_transitions: QuotaSetting,
    pub step_functions_start_execution: QuotaSetting,
    pub ec2_vcpus: QuotaSetting,
    pub fargate_vcpus: QuotaSetting,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(default)]
        overload: OverloadPolicy,
        #[serde(default)]
        quotas: QuotasSpec,
    }

    fn parse(text: &str) -> Result<Doc, String> {
        crate::error::parse_toml::<Doc>("s.toml", text).map_err(|e| e.to_string())
    }

    #[test]
    fn policies_parse_and_default_to_sixty_seconds() {
        assert_eq!(
            parse("").unwrap().overload,
            OverloadPolicy::drop_after(60 * NS_PER_SEC)
        );
        assert_eq!(
            parse("overload = \"queue\"").unwrap().overload,
            OverloadPolicy::Queue
        );
        assert_eq!(
            parse("overload = { drop_after = \"2s\" }")
                .unwrap()
                .overload,
            OverloadPolicy::drop_after(2 * NS_PER_SEC)
        );
        let queue = parse("overload = { drop_after = \"2s\", per = \"queue\" }")
            .unwrap()
            .overload;
        assert_eq!(
            queue,
            OverloadPolicy::DropAfter {
                after: 2 * NS_PER_SEC,
                per: DeadlineScope::Queue
            }
        );
        assert!(!queue.per_item());
        assert_eq!(queue.label(), "drop_after 2s per queue");
        let item = parse("overload = { drop_after = \"1s\", per = \"item\" }")
            .unwrap()
            .overload;
        assert_eq!(item, OverloadPolicy::drop_after(NS_PER_SEC));
        let p = OverloadPolicy::drop_after(NS_PER_SEC);
        assert!(p.per_item());
        assert!(p.may_start(5, 5 + NS_PER_SEC));
        assert!(!p.may_start(5, 6 + NS_PER_SEC));
        assert!(OverloadPolicy::Queue.may_start(0, u64::MAX));
        assert_eq!(p.label(), "drop_after 1s");
        // Per queue an earlier wait does not count; per item it does.
        assert!(queue.may_start_after(2 * NS_PER_SEC, 0, 2 * NS_PER_SEC));
        assert!(p.may_start_after(NS_PER_SEC / 2, 0, NS_PER_SEC / 2));
        assert!(!p.may_start_after(NS_PER_SEC / 2, 0, NS_PER_SEC / 2 + 1));
        assert!(!p.may_start_after(NS_PER_SEC + 1, 0, 0));
    }

    #[test]
    fn bad_policies_are_positioned() {
        for (text, want) in [
            ("overload = \"drop\"", "unknown overload policy `drop`"),
            ("overload = { drop_after = \"0s\" }", "longer than 0"),
            ("overload = { after = \"1s\" }", "unknown field `after`"),
            ("overload = {}", "needs `drop_after`"),
            (
                "overload = { drop_after = \"1s\", per = \"stage\" }",
                "unknown deadline scope `stage`",
            ),
            (
                "overload = { drop_after = \"soon\" }",
                "expected a duration",
            ),
            ("overload = 3", "expected `\"queue\"`"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains("s.toml:1:"), "{text}: {e}");
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn quotas_parse_default_or_raised() {
        let q = parse("[quotas]\nec2_vcpus = { raised = 2000 }\nlambda_concurrency = \"default\"")
            .unwrap()
            .quotas;
        assert_eq!(q.ec2_vcpus, QuotaSetting::Raised(2000));
        assert_eq!(q.lambda_concurrency, QuotaSetting::Default);
        assert_eq!(q.fargate_vcpus, QuotaSetting::Default);
        for (text, want, line) in [
            ("[quotas]\nec2_vcpus = { raised = 0 }", "from 1 to", 2),
            ("[quotas]\nec2_vcpus = \"lots\"", "unknown quota setting", 2),
            (
                "[quotas]\nec2_vcpu = \"default\"",
                "unknown field `ec2_vcpu`",
                2,
            ),
            (
                "[quotas]\n\nfargate_vcpus = { up = 3 }",
                "expected `raised`",
                3,
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(&format!("s.toml:{line}:")), "{text}: {e}");
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
