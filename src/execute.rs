//! One call from start to finish: check, build, send, map. Tool calls and
//! token endpoint calls both run here, over any [`Transport`].

use crate::catalogue;
use crate::config::Config;
use crate::credential::Credential;
use crate::error::{Error, ErrorKind};
use crate::http::{Method, Request, Transport};
use crate::oauth::{self, Client, Grant, Token};
use crate::response;
use crate::tool::Output;

/// Runs tool `name` with `arguments` (a JSON object) and `credential`.
///
/// Nothing is sent unless the tool exists, the arguments fit its schema,
/// the credential is of a kind it accepts and the configuration is sound.
pub fn execute_tool(
    name: &str,
    arguments: &str,
    credential: &Credential,
    config: Result<Config, Error>,
    transport: &mut impl Transport,
) -> Result<Output, Error> {
    let tool = catalogue::find(name).ok_or_else(|| {
        Error::new(
            ErrorKind::UnknownTool,
            format!("no tool is called {name:?}"),
        )
    })?;
    let endpoint = tool.plan(arguments)?;
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
    let config = config?;
    let request = Request::new(
        Method::Get,
        config.api_url(&endpoint.path_and_query()),
        credential,
    );
    let secret = credential.secret();
    let secrets = secret.as_slice();
    let answer = transport
        .send(&request)
        .map_err(|error| error.redacted(secrets))?;
    response::tool_output(tool.output, answer, secrets)
}

/// The secrets a token endpoint call carries, none of which may reach an error.
fn secrets_of<'a>(
    client: &'a Client,
    grant: Option<&Grant<'a>>,
    token: Option<&'a str>,
) -> Vec<&'a str> {
    let mut secrets: Vec<&str> = client
        .client_secret
        .as_deref()
        .into_iter()
        .chain(token)
        .collect();
    match grant {
        Some(Grant::AuthorizationCode {
            code,
            code_verifier,
            ..
        }) => secrets.extend([*code, *code_verifier]),
        Some(Grant::RefreshToken(refresh_token)) => secrets.push(refresh_token),
        None => {}
    }
    secrets
}

/// Trades `grant` (a code or a refresh token) for a token.
pub fn fetch_token(
    client: &Client,
    grant: &Grant<'_>,
    config: Result<Config, Error>,
    transport: &mut impl Transport,
) -> Result<Token, Error> {
    let request = oauth::token_request(&config?, client, grant)?;
    let secrets = secrets_of(client, Some(grant), None);
    let answer = transport
        .send(&request)
        .map_err(|error| error.redacted(&secrets))?;
    oauth::token_from(&answer, &secrets)
}

/// Revokes `token`, and with it the user's grant to the application.
pub fn revoke_token(
    client: &Client,
    token: &str,
    config: Result<Config, Error>,
    transport: &mut impl Transport,
) -> Result<(), Error> {
    let request = oauth::revoke_request(&config?, client, token)?;
    let secrets = secrets_of(client, None, Some(token));
    let answer = transport
        .send(&request)
        .map_err(|error| error.redacted(&secrets))?;
    oauth::revoked_from(&answer, &secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Response;

    /// Records what would be sent and answers with a fixed response.
    struct Recorder {
        sent: Vec<Request>,
        answer: Response,
    }

    impl Transport for Recorder {
        fn send(&mut self, request: &Request) -> Result<Response, Error> {
            self.sent.push(request.clone());
            Ok(self.answer.clone())
        }
    }

    fn recorder() -> Recorder {
        Recorder {
            sent: Vec::new(),
            answer: Response {
                status: 200,
                headers: Vec::new(),
                body: b"{}".to_vec(),
            },
        }
    }

    fn run(
        recorder: &mut Recorder,
        name: &str,
        arguments: &str,
        credential: Credential,
    ) -> Result<Output, Error> {
        let config = Config::from_vars([("DISCORD_API_BASE", "http://127.0.0.1:1/api/v10/")]);
        execute_tool(name, arguments, &credential, config, recorder)
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
        let config = Config::from_vars([("DISCORD_API_BASE", "http://example.com/api")]);
        let error = execute_tool(
            "discord_get_gateway",
            "{}",
            &Credential::None,
            config,
            &mut recorder,
        )
        .unwrap_err();
        assert!(error.message.contains("plain http"), "{}", error.message);
        assert!(recorder.sent.is_empty());
    }

    #[test]
    fn no_credential_sends_no_authorization() {
        let mut recorder = recorder();
        run(&mut recorder, "discord_get_gateway", "{}", Credential::None).unwrap();
        assert_eq!(recorder.sent[0].header("authorization"), None);
    }
}
