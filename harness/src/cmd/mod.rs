//! The subcommands of `ktrial`, one file each.

pub mod broker;
pub mod driver;
pub mod explore;
pub mod live;
pub mod perf;
pub mod replay;
pub mod run;
