//! The demo: the 16 read tools, a bot's flow with the bot tools and the
//! OAuth flow, through the component, against the sandbox.

use std::time::{Duration, Instant};

use serde_json::Value;

use discord_host::{Connector, Credential, Output};
use discord_sandbox::seed::GUILD_ID;
use discord_sandbox::tokens::{APPLICATION_ID, BOT_TOKEN, USER_ID, USER_TOKEN};

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
            Ok(output) => Ok(summary(&output)),
            Err(error) => Err(error.to_string()),
        };
        outcomes.push(DemoOutcome {
            call,
            result,
            elapsed,
        });
    }
    outcomes
}

/// How many steps the bot flow has: list the channels, send, reply, react,
/// pin, open a thread, open a DM and post in it.
pub const BOT_FLOW_STEPS: usize = 8;

/// What an agent with a bot token does on the sandbox's guild, each step
/// naming what the earlier ones made: find `#general`, post in it, reply,
/// react, pin, open a thread from the message, DM a member. Stops at the
/// first step that fails (the later ones need its ids), so all went well
/// when there are [`BOT_FLOW_STEPS`] outcomes and each is `Ok`.
pub async fn run_bot(connector: &Connector) -> Vec<DemoOutcome> {
    let mut flow = BotFlow {
        connector,
        outcomes: Vec::new(),
    };
    let _stopped_early: Option<()> = flow.run().await;
    flow.outcomes
}

/// The bot flow's calls so far.
struct BotFlow<'a> {
    connector: &'a Connector,
    outcomes: Vec<DemoOutcome>,
}

/// Reads a step's JSON output: a summary line and what later steps need,
/// or why the output will not do.
type Reader<T> = fn(&Value) -> Result<(String, T), String>;

/// The `id` of a JSON object, as later steps name it.
fn id_of(value: &Value) -> Result<String, String> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {value}"))
}

/// Reads a 204's `{}`.
fn no_content(what: &str, value: &Value) -> Result<(String, ()), String> {
    if value == &serde_json::json!({}) {
        Ok((format!("{what} (204, output {{}})"), ()))
    } else {
        Err(format!("expected {{}}, got {value}"))
    }
}

impl BotFlow<'_> {
    /// Runs `tool` with the bot token, records the outcome, and gives what
    /// `read` took from its output, or `None` once it failed.
    async fn step<T>(
        &mut self,
        tool: &'static str,
        arguments: Value,
        read: Reader<T>,
    ) -> Option<T> {
        let call = DemoCall {
            tool,
            arguments: arguments.to_string(),
            credential: Credential::Bot(BOT_TOKEN.to_owned()),
        };
        let started = Instant::now();
        let output = self
            .connector
            .execute_tool(tool, &call.arguments, &call.credential)
            .await;
        let elapsed = started.elapsed();
        let read = match output {
            Ok(Output::Json(json)) => serde_json::from_str(&json)
                .map_err(|error| format!("not JSON: {error}"))
                .and_then(|value| read(&value)),
            Ok(other) => Err(format!("expected JSON, got {}", summary(&other))),
            Err(error) => Err(error.to_string()),
        };
        let (result, taken) = match read {
            Ok((line, taken)) => (Ok(line), Some(taken)),
            Err(error) => (Err(error), None),
        };
        self.outcomes.push(DemoOutcome {
            call,
            result,
            elapsed,
        });
        taken
    }

    async fn run(&mut self) -> Option<()> {
        use serde_json::json;

        let general = self
            .step(
                "discord_list_guild_channels",
                json!({ "guild_id": GUILD_ID }),
                |channels| {
                    let channels = channels.as_array().ok_or("expected a list")?;
                    let general = channels
                        .iter()
                        .find(|channel| channel["name"] == "general")
                        .ok_or("no #general")
                        .and_then(|channel| id_of(channel).map_err(|_| "no id"))?;
                    Ok((
                        format!("{} channels, #general is {general}", channels.len()),
                        general,
                    ))
                },
            )
            .await?;
        let greeting = self
            .step(
                "discord_send_message",
                json!({ "channel_id": general, "content": "Hello from the Discord connector 👋 (@everyone stays quiet)" }),
                |message| {
                    let id = id_of(message)?;
                    let pinged = message["mention_everyone"] == true;
                    Ok((format!("message {id} posted, @everyone pinged: {pinged}"), id))
                },
            )
            .await?;
        self.step(
            "discord_send_message",
            json!({ "channel_id": general, "content": "…and a reply to it", "reply_to_message_id": greeting }),
            |reply| {
                let to = reply["message_reference"]["message_id"].as_str().ok_or("not a reply")?;
                Ok((format!("reply {} to {to}", id_of(reply)?), ()))
            },
        )
        .await?;
        self.step(
            "discord_add_reaction",
            json!({ "channel_id": general, "message_id": greeting, "emoji": "👍" }),
            |output| no_content("reacted with 👍", output),
        )
        .await?;
        self.step(
            "discord_pin_message",
            json!({ "channel_id": general, "message_id": greeting, "reason": "Démo : garder le message d’accueil" }),
            |output| no_content("pinned, with an audit-log reason", output),
        )
        .await?;
        self.step(
            "discord_create_thread_from_message",
            json!({ "channel_id": general, "message_id": greeting, "name": "Greeting thread", "auto_archive_duration": 1440 }),
            |thread| {
                let name = thread["name"].as_str().ok_or("no name")?;
                Ok((format!("thread \"{name}\" {} opened", id_of(thread)?), ()))
            },
        )
        .await?;
        let dm = self
            .step(
                "discord_create_dm",
                json!({ "recipient_id": USER_ID }),
                |channel| {
                    let id = id_of(channel)?;
                    let with = channel["recipients"][0]["username"]
                        .as_str()
                        .ok_or("no recipient")?;
                    Ok((format!("DM channel {id} with {with}"), id))
                },
            )
            .await?;
        self.step(
            "discord_send_message",
            json!({ "channel_id": dm, "content": "Hi Nelly, the connector's bot says hello." }),
            |message| Ok((format!("DM {} sent", id_of(message)?), ())),
        )
        .await
    }
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

/// Opens `url` as a browser would, following redirects (up to five), and
/// returns the last answer's status. Against the sandbox this approves an
/// authorization link and delivers the redirect to the callback listener.
pub async fn follow_as_browser(url: &str) -> anyhow::Result<u16> {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut url = url.to_owned();
    for _ in 0..5 {
        let answer = client.get(url.parse()?).await?;
        let status = answer.status();
        let location = answer
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        answer.into_body().collect().await?;
        match location {
            Some(next) if status.is_redirection() => url = next,
            _ => return Ok(status.as_u16()),
        }
    }
    anyhow::bail!("too many redirects")
}

/// One step of the OAuth demo and what came of it.
pub struct OAuthStep {
    /// What the step does.
    pub step: &'static str,
    /// A one-line result, or the error.
    pub result: Result<String, String>,
}

/// The whole OAuth flow against `sandbox`: link, approve, exchange, call,
/// expiry, refresh, revoke, and the 401 after it.
pub async fn run_oauth(
    connector: &Connector,
    sandbox: &discord_sandbox::Sandbox,
) -> Vec<OAuthStep> {
    let mut steps = Vec::new();
    if let Err(error) = oauth_flow(connector, sandbox, &mut steps).await {
        steps.push(OAuthStep {
            step: "flow stopped",
            result: Err(format!("{error:#}")),
        });
    }
    steps
}

async fn oauth_flow(
    connector: &Connector,
    sandbox: &discord_sandbox::Sandbox,
    steps: &mut Vec<OAuthStep>,
) -> anyhow::Result<()> {
    use discord_accounts::{
        Authorizer, CallbackListener, ClientRegistry, ConnectionKey, TokenStore,
    };
    use discord_host::{Client, ComponentErrorKind};

    let mut ok = |step, result: String| {
        steps.push(OAuthStep {
            step,
            result: Ok(result),
        })
    };
    let client = Client {
        client_id: APPLICATION_ID.to_owned(),
        client_secret: Some(discord_sandbox::CLIENT_SECRET.to_owned()),
    };
    let clients = ClientRegistry::default().with("discord", &client, &["identify", "guilds"]);
    let store = std::sync::Arc::new(TokenStore::in_memory()?);
    // Tokens live 3 s and are refreshed within 2 s of expiry, so the demo
    // sees a refresh after a short pause.
    sandbox.set_token_lifetime(Duration::from_secs(3));
    let authorizer = Authorizer::new(connector.clone(), store, clients)
        .with_refresh_margin(Duration::from_secs(2));
    let key = ConnectionKey::new("discord", "demo-user");

    let listener = CallbackListener::bind(0).await?;
    let pending = authorizer
        .link("discord", &listener.redirect_uri()?, &[])
        .await?;
    ok(
        "link",
        pending.url.chars().take(90).collect::<String>() + "…",
    );

    let url = pending.url.clone();
    let browser = tokio::spawn(async move { follow_as_browser(&url).await });
    let callback = listener
        .wait(&pending.state, Duration::from_secs(10))
        .await?;
    browser.await??;
    let code = callback
        .code
        .ok_or_else(|| anyhow::anyhow!("no code on the redirect: {:?}", callback.error))?;
    ok(
        "approve",
        "the sandbox redirected to the loopback listener with a code".to_owned(),
    );

    let stored = authorizer
        .complete(
            &pending,
            "demo-user",
            &code,
            callback.state.as_deref().unwrap_or_default(),
        )
        .await?;
    ok(
        "exchange",
        format!("stored a token with scopes {}", stored.scopes.join(" ")),
    );

    let me = authorizer
        .execute_tool(&key, "discord_get_my_user", "{}")
        .await?;
    ok("call", summary(&me));

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = authorizer
        .store()
        .get(&key)
        .await?
        .map(|token| token.access_token);
    let guilds = authorizer
        .execute_tool(&key, "discord_list_my_guilds", r#"{"limit": 2}"#)
        .await?;
    let after = authorizer
        .store()
        .get(&key)
        .await?
        .map(|token| token.access_token);
    anyhow::ensure!(before != after, "the token was not refreshed");
    ok("expiry", "the token was about to expire".to_owned());
    ok(
        "refresh",
        format!(
            "new token pair stored; call after refresh: {}",
            summary(&guilds)
        ),
    );

    let revoked_token = after.unwrap_or_default();
    authorizer.revoke(&key).await?;
    ok(
        "revoke",
        "the grant is revoked and the tokens forgotten".to_owned(),
    );

    let answer = connector
        .execute_tool(
            "discord_get_my_user",
            "{}",
            &Credential::Bearer(revoked_token),
        )
        .await;
    match answer {
        Err(error) if error.component_kind() == Some(ComponentErrorKind::Unauthorized) => {
            ok("401", error.to_string())
        }
        other => anyhow::bail!(
            "the revoked token still worked: {:?}",
            other.map(|output| summary(&output))
        ),
    }
    Ok(())
}
