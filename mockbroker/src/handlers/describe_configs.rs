//! DescribeConfigs for topics and brokers: the settings the model uses, with their source, as
//! admin clients need to show or check them.

use ktrial_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use ktrial_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse, ResponseKind};
use ktrial_protocol::{ResponseError, StrBytes};

use super::code;
use crate::model::{Cluster, ConfigEntry};
use crate::shared::SharedCluster;

/// `ConfigResource.Type.TOPIC`.
const TOPIC_RESOURCE: i8 = 2;
/// `ConfigResource.Type.BROKER`.
const BROKER_RESOURCE: i8 = 4;
/// `DescribeConfigsResponse.ConfigSource.TOPIC_CONFIG`.
pub(crate) const TOPIC_CONFIG: i8 = 1;
/// `DescribeConfigsResponse.ConfigSource.STATIC_BROKER_CONFIG`.
const STATIC_BROKER_CONFIG: i8 = 4;
/// `DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG`.
pub(crate) const DEFAULT_CONFIG: i8 = 5;

/// Handles a DescribeConfigs request.
pub fn handle(cluster: &SharedCluster, request: &DescribeConfigsRequest) -> ResponseKind {
    let results = cluster.read(cluster.now(), |c| {
        request
            .resources
            .iter()
            .map(|resource| {
                let result = DescribeConfigsResult::default()
                    .with_resource_type(resource.resource_type)
                    .with_resource_name(resource.resource_name.clone());
                match entries(c, resource.resource_type, &resource.resource_name) {
                    Ok((entries, source)) => {
                        let keys = resource.configuration_keys.as_ref();
                        let configs = entries
                            .into_iter()
                            .filter(|e| {
                                keys.is_none_or(|keys| keys.iter().any(|k| k.as_str() == e.name))
                            })
                            .map(|e| {
                                DescribeConfigsResourceResult::default()
                                    .with_name(StrBytes::from_static_str(e.name))
                                    .with_value(Some(StrBytes::from_string(e.value)))
                                    .with_read_only(source == STATIC_BROKER_CONFIG)
                                    .with_config_source(if e.overridden {
                                        TOPIC_CONFIG
                                    } else {
                                        source
                                    })
                            })
                            .collect();
                        result.with_configs(configs)
                    }
                    Err(error) => result
                        .with_error_code(code(Some(error)))
                        .with_error_message(Some(StrBytes::from_string(error.to_string()))),
                }
            })
            .collect()
    });
    ResponseKind::DescribeConfigs(DescribeConfigsResponse::default().with_results(results))
}

/// The entries of one resource and the source of those not set on it.
fn entries(
    c: &Cluster,
    resource_type: i8,
    name: &str,
) -> Result<(Vec<ConfigEntry>, i8), ResponseError> {
    match resource_type {
        TOPIC_RESOURCE => c
            .topic(name)
            .map(|t| (t.config().entries(c.config()), DEFAULT_CONFIG))
            .ok_or(ResponseError::UnknownTopicOrPartition),
        BROKER_RESOURCE
            if name.is_empty() || c.brokers().iter().any(|b| b.id.to_string() == name) =>
        {
            Ok((c.config().entries(), STATIC_BROKER_CONFIG))
        }
        BROKER_RESOURCE => Err(ResponseError::InvalidRequest),
        _ => Err(ResponseError::InvalidRequest),
    }
}
