//! Kafka's text for SCRAM credentials on a command line: `MECHANISM=[key=value,...]`, as
//! `kafka-configs.sh --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],
//! SCRAM-SHA-512=[password=alice-secret]'` and `kafka-storage.sh format --add-scram
//! 'SCRAM-SHA-256=[name=admin,password=admin-secret]'` take it. A value may be in double
//! quotes to hold a comma or a bracket (`password="a,b"`).

use anyhow::{Context, bail, ensure};
use partita_core::controller::ScramMechanism;

/// Kafka's default iteration count when none is given (`ConfigCommand`'s and
/// `kafka-storage.sh`'s).
pub const DEFAULT_ITERATIONS: i32 = 4096;

/// One `MECHANISM=[...]` entry.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramSpec {
    pub mechanism: ScramMechanism,
    /// `name=` (for `--add-scram`; `partita configs` names the user with --entity-name).
    pub name: Option<String>,
    pub password: String,
    pub iterations: i32,
}

impl std::fmt::Debug for ScramSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramSpec")
            .field("mechanism", &self.mechanism)
            .field("name", &self.name)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// Reads every `MECHANISM=[...]` entry of `text` (separated by commas outside brackets).
pub fn parse_list(text: &str) -> anyhow::Result<Vec<ScramSpec>> {
    split_outside(text, ',', true)?
        .into_iter()
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| parse_one(entry.trim()))
        .collect()
}

/// Reads one `MECHANISM=[key=value,...]` entry.
pub fn parse_one(entry: &str) -> anyhow::Result<ScramSpec> {
    let (mechanism, body) = entry
        .split_once('=')
        .with_context(|| format!("{entry:?}: expected MECHANISM=[key=value,...]"))?;
    let mechanism = ScramMechanism::from_mechanism_name(mechanism.trim()).with_context(|| {
        format!("{entry:?}: unknown SCRAM mechanism {mechanism:?} (SCRAM-SHA-256 or SCRAM-SHA-512)")
    })?;
    let body = body
        .trim()
        .strip_prefix('[')
        .and_then(|b| b.strip_suffix(']'))
        .with_context(|| format!("{entry:?}: the value goes in brackets, [key=value,...]"))?;
    let (mut name, mut password, mut iterations) = (None, None, None);
    for pair in split_outside(body, ',', false)? {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("{entry:?}: {pair:?} is not key=value"))?;
        let value = unquote(value.trim());
        match key.trim() {
            "name" => name = Some(value),
            "password" => password = Some(value),
            "iterations" => {
                let n: i32 = value
                    .parse()
                    .with_context(|| format!("{entry:?}: iterations={value} is not a number"))?;
                // -1 means the default, as in ConfigCommand.
                iterations = Some(if n == -1 { DEFAULT_ITERATIONS } else { n });
            }
            other => bail!(
                "{entry:?}: unknown key {other:?} (name, password and iterations are supported; \
                 salt and saltedpassword are not)"
            ),
        }
    }
    let password = password.with_context(|| format!("{entry:?}: password= is missing"))?;
    ensure!(!password.is_empty(), "{entry:?}: the password is empty");
    Ok(ScramSpec {
        mechanism,
        name,
        password,
        iterations: iterations.unwrap_or(DEFAULT_ITERATIONS),
    })
}

/// Splits at `sep` outside double quotes (and, with `brackets`, outside `[...]`).
fn split_outside(text: &str, sep: char, brackets: bool) -> anyhow::Result<Vec<&str>> {
    let (mut parts, mut start, mut depth, mut quoted) = (Vec::new(), 0, 0i32, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if brackets && !quoted => depth += 1,
            ']' if brackets && !quoted => depth -= 1,
            c if c == sep && !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
        ensure!(depth >= 0, "{text:?}: unbalanced brackets");
    }
    ensure!(!quoted, "{text:?}: unclosed quote");
    ensure!(depth == 0, "{text:?}: unbalanced brackets");
    parts.push(&text[start..]);
    Ok(parts)
}

fn unquote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_configs_and_kafka_storage_syntax() {
        let specs = parse_list(
            "SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]",
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].mechanism, ScramMechanism::ScramSha256);
        assert_eq!((specs[0].iterations, specs[1].iterations), (8192, 4096));
        assert_eq!(specs[1].password, "alice-secret");
        let admin = parse_one("SCRAM-SHA-256=[name=admin,password=\"a,b]c\"]").unwrap();
        assert_eq!(admin.name.as_deref(), Some("admin"));
        assert_eq!(admin.password, "a,b]c");
        for bad in [
            "SCRAM-SHA-1=[password=x]",
            "SCRAM-SHA-256=password=x",
            "SCRAM-SHA-256=[name=a]",
            "SCRAM-SHA-256=[password=x,iterations=many]",
            "SCRAM-SHA-256=[password=x,salt=abc]",
            "SCRAM-SHA-256=[password=\"x]",
        ] {
            assert!(parse_one(bad).is_err(), "{bad}");
        }
        assert!(parse_list("SCRAM-SHA-256=[password=x").is_err());
        assert!(
            !format!("{admin:?}").contains("a,b"),
            "no password in debug output"
        );
    }
}
