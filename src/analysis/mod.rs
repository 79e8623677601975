//! Analyses over many runs: replications with confidence intervals, and the split of
//! independent work units across machines (shards) with their merge.

pub mod replications;
pub mod shard;

pub use replications::{replicate, replication_seed, Estimate, Plan};
pub use shard::{Merged, Part, Shard, Work};
