//! Every object in the sandbox's `src/fixtures.json` is shaped as
//! Discord's OpenAPI description (`openapi/discord-openapi-subset.json`)
//! says: each fixture is validated against its `components/schemas` entry,
//! with `$ref`s resolved against the whole spec document.
//!
//! Each fixture is checked twice: against the spec as published, and against
//! a "closed" copy in which every object schema that does not say otherwise
//! gets `additionalProperties: false`, so a fixture can only use properties
//! the spec defines.

mod common;

use common::{Answer, call};
use discord_sandbox::{RateLimitPolicy, Sandbox, seed};
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value, json};

/// The URI the spec document is registered under.
const SPEC_URI: &str = "urn:discord:openapi-subset";

/// The user the sandbox signs in as.
const SIGNED_IN_USER: &str = "80351110224678912";

fn load(relative: &str) -> Value {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path} is not JSON: {error}"))
}

fn spec() -> Value {
    load("openapi/discord-openapi-subset.json")
}

fn fixtures() -> Value {
    load("src/fixtures.json")
}

/// Gives every object schema with `properties` and no `additionalProperties`
/// an `additionalProperties: false`. Schemas under `allOf` are left alone
/// (closing one branch of an intersection would reject the other's fields).
fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object.contains_key("properties") && !object.contains_key("additionalProperties") {
                object.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (keyword, value) in object.iter_mut() {
                if keyword != "allOf" {
                    close_objects(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// Validators for `components/schemas/*` of one version of the spec.
struct Schemas {
    label: &'static str,
    registry: Registry<'static>,
}

impl Schemas {
    fn new(label: &'static str, document: Value) -> Self {
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(SPEC_URI, document)
            .expect("the spec URI is valid")
            .prepare()
            .expect("the spec document is a valid resource");
        Self { label, registry }
    }

    fn published() -> Self {
        Self::new("spec", spec())
    }

    fn closed() -> Self {
        let mut document = spec();
        close_objects(&mut document["components"]["schemas"]);
        Self::new("spec with closed objects", document)
    }

    fn validator(&self, name: &str) -> Validator {
        assert!(
            spec()["components"]["schemas"].get(name).is_some(),
            "the spec has no components/schemas/{name}"
        );
        self.validator_at(&format!("/components/schemas/{name}"))
    }

    /// A validator for the schema at JSON pointer `pointer` of the spec.
    fn validator_at(&self, pointer: &str) -> Validator {
        let fragment: String = pointer
            .chars()
            .map(|c| match c {
                '{' => "%7B".to_owned(),
                '}' => "%7D".to_owned(),
                '@' => "%40".to_owned(),
                c => c.to_string(),
            })
            .collect();
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&json!({ "$ref": format!("{SPEC_URI}#{fragment}") }))
            .unwrap_or_else(|error| panic!("cannot build a validator for {pointer}: {error}"))
    }

    /// The validation errors of `instance` against `components/schemas/{name}`,
    /// one line each, prefixed with `label`.
    fn errors(&self, name: &str, label: &str, instance: &Value) -> Vec<String> {
        let validator = self.validator(name);
        validator
            .iter_errors(instance)
            .map(|error| {
                let at = error.instance_path().to_string();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                format!("{label} (as {name}, {}): at {at}: {error}", self.label)
            })
            .collect()
    }
}

/// How a top-level key of `fixtures.json` holds its fixtures.
#[derive(Clone, Copy)]
enum Shape {
    /// The value is one object.
    One,
    /// The value maps ids or codes to objects.
    Map,
    /// The value is an array of objects.
    List,
    /// The value maps ids to arrays of objects.
    MapOfLists,
}

/// Each top-level key of `fixtures.json`, the schema of its fixtures and how
/// it holds them. `guild_counts` is checked by merging it into `my_guilds`.
const TABLES: &[(&str, &str, Shape)] = &[
    ("gateway", "GatewayResponse", Shape::One),
    ("users", "UserResponse", Shape::Map),
    ("private_users", "UserPIIResponse", Shape::Map),
    ("my_guilds", "MyGuildResponse", Shape::List),
    ("members", "PrivateGuildMemberResponse", Shape::Map),
    ("widgets", "WidgetResponse", Shape::Map),
    ("templates", "GuildTemplateResponse", Shape::Map),
    ("invites", "GuildInviteResponse", Shape::Map),
    ("scheduled_events", "ScheduledEventResponse", Shape::Map),
    ("application", "ApplicationResponse", Shape::One),
    ("entitlements", "EntitlementResponse", Shape::MapOfLists),
    ("connections", "ConnectedAccountResponse", Shape::List),
    ("keys", "OAuth2GetKeys", Shape::One),
    ("sticker_packs", "StickerPackCollectionResponse", Shape::One),
    ("bot_guilds", "GuildWithCountsResponse", Shape::Map),
    ("guild_channels", "GuildChannelResponse", Shape::MapOfLists),
    ("threads", "ThreadResponse", Shape::MapOfLists),
    ("guild_members", "GuildMemberResponse", Shape::MapOfLists),
    ("messages", "MessageResponse", Shape::MapOfLists),
];

/// Every fixture of one table, with a label naming where it is.
fn entries(table: &str, value: &Value, shape: Shape) -> Vec<(String, Value)> {
    let object = |value: &Value| -> Map<String, Value> {
        value
            .as_object()
            .unwrap_or_else(|| panic!("fixtures.{table} is not an object"))
            .clone()
    };
    let array = |label: &str, value: &Value| -> Vec<Value> {
        value
            .as_array()
            .unwrap_or_else(|| panic!("{label} is not an array"))
            .clone()
    };
    match shape {
        Shape::One => vec![(table.to_owned(), value.clone())],
        Shape::Map => object(value)
            .into_iter()
            .map(|(key, item)| (format!("{table}[\"{key}\"]"), item))
            .collect(),
        Shape::List => array(&format!("fixtures.{table}"), value)
            .into_iter()
            .enumerate()
            .map(|(index, item)| (format!("{table}[{index}]"), item))
            .collect(),
        Shape::MapOfLists => object(value)
            .into_iter()
            .flat_map(|(key, items)| {
                let label = format!("{table}[\"{key}\"]");
                array(&label, &items)
                    .into_iter()
                    .enumerate()
                    .map(move |(index, item)| (format!("{label}[{index}]"), item))
                    .collect::<Vec<_>>()
            })
            .collect(),
    }
}

/// `target` with the members of `extra` (an object) added.
fn merged(target: &Value, extra: &Value) -> Value {
    let mut target = target.clone();
    for (key, value) in extra.as_object().into_iter().flatten() {
        target[key] = value.clone();
    }
    target
}

fn assert_no_errors(errors: Vec<String>) {
    assert!(
        errors.is_empty(),
        "{} fixture validation error(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn every_fixture_matches_its_openapi_schema() {
    let fixtures = fixtures();
    let tables = fixtures.as_object().expect("fixtures.json is an object");

    let mut expected: Vec<&str> = TABLES.iter().map(|(table, ..)| *table).collect();
    expected.push("guild_counts");
    let mut found: Vec<&str> = tables.keys().map(String::as_str).collect();
    expected.sort_unstable();
    found.sort_unstable();
    assert_eq!(found, expected, "the top-level keys of fixtures.json");

    let mut errors = Vec::new();
    let mut checked = 0;
    for schemas in [Schemas::published(), Schemas::closed()] {
        for &(table, schema, shape) in TABLES {
            let items = entries(table, &fixtures[table], shape);
            assert!(!items.is_empty(), "fixtures.{table} holds no fixture");
            for (label, item) in items {
                errors.extend(schemas.errors(schema, &label, &item));
                checked += 1;
            }
        }

        // What the sandbox sends for `with_counts=true`: the guild with its counts.
        let counts = &fixtures["guild_counts"];
        for (index, guild) in fixtures["my_guilds"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let id = guild["id"].as_str().unwrap_or_default();
            let label = format!("my_guilds[{index}] with guild_counts[\"{id}\"]");
            match counts.get(id) {
                Some(count) => {
                    errors.extend(schemas.errors("MyGuildResponse", &label, &merged(guild, count)))
                }
                None => errors.push(format!("{label}: guild_counts has no entry for guild {id}")),
            }
            checked += 1;
        }
        // What it sends for an invite with counts and the guild's scheduled event.
        for (code, invite) in fixtures["invites"].as_object().into_iter().flatten() {
            let guild_id = invite["guild_id"].as_str().unwrap_or_default();
            let mut full = merged(invite, counts.get(guild_id).unwrap_or(&Value::Null));
            let event = fixtures["scheduled_events"]
                .as_object()
                .into_iter()
                .flatten()
                .find(|(_, event)| event["guild_id"] == guild_id);
            if let Some((_, event)) = event {
                full["guild_scheduled_event"] = event.clone();
            }
            let label = format!("invites[\"{code}\"] with counts and scheduled event");
            errors.extend(schemas.errors("GuildInviteResponse", &label, &full));
            checked += 1;
        }
    }

    // guild_counts entries hold exactly the two counts, as integers.
    let count_schema = json!({
        "type": "object",
        "required": ["approximate_member_count", "approximate_presence_count"],
        "properties": {
            "approximate_member_count": { "type": "integer", "minimum": 0 },
            "approximate_presence_count": { "type": "integer", "minimum": 0 }
        },
        "additionalProperties": false
    });
    let count_validator = jsonschema::validator_for(&count_schema).expect("a valid schema");
    for (id, count) in fixtures["guild_counts"]
        .as_object()
        .expect("guild_counts is an object")
    {
        errors.extend(
            count_validator
                .iter_errors(count)
                .map(|error| format!("guild_counts[\"{id}\"]: {error}")),
        );
        checked += 1;
    }

    assert_no_errors(errors);
    assert!(checked > 40, "only {checked} fixtures were checked");
}

/// The tables the sandbox looks things up in are keyed by the objects' own
/// ids and codes, the lists are in id order, and the ids
/// `discord_sandbox::seed` names for tests are there.
#[test]
fn fixture_tables_are_keyed_by_their_objects() {
    let fixtures = fixtures();
    let mut problems = Vec::new();
    let mut check_keys = |table: &str, field: &str| {
        for (key, item) in fixtures[table].as_object().into_iter().flatten() {
            if item[field] != key.as_str() {
                problems.push(format!("{table}[\"{key}\"].{field} is {}", item[field]));
            }
        }
    };
    check_keys("users", "id");
    check_keys("private_users", "id");
    check_keys("widgets", "id");
    check_keys("templates", "code");
    check_keys("invites", "code");
    check_keys("scheduled_events", "id");
    check_keys("bot_guilds", "id");

    let guild_ids: Vec<&str> = fixtures["my_guilds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|guild| guild["id"].as_str())
        .collect();
    for table in ["guild_counts", "members"] {
        let mut keys: Vec<&str> = fixtures[table]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        let mut guilds = guild_ids.clone();
        keys.sort_unstable();
        guilds.sort_unstable();
        if keys != guilds {
            problems.push(format!(
                "{table} is keyed by {keys:?}, my_guilds has {guilds:?}"
            ));
        }
    }
    for (guild, member) in fixtures["members"].as_object().into_iter().flatten() {
        if member["user"]["id"] != SIGNED_IN_USER {
            problems.push(format!("members[\"{guild}\"] is not user {SIGNED_IN_USER}"));
        }
    }
    for (application, list) in fixtures["entitlements"].as_object().into_iter().flatten() {
        for (index, entitlement) in list.as_array().into_iter().flatten().enumerate() {
            if entitlement["application_id"] != application.as_str() {
                problems.push(format!(
                    "entitlements[\"{application}\"][{index}] is for another application"
                ));
            }
        }
        let ids: Vec<u64> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entitlement| entitlement["id"].as_str()?.parse().ok())
            .collect();
        if !ids.is_sorted() {
            problems.push(format!(
                "entitlements[\"{application}\"] ids are not ascending: {ids:?}"
            ));
        }
    }
    for (guild, _) in fixtures["bot_guilds"].as_object().into_iter().flatten() {
        if !guild_ids.contains(&guild.as_str()) {
            problems.push(format!("bot_guilds[\"{guild}\"] is not in my_guilds"));
        }
    }
    // The bot's world: lists keyed by their guild or channel, in id order,
    // naming users the sandbox knows.
    let channel_ids: Vec<&str> = ["guild_channels", "threads"]
        .into_iter()
        .flat_map(|table| fixtures[table].as_object().into_iter().flatten())
        .flat_map(|(_, list)| list.as_array().into_iter().flatten())
        .filter_map(|channel| channel["id"].as_str())
        .collect();
    let lists = [
        ("guild_channels", "/guild_id", "/id"),
        ("threads", "/guild_id", "/id"),
        ("guild_members", "", "/user/id"),
        ("messages", "/channel_id", "/id"),
    ];
    for (table, key_field, id_field) in lists {
        for (key, list) in fixtures[table].as_object().into_iter().flatten() {
            let items = list.as_array().into_iter().flatten();
            let ids: Vec<u64> = items
                .clone()
                .filter_map(|item| item.pointer(id_field)?.as_str()?.parse().ok())
                .collect();
            if !ids.is_sorted() || ids.len() != list.as_array().map_or(0, Vec::len) {
                problems.push(format!(
                    "{table}[\"{key}\"] ids are not ascending snowflakes"
                ));
            }
            for item in items {
                if !key_field.is_empty() && item.pointer(key_field) != Some(&json!(key)) {
                    problems.push(format!("{table}[\"{key}\"] holds an item of another key"));
                }
                let users = [item.pointer("/user/id"), item.pointer("/author/id")];
                for user in users.into_iter().flatten() {
                    if fixtures["users"]
                        .get(user.as_str().unwrap_or_default())
                        .is_none()
                    {
                        problems.push(format!("{table}[\"{key}\"] names unknown user {user}"));
                    }
                }
            }
            let known = match table {
                "messages" => channel_ids.contains(&key.as_str()),
                _ => fixtures["bot_guilds"].get(key).is_some(),
            };
            if !known {
                problems.push(format!(
                    "{table} is keyed by {key}, which the bot's world lacks"
                ));
            }
        }
    }
    // The ids `discord_sandbox::seed` names are there.
    let has = |pointer: String| fixtures.pointer(&pointer).is_some();
    let named = [
        (
            seed::GUILD_ID,
            has(format!("/bot_guilds/{}", seed::GUILD_ID)),
        ),
        (
            seed::GENERAL_CHANNEL_ID,
            channel_ids.contains(&seed::GENERAL_CHANNEL_ID),
        ),
        (
            seed::BOT_LAB_CHANNEL_ID,
            channel_ids.contains(&seed::BOT_LAB_CHANNEL_ID),
        ),
        (
            seed::QUIET_CHANNEL_ID,
            channel_ids.contains(&seed::QUIET_CHANNEL_ID),
        ),
        (seed::THREAD_ID, channel_ids.contains(&seed::THREAD_ID)),
        (
            seed::NON_MEMBER_USER_ID,
            has(format!("/users/{}", seed::NON_MEMBER_USER_ID)),
        ),
        (
            seed::BOT_USER_ID,
            fixtures["users"][seed::BOT_USER_ID]["bot"] == true,
        ),
    ];
    for (id, found) in named {
        if !found {
            problems.push(format!("seed names {id}, which fixtures.json lacks"));
        }
    }
    let message_ids = [
        (seed::GENERAL_CHANNEL_ID, seed::WELCOME_MESSAGE_ID),
        (seed::GENERAL_CHANNEL_ID, seed::HELLO_MESSAGE_ID),
        (seed::GENERAL_CHANNEL_ID, seed::BOT_MESSAGE_ID),
        (seed::BOT_LAB_CHANNEL_ID, seed::BOT_LAB_MESSAGE_ID),
        (seed::THREAD_ID, seed::THREAD_MESSAGE_ID),
    ];
    for (channel, message) in message_ids {
        let found = fixtures["messages"][channel]
            .as_array()
            .into_iter()
            .flatten()
            .any(|item| item["id"] == message);
        if !found {
            problems.push(format!(
                "seed names message {message} of {channel}, which fixtures.json lacks"
            ));
        }
    }
    let member_ids: Vec<&str> = fixtures["guild_members"][seed::GUILD_ID]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|member| member["user"]["id"].as_str())
        .collect();
    if member_ids != seed::MEMBER_USER_IDS {
        problems.push(format!(
            "seed::MEMBER_USER_IDS are not the guild's members {member_ids:?}"
        ));
    }
    let emojis: Vec<String> = fixtures["bot_guilds"][seed::GUILD_ID]["emojis"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|emoji| {
            format!(
                "{}:{}",
                emoji["name"].as_str().unwrap_or_default(),
                emoji["id"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if emojis != [seed::CUSTOM_EMOJI, seed::ANIMATED_EMOJI] {
        problems.push(format!("seed's emojis are not the guild's {emojis:?}"));
    }
    let roles = &fixtures["bot_guilds"][seed::GUILD_ID]["roles"];
    if !roles
        .as_array()
        .into_iter()
        .flatten()
        .any(|role| role["id"] == seed::HELPERS_ROLE_ID)
    {
        problems.push("seed::HELPERS_ROLE_ID is not a role of the guild".to_owned());
    }
    let numeric: Vec<u64> = guild_ids.iter().filter_map(|id| id.parse().ok()).collect();
    if !numeric.is_sorted() {
        problems.push(format!("my_guilds ids are not ascending: {guild_ids:?}"));
    }
    assert!(
        problems.is_empty(),
        "fixture tables are inconsistent:\n{}",
        problems.join("\n")
    );
}

/// The validators reject what the spec rejects: they are not vacuous.
#[test]
fn validation_rejects_a_malformed_user() {
    let user = fixtures()["users"][SIGNED_IN_USER].clone();
    assert!(user.is_object(), "the fixtures have user {SIGNED_IN_USER}");

    for schemas in [Schemas::published(), Schemas::closed()] {
        let validator = schemas.validator("UserResponse");
        assert!(
            validator.is_valid(&user),
            "the fixture user is a valid UserResponse"
        );

        let mut without_id = user.clone();
        without_id.as_object_mut().expect("an object").remove("id");
        assert!(
            !validator.is_valid(&without_id),
            "a UserResponse without id must fail ({})",
            schemas.label
        );

        let mut integer_id = user.clone();
        integer_id["id"] = json!(80351110224678912_u64);
        let errors = schemas.errors("UserResponse", "user with integer id", &integer_id);
        assert!(
            !errors.is_empty(),
            "a UserResponse with an integer id must fail ({})",
            schemas.label
        );
        assert!(
            errors.iter().any(|error| error.contains("/id")),
            "the error names the id: {errors:?}"
        );

        let mut bad_enum = user.clone();
        bad_enum["collectibles"]["nameplate"]["palette"] = json!("magenta");
        assert!(
            !validator.is_valid(&bad_enum),
            "an unknown enum value must fail ({})",
            schemas.label
        );

        let mut bad_time = fixtures()["members"]["613425648685547541"].clone();
        bad_time["joined_at"] = json!("last tuesday");
        assert!(
            !schemas
                .validator("PrivateGuildMemberResponse")
                .is_valid(&bad_time),
            "a joined_at that is not a date-time must fail ({})",
            schemas.label
        );
    }

    let mut extra = user;
    extra["nickname"] = json!("nel");
    assert!(
        !Schemas::closed().validator("UserResponse").is_valid(&extra),
        "a property the spec does not define must fail against the closed spec"
    );
}

/// The JSON pointer of operation `method path`'s answer with `status` (or
/// the `4XX` one) in the spec.
fn response_pointer(spec: &Value, method: &str, path: &str, status: u16) -> String {
    let escaped = path.replace('~', "~0").replace('/', "~1");
    let operation = format!("/paths/{escaped}/{}", method.to_lowercase());
    let responses = spec
        .pointer(&format!("{operation}/responses"))
        .unwrap_or_else(|| panic!("the spec has no operation {method} {path}"));
    let key = [status.to_string(), format!("{}XX", status / 100)]
        .into_iter()
        .find(|key| responses.get(key).is_some())
        .unwrap_or_else(|| panic!("the spec declares no {status} for {method} {path}"));
    format!("{operation}/responses/{key}")
}

/// Checks one answer against the spec: a declared status, the declared
/// headers, and a body valid against the declared schema (published and
/// closed), or no body when none is declared.
fn check_answer(
    spec: &Value,
    schemas: &[Schemas],
    (method, path): (&str, &str),
    answer: &Answer,
) -> Vec<String> {
    let label = format!("{method} {path} -> {}", answer.status);
    let pointer = response_pointer(spec, method, path, answer.status);
    let mut response = spec.pointer(&pointer).cloned().unwrap_or(Value::Null);
    let mut problems = Vec::new();
    let mut pointer = pointer;
    if let Some(reference) = response["$ref"].as_str() {
        pointer = reference.trim_start_matches('#').to_owned();
        response = spec.pointer(&pointer).cloned().unwrap_or(Value::Null);
    }
    for header in response["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name)
    {
        if answer.header(&header.to_lowercase()).is_none() {
            problems.push(format!("{label}: no {header} header"));
        }
    }
    if response["content"]["application/json"]["schema"].is_null() {
        if !answer.body.is_empty() {
            problems.push(format!("{label}: a body where the spec declares none"));
        }
        return problems;
    }
    let mut body = answer.json();
    // Errors: the spec's ErrorResponse is an `allOf` of `$ref`s, which the
    // closed copy cannot check, and it types a field error's `code` as an
    // integer where Discord sends (and documents) a string such as
    // "BASE_TYPE_REQUIRED": the field errors are checked on their own.
    let schemas = if answer.status >= 400 {
        if let Some(errors) = body.as_object_mut().and_then(|body| body.remove("errors")) {
            let validator =
                jsonschema::validator_for(&field_errors_schema()).expect("a valid schema");
            problems.extend(
                validator
                    .iter_errors(&errors)
                    .map(|error| format!("{label}: errors at {}: {error}", error.instance_path())),
            );
        }
        &schemas[..1]
    } else {
        schemas
    };
    for schemas in schemas {
        let validator =
            schemas.validator_at(&format!("{pointer}/content/application~1json/schema"));
        problems.extend(validator.iter_errors(&body).map(|error| {
            format!(
                "{label} ({}): at {}: {error}",
                schemas.label,
                error.instance_path()
            )
        }));
    }
    problems
}

/// Discord's field errors, as its documentation shows them: a tree of
/// field names (and array indices) whose leaves are `_errors` lists of
/// `{code: "A_STRING_CODE", message}`.
fn field_errors_schema() -> Value {
    json!({
        "$ref": "#/$defs/details",
        "$defs": {
            "details": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["_errors"],
                        "additionalProperties": false,
                        "properties": { "_errors": { "type": "array", "minItems": 1, "items": {
                            "type": "object",
                            "required": ["code", "message"],
                            "additionalProperties": false,
                            "properties": {
                                "code": { "type": "string", "pattern": "^[A-Z0-9_]+$" },
                                "message": { "type": "string" }
                            }
                        } } }
                    },
                    {
                        "type": "object",
                        "minProperties": 1,
                        "not": { "required": ["_errors"] },
                        "additionalProperties": { "$ref": "#/$defs/details" }
                    }
                ]
            }
        }
    })
}

/// Every bot route, called once on a running sandbox (and a few of its
/// errors), answers with a status, headers and body its OpenAPI operation
/// declares.
#[tokio::test]
async fn every_bot_route_answers_as_its_openapi_operation_says() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let spec = spec();
    let schemas = [Schemas::published(), Schemas::closed()];
    let general = seed::GENERAL_CHANNEL_ID;
    let guild = seed::GUILD_ID;
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    let mut check = |route: (&'static str, &'static str), answer: &Answer| {
        problems.extend(check_answer(&spec, &schemas, route, answer));
        checked.push(route);
    };

    let sent = call(
        &sandbox,
        "POST",
        &format!("/channels/{general}/messages"),
        Some(&json!({
            "content": "Hello <@80351110224678912> and <@&1144100424245366900> @everyone",
            "embeds": [{
                "title": "Status", "description": "All good", "url": "https://example.com/status",
                "color": 5793266, "timestamp": "2026-12-05T10:00:00Z",
                "fields": [{ "name": "uptime", "value": "99.9%", "inline": true }],
                "footer": { "text": "sandbox" }, "author": { "name": "bot" }
            }],
            "message_reference": { "message_id": seed::HELLO_MESSAGE_ID },
            "allowed_mentions": { "parse": ["everyone"], "users": ["80351110224678912"], "replied_user": true },
            "nonce": "n-openapi-1", "enforce_nonce": true, "flags": 4096
        })),
    )
    .await;
    check(("POST", "/channels/{channel_id}/messages"), &sent);
    let id = sent.json()["id"].as_str().expect("a message id").to_owned();
    // Not vacuous: the same answer without its id, or with a numeric one, fails.
    for mangle in [
        |message: &mut Value| message["id"] = json!(1),
        |message: &mut Value| {
            drop(
                message
                    .as_object_mut()
                    .map(|fields| fields.remove("author")),
            )
        },
    ] {
        let mut body = sent.json();
        mangle(&mut body);
        let mangled = Answer {
            status: 200,
            headers: sent.headers.clone(),
            body: body.to_string().into_bytes(),
        };
        let route = ("POST", "/channels/{channel_id}/messages");
        assert!(
            !check_answer(&spec, &schemas, route, &mangled).is_empty(),
            "a mangled message must fail"
        );
    }
    let message = format!("/channels/{general}/messages/{id}");

    let calls: Vec<((&'static str, &'static str), String, Option<Value>)> = vec![
        (
            ("GET", "/channels/{channel_id}"),
            format!("/channels/{general}"),
            None,
        ),
        (
            ("GET", "/channels/{channel_id}"),
            format!("/channels/{}", seed::THREAD_ID),
            None,
        ),
        (
            ("GET", "/channels/{channel_id}/messages"),
            format!("/channels/{general}/messages?limit=100"),
            None,
        ),
        (
            ("GET", "/channels/{channel_id}/messages/{message_id}"),
            message.clone(),
            None,
        ),
        (
            ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
            message.clone(),
            Some(json!({ "content": "edited", "allowed_mentions": { "parse": [] } })),
        ),
        (
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
            ),
            format!("{message}/reactions/%F0%9F%91%8D/@me"),
            None,
        ),
        (
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
            ),
            format!("{message}/reactions/{}/@me", seed::ANIMATED_EMOJI),
            None,
        ),
        (
            ("GET", "/channels/{channel_id}/messages/{message_id}"),
            message.clone(),
            None,
        ),
        (
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
            ),
            format!("{message}/reactions/%F0%9F%91%8D/@me"),
            None,
        ),
        (
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}"),
            format!("/channels/{general}/messages/pins/{id}"),
            None,
        ),
        (
            ("GET", "/channels/{channel_id}/messages/pins"),
            format!("/channels/{general}/messages/pins?limit=50"),
            None,
        ),
        (
            (
                "DELETE",
                "/channels/{channel_id}/messages/pins/{message_id}",
            ),
            format!("/channels/{general}/messages/pins/{id}"),
            None,
        ),
        (
            ("POST", "/channels/{channel_id}/typing"),
            format!("/channels/{general}/typing"),
            None,
        ),
        (
            ("POST", "/channels/{channel_id}/threads"),
            format!("/channels/{general}/threads"),
            Some(
                json!({ "name": "planning", "type": 12, "auto_archive_duration": 1440, "invitable": false }),
            ),
        ),
        (
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
            ),
            format!("{message}/threads"),
            Some(json!({ "name": "about this", "auto_archive_duration": 60 })),
        ),
        (
            ("GET", "/channels/{channel_id}/messages/{message_id}"),
            message.clone(),
            None,
        ),
        (
            ("GET", "/guilds/{guild_id}/threads/active"),
            format!("/guilds/{guild}/threads/active"),
            None,
        ),
        (
            ("GET", "/guilds/{guild_id}/channels"),
            format!("/guilds/{guild}/channels"),
            None,
        ),
        (
            ("GET", "/guilds/{guild_id}"),
            format!("/guilds/{guild}?with_counts=true"),
            None,
        ),
        (
            ("GET", "/guilds/{guild_id}"),
            format!("/guilds/{guild}"),
            None,
        ),
        (
            ("GET", "/guilds/{guild_id}/members/{user_id}"),
            format!("/guilds/{guild}/members/{}", seed::BOT_USER_ID),
            None,
        ),
        (
            ("GET", "/guilds/{guild_id}/members"),
            format!("/guilds/{guild}/members?limit=1000"),
            None,
        ),
        (
            ("GET", "/guilds/{guild_id}/members/search"),
            format!("/guilds/{guild}/members/search?query=nel&limit=10"),
            None,
        ),
        (
            ("POST", "/users/@me/channels"),
            "/users/@me/channels".to_owned(),
            Some(json!({ "recipient_id": discord_sandbox::tokens::USER_ID })),
        ),
        (
            ("DELETE", "/channels/{channel_id}/messages/{message_id}"),
            message.clone(),
            None,
        ),
        // Errors: unknown ids, a bad body.
        (
            ("GET", "/channels/{channel_id}/messages/{message_id}"),
            message.clone(),
            None,
        ),
        (
            ("GET", "/channels/{channel_id}"),
            "/channels/1".to_owned(),
            None,
        ),
        (
            ("POST", "/channels/{channel_id}/messages"),
            format!("/channels/{general}/messages"),
            Some(json!({ "content": "x".repeat(2001) })),
        ),
    ];
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    for (route, path, body) in calls {
        let answer = call(&sandbox, route.0, &path, body.as_ref()).await;
        check(route, &answer);
    }
    sandbox.set_rate_limit(RateLimitPolicy::default());
    // A 429 from a channel's reaction bucket.
    let react = format!(
        "/channels/{general}/messages/{}/reactions/%E2%9D%A4%EF%B8%8F/@me",
        seed::HELLO_MESSAGE_ID
    );
    let route = (
        "PUT",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
    );
    let first = call(&sandbox, route.0, &react, None).await;
    let second = call(&sandbox, route.0, &react, None).await;
    assert_eq!((first.status, second.status), (204, 429));
    check(route, &second);

    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    let mut routes: Vec<_> = checked.clone();
    routes.sort_unstable();
    routes.dedup();
    assert_eq!(
        routes.len(),
        21,
        "every bot operation is checked: {routes:?}"
    );
}
