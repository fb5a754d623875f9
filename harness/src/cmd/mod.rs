//! The subcommands of `ktrial`, one file each.

pub mod run;
