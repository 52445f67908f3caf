//! `partita topics`: create, list, describe and delete topics, as `kafka-topics.sh` does.

use anyhow::{Context, bail};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::{
    CreateTopicsRequest, DeleteTopicsRequest, DescribeConfigsRequest, MetadataRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::check;
use crate::cli::TopicsArgs;
use crate::client::KafkaClient;

const METADATA_VERSION: i16 = 12;
const CREATE_TOPICS_VERSION: i16 = 5;
const DELETE_TOPICS_VERSION: i16 = 5;
const DESCRIBE_CONFIGS_VERSION: i16 = 4;
const TOPIC_RESOURCE: i8 = 2;
/// DescribeConfigs' source for a config set on the topic itself.
const SOURCE_TOPIC_CONFIG: i8 = 1;
const REQUEST_TIMEOUT_MS: i32 = 30_000;

/// Creation and deletion go to the active controller, found again after NOT_CONTROLLER (see
/// `admin::connect_to_controller`); `--list` and `--describe` read any broker's metadata.
pub fn run(args: TopicsArgs) -> anyhow::Result<()> {
    let (bootstrap, login) = (&args.bootstrap_server, &args.login);
    let output = if args.create {
        super::retry_not_controller(bootstrap, login, |client| create(client, &args))?
    } else if args.list {
        list(&mut super::connect_bootstrap(bootstrap, login)?)?
    } else if args.describe {
        let only = Only {
            under_replicated: args.under_replicated_partitions,
            unavailable: args.unavailable_partitions,
        };
        let mut client = super::connect_bootstrap(bootstrap, login)?;
        describe(&mut client, args.topic.as_deref(), only)?
    } else {
        let topic = required_topic(&args)?;
        super::retry_not_controller(bootstrap, login, |client| delete(client, topic))?
    };
    print!("{output}");
    Ok(())
}

fn required_topic(args: &TopicsArgs) -> anyhow::Result<&str> {
    args.topic.as_deref().context("--topic is required")
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

pub fn create(client: &mut KafkaClient, args: &TopicsArgs) -> anyhow::Result<String> {
    let name = required_topic(args)?;
    let configs = args
        .config
        .iter()
        .map(|pair| {
            let (key, value) = pair
                .split_once('=')
                .with_context(|| format!("--config {pair}: expected NAME=VALUE"))?;
            Ok(CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(key.to_string()))
                .with_value(Some(StrBytes::from_string(value.to_string()))))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let topic = CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(args.partitions.unwrap_or(-1))
        .with_replication_factor(args.replication_factor.unwrap_or(-1))
        .with_configs(configs);
    let request = CreateTopicsRequest::default()
        .with_topics(vec![topic])
        .with_timeout_ms(REQUEST_TIMEOUT_MS);
    let response = client.call(&request, CREATE_TOPICS_VERSION)?;
    for result in &response.topics {
        check(
            result.error_code,
            &format!("creating topic {name}"),
            result.error_message.as_deref(),
        )?;
    }
    Ok(format!("Created topic {name}.\n"))
}

pub fn list(client: &mut KafkaClient) -> anyhow::Result<String> {
    let mut names: Vec<String> = metadata(client, None)?
        .into_iter()
        .filter_map(|t| t.name.map(|n| n.0.to_string()))
        .collect();
    names.sort();
    Ok(names.into_iter().map(|n| n + "\n").collect())
}

/// `--under-replicated-partitions` and `--unavailable-partitions`: with either, `describe`
/// prints only the partitions that match either, without the topic lines (as kafka-topics.sh).
#[derive(Clone, Copy, Debug, Default)]
pub struct Only {
    pub under_replicated: bool,
    pub unavailable: bool,
}

impl Only {
    fn any(self) -> bool {
        self.under_replicated || self.unavailable
    }

    fn keeps(
        self,
        p: &kafka_protocol::messages::metadata_response::MetadataResponsePartition,
    ) -> bool {
        !self.any()
            || (self.under_replicated && p.isr_nodes.len() < p.replica_nodes.len())
            || (self.unavailable && p.leader_id.0 < 0)
    }
}

pub fn describe(
    client: &mut KafkaClient,
    topic: Option<&str>,
    only: Only,
) -> anyhow::Result<String> {
    let mut topics = metadata(client, topic)?;
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for topic in topics {
        let name = topic
            .name
            .as_ref()
            .map(|n| n.0.to_string())
            .unwrap_or_default();
        check(topic.error_code, &format!("describing topic {name}"), None)?;
        let replication_factor = topic
            .partitions
            .first()
            .map_or(0, |p| p.replica_nodes.len());
        if !only.any() {
            out.push_str(&format!(
                "Topic: {name}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {replication_factor}\tConfigs: {}\n",
                partita_core::controller::TopicId(topic.topic_id.as_u128()),
                topic.partitions.len(),
                topic_configs(client, &name)?,
            ));
        }
        let mut partitions = topic.partitions;
        partitions.retain(|p| only.keeps(p));
        partitions.sort_by_key(|p| p.partition_index);
        for p in partitions {
            let ids = |ids: &[kafka_protocol::messages::BrokerId]| {
                ids.iter()
                    .map(|id| id.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let leader = if p.leader_id.0 < 0 {
                "none".to_string()
            } else {
                p.leader_id.0.to_string()
            };
            out.push_str(&format!(
                "\tTopic: {name}\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}\n",
                p.partition_index,
                ids(&p.replica_nodes),
                ids(&p.isr_nodes),
            ));
        }
    }
    Ok(out)
}

pub fn delete(client: &mut KafkaClient, name: &str) -> anyhow::Result<String> {
    let request = DeleteTopicsRequest::default()
        .with_topic_names(vec![topic_name(name)])
        .with_timeout_ms(REQUEST_TIMEOUT_MS);
    let response = client.call(&request, DELETE_TOPICS_VERSION)?;
    for result in &response.responses {
        check(
            result.error_code,
            &format!("deleting topic {name}"),
            result.error_message.as_deref(),
        )?;
    }
    Ok(String::new())
}

/// Metadata of one topic, or of all when `topic` is `None`.
fn metadata(
    client: &mut KafkaClient,
    topic: Option<&str>,
) -> anyhow::Result<Vec<MetadataResponseTopic>> {
    let topics =
        topic.map(|name| vec![MetadataRequestTopic::default().with_name(Some(topic_name(name)))]);
    let request = MetadataRequest::default()
        .with_topics(topics)
        .with_allow_auto_topic_creation(false);
    let response = client.call(&request, METADATA_VERSION)?;
    if let Some(name) = topic
        && response
            .topics
            .iter()
            .all(|t| t.name.as_ref().map(|n| n.as_str()) != Some(name))
    {
        bail!("topic {name} does not exist");
    }
    Ok(response.topics)
}

/// The topic's own configs (not broker defaults), as `name=value,name=value`.
fn topic_configs(client: &mut KafkaClient, topic: &str) -> anyhow::Result<String> {
    let request = DescribeConfigsRequest::default().with_resources(vec![
        DescribeConfigsResource::default()
            .with_resource_type(TOPIC_RESOURCE)
            .with_resource_name(StrBytes::from_string(topic.to_string()))
            .with_configuration_keys(None),
    ]);
    let response = client.call(&request, DESCRIBE_CONFIGS_VERSION)?;
    let mut pairs = Vec::new();
    for result in response.results {
        check(
            result.error_code,
            &format!("describing configs of {topic}"),
            result.error_message.as_deref(),
        )?;
        for config in result
            .configs
            .into_iter()
            .filter(|c| c.config_source == SOURCE_TOPIC_CONFIG)
        {
            pairs.push(format!(
                "{}={}",
                config.name.as_str(),
                config.value.as_deref().unwrap_or("")
            ));
        }
    }
    Ok(pairs.join(","))
}
