//! The group coordinator without sockets: the join/sync/heartbeat cycle, expiry on virtual time,
//! leaving, static members, offsets, and bad input answered with Kafka's error codes.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use bytes::Bytes;
use ktrial_mockbroker::groups::{
    CommitPartition, CommitRequest, GroupConfig, GroupCoordinator, GroupState, JoinRequest,
    JoinResult, MemberRef, Pending, Protocol, SyncRequest, SyncResult, Ticket,
};
use ktrial_mockbroker::model::{Cluster, ClusterConfig, TopicConfig, WallClock};
use ktrial_protocol::ResponseError;
use tokio::time::{Duration, Instant};

const SESSION_MS: i32 = 10_000;
const REBALANCE_MS: i32 = 30_000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn protocols(names: &[&str]) -> Vec<Protocol> {
    names
        .iter()
        .map(|n| Protocol {
            name: n.to_string(),
            metadata: Bytes::from(format!("meta-{n}")),
        })
        .collect()
}

fn join_request(member_id: &str, client: &str) -> JoinRequest {
    JoinRequest {
        group_id: "g".into(),
        member_id: member_id.into(),
        group_instance_id: None,
        client_id: client.into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: REBALANCE_MS,
        protocol_type: "consumer".into(),
        protocols: protocols(&["range"]),
        require_known_member_id: true,
        supports_skip_assignment: false,
    }
}

fn sync_request(generation: i32, member_id: &str, assignments: &[(&str, &str)]) -> SyncRequest {
    SyncRequest {
        group_id: "g".into(),
        generation_id: generation,
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: Some("consumer".into()),
        protocol_name: Some("range".into()),
        assignments: assignments
            .iter()
            .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
            .collect(),
    }
}

fn coordinator(initial_delay_ms: u64) -> GroupCoordinator {
    GroupCoordinator::new(GroupConfig {
        initial_rebalance_delay: ms(initial_delay_ms),
        ..GroupConfig::default()
    })
}

fn ready_join(p: Pending<JoinResult>) -> JoinResult {
    match p {
        Pending::Ready(r) => r,
        Pending::Wait(t) => panic!("JoinGroup waits on {t:?}; expected an answer now"),
    }
}

fn waiting<T: std::fmt::Debug>(p: Pending<T>) -> Ticket {
    match p {
        Pending::Wait(t) => t,
        Pending::Ready(r) => panic!("expected to wait, got {r:?}"),
    }
}

fn ready_sync(p: Pending<SyncResult>) -> SyncResult {
    match p {
        Pending::Ready(r) => r,
        Pending::Wait(t) => panic!("SyncGroup waits on {t:?}; expected an answer now"),
    }
}

fn member(id: &str) -> MemberRef {
    MemberRef {
        member_id: id.into(),
        group_instance_id: None,
    }
}

/// A new dynamic member on JoinGroup v4+: MEMBER_ID_REQUIRED with its id, then the real join.
fn first_join(c: &mut GroupCoordinator, client: &str, now: Instant) -> (String, Ticket) {
    let asked = ready_join(c.join(&join_request("", client), now));
    assert_eq!(asked.error, Some(ResponseError::MemberIdRequired));
    assert!(asked.member_id.starts_with(&format!("{client}-")));
    let ticket = waiting(c.join(&join_request(&asked.member_id, client), now));
    (asked.member_id, ticket)
}

#[test]
fn two_members_join_sync_and_heartbeat() {
    let t0 = Instant::now();
    let mut c = coordinator(3_000);
    let (a, ta) = first_join(&mut c, "a", t0);
    let (b, tb) = first_join(&mut c, "b", t0 + ms(1_000));
    // The initial delay holds the first rebalance open for more members.
    c.on_time(t0 + ms(2_999));
    assert!(c.take_join(ta).is_none());
    assert_eq!(
        c.group("g").unwrap().state(),
        GroupState::PreparingRebalance
    );
    // B came within the delay, so it is extended once by the delay (to t0+6s).
    c.on_time(t0 + ms(5_999));
    assert!(c.take_join(ta).is_none());
    c.on_time(t0 + ms(6_000));
    let ja = c.take_join(ta).unwrap();
    let jb = c.take_join(tb).unwrap();
    assert_eq!((ja.error, jb.error), (None, None));
    assert_eq!((ja.generation_id, jb.generation_id), (1, 1));
    assert_eq!(ja.leader, a);
    assert_eq!(jb.leader, a);
    assert_eq!(ja.protocol_name.as_deref(), Some("range"));
    let listed: Vec<&str> = ja.members.iter().map(|m| m.member_id.as_str()).collect();
    assert_eq!(listed, vec![a.as_str(), b.as_str()]);
    assert_eq!(ja.members[0].metadata, Bytes::from("meta-range"));
    assert!(jb.members.is_empty(), "followers get no member list");
    assert_eq!(
        c.group("g").unwrap().state(),
        GroupState::CompletingRebalance
    );

    // The follower's SyncGroup waits for the leader's assignment.
    let now = t0 + ms(6_100);
    let sb = waiting(c.sync(&sync_request(1, &b, &[]), now));
    let sa = ready_sync(c.sync(&sync_request(1, &a, &[(&a, "p0,p1"), (&b, "p2")]), now));
    assert_eq!(sa.assignment, Bytes::from("p0,p1"));
    let sb = c.take_sync(sb).unwrap();
    assert_eq!((sb.error, sb.assignment), (None, Bytes::from("p2")));
    assert_eq!(c.group("g").unwrap().state(), GroupState::Stable);

    // Heartbeats keep both alive well past one session timeout.
    for k in 1..=5 {
        let now = t0 + ms(6_100 + 5_000 * k);
        c.on_time(now);
        assert_eq!(c.heartbeat("g", 1, &member(&a), now), Ok(()));
        assert_eq!(c.heartbeat("g", 1, &member(&b), now), Ok(()));
    }
    assert_eq!(
        c.group("g").unwrap().member_ids(),
        vec![a.clone(), b.clone()]
    );
    let wrong = c.heartbeat("g", 7, &member(&a), t0 + ms(31_200));
    assert_eq!(wrong, Err(ResponseError::IllegalGeneration));
    let stranger = c.heartbeat("g", 1, &member("nobody"), t0 + ms(31_200));
    assert_eq!(stranger, Err(ResponseError::UnknownMemberId));
    assert_eq!(c.outstanding_tickets(), 0, "every answer was collected");
}

/// Two members, stable at generation 1 with A leading; returns (coordinator, a, b, t).
fn stable_pair() -> (GroupCoordinator, String, String, Instant) {
    let t0 = Instant::now();
    let mut c = coordinator(0);
    let (a, ta) = first_join(&mut c, "a", t0);
    c.on_time(t0);
    let ja = c.take_join(ta).unwrap();
    assert_eq!(ja.generation_id, 1);
    ready_sync(c.sync(&sync_request(1, &a, &[(&a, "all")]), t0));
    // B joins: A learns of the rebalance from its heartbeat and rejoins.
    let (b, tb) = first_join(&mut c, "b", t0 + ms(100));
    assert_eq!(
        c.heartbeat("g", 1, &member(&a), t0 + ms(200)),
        Err(ResponseError::RebalanceInProgress)
    );
    let ta = waiting(c.join(&join_request(&a, "a"), t0 + ms(300)));
    let (ja, jb) = (c.take_join(ta).unwrap(), c.take_join(tb).unwrap());
    assert_eq!((ja.generation_id, jb.generation_id), (2, 2));
    let t = t0 + ms(400);
    let sb = waiting(c.sync(&sync_request(2, &b, &[]), t));
    ready_sync(c.sync(&sync_request(2, &a, &[(&a, "p0"), (&b, "p1")]), t));
    assert_eq!(c.take_sync(sb).unwrap().assignment, Bytes::from("p1"));
    (c, a, b, t)
}

#[test]
fn silent_member_is_expelled_after_the_session_timeout_on_virtual_time() {
    let (mut c, a, b, t) = stable_pair();
    // A heartbeats every 3 s; B goes silent. Nothing happens before B's session ends...
    let session_end = t + ms(SESSION_MS as u64);
    let mut now = t;
    while now + ms(3_000) < session_end {
        now += ms(3_000);
        c.on_time(now);
        assert_eq!(c.heartbeat("g", 2, &member(&a), now), Ok(()));
    }
    assert_eq!(c.group("g").unwrap().member_ids().len(), 2);
    // ...and at its end B is gone and the group rebalances. The timer says when, without waiting.
    assert_eq!(c.next_deadline(), Some(session_end));
    c.on_time(session_end);
    let g = c.group("g").unwrap();
    assert_eq!(g.member_ids(), vec![a.clone()]);
    assert_eq!(g.state(), GroupState::PreparingRebalance);
    let now = session_end + ms(1_000);
    assert_eq!(
        c.heartbeat("g", 2, &member(&a), now),
        Err(ResponseError::RebalanceInProgress)
    );
    assert_eq!(
        c.heartbeat("g", 2, &member(&b), now),
        Err(ResponseError::UnknownMemberId)
    );
    // A rejoins alone; the rebalance completes at once and A takes every partition.
    let ta = waiting(c.join(&join_request(&a, "a"), now));
    let ja = c.take_join(ta).unwrap();
    assert_eq!((ja.generation_id, ja.members.len()), (3, 1));
    let sa = ready_sync(c.sync(&sync_request(3, &a, &[(&a, "p0,p1")]), now));
    assert_eq!(sa.assignment, Bytes::from("p0,p1"));
    assert_eq!(c.group("g").unwrap().state(), GroupState::Stable);
}

#[test]
fn member_that_does_not_rejoin_is_dropped_at_the_rebalance_timeout() {
    let (mut c, a, b, t) = stable_pair();
    // A rejoins (a leader's rejoin forces a rebalance); B keeps heart-beating but never rejoins.
    let ta = waiting(c.join(&join_request(&a, "a"), t));
    let mut now = t;
    for _ in 0..9 {
        now += ms(3_000);
        c.on_time(now);
        assert_eq!(
            c.heartbeat("g", 2, &member(&b), now),
            Err(ResponseError::RebalanceInProgress)
        );
        assert!(c.take_join(ta).is_none());
    }
    c.on_time(t + ms(REBALANCE_MS as u64));
    let ja = c.take_join(ta).unwrap();
    assert_eq!(ja.generation_id, 3);
    assert_eq!(c.group("g").unwrap().member_ids(), vec![a]);
}

#[test]
fn member_that_does_not_sync_is_dropped_after_the_rebalance_timeout() {
    let t0 = Instant::now();
    let mut c = coordinator(0);
    let (a, ta) = first_join(&mut c, "a", t0);
    let (b, tb) = first_join(&mut c, "b", t0);
    c.on_time(t0);
    let (ja, _) = (c.take_join(ta).unwrap(), c.take_join(tb).unwrap());
    assert_eq!(ja.members.len(), 2);
    // Only the leader syncs; B's sync never comes.
    ready_sync(c.sync(&sync_request(1, &a, &[(&a, "p0"), (&b, "p1")]), t0));
    // Heartbeats keep both sessions alive, but B's never sent SyncGroup.
    let mut now = t0;
    while now + ms(3_000) < t0 + ms(REBALANCE_MS as u64) {
        now += ms(3_000);
        c.on_time(now);
        assert_eq!(c.heartbeat("g", 1, &member(&a), now), Ok(()));
        assert_eq!(c.heartbeat("g", 1, &member(&b), now), Ok(()));
    }
    assert_eq!(c.group("g").unwrap().member_ids().len(), 2);
    c.on_time(t0 + ms(REBALANCE_MS as u64));
    let g = c.group("g").unwrap();
    assert_eq!(g.member_ids(), vec![a]);
    assert_eq!(g.state(), GroupState::PreparingRebalance);
}

#[test]
fn leave_single_and_batched() {
    let (mut c, a, b, t) = stable_pair();
    let left = c.leave("g", &[member(&b), member("ghost")], t).unwrap();
    assert_eq!(left, vec![Ok(()), Err(ResponseError::UnknownMemberId)]);
    assert_eq!(
        c.group("g").unwrap().state(),
        GroupState::PreparingRebalance
    );
    let ta = waiting(c.join(&join_request(&a, "a"), t));
    assert_eq!(c.take_join(ta).unwrap().generation_id, 3);
    // The last member leaving empties the group; the generation still advances.
    assert_eq!(c.leave("g", &[member(&a)], t).unwrap(), vec![Ok(())]);
    let g = c.group("g").unwrap();
    assert_eq!((g.state(), g.generation_id()), (GroupState::Empty, 4));
    assert_eq!(
        c.leave("other", &[member(&a)], t).unwrap(),
        vec![Err(ResponseError::UnknownMemberId)]
    );
    assert_eq!(
        c.leave("", &[member(&a)], t),
        Err(ResponseError::InvalidGroupId)
    );
}

#[test]
fn leader_leaving_mid_join_hands_leadership_to_a_joined_member() {
    let (mut c, a, b, t) = stable_pair();
    // B rejoins with new metadata, which starts a rebalance; A leaves instead of rejoining.
    let mut changed = join_request(&b, "b");
    changed.protocols = protocols(&["range", "roundrobin"]);
    let tb = waiting(c.join(&changed, t));
    c.leave("g", &[member(&a)], t).unwrap();
    let jb = c.take_join(tb).unwrap();
    assert_eq!((jb.leader.as_str(), jb.members.len()), (b.as_str(), 1));
    assert_eq!(jb.generation_id, 3);
}

/// A follower with unchanged metadata rejoining a stable group just learns the generation.
#[test]
fn follower_rejoin_with_same_metadata_in_a_stable_group_answers_at_once() {
    let (mut c, a, b, t) = stable_pair();
    let jb = ready_join(c.join(&join_request(&b, "b"), t));
    assert_eq!((jb.error, jb.generation_id), (None, 2));
    assert_eq!(jb.leader, a);
    assert_eq!(c.group("g").unwrap().state(), GroupState::Stable);
}

fn static_join(member_id: &str, client: &str, instance: &str) -> JoinRequest {
    JoinRequest {
        group_instance_id: Some(instance.into()),
        ..join_request(member_id, client)
    }
}

#[test]
fn static_member_rejoins_without_a_rebalance_and_fences_its_old_id() {
    let t0 = Instant::now();
    let mut c = coordinator(0);
    // Static members get no MEMBER_ID_REQUIRED round trip.
    let ta = waiting(c.join(&static_join("", "a", "instance-a"), t0));
    let tb = waiting(c.join(&static_join("", "b", "instance-b"), t0));
    c.on_time(t0);
    let (ja, jb) = (c.take_join(ta).unwrap(), c.take_join(tb).unwrap());
    assert!(ja.member_id.starts_with("instance-a-"));
    let (a, b) = (ja.member_id.clone(), jb.member_id.clone());
    let sb = waiting(c.sync(&sync_request(1, &b, &[]), t0));
    ready_sync(c.sync(&sync_request(1, &a, &[(&a, "p0"), (&b, "p1")]), t0));
    assert_eq!(c.take_sync(sb).unwrap().assignment, Bytes::from("p1"));

    // B restarts: a new JoinGroup with its instance id and no member id. Same generation, no
    // rebalance, and its old assignment comes back from SyncGroup.
    let t = t0 + ms(2_000);
    let rejoined = ready_join(c.join(&static_join("", "b", "instance-b"), t));
    assert_eq!(rejoined.error, None);
    assert_eq!(rejoined.generation_id, 1);
    assert_ne!(rejoined.member_id, b);
    assert_eq!(rejoined.leader, a);
    let new_b = rejoined.member_id;
    assert_eq!(c.group("g").unwrap().state(), GroupState::Stable);
    let mut sync = sync_request(1, &new_b, &[]);
    sync.group_instance_id = Some("instance-b".into());
    assert_eq!(ready_sync(c.sync(&sync, t)).assignment, Bytes::from("p1"));
    // The old id is fenced.
    let old = MemberRef {
        member_id: b.clone(),
        group_instance_id: Some("instance-b".into()),
    };
    assert_eq!(
        c.heartbeat("g", 1, &old, t),
        Err(ResponseError::FencedInstanceId)
    );
    assert_eq!(
        c.heartbeat("g", 1, &member(&b), t),
        Err(ResponseError::UnknownMemberId)
    );
    // A static member may leave by instance id alone.
    let by_instance = MemberRef {
        member_id: String::new(),
        group_instance_id: Some("instance-b".into()),
    };
    assert_eq!(c.leave("g", &[by_instance], t).unwrap(), vec![Ok(())]);
    assert_eq!(c.group("g").unwrap().member_ids(), vec![a]);
}

#[test]
fn static_leader_rejoin_on_v9_is_told_to_skip_the_assignment() {
    let t0 = Instant::now();
    let mut c = coordinator(0);
    let ta = waiting(c.join(&static_join("", "a", "ia"), t0));
    c.on_time(t0);
    let a = c.take_join(ta).unwrap().member_id;
    ready_sync(c.sync(&sync_request(1, &a, &[(&a, "p0")]), t0));
    let mut again = static_join("", "a", "ia");
    again.supports_skip_assignment = true;
    let r = ready_join(c.join(&again, t0 + ms(10)));
    assert!(r.skip_assignment);
    assert_eq!(r.leader, a, "the old leader id is returned");
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members[0].member_id, r.member_id);
}

#[test]
fn protocol_selection_by_votes_among_common_protocols() {
    let t0 = Instant::now();
    let mut c = coordinator(0);
    let mut tickets = Vec::new();
    for (client, prefs) in [
        ("a", vec!["range", "roundrobin"]),
        ("b", vec!["range", "roundrobin", "sticky"]),
        ("c", vec!["roundrobin", "range"]),
    ] {
        let mut req = join_request("", client);
        req.require_known_member_id = false;
        req.protocols = protocols(&prefs);
        tickets.push(waiting(c.join(&req, t0)));
    }
    c.on_time(t0);
    // Joined before the (zero) initial delay fired: one generation. "sticky" is not common to
    // all; "range" is the first choice of two of three.
    let answers: Vec<JoinResult> = tickets.iter().map(|t| c.take_join(*t).unwrap()).collect();
    for j in &answers {
        assert_eq!(j.generation_id, 1);
        assert_eq!(j.protocol_name.as_deref(), Some("range"));
    }
    assert_eq!(answers[0].members.len(), 3);

    // A member without any protocol the group supports is refused.
    let mut odd = join_request("", "d");
    odd.protocols = protocols(&["sticky"]);
    let refused = ready_join(c.join(&odd, t0));
    assert_eq!(
        refused.error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
}

#[test]
fn bad_join_and_sync_input_gets_kafka_error_codes() {
    let t0 = Instant::now();
    let mut c = coordinator(0);
    let mut empty = join_request("", "a");
    empty.protocols.clear();
    assert_eq!(
        ready_join(c.join(&empty, t0)).error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
    assert!(
        c.group("g").is_none(),
        "a refused join leaves no group behind"
    );
    let mut no_type = join_request("", "a");
    no_type.protocol_type.clear();
    assert_eq!(
        ready_join(c.join(&no_type, t0)).error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
    for session in [-1, 0, 5_999, 1_800_001] {
        let mut req = join_request("", "a");
        req.session_timeout_ms = session;
        assert_eq!(
            ready_join(c.join(&req, t0)).error,
            Some(ResponseError::InvalidSessionTimeout),
            "session {session}"
        );
    }
    let mut no_group = join_request("", "a");
    no_group.group_id.clear();
    assert_eq!(
        ready_join(c.join(&no_group, t0)).error,
        Some(ResponseError::InvalidGroupId)
    );
    assert_eq!(
        ready_join(c.join(&join_request("made-up", "a"), t0)).error,
        Some(ResponseError::UnknownMemberId)
    );

    let (a, ta) = first_join(&mut c, "a", t0);
    c.on_time(t0);
    c.take_join(ta).unwrap();
    // SyncGroup from a member the group does not know, or for the wrong generation.
    let stranger = ready_sync(c.sync(&sync_request(1, "stranger", &[]), t0));
    assert_eq!(stranger.error, Some(ResponseError::UnknownMemberId));
    let stale = ready_sync(c.sync(&sync_request(0, &a, &[]), t0));
    assert_eq!(stale.error, Some(ResponseError::IllegalGeneration));
    let mut wrong_protocol = sync_request(1, &a, &[]);
    wrong_protocol.protocol_name = Some("roundrobin".into());
    assert_eq!(
        ready_sync(c.sync(&wrong_protocol, t0)).error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
    // The leader's assignment names a member that does not exist: Kafka ignores that entry
    // (`classicGroupSyncToClassicGroup` fills the members it has) and answers NONE.
    let leader = ready_sync(c.sync(&sync_request(1, &a, &[("ghost", "p9"), (&a, "p0")]), t0));
    assert_eq!((leader.error, leader.assignment), (None, Bytes::from("p0")));
    let g = c.group("g").unwrap();
    assert_eq!(g.state(), GroupState::Stable);
    assert_eq!(g.member_ids(), vec![a.clone()]);
    assert!(g.assignment("ghost").is_none());
    // A heartbeat for a group that does not exist.
    assert_eq!(
        c.heartbeat("nope", 1, &member(&a), t0),
        Err(ResponseError::UnknownMemberId)
    );
}

fn commit(
    group: &str,
    generation: i32,
    member_id: &str,
    parts: &[(&str, i32, i64)],
) -> CommitRequest {
    CommitRequest {
        group_id: group.into(),
        generation_id: generation,
        member: member(member_id),
        partitions: parts
            .iter()
            .map(|(t, p, o)| CommitPartition {
                topic: t.to_string(),
                partition: *p,
                offset: *o,
                leader_epoch: 0,
                metadata: Some(format!("at {o}")),
            })
            .collect(),
    }
}

#[test]
fn offsets_commit_fetch_and_errors_against_the_cluster_topics() {
    let t0 = Instant::now();
    let config = ClusterConfig {
        groups: GroupConfig {
            initial_rebalance_delay: Duration::ZERO,
            ..GroupConfig::default()
        },
        ..ClusterConfig::default()
    };
    let mut cluster = Cluster::new(config, 1, WallClock::new(t0, 1_700_000_000_000));
    cluster
        .create_topic("orders", 2, 1, TopicConfig::default(), t0)
        .unwrap();
    let exists: BTreeSet<(String, i32)> = cluster
        .topics()
        .iter()
        .flat_map(|(name, t)| {
            t.partitions()
                .iter()
                .map(move |p| (name.clone(), p.index()))
        })
        .collect();
    let exists = |t: &str, p: i32| exists.contains(&(t.to_string(), p));
    let c = cluster.groups_mut();

    // A commit from outside the group protocol (generation -1) creates an empty group.
    let simple = commit(
        "tool",
        -1,
        "",
        &[("orders", 0, 5), ("orders", 7, 1), ("nope", 0, 1)],
    );
    let results = c.commit_offsets(&simple, exists, t0 + ms(250), 1_700_000_000_250);
    assert_eq!(
        results,
        vec![
            Ok(()),
            Err(ResponseError::UnknownTopicOrPartition),
            Err(ResponseError::UnknownTopicOrPartition)
        ]
    );
    assert_eq!(c.group("tool").unwrap().state(), GroupState::Empty);
    let committed = &c.group("tool").unwrap().offsets()[&("orders".to_string(), 0)];
    assert_eq!(committed.offset, 5);
    assert_eq!(committed.metadata, "at 5");
    assert_eq!(committed.commit_timestamp_ms, 1_700_000_000_250);
    // Fetch: committed, not committed (None, -1 on the wire), and all.
    let fetched = c.fetch_offsets("tool", Some(&[("orders".to_string(), vec![0, 1])]));
    assert_eq!(fetched[0].1[0].1.as_ref().map(|o| o.offset), Some(5));
    assert_eq!(fetched[0].1[1].1, None);
    let all = c.fetch_offsets("tool", None);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].1.len(), 1);
    assert!(c.fetch_offsets("unknown-group", None).is_empty());
    // Generation >= 0 for a group that does not exist.
    let bad = c.commit_offsets(&commit("ghost", 3, "m", &[("orders", 0, 1)]), exists, t0, 0);
    assert_eq!(bad, vec![Err(ResponseError::IllegalGeneration)]);

    // A member commits in its generation; a stale generation or an unknown member is refused.
    let mut join = join_request("", "a");
    join.require_known_member_id = false;
    let ta = waiting(c.join(&join, t0));
    c.on_time(t0);
    let a = c.take_join(ta).unwrap().member_id;
    let during_sync = c.commit_offsets(&commit("g", 1, &a, &[("orders", 1, 3)]), exists, t0, 0);
    assert_eq!(during_sync, vec![Err(ResponseError::RebalanceInProgress)]);
    ready_sync(c.sync(&sync_request(1, &a, &[(&a, "x")]), t0));
    let ok = c.commit_offsets(&commit("g", 1, &a, &[("orders", 1, 3)]), exists, t0, 0);
    assert_eq!(ok, vec![Ok(())]);
    let stale = c.commit_offsets(&commit("g", 0, &a, &[("orders", 1, 4)]), exists, t0, 0);
    assert_eq!(stale, vec![Err(ResponseError::IllegalGeneration)]);
    let unknown = c.commit_offsets(&commit("g", 1, "who", &[("orders", 1, 4)]), exists, t0, 0);
    assert_eq!(unknown, vec![Err(ResponseError::UnknownMemberId)]);
    let mut huge = commit("g", 1, &a, &[("orders", 1, 4)]);
    huge.partitions[0].metadata = Some("x".repeat(4_097));
    assert_eq!(
        c.commit_offsets(&huge, exists, t0, 0),
        vec![Err(ResponseError::OffsetMetadataTooLarge)]
    );
    assert_eq!(
        c.group("g").unwrap().offsets()[&("orders".to_string(), 1)].offset,
        3
    );

    // DeleteGroups: not while members are in it; then the offsets go with the group.
    assert_eq!(c.delete("g"), Err(ResponseError::NonEmptyGroup));
    assert_eq!(c.delete("missing"), Err(ResponseError::GroupIdNotFound));
    assert_eq!(c.delete("tool"), Ok(()));
    assert!(c.group("tool").is_none());
    assert_eq!(
        c.fetch_offsets("tool", Some(&[("orders".to_string(), vec![0])]))[0].1[0].1,
        None
    );
    let listed: Vec<(String, &str)> = c
        .list(&[])
        .into_iter()
        .map(|d| (d.group_id, d.state))
        .collect();
    assert_eq!(listed, vec![("g".to_string(), "Stable")]);
    assert!(c.list(&["empty".to_string()]).is_empty());
}

#[test]
fn cluster_tick_drives_group_timers() {
    let t0 = Instant::now();
    let config = ClusterConfig {
        groups: GroupConfig {
            initial_rebalance_delay: ms(3_000),
            ..GroupConfig::default()
        },
        ..ClusterConfig::default()
    };
    let mut cluster = Cluster::new(config, 1, WallClock::new(t0, 0));
    let mut join = join_request("", "a");
    join.require_known_member_id = false;
    let ticket = waiting(cluster.groups_mut().join(&join, t0));
    assert_eq!(cluster.next_deadline(), Some(t0 + ms(3_000)));
    cluster.tick(t0 + ms(3_000));
    assert_eq!(
        cluster
            .groups_mut()
            .take_join(ticket)
            .unwrap()
            .generation_id,
        1
    );
}
