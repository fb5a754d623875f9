//! Fault plan files (`ktrial broker --faults FILE`): a full file is taken as written; a bad one
//! is refused whole, naming the line and the field, and builds no cluster.
#![allow(clippy::unwrap_used)]

use ktrial_mockbroker::faults::{Action, ClusterEvent, FaultFile, Limit};
use std::sync::Arc;

use ktrial_mockbroker::{BrokerError, MockCluster, MockClusterBuilder, SharedCluster};

/// Three brokers with `orders` on 3 partitions, as `ktrial broker --brokers 3 --topic orders:3:3`.
fn builder() -> MockClusterBuilder {
    MockCluster::builder().brokers(3).topic("orders", 3, 3)
}

const ADDRESSES: [(&str, u16); 3] = [
    ("127.0.0.1", 9092),
    ("127.0.0.1", 9093),
    ("127.0.0.1", 9094),
];

/// The cluster with the file's rules and events, as `ktrial broker --faults` builds it.
fn build(file: &FaultFile) -> Result<Arc<SharedCluster>, BrokerError> {
    let mut builder = builder();
    for rule in file.rules() {
        builder = builder.fault(rule.clone());
    }
    for event in file.events() {
        builder = builder.event(event.clone());
    }
    let addresses: Vec<(String, u16)> =
        ADDRESSES.iter().map(|(h, p)| (h.to_string(), *p)).collect();
    builder.build_shared(&addresses)
}

/// The refusal of a file, located in it.
fn refusal(text: &str) -> String {
    let file = match FaultFile::parse(text) {
        Ok(file) => file,
        Err(e) => return e.to_string(),
    };
    match build(&file) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(BrokerError::Faults(e)) => file.locate(&e).to_string(),
        Err(other) => panic!("{other}"),
    }
}

/// The file docs/faults.md shows.
const FULL: &str = r#"
[[rules]]
when = { api = "Produce", broker = 1, topic = "orders", partition = 0, nth = 3 }
do = "lose_response"
limit = "once"

[[rules]]
when = { api = "Produce", every = 2, after_ms = 1000, until_ms = 5000, probability = 0.5 }
do = { error = { code = "NOT_LEADER_OR_FOLLOWER", partitions = [1] } }
limit = 3

[[rules]]
when = { api = "Fetch" }
do = { delay = { ms = 200 } }

[[events]]
at_ms = 2000
event = { elect_leader = { topic = "orders", partition = 0, unclean = true, leader = 2 } }

[[events]]
event = { latency = { broker = 3, ms = 50 } }
"#;

#[test]
fn a_full_file_is_taken_as_written() {
    let file = FaultFile::parse(FULL).unwrap();
    let rules: Vec<_> = file.rules().collect();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].action, Action::LoseResponse);
    assert_eq!(rules[0].when.nth, Some(3));
    assert_eq!(rules[1].limit, Limit::Times(3));
    assert_eq!(rules[1].when.probability, Some(0.5));
    assert_eq!(rules[2].limit, Limit::Always);
    let events: Vec<_> = file.events().collect();
    assert_eq!(events[0].at_ms, Some(2000));
    assert_eq!(events[1].event, ClusterEvent::Latency { broker: 3, ms: 50 });
    let shared = build(&file).unwrap();
    assert_eq!(shared.faults().len(), 3);
    let scheduled = shared.read(shared.now(), |c| {
        (c.scheduled_events().count(), c.latency(3).as_millis())
    });
    assert_eq!(
        scheduled,
        (1, 50),
        "one event waits for 2 s, the other is in force"
    );
}

#[test]
fn schema_errors_name_the_line_and_field() {
    let cases = [
        (
            "[[rules]]\nwhen = { api = \"Produce\" }\ndo = \"drop\"\n\n[[rules]]\nwhen = { api = \"Produc\" }\ndo = \"drop\"\n",
            "line 6",
            "unknown API \"Produc\"",
        ),
        (
            "[[rules]]\ndo = { error = { code = \"NOT_A_CODE\" } }\n",
            "line 2",
            "unknown Kafka error code",
        ),
        (
            "[[rules]]\nwhen = { colour = \"red\" }\ndo = \"drop\"\n",
            "line 2",
            "unknown field `colour`",
        ),
        (
            "[[rules]]\ndo = \"drop\"\nlimit = -1\n",
            "line 3",
            "positive count",
        ),
        (
            "[[rules]]\nwhen = { nth = -3 }\ndo = \"drop\"\n",
            "line 2",
            "nth",
        ),
        (
            "[[events]]\nevent = { meteor = { broker = 1 } }\n",
            "line 2",
            "unknown variant `meteor`",
        ),
        (
            "[[rulez]]\ndo = \"drop\"\n",
            "line 1",
            "unknown field `rulez`",
        ),
        ("[[rules]]\ndo = \"drop\n", "line 2", ""),
    ];
    for (text, line, reason) in cases {
        let refused = refusal(text);
        assert!(
            refused.contains(line) && refused.contains(reason),
            "{text}\n=> {refused}"
        );
    }
}

#[test]
fn rules_and_events_that_do_not_fit_the_cluster_name_their_line_and_field() {
    let cases = [
        (
            "[[rules]]\ndo = \"drop\"\n\n[[rules]]\nwhen = { topic = \"orders\", partition = 3 }\ndo = \"drop\"\n",
            "line 4: rules[1].when.partition: topic \"orders\" has partitions 0..3, not 3",
        ),
        (
            "[[rules]]\nwhen = { broker = 4 }\ndo = \"drop\"\n",
            "line 1: rules[0].when.broker: no broker 4 in the cluster",
        ),
        (
            "[[rules]]\nwhen = { probability = 2.0 }\ndo = \"drop\"\n",
            "line 1: rules[0].when.probability: 2 is not between 0 and 1",
        ),
        (
            "[[rules]]\ndo = \"drop\"\n\n[[events]]\nat_ms = 5\nevent = { broker_down = { broker = 9 } }\n",
            "line 4: events[0].event.broker: no broker 9 in the cluster",
        ),
        (
            "[[events]]\nevent = { elect_leader = { topic = \"nope\", partition = 0 } }\n",
            "line 1: events[0].event.topic: no topic \"nope\" in the cluster",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(refusal(text), expected, "{text}");
    }
}
