//! `partita acls`: add, list and remove ACLs as `kafka-acls.sh` does (its flags and its
//! output, Kafka's `AclCommand`): CreateAcls and DeleteAcls at the active controller,
//! DescribeAcls at any broker. The broker must run an authorizer
//! (`authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer`) and the
//! caller be allowed Alter (add, remove) or Describe (list) on the cluster, or be a super user.
//!
//! `--producer` and `--consumer` (with `--idempotent`) name the operations a client needs
//! instead of `--operation`, as `AclCommand`'s `getProducerResourceFilterToAcls` and
//! `getConsumerResourceFilterToAcls` do (see [`plan`]).

use std::collections::BTreeMap;
use std::io::BufRead;

use anyhow::bail;
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest};
use partita_core::acl::{
    AclBinding, AclBindingFilter, AclOperation, CLUSTER_NAME, PatternType, PermissionType,
    ResourceType, WILDCARD_HOST, operation_upper,
};

use super::check;
use crate::cli::AclsArgs;
use crate::client::KafkaClient;
use crate::kafka::str_bytes;

const ACLS_VERSION: i16 = 3;

/// A principal, a host, an operation and a permission: one entry of an ACL.
type Entry = (String, String, AclOperation, PermissionType);

/// A resource (type, name) and the entries to add or remove on it.
type Planned = ((ResourceType, String), Vec<Entry>);

pub fn run(args: AclsArgs) -> anyhow::Result<()> {
    let pattern_type = match args.resource_pattern_type.as_str() {
        "literal" => PatternType::Literal,
        "prefixed" => PatternType::Prefixed,
        "any" => PatternType::Any,
        _ => PatternType::Match,
    };
    check_convenience_options(&args)?;
    let resources = resources(&args);
    if args.add {
        add(&args, pattern_type, &plan(&args, &resources)?)?;
    } else if args.remove {
        remove(&args, pattern_type, &plan(&args, &resources)?)?;
    }
    let mut client = super::connect_bootstrap(&args.bootstrap_server, &args.login)?;
    print!("{}", list(&mut client, &args, pattern_type, &resources)?);
    Ok(())
}

/// The resources the flags name, as (type, name).
fn resources(args: &AclsArgs) -> Vec<(ResourceType, String)> {
    let mut resources: Vec<(ResourceType, String)> = Vec::new();
    resources.extend(args.topic.iter().map(|t| (ResourceType::Topic, t.clone())));
    resources.extend(args.group.iter().map(|g| (ResourceType::Group, g.clone())));
    if args.cluster {
        resources.push((ResourceType::Cluster, CLUSTER_NAME.to_string()));
    }
    resources.extend(
        args.transactional_id
            .iter()
            .map(|t| (ResourceType::TransactionalId, t.clone())),
    );
    resources
}

/// `AclCommand.checkArgs`' rules for `--producer`, `--consumer` and `--idempotent`, with its
/// messages.
fn check_convenience_options(args: &AclsArgs) -> anyhow::Result<()> {
    for (set, option) in [(args.producer, "producer"), (args.consumer, "consumer")] {
        if !set {
            continue;
        }
        if args.list {
            bail!("Option \"[list]\" can't be used with option \"[{option}]\"");
        }
        for (given, other) in [
            (!args.operation.is_empty(), "operation"),
            (!args.deny_principal.is_empty(), "deny-principal"),
            (!args.deny_host.is_empty(), "deny-host"),
        ] {
            if given {
                bail!("Option \"[{option}]\" can't be used with option \"[{other}]\"");
            }
        }
    }
    if args.producer && args.topic.is_empty() {
        bail!("With --producer you must specify a --topic");
    }
    if args.idempotent && !args.producer {
        bail!("The --idempotent option is only available if --producer is set");
    }
    if args.consumer
        && (args.topic.is_empty()
            || args.group.is_empty()
            || (!args.producer && (args.cluster || !args.transactional_id.is_empty())))
    {
        bail!(
            "With --consumer you must specify a --topic and a --group and no --cluster or \
             --transactional-id option should be specified."
        );
    }
    Ok(())
}

/// What to add or remove on each resource. With `--producer` and `--consumer` the
/// operations follow from the resource type (Kafka's `getProducerResourceFilterToAcls`,
/// `getConsumerResourceFilterToAcls`): a producer gets Write, Describe and Create on the
/// topics, Write and Describe on the transactional ids, and with `--idempotent`
/// IdempotentWrite on the cluster; a consumer Read and Describe on the topics and Read on the
/// groups; both together the union. Otherwise every resource gets the `--operation`s.
fn plan(args: &AclsArgs, resources: &[(ResourceType, String)]) -> anyhow::Result<Vec<Planned>> {
    use AclOperation::*;
    if !args.producer && !args.consumer {
        let entries = entries(args, &operations(args)?)?;
        return Ok(resources
            .iter()
            .map(|resource| (resource.clone(), entries.clone()))
            .collect());
    }
    let mut plan = Vec::new();
    for resource in resources {
        let mut ops = Vec::new();
        match resource.0 {
            ResourceType::Topic if args.producer => ops.extend([Write, Describe, Create]),
            ResourceType::TransactionalId if args.producer => ops.extend([Write, Describe]),
            _ => {}
        }
        match resource.0 {
            ResourceType::Topic if args.consumer => ops.extend([Read, Describe]),
            ResourceType::Group if args.consumer => ops.push(Read),
            _ => {}
        }
        if !ops.is_empty() {
            plan.push((resource.clone(), entries(args, &ops)?));
        }
    }
    if args.producer && args.idempotent {
        let cluster = (ResourceType::Cluster, CLUSTER_NAME.to_string());
        plan.push((cluster, entries(args, &[IdempotentWrite])?));
    }
    Ok(plan)
}

/// The operations given (`All` when none), checked to be known.
fn operations(args: &AclsArgs) -> anyhow::Result<Vec<AclOperation>> {
    if args.operation.is_empty() {
        return Ok(vec![AclOperation::All]);
    }
    args.operation
        .iter()
        .map(|name| {
            AclOperation::parse(name).ok_or_else(|| anyhow::anyhow!("Invalid operation {name}"))
        })
        .collect()
}

/// Every entry the principal and host flags make with `operations` (Kafka's `getAcls`):
/// each allowed principal on each allowed host (`*` by default) for each operation, and the
/// same for denies.
fn entries(args: &AclsArgs, operations: &[AclOperation]) -> anyhow::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (principals, hosts, permission) in [
        (
            &args.allow_principal,
            &args.allow_host,
            PermissionType::Allow,
        ),
        (&args.deny_principal, &args.deny_host, PermissionType::Deny),
    ] {
        let hosts = if hosts.is_empty() {
            vec![WILDCARD_HOST.to_string()]
        } else {
            hosts.clone()
        };
        for principal in principals {
            if !principal.contains(':') {
                bail!(
                    "Could not parse principal from `{principal}` (no colon is present separating the principal type from the principal name)"
                );
            }
            for host in &hosts {
                for &op in operations {
                    entries.push((principal.clone(), host.clone(), op, permission));
                }
            }
        }
    }
    entries.sort();
    entries.dedup();
    Ok(entries)
}

/// Kafka's `ResourcePatternFilter` text for a resource and pattern type.
fn filter_text(resource_type: ResourceType, name: &str, pattern_type: PatternType) -> String {
    format!(
        "ResourcePatternFilter(resourceType={}, name={name}, patternType={})",
        resource_type.name(),
        pattern_type.name()
    )
}

/// `AclCommand`'s block: a heading, then one tab-indented entry a line.
fn block(heading: &str, entries: &[String]) -> String {
    let lines: Vec<String> = entries.iter().map(|e| format!("\t{e}")).collect();
    format!("{heading}: \n {} \n\n", lines.join("\n"))
}

fn add(args: &AclsArgs, pattern_type: PatternType, plan: &[Planned]) -> anyhow::Result<()> {
    if !matches!(pattern_type, PatternType::Literal | PatternType::Prefixed) {
        bail!(
            "A '--resource-pattern-type' value of '{}' is not valid when adding acls.",
            args.resource_pattern_type
        );
    }
    if plan.is_empty() {
        bail!(
            "You must specify one of: --topic, --cluster, --group, --transactional-id when using --add"
        );
    }
    if plan.iter().any(|(_, entries)| entries.is_empty()) {
        bail!(
            "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs."
        );
    }
    let mut bindings = Vec::new();
    for ((resource_type, name), entries) in plan {
        let supported = resource_type.supported_operations();
        for (_, _, op, _) in entries {
            if *op != AclOperation::All && !supported.contains(op) {
                let names: Vec<String> = supported
                    .iter()
                    .chain([&AclOperation::All])
                    .map(|o| operation_upper(*o))
                    .collect();
                bail!(
                    "ResourceType {} only supports operations {}",
                    resource_type.name(),
                    names.join(",")
                );
            }
        }
        let acls: Vec<AclBinding> = entries
            .iter()
            .map(|(principal, host, operation, permission)| AclBinding {
                resource_type: *resource_type,
                resource_name: name.clone(),
                pattern_type,
                principal: principal.clone(),
                host: host.clone(),
                operation: *operation,
                permission: *permission,
            })
            .collect();
        let texts: Vec<String> = acls.iter().map(AclBinding::entry_text).collect();
        print!(
            "{}",
            block(
                &format!("Adding ACLs for resource `{}`", acls[0].pattern_text()),
                &texts
            )
        );
        bindings.extend(acls);
    }
    let creations: Vec<AclCreation> = bindings
        .iter()
        .map(|acl| {
            AclCreation::default()
                .with_resource_type(acl.resource_type as i8)
                .with_resource_name(str_bytes(acl.resource_name.clone()))
                .with_resource_pattern_type(acl.pattern_type as i8)
                .with_principal(str_bytes(acl.principal.clone()))
                .with_host(str_bytes(acl.host.clone()))
                .with_operation(acl.operation as i8)
                .with_permission_type(acl.permission as i8)
        })
        .collect();
    let request = CreateAclsRequest::default().with_creations(creations);
    super::retry_not_controller(&args.bootstrap_server, &args.login, |client| {
        let response = client.call(&request, ACLS_VERSION)?;
        for (acl, result) in bindings.iter().zip(&response.results) {
            check(
                result.error_code,
                &format!("adding {} {}", acl.pattern_text(), acl.entry_text()),
                result.error_message.as_deref(),
            )?;
        }
        Ok(())
    })
}

fn confirmed(question: &str, force: bool) -> anyhow::Result<bool> {
    if force {
        return Ok(true);
    }
    println!("{question}");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().eq_ignore_ascii_case("y"))
}

fn remove(args: &AclsArgs, pattern_type: PatternType, plan: &[Planned]) -> anyhow::Result<()> {
    if plan.is_empty() {
        bail!(
            "You must specify one of: --topic, --cluster, --group, --transactional-id when using --remove"
        );
    }
    let mut filters = Vec::new();
    for ((resource_type, name), entries) in plan {
        let resource = filter_text(*resource_type, name, pattern_type);
        let base = AclBindingFilter {
            resource_type: *resource_type,
            resource_name: Some(name.clone()),
            pattern_type,
            ..AclBindingFilter::any()
        };
        if entries.is_empty() {
            let question = format!(
                "Are you sure you want to delete all ACLs for resource filter `{resource}`? (y/n)"
            );
            if confirmed(&question, args.force)? {
                filters.push(base);
            }
            continue;
        }
        let texts: Vec<String> = entries
            .iter()
            .map(|(p, h, o, perm)| {
                format!(
                    "(principal={p}, host={h}, operation={}, permissionType={})",
                    operation_upper(*o),
                    perm.name()
                )
            })
            .collect();
        let lines: Vec<String> = texts.iter().map(|t| format!("\t{t}")).collect();
        let question = format!(
            "Are you sure you want to remove ACLs: \n {} \n from resource filter `{resource}`? (y/n)",
            lines.join("\n")
        );
        if confirmed(&question, args.force)? {
            filters.extend(entries.iter().map(|(p, h, o, perm)| AclBindingFilter {
                principal: Some(p.clone()),
                host: Some(h.clone()),
                operation: *o,
                permission: *perm,
                ..base.clone()
            }));
        }
    }
    if filters.is_empty() {
        return Ok(());
    }
    let wire: Vec<DeleteAclsFilter> = filters
        .iter()
        .map(|f| {
            DeleteAclsFilter::default()
                .with_resource_type_filter(f.resource_type as i8)
                .with_resource_name_filter(f.resource_name.clone().map(str_bytes))
                .with_pattern_type_filter(f.pattern_type as i8)
                .with_principal_filter(f.principal.clone().map(str_bytes))
                .with_host_filter(f.host.clone().map(str_bytes))
                .with_operation(f.operation as i8)
                .with_permission_type(f.permission as i8)
        })
        .collect();
    let request = DeleteAclsRequest::default().with_filters(wire);
    super::retry_not_controller(&args.bootstrap_server, &args.login, |client| {
        let response = client.call(&request, ACLS_VERSION)?;
        for result in &response.filter_results {
            check(
                result.error_code,
                "removing ACLs",
                result.error_message.as_deref(),
            )?;
        }
        Ok(())
    })
}

/// The ACLs of the resources given (every ACL without one), as `kafka-acls.sh --list`
/// prints them: one block per resource pattern; with `--principal`, only that principal's,
/// under `ACLs for principal ...`.
fn list(
    client: &mut KafkaClient,
    args: &AclsArgs,
    pattern_type: PatternType,
    resources: &[(ResourceType, String)],
) -> anyhow::Result<String> {
    let filters: Vec<AclBindingFilter> = if resources.is_empty() {
        vec![AclBindingFilter::any()]
    } else {
        resources
            .iter()
            .map(|(resource_type, name)| AclBindingFilter {
                resource_type: *resource_type,
                resource_name: Some(name.clone()),
                pattern_type,
                ..AclBindingFilter::any()
            })
            .collect()
    };
    let mut by_resource: BTreeMap<(ResourceType, String, PatternType), Vec<AclBinding>> =
        BTreeMap::new();
    for filter in filters {
        let request = DescribeAclsRequest::default()
            .with_resource_type_filter(filter.resource_type as i8)
            .with_resource_name_filter(filter.resource_name.clone().map(str_bytes))
            .with_pattern_type_filter(filter.pattern_type as i8)
            .with_principal_filter(None)
            .with_host_filter(None)
            .with_operation(AclOperation::Any as i8)
            .with_permission_type(PermissionType::Any as i8);
        let response = client.call(&request, ACLS_VERSION)?;
        check(
            response.error_code,
            "listing ACLs",
            response.error_message.as_deref(),
        )?;
        for resource in response.resources {
            let resource_type = ResourceType::from_code(resource.resource_type);
            let pattern_type = PatternType::from_code(resource.pattern_type);
            for acl in resource.acls {
                let binding = AclBinding {
                    resource_type,
                    resource_name: resource.resource_name.to_string(),
                    pattern_type,
                    principal: acl.principal.to_string(),
                    host: acl.host.to_string(),
                    operation: AclOperation::from_code(acl.operation),
                    permission: PermissionType::from_code(acl.permission_type),
                };
                let list = by_resource
                    .entry((resource_type, binding.resource_name.clone(), pattern_type))
                    .or_default();
                if !list.contains(&binding) {
                    list.push(binding);
                }
            }
        }
    }
    let print = |only: Option<&str>| {
        let mut out = String::new();
        for acls in by_resource.values() {
            let texts: Vec<String> = acls
                .iter()
                .filter(|a| only.is_none_or(|p| a.principal == p))
                .map(AclBinding::entry_text)
                .collect();
            if texts.is_empty() {
                continue;
            }
            out.push_str(&block(
                &format!("Current ACLs for resource `{}`", acls[0].pattern_text()),
                &texts,
            ));
        }
        out
    };
    if args.principal.is_empty() {
        return Ok(print(None));
    }
    let mut out = String::new();
    for principal in &args.principal {
        out.push_str(&format!("ACLs for principal `{principal}`\n"));
        out.push_str(&print(Some(principal)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(flags: &[&str]) -> AclsArgs {
        let argv = ["partita", "acls", "--bootstrap-server", "127.0.0.1:9092"]
            .iter()
            .chain(flags);
        match crate::cli::Cli::try_parse_from(argv)
            .expect("flags parse")
            .command
        {
            crate::cli::Command::Acls(args) => args,
            other => panic!("not acls: {other:?}"),
        }
    }

    /// The plan of `flags` (separated by spaces), as (type, name, operations).
    fn planned(flags: &str) -> Vec<(ResourceType, String, Vec<AclOperation>)> {
        let args = args(&flags.split_whitespace().collect::<Vec<_>>());
        check_convenience_options(&args).unwrap();
        plan(&args, &resources(&args))
            .unwrap()
            .into_iter()
            .map(|((rt, name), entries)| {
                assert!(entries.iter().all(|(p, h, _, perm)| {
                    p == "User:alice" && h == "*" && *perm == PermissionType::Allow
                }));
                (rt, name, entries.into_iter().map(|e| e.2).collect())
            })
            .collect()
    }

    #[test]
    fn producer_and_consumer_name_the_operations_as_acl_command() {
        use AclOperation::*;
        let producer = planned(
            "--add --producer --allow-principal User:alice --topic t --transactional-id tx --idempotent",
        );
        assert_eq!(
            producer,
            vec![
                (
                    ResourceType::Topic,
                    "t".into(),
                    vec![Write, Create, Describe]
                ),
                (
                    ResourceType::TransactionalId,
                    "tx".into(),
                    vec![Write, Describe]
                ),
                (
                    ResourceType::Cluster,
                    CLUSTER_NAME.into(),
                    vec![IdempotentWrite]
                ),
            ]
        );
        let consumer = planned("--add --consumer --allow-principal User:alice --topic t --group g");
        assert_eq!(
            consumer,
            vec![
                (ResourceType::Topic, "t".into(), vec![Read, Describe]),
                (ResourceType::Group, "g".into(), vec![Read]),
            ]
        );
        let both = planned(
            "--remove --producer --consumer --allow-principal User:alice --topic t --group g",
        );
        assert_eq!(both[0].2, vec![Read, Write, Create, Describe]);
    }

    #[test]
    fn convenience_options_are_checked_with_kafkas_messages() {
        for (flags, message) in [
            (
                &["--list", "--producer"][..],
                "Option \"[list]\" can't be used with option \"[producer]\"",
            ),
            (
                &["--add", "--producer", "--operation", "Read", "--topic", "t"],
                "Option \"[producer]\" can't be used with option \"[operation]\"",
            ),
            (
                &[
                    "--add",
                    "--consumer",
                    "--deny-principal",
                    "User:a",
                    "--topic",
                    "t",
                    "--group",
                    "g",
                ],
                "Option \"[consumer]\" can't be used with option \"[deny-principal]\"",
            ),
            (
                &["--add", "--producer"],
                "With --producer you must specify a --topic",
            ),
            (
                &["--add", "--idempotent", "--topic", "t"],
                "The --idempotent option is only available if --producer is set",
            ),
            (
                &["--add", "--consumer", "--topic", "t"],
                "With --consumer you must specify a --topic and a --group and no --cluster or \
                 --transactional-id option should be specified.",
            ),
            (
                &[
                    "--add",
                    "--consumer",
                    "--topic",
                    "t",
                    "--group",
                    "g",
                    "--cluster",
                ],
                "With --consumer you must specify a --topic and a --group and no --cluster or \
                 --transactional-id option should be specified.",
            ),
        ] {
            let error = check_convenience_options(&args(flags))
                .unwrap_err()
                .to_string();
            assert_eq!(error, message, "{flags:?}");
        }
    }

    #[test]
    fn blocks_are_printed_as_kafka_acls_sh() {
        assert_eq!(
            block(
                "Current ACLs for resource `R`",
                &["(a)".into(), "(b)".into()]
            ),
            "Current ACLs for resource `R`: \n \t(a)\n\t(b) \n\n"
        );
    }
}
