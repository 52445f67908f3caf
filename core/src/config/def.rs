//! A config's definition (Kafka's `ConfigDef.ConfigKey`): its type, default, validator and
//! documentation, and the parsing of a value string into a typed [`ConfigValue`].
//!
//! Parsing follows Kafka's `ConfigDef.parseType` and validators (`Range`, `ValidString`,
//! `ValidList`, the compression level checks, `ThrottledReplicaListValidator`), with Kafka's
//! error texts, so a value a real broker accepts is accepted here and a value it refuses is
//! refused with the same message.

use std::fmt;

use super::ConfigError;

/// A config's value type, with Kafka's `ConfigType` numbering on the wire (DescribeConfigs v3+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Long,
    Double,
    List,
}

impl ConfigType {
    /// The number DescribeConfigs sends for this type.
    pub fn code(self) -> i8 {
        match self {
            ConfigType::Boolean => 1,
            ConfigType::String => 2,
            ConfigType::Int => 3,
            ConfigType::Long => 5,
            ConfigType::Double => 6,
            ConfigType::List => 7,
        }
    }

    /// Kafka's name of the type, as its documentation tables print it (`long`, `list`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "boolean",
            ConfigType::String => "string",
            ConfigType::Int => "int",
            ConfigType::Long => "long",
            ConfigType::Double => "double",
            ConfigType::List => "list",
        }
    }

    /// Kafka's spelling in "Not a number of type LONG".
    fn upper(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
        }
    }
}

/// What a value must satisfy beyond its type: Kafka's validators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validator {
    /// Anything of the right type.
    Any,
    /// `Range.atLeast(min)`.
    AtLeast(i64),
    /// `Range.between(min, max)`, for INT, LONG and DOUBLE values.
    Between(i64, i64),
    /// `ValidString.in(...)`: one of these, case-sensitive.
    OneOf(&'static [&'static str]),
    /// `ValidList.in(...)`: every item one of these, case-sensitive.
    ListOf(&'static [&'static str]),
    /// gzip's level: 1 to 9, or -1 (the codec's default).
    GzipLevel,
    /// `ThrottledReplicaListValidator`: `*`, or `partition:broker` pairs.
    ThrottledReplicas,
}

impl Validator {
    /// Kafka's "Valid Values" column (empty for [`Validator::Any`]).
    pub fn describe(self) -> String {
        match self {
            Validator::Any => String::new(),
            Validator::AtLeast(min) => format!("[{min},...]"),
            Validator::Between(min, max) => format!("[{min},...,{max}]"),
            Validator::OneOf(names) | Validator::ListOf(names) => format!("[{}]", names.join(", ")),
            Validator::GzipLevel => "[1,...,9] or -1".to_string(),
            Validator::ThrottledReplicas => {
                "[partitionId]:[brokerId],[partitionId]:[brokerId],...".to_string()
            }
        }
    }
}

/// One config's definition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConfigDef {
    /// Kafka's name, e.g. `retention.ms` or `log.retention.hours`.
    pub name: &'static str,
    pub config_type: ConfigType,
    /// Kafka's default, spelled as DescribeConfigs reports it; `None` where Kafka's default is
    /// null (the value then comes from a lower-precedence synonym, e.g. `log.retention.ms`).
    pub default: Option<&'static str>,
    pub validator: Validator,
    /// Kafka's documentation string (DescribeConfigs v3+ with `include_documentation`).
    pub doc: &'static str,
}

/// A parsed config value.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    Boolean(bool),
    String(String),
    Int(i32),
    Long(i64),
    Double(f64),
    List(Vec<String>),
}

impl ConfigDef {
    /// A definition with Kafka's `default`.
    pub const fn new(
        name: &'static str,
        config_type: ConfigType,
        default: &'static str,
        validator: Validator,
        doc: &'static str,
    ) -> ConfigDef {
        ConfigDef {
            name,
            config_type,
            default: Some(default),
            validator,
            doc,
        }
    }

    /// A definition whose default is null in Kafka (a lower-precedence synonym supplies the
    /// value, e.g. `log.retention.ms` falls back to `log.retention.hours`).
    pub const fn null(
        name: &'static str,
        config_type: ConfigType,
        validator: Validator,
        doc: &'static str,
    ) -> ConfigDef {
        ConfigDef {
            default: None,
            ..ConfigDef::new(name, config_type, "", validator, doc)
        }
    }

    /// Parses and validates `raw` as Kafka does: trimmed, typed, then checked.
    pub fn parse(&self, raw: &str) -> Result<ConfigValue, ConfigError> {
        let trimmed = raw.trim();
        let type_error = || {
            self.invalid(
                raw,
                format!("Not a number of type {}", self.config_type.upper()),
            )
        };
        let value = match self.config_type {
            ConfigType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
                "true" => ConfigValue::Boolean(true),
                "false" => ConfigValue::Boolean(false),
                _ => return Err(self.invalid(raw, "Expected value to be either true or false")),
            },
            ConfigType::String => ConfigValue::String(trimmed.to_string()),
            ConfigType::Int => ConfigValue::Int(trimmed.parse().map_err(|_| type_error())?),
            ConfigType::Long => ConfigValue::Long(trimmed.parse().map_err(|_| type_error())?),
            ConfigType::Double => {
                ConfigValue::Double(parse_double(trimmed).ok_or_else(type_error)?)
            }
            ConfigType::List if trimmed.is_empty() => ConfigValue::List(Vec::new()),
            ConfigType::List => {
                ConfigValue::List(trimmed.split(',').map(|s| s.trim().to_string()).collect())
            }
        };
        self.validate(&value)?;
        Ok(value)
    }

    /// The parsed default, if Kafka has one.
    pub fn default_value(&self) -> Option<ConfigValue> {
        self.default.map(|raw| {
            self.parse(raw)
                .expect("every default passes its own validator")
        })
    }

    fn validate(&self, value: &ConfigValue) -> Result<(), ConfigError> {
        let shown = value.to_string();
        match (self.validator, value) {
            (Validator::Any, _) => Ok(()),
            (Validator::AtLeast(min), _) if value.as_f64() < min as f64 => {
                Err(self.invalid(&shown, format!("Value must be at least {min}")))
            }
            (Validator::Between(min, _), _)
                if value.as_f64() < min as f64 || value.as_f64().is_nan() =>
            {
                Err(self.invalid(&shown, format!("Value must be at least {min}")))
            }
            (Validator::Between(_, max), _) if value.as_f64() > max as f64 => {
                Err(self.invalid(&shown, format!("Value must be no more than {max}")))
            }
            (Validator::OneOf(names), ConfigValue::String(s)) => check_one_of(self, names, s),
            (Validator::ListOf(names), ConfigValue::List(items)) => items
                .iter()
                .try_for_each(|item| check_one_of(self, names, item)),
            (Validator::GzipLevel, ConfigValue::Int(level))
                if *level > 9 || (*level < 1 && *level != -1) =>
            {
                Err(self.invalid(&shown, "Value must be between 1 and 9 or equal to -1"))
            }
            (Validator::ThrottledReplicas, ConfigValue::List(items)) => {
                let pair = |s: &str| {
                    s.is_empty()
                        || s.split_once(':').is_some_and(|(p, b)| {
                            !p.is_empty()
                                && !b.is_empty()
                                && p.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
                        })
                };
                if items.iter().all(|s| pair(s)) || items.concat() == "*" {
                    Ok(())
                } else {
                    Err(self.invalid(
                        &format!("[{}]", items.join(", ")),
                        format!(
                            "{} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
                            self.name
                        ),
                    ))
                }
            }
            _ => Ok(()),
        }
    }

    pub(super) fn invalid(&self, value: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::InvalidValue {
            key: self.name.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

fn check_one_of(def: &ConfigDef, names: &[&str], value: &str) -> Result<(), ConfigError> {
    if names.contains(&value) {
        Ok(())
    } else {
        Err(def.invalid(
            value,
            format!("String must be one of: {}", names.join(", ")),
        ))
    }
}

/// Java's `Double.parseDouble` for the spellings people write: decimals, exponents, `NaN`,
/// `Infinity`.
fn parse_double(s: &str) -> Option<f64> {
    let s = s.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(s);
    match s.trim_start_matches(['+', '-']) {
        "Infinity" | "NaN" => s.replace("Infinity", "inf").parse().ok(),
        t if t.eq_ignore_ascii_case("inf")
            || t.eq_ignore_ascii_case("infinity")
            || t.eq_ignore_ascii_case("nan") =>
        {
            None
        }
        _ => s.parse().ok(),
    }
}

impl ConfigValue {
    /// A BOOLEAN value (false for other types, which the definitions never mix up).
    pub fn as_bool(&self) -> bool {
        matches!(self, ConfigValue::Boolean(true))
    }

    /// An INT or LONG value, widened (0 for other types).
    pub fn as_i64(&self) -> i64 {
        match self {
            ConfigValue::Int(n) => i64::from(*n),
            ConfigValue::Long(n) => *n,
            _ => 0,
        }
    }

    /// An INT value (0 for other types).
    pub fn as_i32(&self) -> i32 {
        match self {
            ConfigValue::Int(n) => *n,
            _ => 0,
        }
    }

    /// A number as a double (for range checks and DOUBLE values).
    pub fn as_f64(&self) -> f64 {
        match self {
            ConfigValue::Double(x) => *x,
            other => other.as_i64() as f64,
        }
    }

    /// A STRING value ("" for other types).
    pub fn as_str(&self) -> &str {
        match self {
            ConfigValue::String(s) => s,
            _ => "",
        }
    }

    /// A LIST value (empty for other types).
    pub fn as_list(&self) -> &[String] {
        match self {
            ConfigValue::List(items) => items,
            _ => &[],
        }
    }
}

impl fmt::Display for ConfigValue {
    /// Kafka's `ConfigDef.convertToString`: lists joined by commas, doubles as Java prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Boolean(b) => write!(f, "{b}"),
            ConfigValue::String(s) => f.write_str(s),
            ConfigValue::Int(n) => write!(f, "{n}"),
            ConfigValue::Long(n) => write!(f, "{n}"),
            ConfigValue::Double(x) => f.write_str(&java_double(*x)),
            ConfigValue::List(items) => f.write_str(&items.join(",")),
        }
    }
}

/// Java's `Double.toString`: `0.5`, `1.0`, `1.0E-4`, `1.7976931348623157E308`, `Infinity`.
fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let magnitude = x.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let plain = format!("{x}");
        return if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        };
    }
    let sci = format!("{x:E}");
    match sci.split_once('E') {
        Some((mantissa, exponent)) if !mantissa.contains('.') => format!("{mantissa}.0E{exponent}"),
        _ => sci,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn def(config_type: ConfigType, validator: Validator) -> ConfigDef {
        ConfigDef::null("k", config_type, validator, "")
    }

    fn parse(def: ConfigDef, raw: &str) -> String {
        match def.parse(raw) {
            Ok(value) => value.to_string(),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn numbers_are_trimmed_typed_and_range_checked() {
        let long = def(ConfigType::Long, Validator::AtLeast(-1));
        assert_eq!(parse(long, " 42 "), "42");
        assert_eq!(parse(long, "-1"), "-1");
        assert_eq!(
            parse(long, "-2"),
            "Invalid value -2 for configuration k: Value must be at least -1"
        );
        assert_eq!(
            parse(long, "1e3"),
            "Invalid value 1e3 for configuration k: Not a number of type LONG"
        );
        let int = def(ConfigType::Int, Validator::Between(1, 17));
        assert_eq!(
            parse(int, "2147483648"),
            "Invalid value 2147483648 for configuration k: Not a number of type INT"
        );
        assert_eq!(
            parse(int, "18"),
            "Invalid value 18 for configuration k: Value must be no more than 17"
        );
        let ratio = def(ConfigType::Double, Validator::Between(0, 1));
        assert_eq!(parse(ratio, "0.25"), "0.25");
        assert_eq!(parse(ratio, "1"), "1.0");
        assert_eq!(
            parse(ratio, "1.5"),
            "Invalid value 1.5 for configuration k: Value must be no more than 1"
        );
        assert_eq!(
            parse(ratio, "half"),
            "Invalid value half for configuration k: Not a number of type DOUBLE"
        );
        assert_eq!(parse(ratio, "1e-4"), "1.0E-4");
    }

    #[test]
    fn booleans_ignore_case_strings_do_not() {
        let boolean = def(ConfigType::Boolean, Validator::Any);
        assert_eq!(parse(boolean, "TRUE"), "true");
        assert_eq!(
            parse(boolean, "yes"),
            "Invalid value yes for configuration k: Expected value to be either true or false"
        );
        let string = def(
            ConfigType::String,
            Validator::OneOf(&["CreateTime", "LogAppendTime"]),
        );
        assert_eq!(parse(string, " LogAppendTime "), "LogAppendTime");
        assert_eq!(
            parse(string, "logappendtime"),
            "Invalid value logappendtime for configuration k: String must be one of: CreateTime, LogAppendTime"
        );
    }

    #[test]
    fn lists_split_on_commas_and_check_each_item() {
        let list = def(ConfigType::List, Validator::ListOf(&["compact", "delete"]));
        assert_eq!(parse(list, "delete , compact"), "delete,compact");
        assert_eq!(parse(list, ""), "");
        assert_eq!(
            parse(list, "delete,archive"),
            "Invalid value archive for configuration k: String must be one of: compact, delete"
        );
        let throttled = def(ConfigType::List, Validator::ThrottledReplicas);
        assert_eq!(parse(throttled, "0:1, 1:2"), "0:1,1:2");
        assert_eq!(parse(throttled, "*"), "*");
        assert_eq!(
            parse(throttled, "0-1"),
            "Invalid value [0-1] for configuration k: k must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
        );
    }

    #[test]
    fn gzip_level_allows_minus_one() {
        let gzip = def(ConfigType::Int, Validator::GzipLevel);
        assert_eq!(parse(gzip, "-1"), "-1");
        assert_eq!(parse(gzip, "9"), "9");
        assert_eq!(
            parse(gzip, "0"),
            "Invalid value 0 for configuration k: Value must be between 1 and 9 or equal to -1"
        );
    }

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(f64::MAX), "1.7976931348623157E308");
        assert_eq!(java_double(12345678.0), "1.2345678E7");
    }
}
