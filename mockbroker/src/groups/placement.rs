//! Which broker coordinates a group. Kafka maps a group to partition
//! `abs(groupId.hashCode) % offsets.topic.num.partitions` of `__consumer_offsets` and its leader
//! coordinates the group (`GroupCoordinator.partitionFor`); the model has no offsets topic, so
//! that slot is given to broker `slot % brokers`, which spreads groups over brokers the same way.

use crate::model::{BrokerId, BrokerInfo};

/// Java's `String.hashCode` over UTF-16 code units.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The `__consumer_offsets` partition of a group (Kafka's `Utils.abs`: `MIN_VALUE` maps to 0).
pub fn offsets_partition(group_id: &str, partitions: i32) -> i32 {
    let hash = java_string_hash(group_id);
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    abs % partitions.max(1)
}

/// The broker that coordinates `group_id`, or `None` in a cluster without brokers.
pub fn coordinator_for(
    group_id: &str,
    partitions: i32,
    brokers: &[BrokerInfo],
) -> Option<BrokerId> {
    let slot = usize::try_from(offsets_partition(group_id, partitions)).ok()?;
    brokers.get(slot % brokers.len().max(1)).map(|b| b.id)
}

impl crate::model::Cluster {
    /// The broker that coordinates `group_id`.
    pub fn group_coordinator(&self, group_id: &str) -> Option<BrokerId> {
        coordinator_for(
            group_id,
            self.groups.config().offsets_topic_partitions,
            self.brokers(),
        )
    }

    /// NOT_COORDINATOR unless `broker` coordinates `group_id`: a client that asked another
    /// broker looks the coordinator up again.
    pub fn check_group_coordinator(
        &self,
        broker: BrokerId,
        group_id: &str,
    ) -> Result<(), ktrial_protocol::ResponseError> {
        if self.group_coordinator(group_id) == Some(broker) {
            Ok(())
        } else {
            Err(ktrial_protocol::ResponseError::NotCoordinator)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_java_hash_code() {
        // Values from `"...".hashCode()` in Java.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(offsets_partition("polygenelubricants", 50), 0);
        assert_eq!(offsets_partition("hello", 50), 99_162_322 % 50);
    }

    #[test]
    fn spreads_groups_over_brokers() {
        let brokers: Vec<BrokerInfo> = (1..=3)
            .map(|id| BrokerInfo {
                id,
                host: String::new(),
                port: 0,
            })
            .collect();
        let chosen: std::collections::BTreeSet<_> = (0..30)
            .filter_map(|i| coordinator_for(&format!("group-{i}"), 50, &brokers))
            .collect();
        assert_eq!(chosen.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(coordinator_for("g", 50, &[]), None);
    }
}
