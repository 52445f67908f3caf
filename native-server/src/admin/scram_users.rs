//! `partita configs --entity-type users`: SCRAM credentials, as `kafka-configs.sh` handles
//! them with `--bootstrap-server` (KIP-554): `--alter --add-config
//! 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=...]'`
//! (salted here, as Kafka's AdminClient does: a fresh random salt and PBKDF2, only the salt and
//! the salted password travel), `--delete-config SCRAM-SHA-512`, and `--describe` printing
//! `SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192`.
//! Client quotas (the other user configs) are not supported.

use anyhow::{Context, bail};
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;
use partita_core::controller::{SCRAM_MIN_ITERATIONS, ScramMechanism};

use super::check;
use crate::cli::ConfigsArgs;
use crate::client::KafkaClient;
use crate::kafka::scram_keys::{random_salt, salted_password};
use crate::kafka::scram_spec::parse_list;

/// Run `--describe` or `--alter` for `--entity-type users`.
pub fn run(args: &ConfigsArgs) -> anyhow::Result<String> {
    if args.entity_default {
        bail!(
            "The use of --entity-default or --user-defaults is not allowed with User SCRAM \
             Credentials using --bootstrap-server."
        );
    }
    if args.describe {
        let mut client = super::connect_bootstrap(&args.bootstrap_server, &args.login)?;
        describe(&mut client, args.entity_name.as_deref())
    } else {
        let user = args
            .entity_name
            .as_deref()
            .context("--alter --entity-type users needs --entity-name")?;
        let request = alteration(args, user)?;
        super::retry_not_controller(&args.bootstrap_server, &args.login, |client| {
            let response = client.call(&request, 0)?;
            for result in &response.results {
                check(
                    result.error_code,
                    &format!(
                        "altering the SCRAM credentials of user {}",
                        result.user.as_str()
                    ),
                    result.error_message.as_deref(),
                )?;
            }
            Ok(format!("Completed updating config for user {user}.\n"))
        })
    }
}

/// The AlterUserScramCredentials request of `--add-config` and `--delete-config`.
fn alteration(args: &ConfigsArgs, user: &str) -> anyhow::Result<AlterUserScramCredentialsRequest> {
    let specs = match &args.add_config {
        Some(text) => parse_list(text).map_err(|e| {
            anyhow::anyhow!(
                "{e:#} (only SCRAM credential configs can be added for 'users' using \
                 --bootstrap-server)"
            )
        })?,
        None => Vec::new(),
    };
    let mut upsertions = Vec::new();
    for spec in specs {
        let mechanism = spec.mechanism;
        if spec.iterations < SCRAM_MIN_ITERATIONS {
            bail!(
                "Iterations {} is less than the minimum {SCRAM_MIN_ITERATIONS} required for {}",
                spec.iterations,
                mechanism.mechanism_name()
            );
        }
        let salt = random_salt()?;
        let rounds = u32::try_from(spec.iterations).context("iterations")?;
        let salted = salted_password(mechanism, spec.password.as_bytes(), &salt, rounds);
        upsertions.push(
            ScramCredentialUpsertion::default()
                .with_name(StrBytes::from_string(user.to_string()))
                .with_mechanism(mechanism.wire_type())
                .with_iterations(spec.iterations)
                .with_salt(salt.into())
                .with_salted_password(salted.into()),
        );
    }
    let mut deletions = Vec::new();
    for name in args.delete_config.iter().map(|n| n.trim()) {
        let mechanism = ScramMechanism::from_mechanism_name(name).with_context(|| {
            format!(
                "Only SCRAM credential configs can be deleted for 'users' using \
                 --bootstrap-server (quotas are not supported). Unexpected config names: {name}"
            )
        })?;
        deletions.push(
            ScramCredentialDeletion::default()
                .with_name(StrBytes::from_string(user.to_string()))
                .with_mechanism(mechanism.wire_type()),
        );
    }
    if upsertions.is_empty() && deletions.is_empty() {
        bail!("--alter needs --add-config or --delete-config");
    }
    Ok(AlterUserScramCredentialsRequest::default()
        .with_upsertions(upsertions)
        .with_deletions(deletions))
}

/// Kafka's lines for each user (every user with a credential when `user` is `None`); a
/// user without one prints nothing, as kafka-configs.sh does.
fn describe(client: &mut KafkaClient, user: Option<&str>) -> anyhow::Result<String> {
    let users = user.map(|u| vec![UserName::default().with_name(StrBytes::from_string(u.into()))]);
    let response = client.call(
        &DescribeUserScramCredentialsRequest::default().with_users(users),
        0,
    )?;
    check(
        response.error_code,
        "describing SCRAM credentials",
        response.error_message.as_deref(),
    )?;
    let mut out = String::new();
    for result in &response.results {
        let user = result.user.as_str();
        if result.error_code == ErrorCode::RESOURCE_NOT_FOUND.code() {
            continue;
        }
        if result.error_code != 0 {
            let name = ErrorCode::from_code(result.error_code).map_or("UNKNOWN", ErrorCode::name);
            out.push_str(&format!(
                "Error retrieving SCRAM credential configs for user-principal '{user}': {name}: {}\n",
                result.error_message.as_deref().unwrap_or_default()
            ));
            continue;
        }
        let text: Vec<String> = result
            .credential_infos
            .iter()
            .map(|info| {
                let name = ScramMechanism::from_wire_type(info.mechanism)
                    .map_or("UNKNOWN", ScramMechanism::mechanism_name);
                format!("{name}=iterations={}", info.iterations)
            })
            .collect();
        out.push_str(&format!(
            "SCRAM credential configs for user-principal '{user}' are {}\n",
            text.join(", ")
        ));
    }
    Ok(out)
}
