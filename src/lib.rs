//! archsim: what a video-monitoring pipeline costs and how fast it answers, laid out
//! as serverless microservices or as one process. See DESIGN.md for the rooms.

pub mod analysis;
pub mod cloud;
pub mod error;
pub mod frames;
pub mod kernels;
pub mod layouts;
pub mod pricing;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod sweep;

pub use error::{Error, InputError, Result};
