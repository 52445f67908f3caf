//! The index against the plain scan: on random ACL sets (names from a small alphabet, so that
//! literal names, `*` and prefixes collide often, including multi-byte characters), every check
//! answers as `scan::authorize` does, before and after ACLs are removed.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        proptest::collection::vec(
            prop_oneof![Just('a'), Just('b'), Just('é'), Just('-')],
            1..5
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn acl() -> impl Strategy<Value = AclBinding> {
    (
        prop_oneof![Just(ResourceType::Topic), Just(ResourceType::Group)],
        name(),
        prop_oneof![Just(PatternType::Literal), Just(PatternType::Prefixed)],
        prop_oneof![Just("User:a"), Just("User:b"), Just("User:*")],
        prop_oneof![Just("*"), Just("10.0.0.1"), Just("10.0.0.2")],
        prop_oneof![
            Just(AclOperation::All),
            Just(AclOperation::Read),
            Just(AclOperation::Write),
            Just(AclOperation::Describe),
        ],
        prop_oneof![Just(PermissionType::Allow), Just(PermissionType::Deny)],
    )
        .prop_map(
            |(
                resource_type,
                resource_name,
                pattern_type,
                principal,
                host,
                operation,
                permission,
            )| {
                AclBinding {
                    resource_type,
                    resource_name,
                    pattern_type,
                    principal: principal.to_string(),
                    host: host.to_string(),
                    operation,
                    permission,
                }
            },
        )
}

fn check_all(authorizer: &Authorizer, queries: &[String]) {
    let acls = authorizer.acls.by_id();
    for principal in ["User:a", "User:b", "User:c"] {
        for host in ["10.0.0.1", "10.0.0.2"] {
            let caller = Caller {
                principal: principal.to_string(),
                host: host.to_string(),
            };
            for name in queries {
                for resource_type in [ResourceType::Topic, ResourceType::Group] {
                    for op in [
                        AclOperation::Read,
                        AclOperation::Write,
                        AclOperation::Describe,
                        AclOperation::Delete,
                    ] {
                        assert_eq!(
                            authorizer.authorize(&caller, op, resource_type, name),
                            scan::authorize(
                                &authorizer.config,
                                acls,
                                &caller,
                                op,
                                resource_type,
                                name
                            ),
                            "{caller:?} {op:?} {resource_type:?} {name:?} over {acls:#?}"
                        );
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_index_decides_as_the_scan(
        acls in proptest::collection::vec(acl(), 0..24),
        queries in proptest::collection::vec(name(), 1..6),
        everyone in any::<bool>(),
        removed in proptest::collection::vec(any::<proptest::sample::Index>(), 0..8),
    ) {
        let mut authorizer = Authorizer {
            config: Arc::new(AuthorizerConfig {
                enabled: true,
                allow_everyone_if_no_acl_found: everyone,
                ..AuthorizerConfig::default()
            }),
            acls: Arc::new(acls.iter().cloned().enumerate().map(|(i, a)| (i as u64, a)).collect()),
        };
        // The ACLs' own names are queried too, and their extensions.
        let mut queries = queries;
        queries.extend(acls.iter().map(|a| a.resource_name.clone()));
        queries.extend(acls.iter().map(|a| format!("{}a", a.resource_name)));
        check_all(&authorizer, &queries);
        if !acls.is_empty() {
            let index = Arc::make_mut(&mut authorizer.acls);
            for r in removed {
                let id = r.index(acls.len()) as u64;
                let had = index.by_id().contains_key(&id);
                prop_assert_eq!(index.remove(id).is_some(), had);
                prop_assert!(!index.by_id().contains_key(&id));
            }
            let rebuilt = AclIndex::from(index.by_id().clone());
            prop_assert!(rebuilt == *index);
            check_all(&authorizer, &queries);
        }
    }
}
