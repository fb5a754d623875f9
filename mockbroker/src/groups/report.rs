//! The groups as JSON, for the control API (`GET /v1/groups`, `GET /v1/groups/{group}`): state,
//! generation, protocol, leader, members and committed offsets with metadata and commit time.

use serde_json::{Value, json};

use super::coordinator::GroupCoordinator;
use super::group::Group;

impl GroupCoordinator {
    /// Every group, by id.
    pub fn report(&self) -> Value {
        json!({ "groups": self.groups.values().map(report).collect::<Vec<_>>() })
    }

    /// One group, or `None` if it does not exist.
    pub fn report_group(&self, group_id: &str) -> Option<Value> {
        self.groups.get(group_id).map(report)
    }
}

fn report(g: &Group) -> Value {
    let members: Vec<Value> = g
        .member_descriptions()
        .into_iter()
        .map(|m| {
            json!({
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": m.client_host,
                "assignment_bytes": g.assignment(&m.member_id).map_or(0, |a| a.len()),
            })
        })
        .collect();
    let offsets: Vec<Value> = g
        .offsets()
        .iter()
        .map(|((topic, partition), o)| {
            json!({
                "topic": topic,
                "partition": partition,
                "offset": o.offset,
                "leader_epoch": o.leader_epoch,
                "metadata": o.metadata,
                "commit_timestamp_ms": o.commit_timestamp_ms,
            })
        })
        .collect();
    json!({
        "group_id": g.id(),
        "state": g.state().as_str(),
        "generation_id": g.generation_id(),
        "protocol_type": g.protocol_type,
        "protocol": g.protocol_name(),
        "leader": g.leader(),
        "members": members,
        "offsets": offsets,
    })
}
