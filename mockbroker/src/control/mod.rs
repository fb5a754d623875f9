//! The HTTP/JSON control API of `ktrial broker --control H:P` (axum), for CI suites in any
//! language: read the cluster, its logs and its journal; add and remove fault rules; apply
//! cluster events. Bad input (body, path or query string) is refused whole with HTTP 400 and
//! `{"error", "field"}`, and nothing of it is applied. The schema is the fault plan's (docs/faults.md).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::faults::{FaultRule, ScheduledEvent};
use crate::shared::SharedCluster;

/// The routes, on the shared cluster.
pub fn router(cluster: Arc<SharedCluster>) -> Router {
    Router::new()
        .route("/v1/cluster", get(cluster_state))
        .route(
            "/v1/topics/{topic}/partitions/{partition}/records",
            get(records),
        )
        .route(
            "/v1/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/v1/faults/{id}", axum::routing::delete(remove_fault))
        .route("/v1/events", axum::routing::post(add_event))
        .route("/v1/journal", get(journal))
        .route("/v1/groups", get(groups))
        .route("/v1/groups/{group}", get(group))
        .with_state(cluster)
}

/// Serves the control API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    cluster: Arc<SharedCluster>,
    shutdown: impl core::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(cluster))
        .with_graceful_shutdown(shutdown)
        .await
}

type Shared = State<Arc<SharedCluster>>;

fn refused(status: StatusCode, field: &str, error: impl ToString) -> Response {
    (
        status,
        axum::Json(json!({ "error": error.to_string(), "field": field })),
    )
        .into_response()
}

/// Parses a JSON body, naming the field at fault (`""` for the body as a whole, e.g. a missing
/// top-level key, which the message names).
fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, Box<Response>> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = match e.path().to_string() {
            root if root == "." => String::new(),
            path => path,
        };
        Box::new(refused(StatusCode::BAD_REQUEST, &field, e.into_inner()))
    })
}

#[derive(Serialize)]
struct PartitionState {
    partition: i32,
    leader: i32,
    leader_epoch: i32,
    replicas: Vec<i32>,
    isr: Vec<i32>,
    high_watermark: i64,
    log_start_offset: i64,
    log_end_offset: i64,
}

async fn groups(State(cluster): Shared) -> Response {
    axum::Json(cluster.read(cluster.now(), |c| c.groups().report())).into_response()
}

async fn group(State(cluster): Shared, Path(group): Path<String>) -> Response {
    match cluster.read(cluster.now(), |c| c.groups().report_group(&group)) {
        Some(report) => axum::Json(report).into_response(),
        None => refused(StatusCode::NOT_FOUND, "group", format!("no group {group}")),
    }
}

async fn cluster_state(State(cluster): Shared) -> Response {
    let state = cluster.read(cluster.now(), |c| {
        let brokers: Vec<_> = c
            .brokers()
            .iter()
            .map(
                |b| json!({"id": b.id, "host": b.host, "port": b.port, "up": c.is_broker_up(b.id)}),
            )
            .collect();
        let topics: serde_json::Map<String, serde_json::Value> = c
            .topics()
            .iter()
            .map(|(name, t)| {
                let partitions: Vec<PartitionState> = t
                    .partitions()
                    .iter()
                    .map(|p| PartitionState {
                        partition: p.index(),
                        leader: p.leader(),
                        leader_epoch: p.leader_epoch(),
                        replicas: p.replicas().to_vec(),
                        isr: p.isr().to_vec(),
                        high_watermark: p.high_watermark(),
                        log_start_offset: p.log().log_start_offset(),
                        log_end_offset: p.log().log_end_offset(),
                    })
                    .collect();
                (name.clone(), json!({ "partitions": partitions }))
            })
            .collect();
        json!({ "controller": c.controller_id(), "brokers": brokers, "topics": topics })
    });
    axum::Json(state).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    #[serde(default)]
    offset: i64,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    100
}

/// Most records one read answers.
const MAX_RECORDS_LIMIT: usize = 10_000;

async fn records(
    State(cluster): Shared,
    path: Result<Path<(String, i32)>, PathRejection>,
    query: Result<Query<RecordsQuery>, QueryRejection>,
) -> Response {
    let (Path((topic, partition)), Query(query)) = match (path, query) {
        (Ok(path), Ok(query)) => (path, query),
        (Err(e), _) => return refused(StatusCode::BAD_REQUEST, "partition", e.body_text()),
        (_, Err(e)) => return refused(StatusCode::BAD_REQUEST, "query", e.body_text()),
    };
    if query.limit > MAX_RECORDS_LIMIT {
        return refused(
            StatusCode::BAD_REQUEST,
            "limit",
            format!("at most {MAX_RECORDS_LIMIT}"),
        );
    }
    let records = cluster.read(cluster.now(), |c| c.records(&topic, partition));
    match records {
        None => refused(
            StatusCode::NOT_FOUND,
            "partition",
            format!("no partition {topic}-{partition}"),
        ),
        Some(Err(e)) => refused(StatusCode::INTERNAL_SERVER_ERROR, "", e),
        Some(Ok(records)) => {
            let records: Vec<_> = records
                .iter()
                .filter(|r| r.offset >= query.offset)
                .take(query.limit)
                .map(|r| {
                    json!({
                        "offset": r.offset,
                        "timestamp": r.timestamp,
                        "key": r.key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned()),
                        "value": r.value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
                    })
                })
                .collect();
            axum::Json(json!({ "records": records })).into_response()
        }
    }
}

async fn list_faults(State(cluster): Shared) -> Response {
    axum::Json(json!({ "rules": cluster.faults() })).into_response()
}

async fn add_fault(State(cluster): Shared, body: Bytes) -> Response {
    let rule: FaultRule = match parse(&body) {
        Ok(rule) => rule,
        Err(refusal) => return *refusal,
    };
    match cluster.add_fault(rule) {
        Ok(id) => (StatusCode::CREATED, axum::Json(json!({ "id": id }))).into_response(),
        Err(e) => refused(StatusCode::BAD_REQUEST, &e.field, e.reason),
    }
}

async fn clear_faults(State(cluster): Shared) -> StatusCode {
    cluster.clear_faults();
    StatusCode::NO_CONTENT
}

async fn remove_fault(State(cluster): Shared, id: Result<Path<u64>, PathRejection>) -> Response {
    let Path(id) = match id {
        Ok(id) => id,
        Err(e) => return refused(StatusCode::BAD_REQUEST, "id", e.body_text()),
    };
    if cluster.remove_fault(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        refused(StatusCode::NOT_FOUND, "id", format!("no rule {id}"))
    }
}

async fn add_event(State(cluster): Shared, body: Bytes) -> Response {
    let event: ScheduledEvent = match parse(&body) {
        Ok(event) => event,
        Err(refusal) => return *refusal,
    };
    if let Err(e) = cluster.validate_event(&event.event) {
        return refused(StatusCode::BAD_REQUEST, &e.field, e.reason);
    }
    match cluster.apply_event(event) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(StatusCode::CONFLICT, "event", e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalQuery {
    #[serde(default)]
    since: u64,
}

async fn journal(
    State(cluster): Shared,
    query: Result<Query<JournalQuery>, QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(e) => return refused(StatusCode::BAD_REQUEST, "query", e.body_text()),
    };
    axum::Json(json!({ "entries": cluster.journal_since(query.since) })).into_response()
}
