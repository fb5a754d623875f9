//! Group coordinator settings, with Kafka's broker defaults and Kafka's names in the docs.

use core::time::Duration;

/// Settings of the group coordinator (`group.*` and `offset.*` broker configs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits
    /// for more members (default 3000; test setups usually set 0).
    pub initial_rebalance_delay: Duration,
    /// `group.min.session.timeout.ms`: the shortest session a member may ask for.
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms`: the longest session a member may ask for.
    pub max_session_timeout: Duration,
    /// `group.max.size`: members per group. Kafka's default is unbounded; the model caps it so
    /// that one client cannot grow it without limit.
    pub max_group_size: usize,
    /// The most groups the coordinator holds (a model bound; Kafka has none).
    pub max_groups: usize,
    /// `offset.metadata.max.bytes`: the longest metadata string of a committed offset.
    pub offset_metadata_max_bytes: usize,
    /// `offsets.topic.num.partitions`: groups are spread over this many coordinator slots, as
    /// Kafka spreads them over the partitions of `__consumer_offsets`.
    pub offsets_topic_partitions: i32,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            initial_rebalance_delay: Duration::from_millis(3_000),
            min_session_timeout: Duration::from_millis(6_000),
            max_session_timeout: Duration::from_millis(1_800_000),
            max_group_size: 10_000,
            max_groups: 100_000,
            offset_metadata_max_bytes: 4_096,
            offsets_topic_partitions: 50,
        }
    }
}
