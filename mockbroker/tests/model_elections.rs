//! Leader elections in the model, without sockets: a clean election loses nothing acknowledged
//! by the ISR; an unclean one truncates the log to the new leader's end and reports what it cut,
//! marked committed when the cut reaches below the high watermark.
#![allow(clippy::unwrap_used)]

mod common;

use core::time::Duration;

use common::{batch, produce_request};
use ktrial_mockbroker::faults::ClusterEvent;
use ktrial_mockbroker::model::{
    Cluster, ClusterConfig, EventError, NoticeKind, TopicConfig, Truncation, WallClock,
};
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::ProducerState;
use tokio::time::Instant;

const LAG_MAX: Duration = Duration::from_secs(10);

/// Three brokers, `t` with one partition on 1 (leader), 2 and 3; followers copy after 100 ms.
fn cluster(now: Instant) -> Cluster {
    let config = ClusterConfig {
        replica_lag_time_max: LAG_MAX,
        ..ClusterConfig::default()
    };
    let mut cluster = Cluster::new(config, 3, WallClock::new(now, 1_700_000_000_000));
    cluster
        .create_topic("t", 1, 3, TopicConfig::default(), now)
        .unwrap();
    cluster.set_replication_delay(2, Duration::from_millis(100));
    cluster.set_replication_delay(3, Duration::from_millis(100));
    cluster
}

/// Appends `records` with acks=1 on the current leader.
fn append(cluster: &mut Cluster, records: usize, now: Instant) {
    let leader = cluster.partition("t", 0).unwrap().leader();
    let request = produce_request(
        1,
        30_000,
        &[(
            "t",
            0,
            batch(Compression::None, records, ProducerState::NONE),
        )],
    );
    let mut outcome = cluster.produce(leader, 9, &request, now);
    cluster.complete_produce(leader, &mut outcome, false);
    assert!(!outcome.has_error());
}

fn elect(unclean: bool, leader: Option<i32>) -> ClusterEvent {
    ClusterEvent::ElectLeader {
        topic: "t".into(),
        partition: 0,
        unclean,
        leader,
    }
}

fn truncations(notices: &[NoticeKind]) -> Vec<Truncation> {
    notices
        .iter()
        .filter_map(|n| match n {
            NoticeKind::Truncated { truncation, .. } => Some(*truncation),
            _ => None,
        })
        .collect()
}

fn take(cluster: &mut Cluster) -> Vec<NoticeKind> {
    cluster.take_notices().into_iter().map(|n| n.kind).collect()
}

#[test]
fn a_clean_election_after_replication_loses_nothing() {
    let t0 = Instant::now();
    let mut cluster = cluster(t0);
    append(&mut cluster, 5, t0);
    let copied = t0 + Duration::from_millis(100);
    cluster.tick(copied);
    assert_eq!(cluster.partition("t", 0).unwrap().high_watermark(), 5);
    take(&mut cluster);

    cluster.apply_event(&elect(false, None), copied).unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(
        p.leader(),
        2,
        "the controller moves leadership to the next ISR member"
    );
    assert_eq!(p.leader_epoch(), 1);
    assert_eq!(p.log().log_end_offset(), 5);
    assert_eq!(p.high_watermark(), 5);
    assert_eq!(p.isr(), &[1, 2, 3]);
    let notices = take(&mut cluster);
    assert!(truncations(&notices).is_empty(), "{notices:?}");
    assert!(notices.contains(&NoticeKind::Election {
        topic: "t".into(),
        partition: 0,
        leader: 2,
        epoch: 1,
        unclean: false,
    }));
    assert!(notices.contains(&NoticeKind::Event(elect(false, None))));
    assert_eq!(cluster.records("t", 0).unwrap().unwrap().len(), 5);
}

#[test]
fn an_unclean_election_truncates_to_the_new_leader_and_reports_it() {
    let t0 = Instant::now();
    let mut cluster = cluster(t0);
    append(&mut cluster, 3, t0);
    let copied = t0 + Duration::from_millis(100);
    cluster.tick(copied);
    // Two more records, acknowledged by the leader alone (acks=1), not copied yet.
    append(&mut cluster, 2, copied);
    let soon = copied + Duration::from_millis(10);
    take(&mut cluster);

    cluster.apply_event(&elect(true, Some(2)), soon).unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!((p.leader(), p.leader_epoch()), (2, 1));
    assert_eq!(p.log().log_end_offset(), 3, "cut to the new leader's end");
    assert_eq!(p.isr(), &[2], "an unclean leader starts alone in the ISR");
    let notices = take(&mut cluster);
    assert_eq!(
        truncations(&notices),
        [Truncation {
            from_offset: 3,
            to_offset: 5,
            records: 2,
            committed: false,
        }]
    );
    assert!(notices.contains(&NoticeKind::IsrChanged {
        topic: "t".into(),
        partition: 0,
        isr: vec![2],
    }));
    let offsets: Vec<i64> = cluster
        .records("t", 0)
        .unwrap()
        .unwrap()
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, [0, 1, 2]);
    // The next append continues at the new end.
    append(&mut cluster, 1, soon);
    assert_eq!(cluster.partition("t", 0).unwrap().log().log_end_offset(), 4);
}

#[test]
fn an_unclean_leader_behind_the_high_watermark_loses_committed_records() {
    let t0 = Instant::now();
    let mut cluster = cluster(t0);
    cluster
        .apply_event(
            &ClusterEvent::StallReplication {
                broker: 3,
                topic: None,
                partition: None,
                ms: 60_000,
            },
            t0,
        )
        .unwrap();
    append(&mut cluster, 4, t0);
    // Broker 3 copies nothing and leaves the ISR after the lag limit; 2 and 1 commit.
    let later = t0 + LAG_MAX + Duration::from_millis(200);
    cluster.tick(later);
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.isr(), &[1, 2]);
    assert_eq!(p.high_watermark(), 4);
    take(&mut cluster);

    let clean = cluster.apply_event(&elect(false, Some(3)), later);
    assert!(
        matches!(clean, Err(EventError::NoEligibleLeader { .. })),
        "a clean election refuses a replica outside the ISR: {clean:?}"
    );
    assert_eq!(
        cluster.partition("t", 0).unwrap().leader(),
        1,
        "nothing changed"
    );
    assert!(matches!(
        take(&mut cluster).as_slice(),
        [NoticeKind::EventFailed { .. }]
    ));

    cluster.apply_event(&elect(true, Some(3)), later).unwrap();
    let notices = take(&mut cluster);
    assert_eq!(
        truncations(&notices),
        [Truncation {
            from_offset: 0,
            to_offset: 4,
            records: 4,
            committed: true,
        }]
    );
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!((p.leader(), p.log().log_end_offset()), (3, 0));
    assert_eq!(p.high_watermark(), 0);
}

#[test]
fn broker_down_moves_leadership_or_takes_the_partition_offline() {
    let t0 = Instant::now();
    let mut cluster = cluster(t0);
    cluster
        .apply_event(&ClusterEvent::BrokerDown { broker: 1 }, t0)
        .unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!((p.leader(), p.leader_epoch()), (2, 1));
    assert_eq!(p.isr(), &[2, 3]);
    for broker in [2, 3] {
        cluster
            .apply_event(&ClusterEvent::BrokerDown { broker }, t0)
            .unwrap();
    }
    let p = cluster.partition("t", 0).unwrap();
    assert!(!p.is_online());
    let notices = take(&mut cluster);
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, NoticeKind::Offline { partition: 0, .. })),
        "{notices:?}"
    );
    // The last ISR member leads again when it comes back.
    cluster
        .apply_event(&ClusterEvent::BrokerUp { broker: 3 }, t0)
        .unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert!(p.is_online());
    assert_eq!(p.leader(), 3);
}
