//! The subcommands of `ktrial`, one file each.

pub mod broker;
pub mod explore;
pub mod perf;
pub mod replay;
pub mod run;
