//! Deterministic Kafka scenarios: a simulated network and clock, workloads, fault schedules,
//! checkers, scenario files, exploration with shrinking, timelines. Built up by the harness issue.
