//! Authorization checks per second over 10, 1,000 and 100,000 ACLs: the plain scan of every
//! ACL (`acl::scan`, what the authorizer did before) against the index by resource
//! (`acl::Authorizer`). Prints a table; the figures depend on the machine.
//!
//! The ACLs look like a multi-tenant cluster's: per user, Read or Write on literal topics,
//! a prefixed ACL per team (`team-<n>-`), and Read on consumer groups; the checks ask for
//! topics that exist and topics that no ACL names, with principals that have ACLs and not.
//!
//! Run: `cargo bench -p partita-core --bench acl`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use partita_core::acl::{
    AclBinding, AclIndex, AclMap, AclOperation, Authorizer, AuthorizerConfig, Caller, PatternType,
    PermissionType, ResourceType, scan,
};

/// A small deterministic generator (xorshift64*), so every run measures the same ACLs.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % below
    }
}

fn acls(count: usize) -> AclMap {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let topics = (count / 4).max(1) as u64;
    let users = (count / 10).max(1) as u64;
    (0..count as u64)
        .map(|id| {
            let user = format!("User:u{}", rng.next(users));
            let (resource_type, name, pattern_type, operation) = match id % 10 {
                0 => (
                    ResourceType::Topic,
                    format!("team-{}-", rng.next(topics / 8 + 1)),
                    PatternType::Prefixed,
                    AclOperation::Read,
                ),
                1 => (
                    ResourceType::Group,
                    format!("group-{}", rng.next(topics)),
                    PatternType::Literal,
                    AclOperation::Read,
                ),
                2..=5 => (
                    ResourceType::Topic,
                    format!(
                        "team-{}-topic-{}",
                        rng.next(topics / 8 + 1),
                        rng.next(topics)
                    ),
                    PatternType::Literal,
                    AclOperation::Write,
                ),
                _ => (
                    ResourceType::Topic,
                    format!("topic-{}", rng.next(topics)),
                    PatternType::Literal,
                    AclOperation::Read,
                ),
            };
            let acl = AclBinding {
                resource_type,
                resource_name: name,
                pattern_type,
                principal: user,
                host: "*".to_string(),
                operation,
                permission: if id % 97 == 0 {
                    PermissionType::Deny
                } else {
                    PermissionType::Allow
                },
            };
            (id, acl)
        })
        .collect()
}

fn checks(count: usize) -> Vec<(Caller, AclOperation, String)> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let topics = (count / 4).max(1) as u64;
    let users = (count / 10).max(1) as u64;
    (0..1000)
        .map(|i| {
            let caller = Caller {
                principal: format!("User:u{}", rng.next(users * 2)),
                host: "10.0.0.1".to_string(),
            };
            let name = match i % 3 {
                0 => format!("topic-{}", rng.next(topics * 2)),
                1 => format!(
                    "team-{}-topic-{}",
                    rng.next(topics / 8 + 1),
                    rng.next(topics)
                ),
                _ => format!("unnamed-{i}"),
            };
            let op = if i % 2 == 0 {
                AclOperation::Read
            } else {
                AclOperation::Write
            };
            (caller, op, name)
        })
        .collect()
}

/// Checks per second of `check` over `queries`, run for about half a second.
fn rate(
    queries: &[(Caller, AclOperation, String)],
    check: impl Fn(&Caller, AclOperation, &str) -> bool,
) -> f64 {
    let started = Instant::now();
    let mut done = 0u64;
    while done < 10 || started.elapsed() < Duration::from_millis(500) {
        let (caller, op, name) = &queries[done as usize % queries.len()];
        black_box(check(caller, *op, name));
        done += 1;
    }
    done as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let config = Arc::new(AuthorizerConfig {
        enabled: true,
        ..AuthorizerConfig::default()
    });
    println!(
        "{:>8}  {:>16}  {:>16}  {:>8}",
        "ACLs", "scan checks/s", "index checks/s", "speed-up"
    );
    for count in [10, 1_000, 100_000] {
        let map = acls(count);
        let queries = checks(count);
        let authorizer = Authorizer {
            config: config.clone(),
            acls: Arc::new(AclIndex::from(map.clone())),
        };
        // The two must agree before their speeds mean anything.
        for (caller, op, name) in &queries {
            assert_eq!(
                authorizer.authorize(caller, *op, ResourceType::Topic, name),
                scan::authorize(&config, &map, caller, *op, ResourceType::Topic, name)
            );
        }
        let before = rate(&queries, |c, op, name| {
            scan::authorize(&config, &map, c, op, ResourceType::Topic, name)
        });
        let after = rate(&queries, |c, op, name| {
            authorizer.authorize(c, op, ResourceType::Topic, name)
        });
        println!(
            "{count:>8}  {before:>16.0}  {after:>16.0}  {:>7.1}x",
            after / before
        );
    }
}
