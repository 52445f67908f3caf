//! `ssl.principal.mapping.rules` (KIP-371, Kafka's `SslPrincipalMapper`): how the subject of a
//! client certificate, in RFC 2253 form (`CN=alice,O=Example,C=NO`), becomes the name of the
//! principal (`User:alice`).
//!
//! The value is a list of rules separated by commas, tried in order; the first that matches
//! names the principal, and a name no rule matches refuses the client (Kafka's
//! `NoMatchingRule`, which fails the authentication and closes the connection):
//! - `DEFAULT`: the distinguished name as it is;
//! - `RULE:pattern/replacement/` with an optional `L` or `U` after the last `/`: when the
//!   pattern (a regular expression) matches the whole name, every match of it in the name is
//!   replaced as Java's `String.replaceAll` does (`$1` a group, `\` escapes the next character),
//!   then the result is put in lower (`L`) or upper (`U`) case. Inside the pattern and the
//!   replacement, `\/` is a `/` and `\\` a backslash.
//!
//! The value is split and parsed as Kafka does (its two regular expressions, which the `regex`
//! crate runs with the same leftmost-first semantics), so a value Kafka refuses is refused:
//! `Invalid rule: ...`. Two differences, both refusals at start instead of failures at
//! connection time: a pattern must be valid for the `regex` crate (Java-only constructs such as
//! lookaround and back-references are not), and a replacement may only name groups the pattern
//! has once Kafka's own correction is applied (a `$n` above the number of groups is a literal,
//! as Kafka's `Rule.escapeLiteralBackReferences` makes it, except when the pattern has no
//! group at all).

use std::fmt;
use std::sync::LazyLock;

use anyhow::{Context, bail};
use regex::{Captures, Regex};

/// Kafka's default value (`BrokerSecurityConfigs.DEFAULT_SSL_PRINCIPAL_MAPPING_RULES`).
pub const DEFAULT_RULES: &str = "DEFAULT";

/// One rule, as Kafka's `RULE_PATTERN` reads it: group 1 `DEFAULT`; groups 2 and 4 the pattern
/// and the replacement (`\` escapes the next character, `/` ends them); group 6 `L`, `U` or
/// nothing; anything else is group 7 (an invalid or empty rule).
const RULE_PATTERN: &str = r"(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)";

/// Java's `\s`: ASCII whitespace.
const JAVA_SPACE: &str = r"[ \t\n\x0B\x0C\r]";

static RULE_SPLITTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"{JAVA_SPACE}*({RULE_PATTERN}){JAVA_SPACE}*(,{JAVA_SPACE}*|$)"
    ))
    .expect("Kafka's RULE_SPLITTER")
});

static RULE_PARSER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"\A(?:{RULE_PATTERN})")).expect("Kafka's RULE_PARSER"));

/// The parsed `ssl.principal.mapping.rules`.
#[derive(Clone, Debug)]
pub struct SslPrincipalMapper {
    rules: Vec<Rule>,
}

impl Default for SslPrincipalMapper {
    /// The `DEFAULT` rule alone: the distinguished name is the principal's name.
    fn default() -> SslPrincipalMapper {
        SslPrincipalMapper {
            rules: vec![Rule::Default],
        }
    }
}

#[derive(Clone, Debug)]
enum Rule {
    Default,
    Replace(Replace),
}

#[derive(Clone, Debug)]
struct Replace {
    /// As written (Kafka prints rules with it).
    pattern_text: String,
    replacement_text: String,
    /// The pattern anchored at both ends (Java's `Matcher.matches`).
    whole: Regex,
    /// The pattern as written (Java's `replaceAll`).
    pattern: Regex,
    replacement: Vec<Piece>,
    case: Case,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    Keep,
    Lower,
    Upper,
}

/// A replacement, as Java's `Matcher.appendReplacement` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Group(usize),
    Named(String),
}

impl SslPrincipalMapper {
    /// Parses the config's value; an error says which rule is invalid and why (Kafka's
    /// `IllegalArgumentException` messages, or the regular expression's error).
    pub fn parse(rules: &str) -> anyhow::Result<SslPrincipalMapper> {
        let mut parsed = Vec::new();
        for rule in split(rules) {
            let captures = RULE_PARSER
                .captures(rule)
                .expect("group 7 matches anything");
            let end = captures.get(0).map_or(0, |m| m.end());
            if end != rule.len() {
                bail!(
                    "Invalid rule: `{rule}`, unmatched substring: `{}`",
                    &rule[end..]
                );
            }
            if captures.get(1).is_some() {
                parsed.push(Rule::Default);
            } else if let (Some(pattern), Some(replacement)) = (captures.get(2), captures.get(4)) {
                let case = match captures.get(6).map(|m| m.as_str()) {
                    Some("L") => Case::Lower,
                    Some("U") => Case::Upper,
                    _ => Case::Keep,
                };
                parsed.push(Rule::Replace(
                    Replace::new(pattern.as_str(), replacement.as_str(), case)
                        .with_context(|| format!("Invalid rule: `{rule}`"))?,
                ));
            }
            // Anything else is an empty rule: ignored.
        }
        Ok(SslPrincipalMapper { rules: parsed })
    }

    /// The principal's name for the distinguished name `dn` (RFC 2253); an error when no rule
    /// applies (Kafka's `NoMatchingRule`).
    pub fn name(&self, dn: &str) -> anyhow::Result<String> {
        for rule in &self.rules {
            let mapped = match rule {
                Rule::Default => Some(dn.to_string()),
                Rule::Replace(replace) => replace.apply(dn),
            };
            if let Some(name) = mapped {
                return Ok(name);
            }
        }
        bail!("No rules apply to {dn}, rules {}", RuleList(&self.rules))
    }
}

/// The rules of the value as Kafka's `RULE_SPLITTER` finds them (empty ones included, as
/// Kafka's `splitRules`; its parser then ignores them).
fn split(rules: &str) -> Vec<&str> {
    let trimmed = rules.trim_matches(|c: char| c <= ' ');
    RULE_SPLITTER
        .captures_iter(trimmed)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect()
}

impl Replace {
    fn new(pattern_text: &str, replacement_text: &str, case: Case) -> anyhow::Result<Replace> {
        let pattern = Regex::new(pattern_text)
            .with_context(|| format!("the pattern {pattern_text:?} does not compile"))?;
        let whole = Regex::new(&format!(r"\A(?:{pattern_text})\z"))
            .with_context(|| format!("the pattern {pattern_text:?} does not compile"))?;
        let groups = pattern.captures_len() - 1;
        let corrected = escape_missing_groups(replacement_text, groups);
        let replacement = pieces(&corrected, groups, &pattern)
            .with_context(|| format!("the replacement {replacement_text:?}"))?;
        Ok(Replace {
            pattern_text: pattern_text.to_string(),
            replacement_text: replacement_text.to_string(),
            whole,
            pattern,
            replacement,
            case,
        })
    }

    /// Kafka's `Rule.apply`: `None` when the pattern does not match the whole name.
    fn apply(&self, dn: &str) -> Option<String> {
        if !self.whole.is_match(dn) {
            return None;
        }
        let replaced = self
            .pattern
            .replace_all(dn, |captures: &Captures| self.expand(captures))
            .into_owned();
        Some(match self.case {
            Case::Keep => replaced,
            Case::Lower => replaced.to_lowercase(),
            Case::Upper => replaced.to_uppercase(),
        })
    }

    fn expand(&self, captures: &Captures) -> String {
        let mut out = String::new();
        for piece in &self.replacement {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Group(n) => out.push_str(captures.get(*n).map_or("", |m| m.as_str())),
                Piece::Named(name) => out.push_str(captures.name(name).map_or("", |m| m.as_str())),
            }
        }
        out
    }
}

/// Kafka's `escapeLiteralBackReferences`: with at least one group, a `$n` whose number (cut
/// down digit by digit while it is 10 or more) is still above the number of groups becomes
/// the literal `$n`.
fn escape_missing_groups(replacement: &str, groups: usize) -> String {
    if groups == 0 {
        return replacement.to_string();
    }
    let mut out = String::with_capacity(replacement.len());
    let mut rest = replacement;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let escaped = digits > 0 && !after.starts_with('0') && {
            // Saturates: a number too long for usize is above any group count.
            let mut n: usize = after[..digits].parse().unwrap_or(usize::MAX);
            while n > groups && n >= 10 {
                n /= 10;
            }
            n > groups
        };
        if escaped {
            out.push('\\');
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A replacement read as Java's `Matcher.appendReplacement` reads it: `\x` is `x`; `$` and
/// digits a group (the first digit always, each further digit while the number stays within
/// the groups); `${name}` a named group.
fn pieces(replacement: &str, groups: usize, pattern: &Regex) -> anyhow::Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => text.push(escaped),
                None => bail!("character to be escaped is missing"),
            },
            '$' => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    if !pattern.capture_names().flatten().any(|n| n == name) {
                        bail!("No group with name {{{name}}}");
                    }
                    pieces.push(Piece::Named(name));
                    continue;
                }
                let Some(first) = chars.next().and_then(|d| d.to_digit(10)) else {
                    bail!("Illegal group reference");
                };
                let mut group = first as usize;
                if group > groups {
                    bail!("No group {group}: the pattern has {groups}");
                }
                while let Some(next) = chars.peek().and_then(|d| d.to_digit(10)) {
                    let longer = group * 10 + next as usize;
                    if longer > groups {
                        break;
                    }
                    group = longer;
                    chars.next();
                }
                pieces.push(Piece::Group(group));
            }
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

impl fmt::Display for Rule {
    /// As Kafka's `Rule.toString`: `DEFAULT`, or `RULE:pattern/replacement` and `/L` or `/U`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Default => write!(f, "DEFAULT"),
            Rule::Replace(r) => {
                write!(f, "RULE:{}/{}", r.pattern_text, r.replacement_text)?;
                match r.case {
                    Case::Lower => write!(f, "/L"),
                    Case::Upper => write!(f, "/U"),
                    Case::Keep => Ok(()),
                }
            }
        }
    }
}

/// The rules as Java prints a list: `[RULE:..., DEFAULT]`.
struct RuleList<'a>(&'a [Rule]);

impl fmt::Display for RuleList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, rule) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{rule}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Display for SslPrincipalMapper {
    /// As Kafka's `SslPrincipalMapper.toString`: `SslPrincipalMapper(rules = [...])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SslPrincipalMapper(rules = {})", RuleList(&self.rules))
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
