//! Property tests (the stable toolchain's stand-in for cargo-fuzz): the
//! argument checker, request building, response mapping, the query encoder,
//! the proxy's path confinement and the URI reader (against the `http`
//! crate's), fed arbitrary input. `scripts/fuzz` runs them for a
//! set time with fresh seeds.

#![cfg(not(target_arch = "wasm32"))]

use discord_connector::catalogue::CATALOGUE;
use discord_connector::error::ErrorKind;
use discord_connector::http::Response;
use discord_connector::oauth::token_from;
use discord_connector::proxy::normalised_path;
use discord_connector::query;
use discord_connector::response::{OutputKind, tool_output};
use discord_connector::uri::{self, Uri};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Each tool's path template: `{}` marks a variable segment.
fn template(tool: &str) -> &'static str {
    match tool {
        "discord_get_current_user_application_entitlements" => {
            "/users/@me/applications/{}/entitlements"
        }
        "discord_get_gateway" => "/gateway",
        "discord_get_guild_template" => "/guilds/templates/{}",
        "discord_get_guild_widget" => "/guilds/{}/widget.json",
        "discord_get_guild_widget_png" => "/guilds/{}/widget.png",
        "discord_get_invite_deprecated" | "discord_resolve_invite" => "/invites/{}",
        "discord_get_my_guild_member" => "/users/@me/guilds/{}/member",
        "discord_get_my_oauth2_authorization" => "/oauth2/@me",
        "discord_get_my_user" => "/users/@me",
        "discord_get_openid_connect_userinfo" => "/oauth2/userinfo",
        "discord_get_public_keys" => "/oauth2/keys",
        "discord_get_user" => "/users/{}",
        "discord_list_my_guilds" => "/users/@me/guilds",
        "discord_list_sticker_packs" => "/sticker-packs",
        "discord_retrieve_user_connections" => "/users/@me/connections",
        other => panic!("no template for {other}"),
    }
}

/// Strings that try hard to escape: separators, dots, encodings, links.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        2 => "[a-zA-Z0-9_./?#%@:\\\\ -]{0,40}",
        1 => Just("..".to_owned()),
        1 => Just("@me".to_owned()),
        1 => Just("%2e%2e".to_owned()),
        3 => "(https?://)?(www\\.)?(discord\\.gg/|discord\\.com/invite/|discord\\.new/|discord\\.com/template/)[a-zA-Z0-9_./?#%-]{0,20}",
        4 => "[0-9]{1,22}",
        3 => "[a-zA-Z0-9_-]{1,70}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A value for a property with `schema`: mostly of the right type, with
/// hostile content, sometimes of any type at all.
fn value_for(schema: &Value) -> BoxedStrategy<Value> {
    let types = schema["type"].to_string();
    let typed: BoxedStrategy<Value> = if let Some(choices) = schema["enum"].as_array() {
        let choices: Vec<Value> = choices.iter().filter(|c| !c.is_null()).cloned().collect();
        prop_oneof![
            prop::sample::select(choices),
            hostile_string().prop_map(Value::String)
        ]
        .boxed()
    } else if types.contains("integer") {
        prop_oneof![
            (-5i64..300).prop_map(Value::from),
            any::<i64>().prop_map(Value::from)
        ]
        .boxed()
    } else if types.contains("boolean") {
        any::<bool>().prop_map(Value::Bool).boxed()
    } else if types.contains("array") {
        prop::collection::vec(hostile_string().prop_map(Value::String), 0..4)
            .prop_map(Value::Array)
            .boxed()
    } else {
        hostile_string().prop_map(Value::String).boxed()
    };
    prop_oneof![8 => typed, 1 => json_value()].boxed()
}

/// An arguments object built from each tool's own properties, with values
/// from [`value_for`], and now and then a stray field.
fn arguments_for(tool_index: usize) -> impl Strategy<Value = String> {
    let schema: Value =
        serde_json::from_str(CATALOGUE[tool_index].input_schema()).expect("the schemas are JSON");
    let properties: Vec<(String, Value)> = schema["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let values: Vec<BoxedStrategy<Option<Value>>> = properties
        .iter()
        .map(|(_, schema)| prop::option::weighted(0.8, value_for(schema)).boxed())
        .collect();
    let names: Vec<String> = properties.into_iter().map(|(name, _)| name).collect();
    (values, prop::option::weighted(0.1, json_value())).prop_map(move |(values, stray)| {
        let mut object: Map<String, Value> = names
            .iter()
            .cloned()
            .zip(values)
            .filter_map(|(name, value)| Some((name, value?)))
            .collect();
        if let Some(stray) = stray {
            object.insert("stray".to_owned(), stray);
        }
        Value::Object(object).to_string()
    })
}

fn check_path(tool: &str, path: &str) -> Result<(), TestCaseError> {
    let expected: Vec<&str> = template(tool).split('/').collect();
    let actual: Vec<&str> = path.split('/').collect();
    prop_assert_eq!(expected.len(), actual.len(), "{} -> {}", tool, path);
    for (want, got) in expected.iter().zip(&actual) {
        if *want == "{}" {
            prop_assert!(
                !got.is_empty() && *got != "." && *got != "..",
                "{} -> {}",
                tool,
                path
            );
            prop_assert!(
                got.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_@".contains(&b)),
                "{} -> {}",
                tool,
                path
            );
        } else {
            prop_assert_eq!(want, got, "{} -> {}", tool, path);
        }
    }
    Ok(())
}

/// A URI's scheme, authority and path and query when it is absolute, with
/// the authority's host and port.
type UriParts = Option<(String, String, String, String, Option<u16>)>;

/// What the `http` crate reads in `text`: `None` if it refuses it.
fn read_by_http(text: &str) -> Option<UriParts> {
    let uri: http::Uri = text.parse().ok()?;
    Some(match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => Some((
            scheme.to_owned(),
            authority.as_str().to_owned(),
            uri.path_and_query()
                .map_or("/", |path| path.as_str())
                .to_owned(),
            authority.host().to_owned(),
            authority.port_u16(),
        )),
        _ => None,
    })
}

/// What [`uri::parse`] reads in `text`, in the same terms.
fn read_by_us(text: &str) -> Option<UriParts> {
    Some(match uri::parse(text)? {
        Uri::Absolute(parts) => Some((
            parts.scheme.to_owned(),
            parts.authority.to_owned(),
            parts.path_and_query.to_owned(),
            uri::host(parts.authority).to_owned(),
            uri::port(parts.authority),
        )),
        Uri::Relative => None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_checked_without_panicking(tool in 0..CATALOGUE.len(), text in any::<String>()) {
        if let Err(error) = CATALOGUE[tool].plan(&text) {
            prop_assert_eq!(error.kind, ErrorKind::InvalidArguments);
        }
    }

    #[test]
    fn no_argument_moves_a_request_off_its_route((tool, arguments) in (0..CATALOGUE.len()).prop_flat_map(|tool| (Just(tool), arguments_for(tool)))) {
        let spec = &CATALOGUE[tool];
        match spec.plan(&arguments) {
            Ok(endpoint) => {
                let path_and_query = endpoint.path_and_query();
                let path = path_and_query.split('?').next().unwrap();
                check_path(spec.name, path)?;
            }
            Err(error) => {
                prop_assert_eq!(error.kind, ErrorKind::InvalidArguments);
                prop_assert!(error.message.starts_with("invalid arguments for "));
            }
        }
    }

    #[test]
    fn any_answer_maps_to_an_output_or_a_typed_error(
        status in 100u16..600,
        headers in prop::collection::vec(("(content-type|retry-after|x-ratelimit-[a-z-]{1,12}|x-[a-z]{1,8})", any::<String>()), 0..5),
        body in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), json_value().prop_map(|v| v.to_string().into_bytes())],
        png in any::<bool>(),
    ) {
        let secret = "sbx-secret-token-value";
        let mut body = body;
        body.extend_from_slice(secret.as_bytes());
        let response = Response { status, headers, body };
        let kind = if png { OutputKind::Png } else { OutputKind::Json };
        match tool_output(kind, response, &[secret]) {
            Ok(_) => prop_assert!((200..300).contains(&status)),
            Err(error) => {
                prop_assert!(!error.message.contains(secret));
                let details = error.details.unwrap_or_default();
                prop_assert!(!details.contains(secret));
                if !(200..300).contains(&status) {
                    prop_assert_eq!(error.kind, ErrorKind::from_status(status));
                    prop_assert_eq!(error.status, Some(status));
                } else {
                    prop_assert_eq!(error.kind, ErrorKind::Transport);
                    prop_assert_eq!(details, r#"{"class":"broken"}"#);
                }
                prop_assert_eq!(error.retry_after_ms.is_some(), status == 429);
            }
        }
    }

    #[test]
    fn queries_decode_to_what_was_encoded(pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..5)) {
        let encoded = query::string(pairs.iter().map(|(name, value)| (name, value)));
        prop_assert!(
            encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)),
            "{:?}",
            encoded
        );
        let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
        prop_assert_eq!(decoded, pairs);
    }

    #[test]
    fn proxy_paths_stay_under_the_api_base(path in prop_oneof![any::<String>(), "/[a-zA-Z0-9_./?#%@:\\\\ -]{0,40}"]) {
        if let Ok(normalised) = normalised_path(&path) {
            prop_assert!(normalised.starts_with('/') && !normalised.starts_with("//"), "{:?} -> {:?}", path, normalised);
            prop_assert!(!normalised.contains(['?', '#', '\\']), "{:?} -> {:?}", path, normalised);
            for segment in normalised.split('/') {
                let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
                prop_assert!(decoded != ".." && decoded != ".", "{:?} -> {:?}", path, normalised);
                prop_assert!(!decoded.contains(['/', '\\']), "{:?} -> {:?}", path, normalised);
            }
        }
    }

    #[test]
    fn uris_read_as_http_reads_them(text in prop_oneof![
        any::<String>(),
        r"[hHtTpPsS:/\[\]@%?#.a1 \x22{|}<>\\é+~-]{0,24}",
        r"(https?|HTTPS?|ftp|x)?(://)?([a-z]{1,3}(:[a-z0-9%]{0,3})?@)?(\[[0-9:]{0,6}\]|[a-z0-9.%-]{0,6})(:[0-9a-z+]{0,6})?(/[a-z0-9%.@!$&'()*+,;=:~\x22{}|^`<> -]{0,6}){0,3}(\?[a-z0-9=&%/?|^`\x22]{0,6})?(#[a-z]{0,3})?",
    ]) {
        prop_assert_eq!(read_by_us(&text), read_by_http(&text), "{:?}", text);
    }

    #[test]
    fn any_token_endpoint_answer_is_a_token_or_a_typed_error(
        status in prop_oneof![Just(200u16), Just(400u16), Just(401u16), 100u16..600],
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            (any::<String>(), any::<String>(), any::<u64>(), any::<Option<String>>(), "[a-z. ]{0,40}").prop_map(
                |(access, kind, expires, refresh, scope)| serde_json::json!({
                    "access_token": access, "token_type": kind, "expires_in": expires,
                    "refresh_token": refresh, "scope": scope,
                }).to_string().into_bytes()
            ),
            ("[a-z_]{1,20}", any::<String>()).prop_map(|(error, description)| serde_json::json!({
                "error": error, "error_description": format!("{description} sbx-refresh-secret"),
            }).to_string().into_bytes()),
        ],
    ) {
        let secret = "sbx-refresh-secret";
        let response = Response { status, headers: Vec::new(), body };
        match token_from(&response, &[secret]) {
            Ok(token) => prop_assert!((200..300).contains(&status), "{:?}", token),
            Err(error) => {
                prop_assert!(!error.message.contains(secret), "{}", error.message);
                prop_assert!(!error.details.unwrap_or_default().contains(secret));
            }
        }
    }
}

/// The route property is only worth something if arbitrary arguments are
/// often accepted: count how often they are, for tools with variable paths.
#[test]
fn the_route_property_sees_accepted_arguments() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut accepted = 0;
    let mut tried = 0;
    for (index, tool) in CATALOGUE.iter().enumerate() {
        if !template(tool.name).contains("{}") {
            continue;
        }
        let strategy = arguments_for(index);
        for _ in 0..300 {
            tried += 1;
            let arguments = strategy.new_tree(&mut runner).unwrap().current();
            if tool.plan(&arguments).is_ok() {
                accepted += 1;
            }
        }
    }
    assert!(
        accepted * 20 > tried,
        "only {accepted} of {tried} generated argument sets were accepted"
    );
}

/// The URI reader on the edges of each of `http`'s rules.
#[test]
fn uris_on_the_edges_read_as_http_reads_them() {
    let long_scheme = |length| format!("{}://host/", "a".repeat(length));
    let mut texts: Vec<String> = [
        "",
        "/",
        "*",
        "a",
        "%",
        "@",
        ":",
        "[",
        "]",
        "?",
        "//x",
        "/a b",
        "/{\"x\"}",
        "https://discord.com/api/v10",
        "HTTP://127.0.0.1:8080/api",
        "https://discord.com:/api",
        "https://discord.com:http/api",
        "https://discord.com:+80/api",
        "https://discord.com:99999/api",
        "https://user:pw@discord.com/api",
        "https://u%20x@discord.com/",
        "https://disc%20ord.com/",
        "https://@discord.com/",
        "https://discord.com@/",
        "http://[::1]:9/api",
        "http://[::1/api",
        "http://::1]/api",
        "http://a:b:c/",
        "http://[1:2:3:4:5:6:7:8]:9/",
        "https:///api",
        "https://",
        "https:discord.com",
        "ftp://discord.com/",
        "x+y.z-1~://host/",
        "://host/",
        "1ttp://host/",
        "discord.com",
        "discord.com:443",
        "discord.com/api",
        "user@discord.com",
        "https://discord.com/a?b=c#d",
        "https://discord.com?x",
        "https://discord.com#x",
        "https://discord.com/é?é",
        "https://discord.com/a\u{7f}",
        "https://discord.com/a|b^c",
        "https://discord.com/?a|b^c`",
        "https://discord.com/<x>",
        "https://disc\\ord.com/",
    ]
    .map(str::to_owned)
    .into();
    texts.extend([
        long_scheme(64),
        long_scheme(65),
        format!("https://host/{}", "a".repeat(65_534)),
    ]);
    for text in &texts {
        assert_eq!(read_by_us(text), read_by_http(text), "{text:?}");
    }
}
