//! Parsing of Kafka's value types (LONG, INT, BOOLEAN) with their range checks.
//!
//! Kafka trims values and reads booleans case-insensitively; the same here, so a config that a
//! real broker accepts is accepted by Partita too.

use super::ConfigError;

fn invalid(key: &'static str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidValue {
        key,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// A LONG that must be at least `min`.
pub(super) fn long_at_least(key: &'static str, value: &str, min: i64) -> Result<i64, ConfigError> {
    let parsed: i64 = value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, "Not a number of type LONG"))?;
    if parsed < min {
        return Err(invalid(key, value, format!("Value must be at least {min}")));
    }
    Ok(parsed)
}

/// An INT that must be at least `min` (and, being an INT, at most `i32::MAX`).
pub(super) fn int_at_least(key: &'static str, value: &str, min: i32) -> Result<i32, ConfigError> {
    let parsed: i32 = value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, "Not a number of type INT"))?;
    if parsed < min {
        return Err(invalid(key, value, format!("Value must be at least {min}")));
    }
    Ok(parsed)
}

/// A BOOLEAN: `true` or `false`, in any case.
pub(super) fn boolean(key: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(
            key,
            value,
            "Expected value to be either true or false",
        )),
    }
}

/// One of a fixed list of strings, compared case-insensitively as Kafka's `ValidString` does
/// for these keys.
pub(super) fn one_of<T: Copy>(
    key: &'static str,
    value: &str,
    choices: &[(&str, T)],
) -> Result<T, ConfigError> {
    let wanted = value.trim().to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            invalid(
                key,
                value,
                format!("String must be one of: {}", names.join(", ")),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_trimmed_and_range_checked() {
        assert_eq!(long_at_least("k", " 42 ", -1), Ok(42));
        assert_eq!(long_at_least("k", "-1", -1), Ok(-1));
        assert!(long_at_least("k", "-2", -1).is_err());
        assert!(long_at_least("k", "1e3", 0).is_err());
        assert_eq!(int_at_least("k", "7", 1), Ok(7));
        assert!(int_at_least("k", "2147483648", 1).is_err());
    }

    #[test]
    fn booleans_ignore_case() {
        assert_eq!(boolean("k", "TRUE"), Ok(true));
        assert_eq!(boolean("k", "false"), Ok(false));
        let err = boolean("k", "yes").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value \"yes\" for configuration k: Expected value to be either true or false"
        );
    }
}
