//! Kafka's own examples (`SslPrincipalMapperTest`): valid and invalid values, names mapped by a
//! list of rules, how values are split (seen through `toString`), and escaped commas.

use super::*;

#[test]
fn kafkas_valid_rules_parse() {
    for rules in [
        "DEFAULT",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
        "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
        "RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
        "RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
        "RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
    ] {
        SslPrincipalMapper::parse(rules).unwrap_or_else(|e| panic!("{rules}: {e:#}"));
    }
}

#[test]
fn kafkas_invalid_rules_are_refused() {
    for rules in [
        "default",
        "DEFAUL",
        "DEFAULT/L",
        "DEFAULT/U",
        "RULE:CN=(.*?),OU=ServiceUsers.*/$1",
        "rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
    ] {
        let error = SslPrincipalMapper::parse(rules)
            .expect_err(rules)
            .to_string();
        assert!(error.starts_with("Invalid rule: `"), "{rules}: {error}");
    }
    let error = SslPrincipalMapper::parse("DEFAULT/L")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "Invalid rule: `DEFAULT/L`, unmatched substring: `/L`"
    );
}

#[test]
fn kafkas_mapper_example() {
    let rules = [
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
        "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U",
        "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
        "DEFAULT",
    ]
    .join(", ");
    let mapper = SslPrincipalMapper::parse(&rules).unwrap();
    let name = |dn: &str| mapper.name(dn).unwrap();
    assert_eq!(name("CN=Duke,OU=ServiceUsers,O=Org,C=US"), "duke");
    assert_eq!(
        name("CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US"),
        "duke@sme"
    );
    assert_eq!(name("cn=duke,ou=sme,dc=mycp,dc=com"), "DUKE@SME");
    assert_eq!(name("cN=duke,OU=JavaSoft,O=Sun Microsystems"), "DUKE");
    assert_eq!(
        name("OU=JavaSoft,O=Sun Microsystems,C=US"),
        "OU=JavaSoft,O=Sun Microsystems,C=US"
    );
}

#[test]
fn no_matching_rule_is_an_error_and_the_first_match_wins() {
    let mapper = SslPrincipalMapper::parse("RULE:^CN=([^,]+),O=Partita.*$/$1/").unwrap();
    assert_eq!(
        mapper.name("CN=alice,O=Partita Test,C=NO").unwrap(),
        "alice"
    );
    let error = mapper
        .name("CN=mallory,O=Elsewhere")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "No rules apply to CN=mallory,O=Elsewhere, rules [RULE:^CN=([^,]+),O=Partita.*$/$1]"
    );
    let ordered =
        SslPrincipalMapper::parse("RULE:^CN=(.*),O=A$/first-$1/, RULE:^CN=(.*),O=.*$/second-$1/")
            .unwrap();
    assert_eq!(ordered.name("CN=x,O=A").unwrap(), "first-x");
    assert_eq!(ordered.name("CN=x,O=B").unwrap(), "second-x");
    // An empty value has no rule at all: nothing maps.
    assert!(SslPrincipalMapper::parse("").unwrap().name("CN=x").is_err());
    assert_eq!(
        SslPrincipalMapper::default().name("CN=x,O=y").unwrap(),
        "CN=x,O=y"
    );
}

fn splits_as(expected: &str, rules: &str) {
    let mapper = SslPrincipalMapper::parse(rules).unwrap_or_else(|e| panic!("{rules}: {e:#}"));
    assert_eq!(
        mapper.to_string(),
        format!("SslPrincipalMapper(rules = {expected})"),
        "{rules}"
    );
}

#[test]
fn kafkas_rules_splitting() {
    splits_as("[]", "");
    splits_as("[DEFAULT]", "DEFAULT");
    splits_as("[RULE:/]", "RULE://");
    splits_as("[RULE:/.*]", "RULE:/.*/");
    splits_as("[RULE:/.*/L]", "RULE:/.*/L");
    splits_as("[RULE:/, DEFAULT]", "RULE://,DEFAULT");
    splits_as("[RULE:/, DEFAULT]", "  RULE:// ,  DEFAULT  ");
    splits_as(
        "[RULE:   /     , DEFAULT]",
        "  RULE:   /     / ,  DEFAULT  ",
    );
    splits_as(
        "[RULE:  /     /U, DEFAULT]",
        "  RULE:  /     /U   ,DEFAULT  ",
    );
    splits_as(
        "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]",
        "  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ",
    );
    // Empty rules are ignored.
    splits_as("[]", ",   , , ,      , , ,   ");
    splits_as("[RULE:/, DEFAULT]", ",,RULE://,,,DEFAULT,,");
    splits_as(
        "[RULE: /   , DEFAULT]",
        ",  , RULE: /   /    ,,,   DEFAULT, ,   ",
    );
    splits_as(
        "[RULE:   /  /U, DEFAULT]",
        "     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,",
    );
    // Escape sequences.
    splits_as(r"[RULE:\/\\\(\)\n\t/\/\/]", r"RULE:\/\\\(\)\n\t/\/\//");
    splits_as(
        r"[RULE:\**\/+/*/L, RULE:\/*\**/**]",
        r"RULE:\**\/+/*/L,RULE:\/*\**/**/",
    );
    // Rules rule.
    splits_as(
        r"[RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]",
        r"RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT",
    );
}

#[test]
fn kafkas_comma_with_whitespace() {
    let mapper = SslPrincipalMapper::parse(r"RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT").unwrap();
    assert_eq!(
        mapper
            .name(r"CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz")
            .unwrap(),
        r"Tkac\, Adam"
    );
}

#[test]
fn replacements_read_as_java_does() {
    // A group number above the groups is cut digit by digit; what remains above is literal.
    let mapper = SslPrincipalMapper::parse(r"RULE:^CN=(\w+)$/$1-$12-$4-\$1/").unwrap();
    assert_eq!(mapper.name("CN=bob").unwrap(), "bob-bob2-$4-$1");
    // Every match is replaced (Java's replaceAll), once the whole name matched.
    let all = SslPrincipalMapper::parse("RULE:a/b/").unwrap();
    assert_eq!(all.name("a").unwrap(), "b");
    assert!(all.name("aa").is_err());
    let named = SslPrincipalMapper::parse("RULE:^CN=(?P<user>[^,]+).*$/${user}/U").unwrap();
    assert_eq!(named.name("CN=eve,O=x").unwrap(), "EVE");
    // A group the pattern cannot have, an unknown name, a pattern the regex crate refuses.
    for bad in [
        "RULE:^CN=.*$/$1/",
        "RULE:^(a)$/${nope}/",
        "RULE:^(?=a).*$/x/",
    ] {
        let error = format!("{:#}", SslPrincipalMapper::parse(bad).unwrap_err());
        assert!(error.starts_with("Invalid rule: `"), "{bad}: {error}");
    }
}
