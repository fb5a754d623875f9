//! The topic-partitions a request names, for matching rules on `topic` and `partition`. Fetch
//! v13+ names topics by id, resolved through the model; Metadata names whole topics (all of
//! them when it asks for every topic), which stand for each of their partitions.

use ktrial_protocol::messages::RequestKind;

use crate::model::Cluster;

/// (topic, partition) pairs in request order; a topic the cluster does not know is `(name, -1)`.
pub fn named_partitions(request: &RequestKind, cluster: &Cluster) -> Vec<(String, i32)> {
    let whole_topic = |name: &str| -> Vec<(String, i32)> {
        match cluster.topic(name) {
            Some(t) => t
                .partitions()
                .iter()
                .map(|p| (name.to_string(), p.index()))
                .collect(),
            None => vec![(name.to_string(), -1)],
        }
    };
    match request {
        RequestKind::Produce(body) => body
            .topic_data
            .iter()
            .flat_map(|t| {
                t.partition_data
                    .iter()
                    .map(|p| (t.name.0.to_string(), p.index))
            })
            .collect(),
        RequestKind::Fetch(body) => body
            .topics
            .iter()
            .flat_map(|t| {
                let name = if t.topic.0.is_empty() {
                    cluster
                        .topic_by_id(t.topic_id)
                        .map_or_else(String::new, |(name, _)| name.to_string())
                } else {
                    t.topic.0.to_string()
                };
                t.partitions
                    .iter()
                    .map(move |p| (name.clone(), p.partition))
            })
            .collect(),
        RequestKind::ListOffsets(body) => body
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|p| (t.name.0.to_string(), p.partition_index))
            })
            .collect(),
        RequestKind::Metadata(body) => match &body.topics {
            None => cluster
                .topics()
                .keys()
                .flat_map(|name| whole_topic(name))
                .collect(),
            Some(topics) => topics
                .iter()
                .filter_map(|t| t.name.as_ref())
                .flat_map(|name| whole_topic(name.0.as_str()))
                .collect(),
        },
        RequestKind::CreateTopics(body) => body
            .topics
            .iter()
            .map(|t| (t.name.0.to_string(), -1))
            .collect(),
        RequestKind::DeleteTopics(body) => body
            .topic_names
            .iter()
            .map(|t| (t.0.to_string(), -1))
            .collect(),
        _ => Vec::new(),
    }
}
