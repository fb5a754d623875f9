//! orders-service: publishes order events to Kafka, keyed by customer, so that each customer's
//! orders stay in order; the example of a downstream project that uses ktrial's producer in
//! production and ktrial's mock cluster in its tests (`tests/`).

use std::time::Duration;

use ktrial_producer::{Producer, ProducerError, ProducerRecord, RecordMetadata};

/// The topic orders go to.
pub const ORDERS_TOPIC: &str = "orders";

/// An order as the service publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The order's number, increasing per customer.
    pub id: u64,
    /// Who placed it: the record key.
    pub customer: String,
    /// What it costs.
    pub amount_cents: u64,
}

impl Order {
    /// The record value: `id,customer,amount_cents`.
    pub fn encode(&self) -> Vec<u8> {
        format!("{},{},{}", self.id, self.customer, self.amount_cents).into_bytes()
    }

    /// Reads a value written by [`Order::encode`].
    pub fn decode(value: &[u8]) -> Option<Order> {
        let text = std::str::from_utf8(value).ok()?;
        let mut fields = text.splitn(3, ',');
        let id = fields.next()?.parse().ok()?;
        let customer = fields.next()?.to_string();
        let amount_cents = fields.next()?.parse().ok()?;
        Some(Order {
            id,
            customer,
            amount_cents,
        })
    }
}

/// Publishes orders: acks=all with idempotence (no duplicates, order kept per partition through
/// retries), lz4, a short linger; `overrides` may change any producer property.
pub struct OrderPublisher {
    producer: Producer,
}

impl OrderPublisher {
    /// Connects to `bootstrap_servers` with the service's settings, then `overrides`.
    pub async fn connect(
        bootstrap_servers: &str,
        overrides: &[(&str, &str)],
    ) -> Result<Self, ProducerError> {
        let defaults = [
            ("acks", "all"),
            ("enable.idempotence", "true"),
            ("compression.type", "lz4"),
            ("linger.ms", "5"),
            ("delivery.timeout.ms", "60000"),
        ];
        let producer = defaults
            .iter()
            .chain(overrides)
            .fold(
                Producer::builder().bootstrap_servers(bootstrap_servers),
                |builder, (key, value)| builder.set(*key, *value),
            )
            .build()
            .await?;
        Ok(Self { producer })
    }

    /// Publishes `orders` without waiting between them, then waits for every acknowledgement;
    /// one result per order, in the same order.
    pub async fn publish_all(
        &self,
        orders: &[Order],
    ) -> Vec<Result<RecordMetadata, ProducerError>> {
        let mut pending = Vec::with_capacity(orders.len());
        for order in orders {
            let value = order.encode();
            let record = ProducerRecord::new(ORDERS_TOPIC)
                .key(order.customer.as_bytes())
                .value(&value);
            pending.push(self.producer.send(record).await);
        }
        let mut results = Vec::with_capacity(pending.len());
        for delivery in pending {
            results.push(match delivery {
                Ok(delivery) => delivery.await,
                Err(e) => Err(e),
            });
        }
        results
    }

    /// Sends what is buffered and closes, waiting at most `timeout`.
    pub async fn close(self, timeout: Duration) -> Result<(), ProducerError> {
        self.producer.close(timeout).await
    }
}

/// `count` orders spread over `customers` customers, numbered per customer.
pub fn orders(count: u64, customers: u64) -> Vec<Order> {
    (0..count)
        .map(|i| Order {
            id: i / customers,
            customer: format!("customer-{}", i % customers),
            amount_cents: 100 + i,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_reads_back_as_written() {
        let order = Order {
            id: 7,
            customer: "ada".into(),
            amount_cents: 1999,
        };
        assert_eq!(order.encode(), b"7,ada,1999");
        assert_eq!(Order::decode(&order.encode()), Some(order));
        assert_eq!(Order::decode(b"x,ada,1"), None);
    }
}
