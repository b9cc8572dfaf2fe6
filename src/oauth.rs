//! OAuth 2.0 for Discord users: PKCE authorization links, and the token
//! endpoint's requests and answers (code exchange, refresh, revoke).
//!
//! Everything here is pure: randomness comes in as bytes, requests go out
//! as [`Request`] values, answers come in as [`Response`] values.
//!
//! ```
//! use discord_connector::oauth::{authorization_link, code_challenge, LinkRequest};
//!
//! let request = LinkRequest {
//!     client_id: "1178765261640953856".into(),
//!     redirect_uri: "http://127.0.0.1:8765/callback".into(),
//!     scopes: vec!["identify".into(), "guilds".into()],
//!     state: None,
//!     prompt: Some("consent".into()),
//!     extra: vec![],
//! };
//! let link = authorization_link(&request, "https://discord.com/oauth2/authorize", &[7; 64]).unwrap();
//! assert!(link.url.contains("scope=identify%20guilds"));
//! assert!(link.url.contains(&code_challenge(&link.code_verifier)));
//! ```

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::base64_encoder;
use crate::config::{Config, checked_base_url};
use crate::credential::Credential;
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response};
use crate::query;
use crate::response::{broken_answer, error_from};
use crate::route::Route;

/// How many random bytes one authorization link takes: 32 for the PKCE
/// verifier, 32 for the state.
pub const LINK_ENTROPY_BYTES: usize = 64;

/// Every OAuth2 scope Discord knows (its OpenAPI `OAuth2Scopes`).
pub const DISCORD_SCOPES: &[&str] = &[
    "activities.invites.write",
    "activities.read",
    "activities.write",
    "applications.builds.read",
    "applications.builds.upload",
    "applications.commands",
    "applications.commands.permissions.update",
    "applications.commands.update",
    "applications.entitlements",
    "applications.store.update",
    "bot",
    "connections",
    "dm_channels.read",
    "email",
    "gdm.join",
    "guilds",
    "guilds.join",
    "guilds.members.read",
    "identify",
    "messages.read",
    "openid",
    "relationships.read",
    "role_connections.write",
    "rpc",
    "rpc.activities.write",
    "rpc.notifications.read",
    "rpc.screenshare.read",
    "rpc.screenshare.write",
    "rpc.video.read",
    "rpc.video.write",
    "rpc.voice.read",
    "rpc.voice.write",
    "voice",
    "webhook.incoming",
];

/// Query parameters the link sets itself; `extra` may not repeat them, nor
/// carry anything secret.
const RESERVED_PARAMETERS: &[&str] = &[
    "response_type",
    "client_id",
    "scope",
    "redirect_uri",
    "state",
    "prompt",
    "code_challenge",
    "code_challenge_method",
    "client_secret",
    "code_verifier",
    "code",
    "access_token",
    "refresh_token",
];

/// What an authorization link is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkRequest {
    /// The application's client id.
    pub client_id: String,
    /// Where Discord sends the user back with the code.
    pub redirect_uri: String,
    /// The scopes to ask for.
    pub scopes: Vec<String>,
    /// Anti-forgery value; a fresh random one is made when absent.
    pub state: Option<String>,
    /// `consent` or `none`.
    pub prompt: Option<String>,
    /// Further parameters Discord knows (`guild_id`, `permissions`, ...).
    pub extra: Vec<(String, String)>,
}

/// An authorization link and what the host keeps for the exchange.
#[derive(Clone, PartialEq, Eq)]
pub struct Link {
    /// The URL to send the user to.
    pub url: String,
    /// The state the redirect must carry back.
    pub state: String,
    /// The PKCE verifier `exchange-code` needs.
    pub code_verifier: String,
}

impl core::fmt::Debug for Link {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Link")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// An OAuth client: confidential with a secret, public without.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    /// The application's client id.
    pub client_id: String,
    /// The client secret, if the client has one.
    pub client_secret: Option<String>,
}

/// A token answer from Discord.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The access token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in_seconds: u64,
    /// The new refresh token (Discord's are single-use).
    pub refresh_token: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
}

impl core::fmt::Debug for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Token")
            .field("token_type", &self.token_type)
            .field("expires_in_seconds", &self.expires_in_seconds)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// What a token request trades for a token.
pub enum Grant<'a> {
    /// The code from the redirect, with the link's redirect URI and verifier.
    AuthorizationCode {
        /// The code Discord put on the redirect.
        code: &'a str,
        /// The redirect URI the link used.
        redirect_uri: &'a str,
        /// The link's PKCE verifier.
        code_verifier: &'a str,
    },
    /// A refresh token (used once: Discord answers with a new one).
    RefreshToken(&'a str),
}

/// base64url of SHA-256 of `verifier`, without padding (RFC 7636 S256).
pub fn code_challenge(verifier: &str) -> String {
    base64_encoder::url_safe(&Sha256::digest(verifier.as_bytes()))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_arguments(message)
}

fn check_client_id(client_id: &str) -> Result<(), Error> {
    let is_id = !client_id.is_empty()
        && client_id.len() <= 20
        && client_id.bytes().all(|b| b.is_ascii_digit());
    if is_id {
        Ok(())
    } else {
        Err(invalid(format!(
            "client_id must be the application's id (1 to 20 digits), got {client_id:?}"
        )))
    }
}

fn check_redirect_uri(redirect_uri: &str) -> Result<(), Error> {
    if redirect_uri.contains('#') {
        return Err(invalid("redirect_uri may not hold a fragment"));
    }
    let without_query = redirect_uri.split('?').next().unwrap_or_default();
    checked_base_url("redirect_uri", without_query)
        .map(drop)
        .map_err(|error| invalid(error.message))
}

fn check_verifier(verifier: &str) -> Result<(), Error> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if (43..=128).contains(&verifier.len()) && verifier.bytes().all(unreserved) {
        Ok(())
    } else {
        Err(invalid(
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        ))
    }
}

/// The authorization link for `request`, with a fresh PKCE verifier and,
/// when the request has none, a fresh state, both from `entropy`.
pub fn authorization_link(
    request: &LinkRequest,
    authorize_url: &str,
    entropy: &[u8; LINK_ENTROPY_BYTES],
) -> Result<Link, Error> {
    check_client_id(&request.client_id)?;
    check_redirect_uri(&request.redirect_uri)?;
    if request.scopes.is_empty() {
        return Err(invalid(
            "scopes may not be empty: name at least one Discord scope, such as identify",
        ));
    }
    if let Some(unknown) = request
        .scopes
        .iter()
        .find(|scope| !DISCORD_SCOPES.contains(&scope.as_str()))
    {
        return Err(invalid(format!(
            "scope {unknown:?} is not a Discord OAuth2 scope"
        )));
    }
    if let Some(prompt) = request
        .prompt
        .as_deref()
        .filter(|prompt| !["consent", "none"].contains(prompt))
    {
        return Err(invalid(format!(
            "prompt must be \"consent\" or \"none\", got {prompt:?}"
        )));
    }
    let bad_state = |state: &String| {
        state.is_empty() || state.len() > 512 || state.chars().any(char::is_control)
    };
    if request.state.as_ref().is_some_and(bad_state) {
        return Err(invalid(
            "state must be 1 to 512 characters without control characters",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in &request.extra {
        let key = key.as_str();
        if key.is_empty() || RESERVED_PARAMETERS.contains(&key) || seen.contains(&key) {
            return Err(invalid(format!(
                "extra parameter {key:?} is empty, repeated, or one the link sets itself"
            )));
        }
        seen.push(key);
    }

    let (verifier_bytes, state_bytes) = entropy.split_at(32);
    let code_verifier = base64_encoder::url_safe(verifier_bytes);
    let state = request
        .state
        .clone()
        .unwrap_or_else(|| base64_encoder::url_safe(state_bytes));
    let challenge = code_challenge(&code_verifier);
    let scope = request.scopes.join(" ");
    let mut pairs: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &request.client_id),
        ("scope", &scope),
        ("redirect_uri", &request.redirect_uri),
        ("state", &state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(prompt) = &request.prompt {
        pairs.push(("prompt", prompt));
    }
    pairs.extend(
        request
            .extra
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    );

    let base = checked_base_url("DISCORD_AUTHORIZE_URL", authorize_url)?;
    Ok(Link {
        url: format!("{base}?{}", query::string(pairs)),
        state,
        code_verifier,
    })
}

/// The Basic credentials of a confidential client: base64 of its id and
/// secret, each form-encoded first (RFC 6749 §2.3.1).
fn basic_credentials(client_id: &str, secret: &str) -> String {
    base64_encoder::standard(
        format!("{}:{}", query::encode(client_id), query::encode(secret)).as_bytes(),
    )
}

/// A form-encoded request to the token endpoint at `route`, authenticating
/// the client by HTTP Basic when it has a secret, by `client_id` otherwise.
fn token_endpoint_request<'a>(
    config: &Config,
    client: &'a Client,
    route: Route<'_>,
    mut form: Vec<(&'a str, &'a str)>,
) -> Result<Request, Error> {
    check_client_id(&client.client_id)?;
    let mut request = Request::new(
        route.method(),
        config.api_url(&route.to_string()),
        &Credential::None,
    );
    match client.client_secret.as_deref() {
        Some("") => {
            return Err(invalid(
                "client_secret may not be empty; leave it out for a public client",
            ));
        }
        Some(secret) => {
            request.headers.push((
                "authorization".to_owned(),
                format!("Basic {}", basic_credentials(&client.client_id, secret)),
            ));
        }
        None => form.push(("client_id", &client.client_id)),
    }
    request.headers.push((
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    ));
    request.body = Some(query::string(form).into_bytes());
    Ok(request)
}

/// The request that trades `grant` for a token.
pub fn token_request<'a>(
    config: &Config,
    client: &'a Client,
    grant: &Grant<'a>,
) -> Result<Request, Error> {
    let form = match *grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            if code.is_empty() {
                return Err(invalid("code may not be empty"));
            }
            check_redirect_uri(redirect_uri)?;
            check_verifier(code_verifier)?;
            vec![
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", code_verifier),
            ]
        }
        Grant::RefreshToken(refresh_token) => {
            if refresh_token.is_empty() {
                return Err(invalid("refresh_token may not be empty"));
            }
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ]
        }
    };
    token_endpoint_request(config, client, Route::OAuth2Token, form)
}

/// The request that revokes `token` (and with it the whole grant).
pub fn revoke_request<'a>(
    config: &Config,
    client: &'a Client,
    token: &'a str,
) -> Result<Request, Error> {
    if token.is_empty() {
        return Err(invalid("token may not be empty"));
    }
    let form = vec![("token", token), ("token_type_hint", "access_token")];
    token_endpoint_request(config, client, Route::OAuth2TokenRevoke, form)
}

/// The secrets a token endpoint call carries, none of which may reach an
/// error: the client secret (also as the Basic credentials it is sent in,
/// and in base64 alone), `grant`'s code and verifier or refresh token, and
/// the `token` being revoked.
pub fn secrets_of(client: &Client, grant: Option<&Grant<'_>>, token: Option<&str>) -> Vec<String> {
    let mut secrets: Vec<String> = Vec::new();
    if let Some(secret) = client.client_secret.as_deref() {
        secrets.extend([
            secret.to_owned(),
            basic_credentials(&client.client_id, secret),
            base64_encoder::standard(secret.as_bytes()),
        ]);
    }
    secrets.extend(token.map(str::to_owned));
    match grant {
        Some(Grant::AuthorizationCode {
            code,
            code_verifier,
            ..
        }) => secrets.extend([(*code).to_owned(), (*code_verifier).to_owned()]),
        Some(Grant::RefreshToken(refresh_token)) => secrets.push((*refresh_token).to_owned()),
        None => {}
    }
    secrets
}

/// Discord's token answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: u64,
    refresh_token: Option<String>,
    #[serde(default)]
    scope: String,
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

/// What an OAuth refusal's `details` hold: the answer's two fields (a
/// struct rather than `json!`, as in `response`: no `serde_json::Value` is
/// serialized in the component).
#[derive(Serialize)]
struct OAuthErrorDetails<'a> {
    error: &'a str,
    error_description: Option<&'a str>,
}

/// The token in a token endpoint `response`, or the typed error it holds.
/// `secrets` (client secret, code, verifier, refresh token) never reach a
/// message.
pub fn token_from(response: &Response, secrets: &[&str]) -> Result<Token, Error> {
    check_answer(response, secrets)?;
    let answer: TokenAnswer = serde_json::from_slice(&response.body).map_err(|error| {
        broken_answer(
            response.status,
            format!("Discord's token answer is not a token ({error})"),
        )
        .redacted(secrets)
    })?;
    Ok(Token {
        access_token: answer.access_token,
        token_type: answer.token_type,
        expires_in_seconds: answer.expires_in,
        refresh_token: answer.refresh_token,
        scopes: answer.scope.split_whitespace().map(str::to_owned).collect(),
    })
}

/// `Ok` when a revoke `response` is a success.
pub fn revoked_from(response: &Response, secrets: &[&str]) -> Result<(), Error> {
    check_answer(response, secrets)
}

/// A refusal with an RFC 6749 error code maps by that code where it says
/// more than the status (Discord answers a bad code or secret with a 400);
/// any other refusal maps by status.
fn check_answer(response: &Response, secrets: &[&str]) -> Result<(), Error> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let Ok(oauth) = serde_json::from_slice::<OAuthError>(&response.body) else {
        return Err(error_from(response).redacted(secrets));
    };
    let kind = match oauth.error.as_str() {
        "invalid_grant" | "invalid_client" => ErrorKind::Unauthorized,
        "invalid_request" | "invalid_scope" => ErrorKind::InvalidArguments,
        _ => ErrorKind::from_status(status),
    };
    let description = oauth
        .error_description
        .as_deref()
        .map(|text| format!(": {text}"))
        .unwrap_or_default();
    let details = OAuthErrorDetails {
        error: &oauth.error,
        error_description: oauth.error_description.as_deref(),
    };
    let details = serde_json::to_string(&details).expect("strings serialize");
    Err(Error {
        kind,
        message: format!(
            "Discord refused the token request with {status} {}{description}",
            oauth.error
        ),
        status: Some(status),
        code: None,
        details: Some(details),
        retry_after_ms: None,
    }
    .redacted(secrets))
}

// Natively only, as `form_urlencoded` is.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::config::DEFAULT_AUTHORIZE_URL;

    fn link_request() -> LinkRequest {
        LinkRequest {
            client_id: "1178765261640953856".into(),
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            scopes: vec!["identify".into(), "guilds.members.read".into()],
            state: None,
            prompt: None,
            extra: vec![("guild_id".into(), "613425648685547541".into())],
        }
    }

    fn query_of(url: &str) -> Vec<(String, String)> {
        let query = url.split_once('?').unwrap().1;
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_link_carries_each_parameter_once() {
        let entropy: [u8; 64] = std::array::from_fn(|n| n as u8);
        let link = authorization_link(&link_request(), DEFAULT_AUTHORIZE_URL, &entropy).unwrap();
        assert_ne!(link.state, link.code_verifier);
        assert!(
            link.url
                .starts_with("https://discord.com/oauth2/authorize?response_type=code&")
        );
        let pairs = query_of(&link.url);
        let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "no parameter twice");
        let get = |name: &str| pairs.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(get("scope"), "identify guilds.members.read");
        assert!(link.url.contains("scope=identify%20guilds.members.read"));
        assert_eq!(get("redirect_uri"), "http://127.0.0.1:8765/callback");
        assert_eq!(get("code_challenge"), code_challenge(&link.code_verifier));
        assert_eq!(get("code_challenge_method"), "S256");
        assert_eq!(get("state"), link.state);
        assert_eq!(get("guild_id"), "613425648685547541");
        assert!(
            !link.url.contains(&link.code_verifier),
            "the verifier stays out of the URL"
        );
        assert_eq!(link.code_verifier.len(), 43);
        assert_eq!(link.state.len(), 43, "256 bits of state");
    }

    #[test]
    fn different_entropy_gives_different_links() {
        let one = authorization_link(&link_request(), DEFAULT_AUTHORIZE_URL, &[1; 64]).unwrap();
        let two = authorization_link(&link_request(), DEFAULT_AUTHORIZE_URL, &[2; 64]).unwrap();
        assert_ne!(one.code_verifier, two.code_verifier);
        assert_ne!(one.state, two.state);
    }

    #[test]
    fn bad_link_requests_are_refused() {
        type Change = Box<dyn Fn(&mut LinkRequest)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|r| r.client_id.clear()), "client_id"),
            (
                Box::new(|r| r.redirect_uri = "/callback".into()),
                "redirect_uri",
            ),
            (
                Box::new(|r| r.redirect_uri = "http://example.com/cb".into()),
                "plain http",
            ),
            (
                Box::new(|r| r.redirect_uri = "https://example.com/cb#x".into()),
                "fragment",
            ),
            (Box::new(|r| r.scopes.clear()), "scopes may not be empty"),
            (
                Box::new(|r| r.scopes.push("admin".into())),
                "\"admin\" is not a Discord OAuth2 scope",
            ),
            (Box::new(|r| r.prompt = Some("login".into())), "prompt"),
            (
                Box::new(|r| r.extra.push(("scope".into(), "bot".into()))),
                "\"scope\"",
            ),
            (
                Box::new(|r| r.extra.push(("client_secret".into(), "s".into()))),
                "\"client_secret\"",
            ),
            (
                Box::new(|r| r.extra.push(("guild_id".into(), "2".into()))),
                "\"guild_id\"",
            ),
            (Box::new(|r| r.state = Some(String::new())), "state"),
        ];
        for (change, expected) in cases {
            let mut request = link_request();
            change(&mut request);
            let error = authorization_link(&request, DEFAULT_AUTHORIZE_URL, &[0; 64]).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArguments);
            assert!(
                error.message.contains(expected),
                "{expected}: {}",
                error.message
            );
        }
    }

    fn config() -> Config {
        Config::from_vars([("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10")]).unwrap()
    }

    fn form_of(request: &Request) -> Vec<(String, String)> {
        form_urlencoded::parse(request.body.as_deref().unwrap())
            .into_owned()
            .collect()
    }

    #[test]
    fn a_confidential_client_uses_basic_auth() {
        let client = Client {
            client_id: "1".into(),
            client_secret: Some("s3cr:t".into()),
        };
        let grant = Grant::AuthorizationCode {
            code: "abc",
            redirect_uri: "http://127.0.0.1:1/cb",
            code_verifier: &"v".repeat(43),
        };
        let request = token_request(&config(), &client, &grant).unwrap();
        assert_eq!(request.url, "http://127.0.0.1:9/api/v10/oauth2/token");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Basic {}", STANDARD.encode("1:s3cr%3At")).as_str())
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let form = form_of(&request);
        assert!(form.contains(&("grant_type".into(), "authorization_code".into())));
        assert!(form.contains(&("code_verifier".into(), "v".repeat(43))));
        assert!(!form.iter().any(|(name, _)| name == "client_id"));
    }

    #[test]
    fn a_public_client_sends_its_id_in_the_form() {
        let client = Client {
            client_id: "1".into(),
            client_secret: None,
        };
        let request = token_request(&config(), &client, &Grant::RefreshToken("r")).unwrap();
        assert_eq!(request.header("authorization"), None);
        let form = form_of(&request);
        assert!(form.contains(&("client_id".into(), "1".into())));
        assert!(form.contains(&("refresh_token".into(), "r".into())));

        let revoke = revoke_request(&config(), &client, "t").unwrap();
        assert_eq!(revoke.url, "http://127.0.0.1:9/api/v10/oauth2/token/revoke");
        assert!(form_of(&revoke).contains(&("token_type_hint".into(), "access_token".into())));
    }

    #[test]
    fn token_answers_parse_and_errors_stay_secret() {
        let answer = |status, body: &str| Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let token = token_from(
            &answer(200, r#"{"access_token":"a","token_type":"Bearer","expires_in":604800,"refresh_token":"r","scope":"identify guilds"}"#),
            &[],
        )
        .unwrap();
        assert_eq!(token.scopes, ["identify", "guilds"]);
        assert_eq!(token.expires_in_seconds, 604800);

        let error = token_from(
            &answer(400, r#"{"error":"invalid_grant","error_description":"Invalid \"code\" in request: the-code"}"#),
            &["the-code"],
        )
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unauthorized);
        assert_eq!(error.status, Some(400));
        assert!(error.message.contains("invalid_grant"), "{}", error.message);
        assert!(!error.message.contains("the-code"), "{}", error.message);
        assert!(!error.details.unwrap().contains("the-code"));

        let error = token_from(&answer(401, r#"{"error":"invalid_client"}"#), &[]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unauthorized);
        let error = token_from(&answer(200, "<html>"), &[]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Transport);
        assert_eq!(error.details.as_deref(), Some(r#"{"class":"broken"}"#));
    }

    fn refusal(status: u16, body: &str) -> Error {
        let response = Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        revoked_from(&response, &["the-secret"]).unwrap_err()
    }

    #[test]
    fn oauth_errors_map_to_kinds() {
        let cases = [
            (400, "invalid_grant", ErrorKind::Unauthorized),
            (400, "invalid_client", ErrorKind::Unauthorized),
            (401, "invalid_client", ErrorKind::Unauthorized),
            (400, "invalid_request", ErrorKind::InvalidArguments),
            (400, "invalid_scope", ErrorKind::InvalidArguments),
            (400, "unsupported_grant_type", ErrorKind::Upstream),
            (400, "unauthorized_client", ErrorKind::Upstream),
            (429, "slow_down", ErrorKind::RateLimited),
            (503, "temporarily_unavailable", ErrorKind::Upstream),
        ];
        for (status, code, kind) in cases {
            let error = refusal(status, &format!(r#"{{"error":"{code}"}}"#));
            assert_eq!(error.kind, kind, "{status} {code}");
            assert_eq!(error.status, Some(status));
            assert!(error.message.contains(code), "{}", error.message);
            let details: serde_json::Value = serde_json::from_str(&error.details.unwrap()).unwrap();
            assert_eq!(
                details,
                serde_json::json!({ "error": code, "error_description": null })
            );
        }
        let error = refusal(
            400,
            r#"{"error":"invalid_request","error_description":"bad the-secret"}"#,
        );
        assert_eq!(
            error.details.as_deref(),
            Some(r#"{"error":"invalid_request","error_description":"bad [redacted]"}"#)
        );
        assert_eq!(
            error.message,
            "Discord refused the token request with 400 invalid_request: bad [redacted]"
        );
        let error = refusal(400, r#"{"message":"Invalid Form Body","code":50035}"#);
        assert_eq!((error.kind, error.code), (ErrorKind::Upstream, Some(50035)));
    }

    #[test]
    fn token_requests_are_posts_with_one_encoding() {
        let client = Client {
            client_id: "1".into(),
            client_secret: Some("a b+c".into()),
        };
        let grant = Grant::AuthorizationCode {
            code: "x y",
            redirect_uri: "http://127.0.0.1:1/cb",
            code_verifier: &"v".repeat(43),
        };
        let request = token_request(&config(), &client, &grant).unwrap();
        assert_eq!(request.method, Route::OAuth2Token.method());
        let body = String::from_utf8(request.body.clone().unwrap()).unwrap();
        assert!(body.contains("code=x%20y&"), "{body}");
        assert!(
            body.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb"),
            "{body}"
        );
        assert_eq!(
            request.header("authorization"),
            Some(format!("Basic {}", STANDARD.encode("1:a%20b%2Bc")).as_str())
        );
        let revoke = revoke_request(&config(), &client, "t").unwrap();
        assert_eq!(revoke.method, Route::OAuth2TokenRevoke.method());
    }

    #[test]
    fn the_secrets_of_a_call_cover_its_basic_credentials() {
        let client = Client {
            client_id: "1".into(),
            client_secret: Some("s3cr:t".into()),
        };
        let grant = Grant::RefreshToken("refresh-me");
        let request = token_request(&config(), &client, &grant).unwrap();
        let basic = request.header("authorization").unwrap();
        let basic = basic.strip_prefix("Basic ").unwrap();
        let secrets = secrets_of(&client, Some(&grant), None);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let echoed = format!(
            r#"{{"error":"invalid_client","error_description":"{basic} {} s3cr:t refresh-me"}}"#,
            STANDARD.encode("s3cr:t")
        );
        let response = Response {
            status: 401,
            headers: Vec::new(),
            body: echoed.into_bytes(),
        };
        let error = token_from(&response, &secrets).unwrap_err();
        assert_eq!(
            error.message,
            "Discord refused the token request with 401 invalid_client: \
             [redacted] [redacted] [redacted] [redacted]"
        );
        assert!(!error.details.unwrap().contains(basic));
        assert_eq!(secrets_of(&client, None, Some("t")).len(), 4);
    }

    #[test]
    fn a_refused_redirect_uri_keeps_its_userinfo_secret() {
        let mut request = link_request();
        request.redirect_uri = "http://user:secret@example.com/cb".into();
        let error = authorization_link(&request, DEFAULT_AUTHORIZE_URL, &[0; 64]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidArguments);
        assert!(!error.message.contains("secret"), "{}", error.message);
        assert!(
            error.message.contains("[redacted]@example.com"),
            "{}",
            error.message
        );
    }
}
