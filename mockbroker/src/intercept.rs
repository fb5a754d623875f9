//! The escape hatch for Rust users: a closure that sees every decoded request, with its broker
//! and connection, before the fault plan and the handlers, and may answer it itself.

use std::sync::Arc;

use ktrial_protocol::messages::{RequestHeader, RequestKind, ResponseKind};

use crate::model::BrokerId;

/// A request as the interceptor sees it.
#[derive(Debug, Clone, Copy)]
pub struct InterceptedRequest<'a> {
    /// The broker that received it.
    pub broker: BrokerId,
    /// The connection (per broker, in accept order).
    pub connection: u64,
    /// The request header (API key, version, correlation id, client id).
    pub header: &'a RequestHeader,
    /// The decoded body.
    pub body: &'a RequestKind,
}

/// The interceptor: `Some(response)` answers the request (nothing else sees it), `None` lets it
/// through. Set with [`crate::MockClusterBuilder::intercept`].
pub type Interceptor = Arc<dyn Fn(&InterceptedRequest<'_>) -> Option<ResponseKind> + Send + Sync>;
