//! The demo: every tool, through the component, against the sandbox.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::connector::{Connector, Credential, Output};
use crate::sandbox::tokens::{APPLICATION_ID, BOT_TOKEN, USER_TOKEN};

/// One tool call of the demo: the tool, its arguments and credential.
pub struct DemoCall {
    /// The tool's name.
    pub tool: &'static str,
    /// Its arguments, a JSON object.
    pub arguments: String,
    /// The credential it runs with.
    pub credential: Credential,
}

/// The outcome of one demo call.
pub struct DemoOutcome {
    /// What was called.
    pub call: DemoCall,
    /// A one-line summary of the result, or the error.
    pub result: Result<String, String>,
    /// How long the call took, instance creation included.
    pub elapsed: Duration,
}

impl DemoOutcome {
    /// The line the demo prints for this call.
    pub fn line(&self) -> String {
        let credential = match self.call.credential {
            Credential::None => "none",
            Credential::Bearer(_) => "bearer",
            Credential::Bot(_) => "bot",
        };
        let (mark, text) = match &self.result {
            Ok(summary) => ("ok  ", summary.as_str()),
            Err(error) => ("FAIL", error.as_str()),
        };
        format!(
            "{mark} {:<52} {:<7} {:>8.2} ms  {text}",
            self.call.tool,
            credential,
            self.elapsed.as_secs_f64() * 1000.0
        )
    }
}

/// The 16 calls the demo makes, one per tool, with sandbox data.
pub fn calls() -> Vec<DemoCall> {
    let user = || Credential::Bearer(USER_TOKEN.to_owned());
    let call = |tool, arguments: Value, credential| DemoCall {
        tool,
        arguments: arguments.to_string(),
        credential,
    };
    use serde_json::json;
    vec![
        call(
            "discord_get_current_user_application_entitlements",
            json!({ "application_id": APPLICATION_ID, "exclude_ended": true, "limit": 10 }),
            user(),
        ),
        call("discord_get_gateway", json!({}), Credential::None),
        call(
            "discord_get_guild_template",
            json!({ "template_code": "https://discord.new/hgM48av5Q69A" }),
            Credential::None,
        ),
        call(
            "discord_get_guild_widget",
            json!({ "guild_id": "613425648685547541" }),
            Credential::None,
        ),
        call(
            "discord_get_guild_widget_png",
            json!({ "guild_id": "613425648685547541", "style": "banner2" }),
            Credential::None,
        ),
        call(
            "discord_get_invite_deprecated",
            json!({ "invite_code": "discord-developers", "with_counts": true }),
            Credential::None,
        ),
        call(
            "discord_get_my_guild_member",
            json!({ "guild_id": "613425648685547541" }),
            user(),
        ),
        call("discord_get_my_oauth2_authorization", json!({}), user()),
        call("discord_get_my_user", json!({}), user()),
        call("discord_get_openid_connect_userinfo", json!({}), user()),
        call("discord_get_public_keys", json!({}), Credential::None),
        call(
            "discord_get_user",
            json!({ "user_id": "41771983423143937" }),
            Credential::Bot(BOT_TOKEN.to_owned()),
        ),
        call(
            "discord_list_my_guilds",
            json!({ "limit": 3, "with_counts": true }),
            user(),
        ),
        call("discord_list_sticker_packs", json!({}), Credential::None),
        call(
            "discord_resolve_invite",
            json!({
                "invite_code": "https://discord.gg/wasm-workshop",
                "with_counts": true,
                "guild_scheduled_event_id": "1200000000000000001"
            }),
            Credential::None,
        ),
        call("discord_retrieve_user_connections", json!({}), user()),
    ]
}

/// Runs every demo call through `connector`, one after another.
pub async fn run(connector: &Connector) -> Vec<DemoOutcome> {
    let mut outcomes = Vec::new();
    for call in calls() {
        let started = Instant::now();
        let result = connector
            .execute_tool(call.tool, &call.arguments, &call.credential)
            .await;
        let elapsed = started.elapsed();
        let result = match result {
            Ok(Ok(output)) => Ok(summary(&output)),
            Ok(Err(error)) => Err(format!("{:?}: {}", error.kind, error.message)),
            Err(trap) => Err(format!("host error: {trap:#}")),
        };
        outcomes.push(DemoOutcome {
            call,
            result,
            elapsed,
        });
    }
    outcomes
}

/// A few words on what came back.
pub fn summary(output: &Output) -> String {
    match output {
        Output::Binary(blob) => format!("{} bytes of {}", blob.data.len(), blob.content_type),
        Output::Json(json) => match serde_json::from_str::<Value>(json) {
            Ok(Value::Array(items)) => format!("{} items", items.len()),
            Ok(Value::Object(fields)) => {
                let named = ["username", "name", "preferred_username", "url", "code"]
                    .iter()
                    .find_map(|key| Some(format!("{key}={}", fields.get(*key)?.as_str()?)));
                let keys = fields
                    .keys()
                    .take(4)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                named.unwrap_or(keys)
            }
            Ok(other) => other.to_string(),
            Err(_) => "JSON".to_owned(),
        },
    }
}
