//! One request's way through a broker: journaled, offered to the interceptor, put to the fault
//! plan (decided with the cluster's seeded RNG at cluster time), applied by the handlers unless
//! a fault says otherwise, then answered — after the broker's latency and any delay — or lost,
//! corrupted or cut off as the fault says. The connection carries out the [`Step`].

use bytes::Bytes;
use ktrial_protocol::codec::{Request, encode_response};
use ktrial_protocol::messages::{RequestKind, ResponseKind};
use tokio::time::Duration;

use crate::faults::{Action, RequestFacts, named_partitions, responses};
use crate::handlers::{self, Outcome, RequestContext};
use crate::intercept::InterceptedRequest;
use crate::journal::{Happening, request_summary, response_summary};
use crate::shared::{Place, SharedCluster};

/// Why an acks=0 produce that a fault fails closes its connection.
const ACKS_0_FAILED: &str =
    "fault: acks=0 produce failed; closing so that the client refreshes metadata";

/// What the connection does next.
#[derive(Debug)]
pub(crate) enum Step {
    /// Write these bytes; then hold the connection's next request this long (throttle).
    Send(Bytes, Option<Duration>),
    /// Nothing to send (acks=0).
    Nothing,
    /// Never answer again on this connection (a dead peer, as the client sees it).
    Silence,
    /// Close the connection.
    Close(String),
}

/// Takes one decoded request through interceptor, faults, handler and journal.
pub(crate) async fn exchange(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    request: Request,
) -> Step {
    let correlation_id = request.header.correlation_id;
    let place = Place {
        broker: Some(ctx.broker),
        connection: Some(ctx.connection),
        correlation_id: Some(correlation_id),
    };
    let version = request.version();
    let api = format!("{:?}", request.api_key);
    cluster.journal(
        place,
        Happening::Request {
            api: api.clone(),
            version,
            summary: request_summary(&request.body),
        },
    );
    if let Some(intercept) = cluster.interceptor() {
        let seen = InterceptedRequest {
            broker: ctx.broker,
            connection: ctx.connection,
            header: &request.header,
            body: &request.body,
        };
        if let Some(response) = intercept(&seen) {
            cluster.journal(place, Happening::Intercepted);
            return respond(cluster, place, &api, version, response, None, false).await;
        }
    }
    let named = cluster.read(cluster.now(), |c| named_partitions(&request.body, c));
    let refs: Vec<(&str, i32)> = named.iter().map(|(t, p)| (t.as_str(), *p)).collect();
    let facts = RequestFacts {
        broker: ctx.broker,
        api: request.api_key,
        partitions: &refs,
        now_ms: cluster.clock().elapsed_ms(),
    };
    let Some(firing) = cluster.decide(place, &facts) else {
        return answer(cluster, ctx, place, &api, request, None, false).await;
    };
    match firing.action {
        Action::Error { code, partitions } => {
            // An acks=0 produce is never answered: Kafka closes the connection when any of its
            // partitions fails, so that the client refreshes metadata
            // (`KafkaApis.handleProduceRequest`).
            let unanswered = matches!(&request.body, RequestKind::Produce(p) if p.acks == 0);
            let split = partitions
                .as_deref()
                .and_then(|partitions| responses::split(&request.body, partitions));
            if let Some((rest, failed)) = split {
                let request = Request {
                    body: rest,
                    ..request
                };
                let mut outcome = handlers::handle(cluster, ctx, request).await;
                if unanswered {
                    return close(cluster, place, ACKS_0_FAILED.into());
                }
                if let Outcome::Respond(response) = &mut outcome {
                    failed.merge_into(response, code);
                }
                return carry_out(cluster, place, &api, version, outcome, None, false).await;
            }
            if unanswered {
                return close(cluster, place, ACKS_0_FAILED.into());
            }
            match responses::error_response(&request.body, code) {
                Some(response) => {
                    respond(cluster, place, &api, version, response, None, false).await
                }
                None => close(
                    cluster,
                    place,
                    format!("fault: {api} has no error answer here"),
                ),
            }
        }
        Action::Drop => lose(cluster, place),
        Action::LoseResponse => {
            let _applied = handlers::handle(cluster, ctx, request).await;
            lose(cluster, place)
        }
        Action::LoseResponseAndClose => {
            let _applied = handlers::handle(cluster, ctx, request).await;
            cluster.journal(place, Happening::ResponseLost);
            close(
                cluster,
                place,
                "fault: response lost, connection closed".into(),
            )
        }
        Action::Delay { ms } => {
            let delay = Duration::from_millis(ms);
            answer(
                cluster,
                ctx,
                place,
                &api,
                request,
                Some(Hold::Before(delay)),
                false,
            )
            .await
        }
        Action::CloseBefore => close(cluster, place, "fault: closed before applying".into()),
        Action::CloseAfter => {
            let _applied = handlers::handle(cluster, ctx, request).await;
            close(cluster, place, "fault: closed after applying".into())
        }
        Action::Throttle { ms } => {
            let hold = Some(Hold::Throttle(ms));
            answer(cluster, ctx, place, &api, request, hold, false).await
        }
        Action::Corrupt => answer(cluster, ctx, place, &api, request, None, true).await,
    }
}

/// A wait a fault adds: before the response (delay), or after it on the connection (throttle).
#[derive(Debug, Clone, Copy)]
enum Hold {
    Before(Duration),
    Throttle(u64),
}

async fn answer(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    place: Place,
    api: &str,
    request: Request,
    hold: Option<Hold>,
    corrupt: bool,
) -> Step {
    let version = request.version();
    let outcome = handlers::handle(cluster, ctx, request).await;
    carry_out(cluster, place, api, version, outcome, hold, corrupt).await
}

async fn carry_out(
    cluster: &SharedCluster,
    place: Place,
    api: &str,
    version: i16,
    outcome: Outcome,
    hold: Option<Hold>,
    corrupt: bool,
) -> Step {
    match outcome {
        Outcome::Respond(response) => {
            respond(cluster, place, api, version, *response, hold, corrupt).await
        }
        Outcome::NoResponse => Step::Nothing,
        Outcome::Close(reason) => close(cluster, place, reason),
    }
}

async fn respond(
    cluster: &SharedCluster,
    place: Place,
    api: &str,
    version: i16,
    mut response: ResponseKind,
    hold: Option<Hold>,
    corrupt: bool,
) -> Step {
    let broker = place.broker.unwrap_or_default();
    let latency = cluster.read(cluster.now(), |c| c.latency(broker));
    let delay = match hold {
        Some(Hold::Before(delay)) => latency + delay,
        _ => latency,
    };
    if !delay.is_zero() {
        cluster.clock().sleep(delay).await;
    }
    let throttle = match hold {
        Some(Hold::Throttle(ms)) => {
            responses::set_throttle(&mut response, i32::try_from(ms).unwrap_or(i32::MAX));
            Some(Duration::from_millis(ms))
        }
        _ => None,
    };
    cluster.journal(
        place,
        Happening::Response {
            api: api.to_string(),
            version,
            summary: response_summary(&response),
        },
    );
    let correlation_id = place.correlation_id.unwrap_or_default();
    let bytes = match encode_response(correlation_id, version, &response) {
        Ok(bytes) => bytes,
        Err(e) => return close(cluster, place, format!("cannot encode the response: {e}")),
    };
    let bytes = if corrupt {
        let header = 4 + usize::from(response.header_version(version) >= 1);
        responses::corrupt(&bytes, header)
    } else {
        bytes
    };
    Step::Send(bytes, throttle)
}

fn lose(cluster: &SharedCluster, place: Place) -> Step {
    cluster.journal(place, Happening::ResponseLost);
    Step::Silence
}

fn close(cluster: &SharedCluster, place: Place, reason: String) -> Step {
    cluster.journal(
        place,
        Happening::Closed {
            reason: reason.clone(),
        },
    );
    Step::Close(reason)
}
