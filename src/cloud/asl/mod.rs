//! Step Functions from real Amazon States Language: [`parse`] a definition (positions
//! kept for errors) into an index-based [`Machine`], then run it with the one
//! executor, [`Execution`], which a driver steps from outside — the discrete-event
//! simulation with its clock, quotas and Lambda model, or [`count`] with instant tasks.
//!
//! Billing follows AWS (concepts-transitions, see shared/reference/aws.md): one
//! transition per state entered — states inside Inline Map iterations and Parallel
//! branches included, the iterations and branches themselves free — plus one per
//! retry; a Distributed Map is billed one transition per child execution it starts,
//! and each child as its own workflow type.

pub mod count;
pub mod exec;
mod intrinsic;
pub mod machine;
pub mod parse;
pub mod path;
pub mod value;

pub use count::{count, CountReport, StateCount};
pub use exec::{jittered, Action, CursorId, Execution, Outcome, TaskCall, TaskError, Workflow};
pub use machine::{ExecutionType, Machine, StateId};
pub use parse::{function_name, load, parse};
pub use value::{Obj, Val};

#[cfg(test)]
mod tests;
