//! A Kafka-compatible mock cluster: the cluster model, its request handlers and the servers that
//! expose it over TCP or a simulated network. Built up by the mock broker issue.
