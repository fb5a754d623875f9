//! Record batch encode and decode benchmarks (written with the protocol tests).
fn main() {}
