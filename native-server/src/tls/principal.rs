//! The principal of a client that shows a certificate, as Kafka's default principal builder
//! names it (`DefaultKafkaPrincipalBuilder`): `User:` and the name that
//! `ssl.principal.mapping.rules` (`super::mapping`) makes of the certificate's subject
//! distinguished name. With the default rule that is the subject in RFC 2253 form, as Java's
//! `X500Principal.getName()` writes it: the RDNs last first, `,` between them, `+` inside a
//! multi-valued RDN, the RFC's keywords (CN, C, L, ST, O, OU, STREET, DC, UID) and dotted OIDs
//! for the rest, special characters escaped with `\`, values that are not strings as `#` and
//! their DER in hex. A client without a certificate is `User:ANONYMOUS`.

use super::mapping::SslPrincipalMapper;
use x509_parser::der_parser::asn1_rs::ToDer;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Kafka's principal for a connection without a client certificate (`KafkaPrincipal.ANONYMOUS`).
pub const ANONYMOUS: &str = "User:ANONYMOUS";

/// The attribute keywords RFC 2253 section 2.3 names, by OID.
const KEYWORDS: [(&str, &str); 9] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.6", "C"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

/// An attribute's value as written: a string (a keyword's string value), or its DER encoding
/// (any other attribute type, or a value that is not a string).
#[derive(Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Der(Vec<u8>),
}

/// `User:<subject DN>` of a DER certificate (the `DEFAULT` rule); an error if it does not
/// parse.
pub fn of_certificate(der: &[u8]) -> anyhow::Result<String> {
    Ok(format!("User:{}", subject(der)?))
}

/// `User:<name>` of a DER certificate, the name mapped from its subject by `mapper`
/// (`ssl.principal.mapping.rules`); an error if the certificate does not parse or no rule
/// applies to its subject (then Kafka fails the authentication).
pub fn mapped(der: &[u8], mapper: &SslPrincipalMapper) -> anyhow::Result<String> {
    Ok(format!("User:{}", mapper.name(&subject(der)?)?))
}

/// The subject distinguished name of a DER certificate in RFC 2253 form.
pub fn subject(der: &[u8]) -> anyhow::Result<String> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| anyhow::anyhow!("the client certificate does not parse: {e}"))?;
    let mut rdns = Vec::new();
    for rdn in cert.subject().iter() {
        let mut attributes = Vec::new();
        for attribute in rdn.iter() {
            let oid = attribute.attr_type().to_id_string();
            // RFC 2253 section 2.4: a string for the keywords, `#` and the DER for the rest
            // (as Java writes an emailAddress: `1.2.840.113549.1.9.1=#16...`).
            let value =
                match (keyword(&oid), attribute.as_str()) {
                    (Some(_), Ok(text)) => Value::Text(text.to_string()),
                    _ => Value::Der(attribute.attr_value().to_der_vec().map_err(|e| {
                        anyhow::anyhow!("a subject attribute does not re-encode: {e}")
                    })?),
                };
            attributes.push((oid, value));
        }
        rdns.push(attributes);
    }
    Ok(rfc2253(&rdns))
}

fn keyword(oid: &str) -> Option<&'static str> {
    KEYWORDS
        .iter()
        .find(|(known, _)| *known == oid)
        .map(|(_, keyword)| *keyword)
}

/// The RFC 2253 string of a name given as its RDNs in encoded order, each a list of
/// (dotted OID, value).
pub fn rfc2253(rdns: &[Vec<(String, Value)>]) -> String {
    rdns.iter()
        .rev()
        .map(|rdn| {
            rdn.iter()
                .map(|(oid, value)| {
                    let keyword = keyword(oid).unwrap_or(oid);
                    format!("{keyword}={}", escape(value))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// RFC 2253 section 2.4: `,+"\<>;` anywhere, `#` or a space first and a space last are escaped
/// with a backslash; a non-string value is `#` and its DER in hex.
fn escape(value: &Value) -> String {
    let text = match value {
        Value::Der(der) => {
            return std::iter::once("#".to_string())
                .chain(der.iter().map(|b| format!("{b:02x}")))
                .collect();
        }
        Value::Text(text) => text,
    };
    let last = text.chars().count().saturating_sub(1);
    let mut escaped = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(oid: &str, value: &str) -> (String, Value) {
        (oid.to_string(), Value::Text(value.to_string()))
    }

    #[test]
    fn the_last_rdn_comes_first_with_rfc_2253_keywords() {
        // Encoded as C=NO, O=Partita Test, CN=client (openssl's -subj /C=NO/O=.../CN=client).
        let rdns = vec![
            vec![text("2.5.4.6", "NO")],
            vec![text("2.5.4.10", "Partita Test")],
            vec![text("2.5.4.3", "client")],
        ];
        assert_eq!(rfc2253(&rdns), "CN=client,O=Partita Test,C=NO");
    }

    #[test]
    fn special_characters_multi_valued_rdns_and_other_attribute_types() {
        let rdns = vec![
            vec![text("0.9.2342.19200300.100.1.25", "example")],
            vec![text("2.5.4.11", "a,b+c"), text("2.5.4.3", "q\"<>\\")],
            vec![text("2.5.4.3", "#lead;trail "), text("2.5.4.10", " x#")],
        ];
        // A '#' is escaped when first only; a space when first or last.
        assert_eq!(
            rfc2253(&rdns),
            r#"CN=\#lead\;trail\ +O=\ x#,OU=a\,b\+c+CN=q\"\<\>\\,DC=example"#
        );
        // An emailAddress (IA5String "a@b") has no RFC 2253 keyword: Java writes its DER.
        let email = vec![vec![(
            "1.2.840.113549.1.9.1".to_string(),
            Value::Der(vec![0x16, 0x03, b'a', b'@', b'b']),
        )]];
        assert_eq!(rfc2253(&email), "1.2.840.113549.1.9.1=#1603614062");
    }
}
