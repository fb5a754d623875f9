//! What the coordinator takes and gives, free of wire versions: the handlers translate each
//! API version to and from these.

use bytes::Bytes;
use ktrial_protocol::ResponseError;

/// One protocol a member supports (for consumers: an assignor name and its subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    /// The protocol name (`range`, `roundrobin`, `cooperative-sticky`, ...).
    pub name: String,
    /// Opaque metadata the leader reads (the consumer's subscription).
    pub metadata: Bytes,
}

/// A JoinGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The group.
    pub group_id: String,
    /// Empty on a member's first join.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// The client id from the request header, the prefix of a new member id.
    pub client_id: String,
    /// The client's address, as DescribeGroups reports it.
    pub client_host: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `rebalance.timeout.ms` (JoinGroup v0 has none: the session timeout).
    pub rebalance_timeout_ms: i32,
    /// `consumer` for consumers, `connect` for Connect workers.
    pub protocol_type: String,
    /// The protocols in the member's order of preference.
    pub protocols: Vec<Protocol>,
    /// JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED and its id (KIP-394).
    pub require_known_member_id: bool,
    /// JoinGroup v9+: a static leader rejoining a stable group is told to skip the assignment.
    pub supports_skip_assignment: bool,
}

/// One member as the leader sees it in the JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// Its metadata for the selected protocol.
    pub metadata: Bytes,
}

/// A JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    /// The error, if any.
    pub error: Option<ResponseError>,
    /// The generation the member joined (-1 on error).
    pub generation_id: i32,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// The selected protocol.
    pub protocol_name: Option<String>,
    /// The leader's member id.
    pub leader: String,
    /// The member's id (the new one for a first join).
    pub member_id: String,
    /// The leader must not assign (a static leader rejoining a stable group).
    pub skip_assignment: bool,
    /// Every member with its metadata, for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinResult {
    /// An error answer to `member_id`.
    pub fn error(member_id: &str, error: ResponseError) -> Self {
        Self {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: member_id.to_string(),
            skip_assignment: false,
            members: Vec::new(),
        }
    }
}

/// A SyncGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The group.
    pub group_id: String,
    /// The generation the member believes it is in.
    pub generation_id: i32,
    /// The member.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// SyncGroup v5+: checked against the group's.
    pub protocol_type: Option<String>,
    /// SyncGroup v5+: checked against the group's.
    pub protocol_name: Option<String>,
    /// The leader's assignment: member id and its opaque assignment.
    pub assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    /// The error, if any.
    pub error: Option<ResponseError>,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// The selected protocol.
    pub protocol_name: Option<String>,
    /// The member's assignment.
    pub assignment: Bytes,
}

impl SyncResult {
    /// An error answer.
    pub fn error(error: ResponseError) -> Self {
        Self {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// Who a Heartbeat, LeaveGroup or OffsetCommit comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    /// The member id (empty: unknown, for a static leave or a simple commit).
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
}

/// One partition of an OffsetCommit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitPartition {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The next offset to consume.
    pub offset: i64,
    /// The leader epoch of the last consumed record, or -1.
    pub leader_epoch: i32,
    /// Free-form metadata (`None` is stored as empty, as Kafka does).
    pub metadata: Option<String>,
}

/// An offset a group committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// The next offset to consume.
    pub offset: i64,
    /// The leader epoch, or -1.
    pub leader_epoch: i32,
    /// The committed metadata.
    pub metadata: String,
    /// Wall-clock milliseconds of the commit.
    pub commit_timestamp_ms: i64,
}

/// One member as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// The client id.
    pub client_id: String,
    /// The client's address.
    pub client_host: String,
    /// Its metadata for the selected protocol (stable groups only).
    pub metadata: Bytes,
    /// Its assignment (stable groups only).
    pub assignment: Bytes,
}

/// A group as DescribeGroups and ListGroups report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// The group id.
    pub group_id: String,
    /// Kafka's state name.
    pub state: &'static str,
    /// The protocol type, or empty.
    pub protocol_type: String,
    /// The selected protocol, for a stable group; otherwise empty.
    pub protocol_name: String,
    /// The generation.
    pub generation_id: i32,
    /// The leader, if any.
    pub leader: Option<String>,
    /// Its members.
    pub members: Vec<MemberDescription>,
}
