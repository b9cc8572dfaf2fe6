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
    use crate::http::{Method, TransportError, TransportFailure};

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
}
