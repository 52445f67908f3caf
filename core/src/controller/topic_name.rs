//! Kafka's rules for topic names.
//!
//! Names end up in file names (`<topic>-<partition>` directories) and metric names, hence the
//! small alphabet and the length limit. Metric names turn '.' into '_', so two topics whose
//! names differ only there would collide; Kafka refuses the second one, and so does Partita.

/// The longest legal topic name (Kafka's `Topic.MAX_NAME_LENGTH`).
pub const TOPIC_NAME_LENGTH_MAX: usize = 249;

/// `Err(message)` if `name` is not a legal topic name.
pub fn validate(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Topic name is illegal, it can't be empty".to_string());
    }
    if name == "." || name == ".." {
        return Err("Topic name cannot be \".\" or \"..\"".to_string());
    }
    if name.len() > TOPIC_NAME_LENGTH_MAX {
        return Err(format!(
            "Topic name is illegal, it can't be longer than {TOPIC_NAME_LENGTH_MAX} characters, topic name: {name}"
        ));
    }
    if !name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-')
    {
        return Err(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// Kafka's internal topics (`Topic.INTERNAL_TOPICS`): the group coordinator's offsets and the
/// transaction coordinator's state. Clients cannot produce to them
/// ([`Broker::produce`](crate::broker::Broker::produce)), and Metadata marks them
/// `is_internal`.
pub const INTERNAL_TOPICS: [&str; 2] = ["__consumer_offsets", "__transaction_state"];

/// Whether `name` is one of Kafka's internal topics (`Topic.isInternal`).
pub fn is_internal(name: &str) -> bool {
    INTERNAL_TOPICS.contains(&name)
}

/// Whether two names would collide in metric names ('.' and '_' are the same there).
pub(super) fn collide(a: &str, b: &str) -> bool {
    a != b && a.replace('.', "_") == b.replace('.', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expect: &str) {
        let actual = match validate(name) {
            Ok(()) => "ok".to_string(),
            Err(message) => message,
        };
        assert_eq!(actual, expect, "{name:?}");
    }

    #[test]
    fn kafkas_alphabet_and_limits() {
        check("orders", "ok");
        check("a.b_c-D9", "ok");
        check(&"x".repeat(249), "ok");
        check("", "Topic name is illegal, it can't be empty");
        check("..", "Topic name cannot be \".\" or \"..\"");
        check(
            "a b",
            "Topic name \"a b\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'",
        );
        check(
            "é",
            "Topic name \"é\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'",
        );
        assert!(
            validate(&"x".repeat(250))
                .unwrap_err()
                .contains("longer than 249")
        );
    }

    #[test]
    fn dots_and_underscores_collide() {
        assert!(collide("a.b", "a_b"));
        assert!(!collide("a.b", "a.b"));
        assert!(!collide("a.b", "a-b"));
    }
}
