//! `partita configs`: describe and alter topic and broker configs, as `kafka-configs.sh`
//! does (its flags, its output): DescribeConfigs with synonyms, IncrementalAlterConfigs SET
//! and DELETE. Users' SCRAM credentials (`--entity-type users`) are in `scram_users.rs`.

use anyhow::{Context, bail};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResourceResult;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{
    DescribeConfigsRequest, IncrementalAlterConfigsRequest, MetadataRequest,
};
use kafka_protocol::protocol::StrBytes;
use partita_core::config::ConfigSource;

use super::check;
use crate::cli::ConfigsArgs;
use crate::client::KafkaClient;

const DESCRIBE_CONFIGS_VERSION: i16 = 4;
const INCREMENTAL_ALTER_CONFIGS_VERSION: i16 = 1;
const METADATA_VERSION: i16 = 12;
const TOPIC_RESOURCE: i8 = 2;
const BROKER_RESOURCE: i8 = 4;
const SET: i8 = 0;
const DELETE: i8 = 1;

/// What the command is about: a topic, a broker, or the brokers' cluster-wide default (`""`).
struct Entity {
    resource_type: i8,
    /// `topics` or `brokers`, as given.
    entity_type: &'static str,
    name: String,
}

impl Entity {
    /// `topic orders`, `broker 1`: how kafka-configs.sh names one.
    fn label(&self) -> String {
        format!("{} {}", self.entity_type.trim_end_matches('s'), self.name)
    }

    /// The source of the configs set on this entity itself.
    fn dynamic_source(&self) -> ConfigSource {
        match (self.resource_type, self.name.is_empty()) {
            (TOPIC_RESOURCE, _) => ConfigSource::DynamicTopic,
            (_, true) => ConfigSource::DynamicDefaultBroker,
            _ => ConfigSource::DynamicBroker,
        }
    }
}

/// `--describe` asks any broker (each answers from its own metadata; a broker's own configs
/// only that broker, as Kafka's AdminClient sends them); `--alter` goes to the active
/// controller (see `admin::connect_to_controller`), which takes any broker's configs (Kafka's
/// brokers would forward a broker's own to it; partita's do not forward).
pub fn run(args: ConfigsArgs) -> anyhow::Result<()> {
    let output = if args.entity_type == "users" {
        super::scram_users::run(&args)?
    } else if args.describe {
        let mut client = super::connect_bootstrap(&args.bootstrap_server, &args.login)?;
        describe(&mut client, &args)?
    } else {
        super::retry_not_controller(&args.bootstrap_server, &args.login, |client| {
            alter(client, &args)
        })?
    };
    print!("{output}");
    Ok(())
}

/// The entities named by the flags; without a name, every topic (or every broker and the
/// cluster default), as kafka-configs.sh does.
fn entities(client: &mut KafkaClient, args: &ConfigsArgs) -> anyhow::Result<Vec<Entity>> {
    let (resource_type, entity_type) = match args.entity_type.as_str() {
        "topics" => (TOPIC_RESOURCE, "topics"),
        "brokers" => (BROKER_RESOURCE, "brokers"),
        other => bail!("--entity-type {other}: expected topics or brokers"),
    };
    let names = if args.entity_default {
        if resource_type == TOPIC_RESOURCE {
            bail!("--entity-default is for --entity-type brokers");
        }
        vec![String::new()]
    } else if let Some(name) = &args.entity_name {
        if resource_type == BROKER_RESOURCE && name.parse::<i32>().is_err() {
            bail!("The entity name for brokers must be a valid integer broker id, found: {name}");
        }
        vec![name.clone()]
    } else if args.alter {
        bail!("--alter needs --entity-name or --entity-default");
    } else {
        let metadata = client.call(
            &MetadataRequest::default()
                .with_topics((resource_type == BROKER_RESOURCE).then(Vec::new)),
            METADATA_VERSION,
        )?;
        let mut names: Vec<String> = if resource_type == TOPIC_RESOURCE {
            let mut topics: Vec<String> = metadata
                .topics
                .iter()
                .filter_map(|t| t.name.as_ref().map(|n| n.0.to_string()))
                .collect();
            topics.sort();
            topics
        } else {
            metadata
                .brokers
                .iter()
                .map(|b| b.node_id.0.to_string())
                .collect()
        };
        if resource_type == BROKER_RESOURCE {
            names.push(String::new());
        }
        names
    };
    Ok(names
        .into_iter()
        .map(|name| Entity {
            resource_type,
            entity_type,
            name,
        })
        .collect())
}

fn describe(client: &mut KafkaClient, args: &ConfigsArgs) -> anyhow::Result<String> {
    let mut out = String::new();
    let brokers = super::brokers(client)?;
    for entity in entities(client, args)? {
        let mut broker = connect_to_entity(&brokers, &entity, client.addr(), args)?;
        let client = broker.as_mut().unwrap_or(&mut *client);
        if entity.name.is_empty() {
            out.push_str(&format!(
                "Default configs for {} in the cluster are:\n",
                entity.entity_type
            ));
        } else {
            let which = if args.all { "All" } else { "Dynamic" };
            out.push_str(&format!("{which} configs for {} are:\n", entity.label()));
        }
        for entry in describe_entity(client, &entity)? {
            if !args.all && entry.config_source != entity.dynamic_source().code() {
                continue;
            }
            let synonyms: Vec<String> = entry
                .synonyms
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}={}",
                        source_name(s.source),
                        s.name.as_str(),
                        s.value.as_deref().unwrap_or("null")
                    )
                })
                .collect();
            out.push_str(&format!(
                "  {}={} sensitive={} synonyms={{{}}}\n",
                entry.name.as_str(),
                entry.value.as_deref().unwrap_or("null"),
                entry.is_sensitive,
                synonyms.join(", ")
            ));
        }
    }
    Ok(out)
}

/// A connection to the broker whose own configs `entity` names, or `None` for a topic, the
/// cluster default, or the broker at `have` (the connection the caller has). A broker the
/// cluster's Metadata does not list is an error (only it could answer for itself).
fn connect_to_entity(
    brokers: &[(i32, String)],
    entity: &Entity,
    have: &str,
    args: &ConfigsArgs,
) -> anyhow::Result<Option<KafkaClient>> {
    if entity.resource_type != BROKER_RESOURCE || entity.name.is_empty() {
        return Ok(None);
    }
    let (_, address) = brokers
        .iter()
        .find(|(id, _)| id.to_string() == entity.name)
        .with_context(|| {
            format!(
                "broker {} is not among the cluster's live brokers",
                entity.name
            )
        })?;
    super::connect_to_broker(address, have, &args.login)
}

fn describe_entity(
    client: &mut KafkaClient,
    entity: &Entity,
) -> anyhow::Result<Vec<DescribeConfigsResourceResult>> {
    let request = DescribeConfigsRequest::default()
        .with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(entity.resource_type)
                .with_resource_name(StrBytes::from_string(entity.name.clone())),
        ])
        .with_include_synonyms(true);
    let response = client.call(&request, DESCRIBE_CONFIGS_VERSION)?;
    let result = response
        .results
        .into_iter()
        .next()
        .context("DescribeConfigs answered no result")?;
    check(
        result.error_code,
        &format!("describing {}", entity.label()),
        result.error_message.as_deref(),
    )?;
    Ok(result.configs)
}

fn source_name(code: i8) -> &'static str {
    [
        ConfigSource::DynamicTopic,
        ConfigSource::DynamicBroker,
        ConfigSource::DynamicDefaultBroker,
        ConfigSource::StaticBroker,
        ConfigSource::Default,
    ]
    .into_iter()
    .find(|s| s.code() == code)
    .map_or("UNKNOWN", ConfigSource::name)
}

fn alter(client: &mut KafkaClient, args: &ConfigsArgs) -> anyhow::Result<String> {
    let to_add = match &args.add_config {
        Some(text) => parse_add_config(text)?,
        None => Vec::new(),
    };
    let to_delete: Vec<String> = args
        .delete_config
        .iter()
        .map(|k| k.trim().to_string())
        .collect();
    if to_add.is_empty() && to_delete.is_empty() {
        bail!("--alter needs --add-config or --delete-config");
    }
    let entity = entities(client, args)?
        .into_iter()
        .next()
        .context("no entity")?;
    // As kafka-configs.sh: deleting a config that is not set on the entity is an error. A
    // broker's configs are described by that broker (only it answers for its id).
    let brokers = super::brokers(client)?;
    let mut broker = connect_to_entity(&brokers, &entity, client.addr(), args)?;
    let set: Vec<String> = describe_entity(broker.as_mut().unwrap_or(&mut *client), &entity)?
        .into_iter()
        .filter(|e| e.config_source == entity.dynamic_source().code())
        .map(|e| e.name.to_string())
        .collect();
    let missing: Vec<&str> = to_delete
        .iter()
        .filter(|k| !set.contains(k))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        bail!("Invalid config(s): {}", missing.join(","));
    }
    let configs = to_add
        .iter()
        .map(|(name, value)| (name.as_str(), SET, Some(value.clone())))
        .chain(to_delete.iter().map(|name| (name.as_str(), DELETE, None)))
        .map(|(name, op, value)| {
            AlterableConfig::default()
                .with_name(StrBytes::from_string(name.to_string()))
                .with_config_operation(op)
                .with_value(value.map(StrBytes::from_string))
        })
        .collect();
    let request = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(entity.resource_type)
            .with_resource_name(StrBytes::from_string(entity.name.clone()))
            .with_configs(configs),
    ]);
    let response = client.call(&request, INCREMENTAL_ALTER_CONFIGS_VERSION)?;
    for result in &response.responses {
        check(
            result.error_code,
            &format!("altering {}", entity.label()),
            result.error_message.as_deref(),
        )?;
    }
    Ok(if entity.name.is_empty() {
        format!(
            "Completed updating default config for {} in the cluster.\n",
            entity.entity_type
        )
    } else {
        format!("Completed updating config for {}.\n", entity.label())
    })
}

/// kafka-configs.sh's `--add-config`: `k1=v1,k2=[v2,v3]`. Commas inside brackets belong to
/// the value; the brackets are dropped (`cleanup.policy=[delete,compact]` sets
/// `delete,compact`).
fn parse_add_config(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut depth = 0_i32;
    let mut current = String::new();
    let mut items = Vec::new();
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    for item in items {
        let (key, value) = item.split_once('=').with_context(|| {
            format!("Invalid entity config {item:?}: all configs to be added must be in the format \"key=val\".")
        })?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            bail!("Invalid character found for config key: {key}");
        }
        let value: String = value.chars().filter(|c| *c != '[' && *c != ']').collect();
        pairs.push((key.to_string(), value.trim().to_string()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_config_splits_outside_brackets() {
        assert_eq!(
            parse_add_config("cleanup.policy=[delete,compact],retention.ms=1000").unwrap(),
            [
                ("cleanup.policy".to_string(), "delete,compact".to_string()),
                ("retention.ms".to_string(), "1000".to_string())
            ]
        );
        assert_eq!(
            parse_add_config(" segment.ms = 5 ").unwrap(),
            [("segment.ms".to_string(), "5".to_string())]
        );
        assert!(parse_add_config("retention.ms").is_err());
        assert!(parse_add_config("bad key=1").is_err());
    }

    /// The names the README lists between `<!-- MARK` and `<!-- /MARK -->`.
    fn readme_list(mark: &str) -> Vec<&'static str> {
        let readme = include_str!("../../../README.md");
        let (_, block) = readme
            .split_once(&format!("<!-- {mark}:"))
            .expect("the README has the list");
        let (block, _) = block.split_once(&format!("<!-- /{mark} -->")).unwrap();
        let (_, list) = block.split_once("-->").unwrap();
        list.split(',')
            .map(|name| name.trim().trim_end_matches('.'))
            .collect()
    }

    /// The README's lists of topic and broker configs without effect are the core's tables'.
    #[test]
    fn readme_lists_the_configs_without_effect() {
        let topic: Vec<&str> = partita_core::config::not_honoured().collect();
        assert_eq!(readme_list("not-honoured"), topic);
        let broker: Vec<&str> = partita_core::config::broker_not_honoured().collect();
        assert_eq!(readme_list("broker-not-honoured"), broker);
    }
}
