use std::sync::Arc;

use super::*;

#[test]
fn bit_fields_match_kafka_without_an_authorizer() {
    // READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10,
    // ALTER_CONFIGS 11.
    assert_eq!(
        ResourceType::Topic.authorized_operations(),
        0b1101_1111_1000
    );
    // CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
    // ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
    assert_eq!(
        ResourceType::Cluster.authorized_operations(),
        0b1_1111_1010_0000
    );
    // READ 3, DELETE 6, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11.
    assert_eq!(
        ResourceType::Group.authorized_operations(),
        0b1101_0100_1000
    );
}

fn acl(
    resource_type: ResourceType,
    name: &str,
    pattern_type: PatternType,
    principal: &str,
    host: &str,
    operation: AclOperation,
    permission: PermissionType,
) -> AclBinding {
    AclBinding {
        resource_type,
        resource_name: name.to_string(),
        pattern_type,
        principal: principal.to_string(),
        host: host.to_string(),
        operation,
        permission,
    }
}

fn allow_topic(name: &str, pattern: PatternType, principal: &str, op: AclOperation) -> AclBinding {
    acl(
        ResourceType::Topic,
        name,
        pattern,
        principal,
        "*",
        op,
        PermissionType::Allow,
    )
}

fn authorizer(acls: Vec<AclBinding>) -> Authorizer {
    Authorizer {
        config: Arc::new(AuthorizerConfig {
            enabled: true,
            ..AuthorizerConfig::default()
        }),
        acls: Arc::new(
            acls.into_iter()
                .enumerate()
                .map(|(i, a)| (i as u64, a))
                .collect(),
        ),
    }
}

fn user(name: &str) -> Caller {
    Caller {
        principal: format!("User:{name}"),
        host: "10.0.0.1".to_string(),
    }
}

use AclOperation::*;
use PatternType::{Literal, Prefixed};

#[test]
fn off_allows_everything_and_on_denies_without_acls() {
    let off = Authorizer::default();
    assert!(off.authorize(&user("a"), Write, ResourceType::Topic, "t"));
    let on = authorizer(vec![]);
    assert!(!on.authorize(&user("a"), Write, ResourceType::Topic, "t"));
    let mut everyone = authorizer(vec![]);
    Arc::make_mut(&mut everyone.config).allow_everyone_if_no_acl_found = true;
    assert!(everyone.authorize(&user("a"), Write, ResourceType::Topic, "t"));
    // An ACL on the resource, even for someone else, ends "no ACL found".
    Arc::make_mut(&mut everyone.acls).insert(0, allow_topic("t", Literal, "User:b", Read));
    assert!(!everyone.authorize(&user("a"), Write, ResourceType::Topic, "t"));
    assert!(everyone.authorize(&user("a"), Write, ResourceType::Topic, "u"));
}

#[test]
fn literal_prefixed_and_wildcards_match() {
    let a = authorizer(vec![
        allow_topic("orders-", Prefixed, "User:alice", Read),
        allow_topic("payments", Literal, "User:alice", Write),
        allow_topic("*", Literal, "User:*", Describe),
    ]);
    let alice = user("alice");
    assert!(a.authorize(&alice, Read, ResourceType::Topic, "orders-eu"));
    assert!(a.authorize(&alice, Read, ResourceType::Topic, "orders-"));
    assert!(!a.authorize(&alice, Read, ResourceType::Topic, "orders"));
    assert!(!a.authorize(&alice, Read, ResourceType::Topic, "payments"));
    assert!(a.authorize(&alice, Write, ResourceType::Topic, "payments"));
    assert!(!a.authorize(&alice, Write, ResourceType::Topic, "payments2"));
    assert!(a.authorize(&user("bob"), Describe, ResourceType::Topic, "anything"));
    assert!(!a.authorize(&user("bob"), Read, ResourceType::Topic, "orders-eu"));
    // Another resource type with the same name is not covered.
    assert!(!a.authorize(&alice, Read, ResourceType::Group, "orders-eu"));
}

#[test]
fn deny_wins_and_hosts_match() {
    let mut deny = allow_topic("orders-eu", Literal, "User:alice", Read);
    deny.permission = PermissionType::Deny;
    let a = authorizer(vec![
        allow_topic("orders-", Prefixed, "User:alice", All),
        deny,
    ]);
    let alice = user("alice");
    assert!(!a.authorize(&alice, Read, ResourceType::Topic, "orders-eu"));
    assert!(a.authorize(&alice, Write, ResourceType::Topic, "orders-eu"));
    assert!(a.authorize(&alice, Read, ResourceType::Topic, "orders-us"));
    let mut deny_all = allow_topic("*", Literal, "User:*", All);
    deny_all.permission = PermissionType::Deny;
    deny_all.host = "10.0.0.9".to_string();
    let b = authorizer(vec![
        allow_topic("t", Literal, "User:alice", Read),
        deny_all,
    ]);
    assert!(b.authorize(&alice, Read, ResourceType::Topic, "t"));
    let elsewhere = Caller {
        host: "10.0.0.9".to_string(),
        ..alice.clone()
    };
    assert!(!b.authorize(&elsewhere, Read, ResourceType::Topic, "t"));
    let mut on_host = allow_topic("t", Literal, "User:alice", Read);
    on_host.host = "10.0.0.2".to_string();
    let c = authorizer(vec![on_host]);
    assert!(!c.authorize(&alice, Read, ResourceType::Topic, "t"));
}

#[test]
fn implied_operations_and_super_users() {
    let a = authorizer(vec![
        allow_topic("r", Literal, "User:alice", Read),
        allow_topic("c", Literal, "User:alice", AlterConfigs),
    ]);
    let alice = user("alice");
    assert!(a.authorize(&alice, Describe, ResourceType::Topic, "r"));
    assert!(!a.authorize(&alice, DescribeConfigs, ResourceType::Topic, "r"));
    assert!(a.authorize(&alice, DescribeConfigs, ResourceType::Topic, "c"));
    assert!(!a.authorize(&alice, Describe, ResourceType::Topic, "c"));
    // Describe does not imply Read.
    let b = authorizer(vec![allow_topic("d", Literal, "User:alice", Describe)]);
    assert!(!b.authorize(&alice, Read, ResourceType::Topic, "d"));
    // Bits: Read and Describe of a topic.
    assert_eq!(
        a.authorized_operations(&alice, ResourceType::Topic, "r"),
        (1 << 3) | (1 << 8)
    );
    let mut sup = authorizer(vec![{
        let mut d = allow_topic("*", Literal, "User:*", All);
        d.permission = PermissionType::Deny;
        d
    }]);
    Arc::make_mut(&mut sup.config).super_users = vec!["User:admin".to_string()];
    assert!(sup.authorize(&user("admin"), Delete, ResourceType::Topic, "x"));
    assert!(!sup.authorize(&user("alice"), Delete, ResourceType::Topic, "x"));
}

#[test]
fn any_resource_of_a_type() {
    let alice = user("alice");
    let a = authorizer(vec![allow_topic("t", Literal, "User:alice", Write)]);
    assert!(a.authorize_any(&alice, Write, ResourceType::Topic));
    assert!(!a.authorize_any(&alice, Write, ResourceType::Group));
    assert!(!a.authorize_any(&user("bob"), Write, ResourceType::Topic));
    let mut deny_prefix = allow_topic("t", Prefixed, "User:alice", Write);
    deny_prefix.permission = PermissionType::Deny;
    let b = authorizer(vec![
        allow_topic("tx", Literal, "User:alice", Write),
        deny_prefix,
    ]);
    assert!(!b.authorize_any(&alice, Write, ResourceType::Topic));
}

#[test]
fn filters_select_as_kafka() {
    let literal = allow_topic("orders", Literal, "User:alice", Read);
    let prefixed = allow_topic("ord", Prefixed, "User:alice", Read);
    let wildcard = allow_topic("*", Literal, "User:bob", Write);
    let filter = |name: Option<&str>, pattern: PatternType| AclBindingFilter {
        resource_name: name.map(str::to_string),
        pattern_type: pattern,
        ..AclBindingFilter::any()
    };
    let matched = |f: &AclBindingFilter| {
        [&literal, &prefixed, &wildcard]
            .iter()
            .filter(|a| f.matches(a))
            .count()
    };
    assert_eq!(matched(&AclBindingFilter::any()), 3);
    assert_eq!(matched(&filter(Some("orders"), PatternType::Match)), 3);
    assert_eq!(matched(&filter(Some("orders"), PatternType::Any)), 1);
    assert_eq!(matched(&filter(Some("orders"), Literal)), 1);
    assert_eq!(matched(&filter(Some("ord"), Prefixed)), 1);
    assert_eq!(matched(&filter(None, Prefixed)), 1);
    let by_principal = AclBindingFilter {
        principal: Some("User:bob".to_string()),
        ..AclBindingFilter::any()
    };
    assert_eq!(matched(&by_principal), 1);
    let by_op = AclBindingFilter {
        operation: Write,
        ..AclBindingFilter::any()
    };
    assert_eq!(matched(&by_op), 1);
    assert!(
        AclBindingFilter {
            operation: Unknown,
            ..AclBindingFilter::any()
        }
        .invalid()
        .is_some()
    );
}

#[test]
fn new_acls_are_validated() {
    let good = allow_topic("t", Literal, "User:alice", Read);
    assert_eq!(good.invalid(), None);
    let bad = |f: fn(&mut AclBinding)| {
        let mut a = good.clone();
        f(&mut a);
        a.invalid()
    };
    assert!(bad(|a| a.pattern_type = PatternType::Match).is_some());
    assert!(bad(|a| a.operation = Any).is_some());
    assert!(bad(|a| a.permission = PermissionType::Any).is_some());
    assert!(bad(|a| a.resource_name.clear()).is_some());
    assert!(bad(|a| a.principal = "alice".into()).is_some());
    assert!(bad(|a| a.resource_type = ResourceType::Any).is_some());
    assert!(
        bad(|a| {
            a.resource_type = ResourceType::Cluster;
            a.resource_name = "other".into()
        })
        .is_some()
    );
}

#[test]
fn names_and_codes_round_trip() {
    for op in AclOperation::ALL {
        assert_eq!(AclOperation::from_code(op as i8), op);
    }
    assert_eq!(
        AclOperation::parse("describe_configs"),
        Some(DescribeConfigs)
    );
    assert_eq!(
        AclOperation::parse("IdempotentWrite"),
        Some(IdempotentWrite)
    );
    assert_eq!(AclOperation::parse("Any"), None);
    assert_eq!(operation_upper(DescribeConfigs), "DESCRIBE_CONFIGS");
    assert_eq!(PatternType::from_code(4), Prefixed);
    assert_eq!(ResourceType::from_code(5), ResourceType::TransactionalId);
    assert_eq!(PermissionType::from_code(9), PermissionType::Unknown);
}

#[test]
fn configs_parse_with_kafka_names() {
    let mut c = AuthorizerConfig::default();
    c.set("authorizer.class.name", STANDARD_AUTHORIZER).unwrap();
    c.set("super.users", "User:admin; User:CN=x,O=y").unwrap();
    c.set("allow.everyone.if.no.acl.found", "TRUE").unwrap();
    assert!(c.enabled && c.allow_everyone_if_no_acl_found);
    assert_eq!(c.super_users, ["User:admin", "User:CN=x,O=y"]);
    assert!(
        c.set(
            "authorizer.class.name",
            "kafka.security.authorizer.AclAuthorizer"
        )
        .is_err()
    );
    assert!(c.set("super.users", "admin").is_err());
    assert!(c.set("allow.everyone.if.no.acl.found", "yes").is_err());
}
