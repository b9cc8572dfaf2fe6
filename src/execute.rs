//! One call from start to finish: check, build, send, map. Tool calls and
//! token endpoint calls both run here, over any [`Transport`].

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::catalogue;
use crate::config::Config;
use crate::credential::Credential;
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response, Transport, TransportError};
use crate::oauth::{self, Client, Grant, Token};
use crate::proxy::{self, ProxyRequest};
use crate::response::{self, Output};
use crate::retry::{self, Decision, Replay, RetryPolicy};
use crate::route::Nonce;

/// Runs tool `name` with `arguments` (a JSON object) and `credential`.
///
/// Nothing is sent unless the tool exists and is offered (`DISCORD_TOOLS`),
/// the arguments fit its schema and the credential is of a kind it accepts.
pub fn execute_tool(
    name: &str,
    arguments: &str,
    credential: &Credential,
    config: &Config,
    transport: &mut impl Transport,
) -> Result<Output, Error> {
    let tool = catalogue::offered(&config.tools)?
        .find(|tool| tool.name == name)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownTool,
                format!("no tool is called {name:?}"),
            )
        })?;
    // Made once per call: every attempt sends the same nonce and body.
    let mut random = [0; Nonce::RANDOM_BYTES];
    transport.fill_random(&mut random);
    let endpoint = tool.plan(arguments, &Nonce::new(&random))?;
    if !tool.accepts.contains(&credential.kind()) {
        let accepted: Vec<String> = tool.accepts.iter().map(ToString::to_string).collect();
        return Err(Error::new(
            ErrorKind::MissingCredential,
            format!(
                "{name} needs a {} credential; the call brought {}",
                accepted.join(" or "),
                credential.kind()
            ),
        ));
    }
    let method = endpoint.method();
    let mut request = Request::new(
        method,
        config.api_url(&endpoint.path_and_query()),
        credential,
    );
    request.headers.extend(endpoint.headers());
    request.body = endpoint.body().map(<[u8]>::to_vec);
    let replay = Replay::of(method, endpoint.is_deduplicated());
    let secret = credential.secret();
    let secrets = secret.as_slice();
    let sent = send_with_retries(
        &request,
        replay,
        &RetryPolicy::from_config(config),
        transport,
    );
    let note = retry::applied_note(
        method,
        replay,
        sent.retries,
        sent.earlier_may_have_applied,
        &sent.outcome,
    );
    let output = sent
        .outcome
        .map_err(Error::from)
        .and_then(|answer| response::tool_output(tool.output, answer, secrets));
    output.map_err(|error| {
        let error = match note {
            Some(note) => error.with_details(&[
                ("retried", note.retried),
                ("may_have_applied", note.may_have_applied),
            ]),
            None => error,
        };
        error.redacted(secrets)
    })
}

/// The last outcome of a request, and what the attempts before it did.
struct Sent {
    outcome: Result<Response, TransportError>,
    /// How many times it was sent again.
    retries: u32,
    /// Whether an attempt before the last may have changed something.
    earlier_may_have_applied: bool,
}

/// Sends `request`, and again while `policy` says a retry may help: short
/// 429s are waited out, transient failures backed off when `replay` allows.
fn send_with_retries(
    request: &Request,
    replay: Replay,
    policy: &RetryPolicy,
    transport: &mut impl Transport,
) -> Sent {
    let mut retries = 0;
    let mut earlier_may_have_applied = false;
    loop {
        let outcome = transport.send(request);
        let decision = policy.decide(
            replay,
            retries,
            &outcome,
            transport.elapsed(),
            transport.jitter(),
        );
        match decision {
            Decision::RetryAfter(wait) => {
                earlier_may_have_applied |= retry::may_have_applied(&outcome);
                transport.sleep(wait);
                retries += 1;
            }
            Decision::Done => {
                return Sent {
                    outcome,
                    retries,
                    earlier_may_have_applied,
                };
            }
        }
    }
}

/// Sends a raw request through the confined proxy: any answer, whatever
/// its status, comes back as a [`Response`].
pub fn proxy_send(
    proxy: &ProxyRequest,
    credential: &Credential,
    config: &Config,
    transport: &mut impl Transport,
) -> Result<Response, Error> {
    let request = proxy::build_request(proxy, credential, config)?;
    let secret = credential.secret();
    transport
        .send(&request)
        .map_err(|error| Error::from(error).redacted(secret.as_slice()))
}

/// Sends a token endpoint `request` (a `POST`), again only after a short
/// 429: its answer is read by [`oauth`], whose errors say what happened.
fn send_token_request(
    request: &Request,
    config: &Config,
    transport: &mut impl Transport,
) -> Result<Response, Error> {
    let replay = Replay::of(request.method, false);
    send_with_retries(
        request,
        replay,
        &RetryPolicy::from_config(config),
        transport,
    )
    .outcome
    .map_err(Error::from)
}

/// Trades `grant` (a code or a refresh token) for a token.
pub fn fetch_token(
    client: &Client,
    grant: &Grant<'_>,
    config: &Config,
    transport: &mut impl Transport,
) -> Result<Token, Error> {
    let request = oauth::token_request(config, client, grant)?;
    let secrets = oauth::secrets_of(client, Some(grant), None);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let answer = send_token_request(&request, config, transport)
        .map_err(|error| error.redacted(&secrets))?;
    oauth::token_from(&answer, &secrets)
}

/// Revokes `token`, and with it the user's grant to the application.
pub fn revoke_token(
    client: &Client,
    token: &str,
    config: &Config,
    transport: &mut impl Transport,
) -> Result<(), Error> {
    let request = oauth::revoke_request(config, client, token)?;
    let secrets = oauth::secrets_of(client, None, Some(token));
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let answer = send_token_request(&request, config, transport)
        .map_err(|error| error.redacted(&secrets))?;
    oauth::revoked_from(&answer, &secrets)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::*;
    use crate::error::ErrorKind;
    use crate::http::{Method, TransportFailure};

    /// Records what would be sent, answers from a script (the last answer
    /// repeats), and keeps a pretend clock that only sleeping moves.
    struct Recorder {
        sent: Vec<Request>,
        answers: VecDeque<Result<Response, TransportError>>,
        slept: Vec<Duration>,
        /// How many times random bytes were asked for.
        random: u32,
    }

    impl Transport for Recorder {
        fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
            self.sent.push(request.clone());
            let answer = self.answers.front().cloned().expect("a scripted answer");
            if self.answers.len() > 1 {
                self.answers.pop_front();
            }
            answer
        }

        fn sleep(&mut self, duration: Duration) {
            self.slept.push(duration);
        }

        fn elapsed(&self) -> Duration {
            self.slept.iter().sum()
        }

        fn jitter(&mut self) -> f64 {
            0.5
        }

        fn fill_random(&mut self, bytes: &mut [u8]) {
            self.random += 1;
            for (at, byte) in bytes.iter_mut().enumerate() {
                *byte = (self.random as u8).wrapping_mul(31).wrapping_add(at as u8);
            }
        }
    }

    fn status(status: u16, body: &str) -> Result<Response, TransportError> {
        Ok(Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        })
    }

    fn scripted(answers: Vec<Result<Response, TransportError>>) -> Recorder {
        Recorder {
            sent: Vec::new(),
            answers: answers.into(),
            slept: Vec::new(),
            random: 0,
        }
    }

    fn recorder() -> Recorder {
        scripted(vec![status(200, "{}")])
    }

    #[test]
    fn transient_failures_are_retried_then_succeed() {
        let mut recorder = scripted(vec![
            status(502, "<html>"),
            status(500, ""),
            status(200, "{}"),
        ]);
        run(&mut recorder, "discord_get_gateway", "{}", Credential::None).unwrap();
        assert_eq!(recorder.sent.len(), 3);
        assert_eq!(
            recorder.slept,
            [Duration::from_millis(300), Duration::from_millis(500)]
        );
    }

    #[test]
    fn retries_stop_after_two() {
        let mut recorder = scripted(vec![status(503, "")]);
        let error = run(&mut recorder, "discord_get_gateway", "{}", Credential::None).unwrap_err();
        assert_eq!((error.kind, error.status), (ErrorKind::Upstream, Some(503)));
        assert_eq!(recorder.sent.len(), 3);

        let unreachable = Err(TransportError::new(
            TransportFailure::Unreachable,
            "connection refused",
        ));
        let mut recorder = scripted(vec![unreachable]);
        let error = run(&mut recorder, "discord_get_gateway", "{}", Credential::None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Transport);
        assert_eq!(error.details.as_deref(), Some(r#"{"class":"unreachable"}"#));
        assert_eq!(recorder.sent.len(), 3);
    }

    #[test]
    fn short_rate_limits_are_waited_out_long_ones_reported() {
        let mut recorder = scripted(vec![
            status(429, r#"{"retry_after": 0.25}"#),
            status(200, "{}"),
        ]);
        run(&mut recorder, "discord_get_gateway", "{}", Credential::None).unwrap();
        assert_eq!(recorder.slept, [Duration::from_millis(250)]);

        let mut recorder = scripted(vec![status(429, r#"{"retry_after": 30, "global": true}"#)]);
        let error = run(&mut recorder, "discord_get_gateway", "{}", Credential::None).unwrap_err();
        assert_eq!(
            (error.kind, error.retry_after_ms),
            (ErrorKind::RateLimited, Some(30_000))
        );
        assert_eq!(recorder.sent.len(), 1, "a long wait is reported at once");
    }

    #[test]
    fn auth_failures_and_timeouts_are_never_retried() {
        for answer in [
            status(401, r#"{"message": "401: Unauthorized", "code": 0}"#),
            status(403, r#"{"message": "Missing Access", "code": 50001}"#),
            Err(TransportError::new(TransportFailure::TimedOut, "timed out")),
            Err(TransportError::new(TransportFailure::TooLarge, "too large")),
        ] {
            let mut recorder = scripted(vec![answer]);
            run(
                &mut recorder,
                "discord_get_my_user",
                "{}",
                Credential::Bot("t".into()),
            )
            .unwrap_err();
            assert_eq!(recorder.sent.len(), 1);
        }
    }

    fn run(
        recorder: &mut Recorder,
        name: &str,
        arguments: &str,
        credential: Credential,
    ) -> Result<Output, Error> {
        let config =
            Config::from_vars([("DISCORD_API_BASE", "http://127.0.0.1:1/api/v10/")]).unwrap();
        execute_tool(name, arguments, &credential, &config, recorder)
    }

    #[test]
    fn builds_the_request_from_route_query_and_credential() {
        let mut recorder = recorder();
        let arguments = r#"{"limit": 5, "after": "10", "with_counts": true}"#;
        run(
            &mut recorder,
            "discord_list_my_guilds",
            arguments,
            Credential::Bearer("tok".into()),
        )
        .unwrap();
        let request = &recorder.sent[0];
        assert_eq!(request.method, Method::Get);
        assert_eq!(
            request.url,
            "http://127.0.0.1:1/api/v10/users/@me/guilds?after=10&limit=5&with_counts=true"
        );
        assert_eq!(request.header("authorization"), Some("Bearer tok"));
        assert!(
            request
                .header("user-agent")
                .unwrap()
                .starts_with("DiscordBot (")
        );
    }

    #[test]
    fn refusals_send_nothing() {
        let mut recorder = recorder();
        let cases = [
            (
                "discord_nope",
                "{}",
                Credential::None,
                ErrorKind::UnknownTool,
            ),
            (
                "discord_get_user",
                r#"{"user_id":"x"}"#,
                Credential::Bot("t".into()),
                ErrorKind::InvalidArguments,
            ),
            (
                "discord_get_my_user",
                "{}",
                Credential::None,
                ErrorKind::MissingCredential,
            ),
            (
                "discord_retrieve_user_connections",
                "{}",
                Credential::Bot("t".into()),
                ErrorKind::MissingCredential,
            ),
        ];
        for (name, arguments, credential, kind) in cases {
            let error = run(&mut recorder, name, arguments, credential).unwrap_err();
            assert_eq!(error.kind, kind, "{name}: {}", error.message);
        }
        assert!(recorder.sent.is_empty());
    }

    #[test]
    fn token_calls_post_and_keep_their_secrets() {
        let config =
            Config::from_vars([("DISCORD_API_BASE", "http://127.0.0.1:1/api/v10")]).unwrap();
        let client = Client {
            client_id: "1".into(),
            client_secret: Some("client-secret".into()),
        };
        let grant = Grant::AuthorizationCode {
            code: "the code",
            redirect_uri: "http://127.0.0.1:1/cb",
            code_verifier: &"v".repeat(43),
        };
        let mut recorder = scripted(vec![status(
            400,
            r#"{"error":"invalid_grant","error_description":"code the%20code, secret client-secret"}"#,
        )]);
        let error = fetch_token(&client, &grant, &config, &mut recorder).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unauthorized);
        assert!(!error.message.contains("the%20code"), "{}", error.message);
        assert!(
            !error.message.contains("client-secret"),
            "{}",
            error.message
        );
        assert_eq!(recorder.sent[0].method, Method::Post);
        assert_eq!(
            recorder.sent[0].url,
            "http://127.0.0.1:1/api/v10/oauth2/token"
        );

        let timed_out = Err(TransportError::new(TransportFailure::TimedOut, "slow"));
        let mut recorder = scripted(vec![timed_out]);
        let error = revoke_token(&client, "tok", &config, &mut recorder).unwrap_err();
        assert_eq!(error.details.as_deref(), Some(r#"{"class":"timeout"}"#));
        assert_eq!(recorder.sent.len(), 1);
        assert_eq!(recorder.sent[0].method, Method::Post);
    }

    #[test]
    fn no_credential_sends_no_authorization() {
        let mut recorder = recorder();
        run(&mut recorder, "discord_get_gateway", "{}", Credential::None).unwrap();
        assert_eq!(recorder.sent[0].header("authorization"), None);
    }

    fn bot() -> Credential {
        Credential::Bot("sbx-bot-token".into())
    }

    fn body_of(request: &Request) -> serde_json::Value {
        serde_json::from_slice(request.body.as_deref().expect("a body")).expect("JSON")
    }

    #[test]
    fn messages_ping_nobody_by_default_and_carry_a_fresh_nonce() {
        let mut recorder = recorder();
        let arguments = r#"{"channel_id": "1", "content": "@everyone hi <@2>"}"#;
        run(&mut recorder, "discord_send_message", arguments, bot()).unwrap();
        run(&mut recorder, "discord_send_message", arguments, bot()).unwrap();
        let (first, second) = (&recorder.sent[0], &recorder.sent[1]);
        assert_eq!(first.method, Method::Post);
        assert_eq!(first.url, "http://127.0.0.1:1/api/v10/channels/1/messages");
        assert_eq!(first.header("content-type"), Some("application/json"));
        let body = body_of(first);
        assert_eq!(body["allowed_mentions"], serde_json::json!({"parse": []}));
        assert_eq!(body["content"], "@everyone hi <@2>");
        assert_eq!(body["enforce_nonce"], true);
        let nonce = body["nonce"].as_str().expect("a nonce");
        assert!((1..=25).contains(&nonce.len()), "{nonce}");
        assert_ne!(body_of(second)["nonce"], nonce, "a fresh nonce per call");
        assert!(body.get("message_reference").is_none() && body.get("flags").is_none());
    }

    #[test]
    fn replies_and_silent_messages_say_so() {
        let mut recorder = recorder();
        let arguments = r#"{"channel_id": "1", "embeds": [{"title": "t"}],
            "reply_to_message_id": "9", "silent": true,
            "mentions": {"users": ["5"], "replied_user": true}}"#;
        run(&mut recorder, "discord_send_message", arguments, bot()).unwrap();
        let body = body_of(&recorder.sent[0]);
        assert_eq!(
            body["message_reference"],
            serde_json::json!({"message_id": "9"})
        );
        assert_eq!(body["flags"], 4096);
        assert_eq!(body["embeds"], serde_json::json!([{"title": "t"}]));
        assert_eq!(
            body["allowed_mentions"],
            serde_json::json!({"parse": [], "users": ["5"], "replied_user": true})
        );
    }

    #[test]
    fn a_message_is_sent_again_with_the_same_nonce_and_body_after_a_500() {
        for failure in [
            status(500, ""),
            Err(TransportError::new(TransportFailure::TimedOut, "slow")),
            Err(TransportError::new(TransportFailure::Unreachable, "reset")),
        ] {
            let mut recorder = scripted(vec![failure, status(200, r#"{"id":"7"}"#)]);
            let arguments = r#"{"channel_id": "1", "content": "once"}"#;
            let output = run(&mut recorder, "discord_send_message", arguments, bot()).unwrap();
            assert_eq!(output, Output::Json(r#"{"id":"7"}"#.into()));
            assert_eq!(recorder.sent.len(), 2);
            assert_eq!(recorder.sent[0], recorder.sent[1], "same nonce, same body");
            assert_eq!(recorder.random, 1, "one nonce per call");
        }
    }

    #[test]
    fn other_writes_are_not_sent_again_once_they_may_have_applied() {
        let cases = [
            (
                "discord_create_thread",
                r#"{"channel_id": "1", "name": "t"}"#,
            ),
            (
                "discord_edit_message",
                r#"{"channel_id": "1", "message_id": "2", "content": "x"}"#,
            ),
            ("discord_create_dm", r#"{"recipient_id": "3"}"#),
            ("discord_trigger_typing", r#"{"channel_id": "1"}"#),
        ];
        for (tool, arguments) in cases {
            let mut recorder = scripted(vec![status(502, "")]);
            let error = run(&mut recorder, tool, arguments, bot()).unwrap_err();
            assert_eq!(recorder.sent.len(), 1, "{tool}");
            assert_eq!((error.kind, error.status), (ErrorKind::Upstream, Some(502)));
            assert_eq!(
                error.details.as_deref(),
                Some(r#"{"may_have_applied":true,"retried":false}"#),
                "{tool}"
            );

            let dropped = Err(TransportError::new(TransportFailure::Unreachable, "reset"));
            let mut recorder = scripted(vec![dropped]);
            let error = run(&mut recorder, tool, arguments, bot()).unwrap_err();
            assert_eq!(recorder.sent.len(), 1, "{tool}");
            assert_eq!(
                error.details.as_deref(),
                Some(r#"{"class":"unreachable","may_have_applied":true,"retried":false}"#)
            );

            let mut recorder = scripted(vec![
                status(429, r#"{"retry_after": 0.1}"#),
                status(200, "{}"),
            ]);
            run(&mut recorder, tool, arguments, bot()).unwrap();
            assert_eq!(recorder.sent.len(), 2, "{tool}: a 429 is always retried");

            let mut recorder = scripted(vec![status(400, r#"{"code": 50035}"#)]);
            let error = run(&mut recorder, tool, arguments, bot()).unwrap_err();
            assert_eq!(error.details, None, "{tool}: a 400 did not apply");
        }
    }

    #[test]
    fn a_delete_that_finds_nothing_after_a_retry_may_have_applied() {
        let arguments = r#"{"channel_id": "1", "message_id": "2", "reason": "spam"}"#;
        let mut recorder = scripted(vec![
            status(500, ""),
            status(404, r#"{"message": "Unknown Message", "code": 10008}"#),
        ]);
        let error = run(&mut recorder, "discord_delete_message", arguments, bot()).unwrap_err();
        assert_eq!(recorder.sent.len(), 2);
        assert_eq!(error.kind, ErrorKind::NotFound);
        assert_eq!(
            error.details.as_deref(),
            Some(r#"{"may_have_applied":true,"retried":true}"#)
        );
        assert_eq!(recorder.sent[0].method, Method::Delete);
        assert_eq!(recorder.sent[0].header("x-audit-log-reason"), Some("spam"));

        let mut recorder = scripted(vec![status(404, "{}")]);
        let error = run(&mut recorder, "discord_delete_message", arguments, bot()).unwrap_err();
        assert_eq!(error.details, None, "a first 404 says nothing more");
    }

    #[test]
    fn a_204_is_an_empty_object() {
        let mut recorder = scripted(vec![status(204, "")]);
        let arguments = r#"{"channel_id": "1", "message_id": "2", "emoji": "👍"}"#;
        let output = run(&mut recorder, "discord_add_reaction", arguments, bot()).unwrap();
        assert_eq!(output, Output::Json("{}".into()));
        let request = &recorder.sent[0];
        assert_eq!(request.method, Method::Put);
        assert_eq!(
            request.url,
            "http://127.0.0.1:1/api/v10/channels/1/messages/2/reactions/%F0%9F%91%8D/@me"
        );
        assert_eq!(request.body, None);
        assert_eq!(request.header("content-type"), None);
    }

    #[test]
    fn arguments_that_break_a_rule_together_are_refused_before_sending() {
        let mut recorder = recorder();
        let cases = [
            (
                "discord_send_message",
                r#"{"channel_id": "1"}"#,
                "`content`, `embeds`: give at least one",
            ),
            (
                "discord_edit_message",
                r#"{"channel_id": "1", "message_id": "2", "embeds": []}"#,
                "`content`, `embeds`: give at least one",
            ),
            (
                "discord_list_messages",
                r#"{"channel_id": "1", "before": "2", "around": "3"}"#,
                "`before`, `after`, `around`: give at most one",
            ),
            (
                "discord_create_thread",
                r#"{"channel_id": "1", "name": "t", "invitable": true}"#,
                "`invitable`: only a private thread takes it",
            ),
            (
                "discord_send_message",
                r#"{"channel_id": "1", "content": ""}"#,
                "`content`: invalid length 0, expected text of 1 to 2000 characters",
            ),
            (
                "discord_send_message",
                r#"{"channel_id": "1", "embeds": [{"fields": [{"name": "n"}]}]}"#,
                "`embeds[0].fields[0]`: missing field `value`",
            ),
            (
                "discord_delete_message",
                r#"{"channel_id": "1", "message_id": "2", "reason": ""}"#,
                "`reason`: invalid length 0",
            ),
            (
                "discord_list_guild_members",
                r#"{"guild_id": "1", "limit": 1001}"#,
                "`limit`: invalid value: integer `1001`, expected an integer from 1 to 1000",
            ),
            (
                "discord_create_thread",
                r#"{"channel_id": "1", "name": "t", "auto_archive_duration": 30}"#,
                "`auto_archive_duration`: invalid value",
            ),
            (
                "discord_add_reaction",
                r#"{"channel_id": "1", "message_id": "2", "emoji": "smile"}"#,
                "`emoji`: invalid value",
            ),
            (
                "discord_get_channel",
                r#"{"channel_id": "x"}"#,
                "`channel_id`: invalid value",
            ),
            ("discord_create_dm", r#"{}"#, "missing field `recipient_id`"),
            (
                "discord_get_guild",
                r#"{"guild_id": "1", "x": 1}"#,
                "unknown field `x`",
            ),
        ];
        for (tool, arguments, message) in cases {
            let error = run(&mut recorder, tool, arguments, bot()).unwrap_err();
            assert_eq!(
                error.kind,
                ErrorKind::InvalidArguments,
                "{tool} {arguments}"
            );
            assert!(error.message.contains(message), "{tool}: {}", error.message);
        }
        assert!(recorder.sent.is_empty());
    }

    #[test]
    fn threads_always_say_their_type() {
        let mut recorder = recorder();
        let arguments = r#"{"channel_id": "1", "name": "t", "auto_archive_duration": 1440}"#;
        run(&mut recorder, "discord_create_thread", arguments, bot()).unwrap();
        let arguments = r#"{"channel_id": "1", "name": "p", "private": true, "invitable": false, "reason": "r é"}"#;
        run(&mut recorder, "discord_create_thread", arguments, bot()).unwrap();
        assert_eq!(
            body_of(&recorder.sent[0]),
            serde_json::json!({"name": "t", "type": 11, "auto_archive_duration": 1440})
        );
        assert_eq!(
            body_of(&recorder.sent[1]),
            serde_json::json!({"name": "p", "type": 12, "invitable": false})
        );
        assert_eq!(
            recorder.sent[1].header("x-audit-log-reason"),
            Some("r%20%C3%A9")
        );
        assert_eq!(recorder.sent[0].header("x-audit-log-reason"), None);
    }

    #[test]
    fn discord_tools_limits_what_runs() {
        let config = Config::from_vars([
            ("DISCORD_API_BASE", "http://127.0.0.1:1/api/v10"),
            ("DISCORD_TOOLS", "discord_get_*,discord_list_messages"),
        ])
        .unwrap();
        let mut recorder = recorder();
        let bot = bot();
        execute_tool(
            "discord_get_gateway",
            "{}",
            &Credential::None,
            &config,
            &mut recorder,
        )
        .unwrap();
        let arguments = r#"{"channel_id": "1", "content": "x"}"#;
        let error = execute_tool(
            "discord_send_message",
            arguments,
            &bot,
            &config,
            &mut recorder,
        )
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnknownTool);
        assert_eq!(recorder.sent.len(), 1);

        let typo = Config::from_vars([("DISCORD_TOOLS", "discord_get_usr")]).unwrap();
        let error = execute_tool(
            "discord_get_gateway",
            "{}",
            &Credential::None,
            &typo,
            &mut recorder,
        )
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Transport);
        assert!(
            error
                .message
                .contains("\"discord_get_usr\" matches no tool"),
            "{}",
            error.message
        );
    }
}
