//! The sandbox's OAuth 2.0 server: an authorization page that approves at
//! once, and a token endpoint that checks what Discord's checks (PKCE
//! verifier, redirect URI, client credentials, single-use codes and
//! refresh tokens) and issues tokens the API endpoints then honour.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::tokens::{APPLICATION_ID, Bearer, Grant, USER_ID};

/// The sandbox application's client secret.
pub const CLIENT_SECRET: &str = "sbx-client-secret.7f3a9c2e51d84b06";

/// How long a code may wait for its exchange.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

struct PendingCode {
    redirect_uri: String,
    scopes: Vec<String>,
    challenge: Option<String>,
    issued_at: Instant,
    /// The grant the code was exchanged for, once it was.
    exchanged_for: Option<u64>,
}

struct IssuedGrant {
    scopes: Vec<String>,
    access_tokens: Vec<String>,
    refresh_token: Option<String>,
}

/// Codes and grants, with the lifetime of the access tokens it issues.
pub(crate) struct OAuthServer {
    codes: HashMap<String, PendingCode>,
    grants: HashMap<u64, IssuedGrant>,
    next_grant: u64,
    pub token_lifetime: Duration,
    /// How long token endpoint answers are held back after the grant has
    /// been processed, so tests can act while a refresh is in flight.
    pub answer_delay: Duration,
}

impl Default for OAuthServer {
    fn default() -> Self {
        Self {
            codes: HashMap::new(),
            grants: HashMap::new(),
            next_grant: 1,
            token_lifetime: Duration::from_secs(604_800),
            answer_delay: Duration::ZERO,
        }
    }
}

/// An OAuth answer: a status and a JSON body.
pub(crate) type OAuthReply = (u16, Value);

fn oauth_error(status: u16, error: &str, description: &str) -> OAuthReply {
    (
        status,
        json!({ "error": error, "error_description": description }),
    )
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `uri` is a redirect URI the sandbox application accepts: any
/// loopback `http` URI (RFC 8252 §7.3, any port) or an `https` one.
fn acceptable_redirect(uri: &str) -> bool {
    let Ok(parsed) = uri.parse::<axum::http::Uri>() else {
        return false;
    };
    let host = parsed.host().unwrap_or_default();
    match parsed.scheme_str() {
        Some("https") => !host.is_empty(),
        Some("http") => host == "127.0.0.1" || host == "localhost" || host == "[::1]",
        _ => false,
    }
}

impl OAuthServer {
    /// Approves an authorization request at once, as the sandbox user:
    /// the `Location` to redirect to, or a status and message.
    pub fn authorize(&mut self, query: &[(String, String)]) -> Result<String, (u16, String)> {
        let get = |name: &str| field(query, name);
        let redirect_uri = get("redirect_uri").unwrap_or_default();
        if get("client_id") != Some(APPLICATION_ID) {
            return Err((400, "Unknown client_id".to_owned()));
        }
        if !acceptable_redirect(redirect_uri) {
            return Err((400, "Invalid OAuth2 redirect_uri".to_owned()));
        }
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        let state = get("state")
            .map(|state| format!("&state={}", urlencode(state)))
            .unwrap_or_default();
        let refuse = |error: &str| Ok(format!("{redirect_uri}{separator}error={error}{state}"));
        if get("response_type") != Some("code") {
            return refuse("unsupported_response_type");
        }
        let scopes: Vec<String> = get("scope")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if scopes.is_empty() {
            return refuse("invalid_scope");
        }
        let challenge = match (get("code_challenge"), get("code_challenge_method")) {
            (Some(challenge), Some("S256")) => Some(challenge.to_owned()),
            (None, None) => None,
            _ => return refuse("invalid_request"),
        };
        let code = random_token("");
        self.codes.insert(
            code.clone(),
            PendingCode {
                redirect_uri: redirect_uri.to_owned(),
                scopes,
                challenge,
                issued_at: Instant::now(),
                exchanged_for: None,
            },
        );
        Ok(format!("{redirect_uri}{separator}code={code}{state}"))
    }

    /// Answers `POST /oauth2/token` with `form` and the `Authorization` header.
    pub fn token(
        &mut self,
        form: &[(String, String)],
        authorization: Option<&str>,
        tokens: &mut HashMap<String, Grant>,
    ) -> OAuthReply {
        let get = |name: &str| field(form, name);
        let confidential = match client_authentication(form, authorization) {
            Ok(confidential) => confidential,
            Err(reply) => return reply,
        };
        match get("grant_type") {
            Some("authorization_code") => {
                let (Some(code), Some(redirect_uri)) = (get("code"), get("redirect_uri")) else {
                    return oauth_error(
                        400,
                        "invalid_request",
                        "code and redirect_uri are required",
                    );
                };
                let Some(pending) = self.codes.get_mut(code) else {
                    return oauth_error(400, "invalid_grant", "Invalid \"code\" in request.");
                };
                if let Some(grant) = pending.exchanged_for {
                    // A code used twice is stolen: revoke what it gave (RFC 6749 §4.1.2).
                    self.revoke_grant(grant, tokens);
                    return oauth_error(400, "invalid_grant", "Invalid \"code\" in request.");
                }
                if pending.issued_at.elapsed() > CODE_LIFETIME {
                    return oauth_error(400, "invalid_grant", "Invalid \"code\" in request.");
                }
                if pending.redirect_uri != redirect_uri {
                    return oauth_error(
                        400,
                        "invalid_grant",
                        "Invalid \"redirect_uri\" in request.",
                    );
                }
                match (&pending.challenge, get("code_verifier")) {
                    (Some(challenge), Some(verifier))
                        if *challenge == URL_SAFE_NO_PAD.encode(Sha256::digest(verifier)) => {}
                    (Some(_), _) => {
                        return oauth_error(
                            400,
                            "invalid_grant",
                            "Invalid \"code_verifier\" in request.",
                        );
                    }
                    (None, _) if !confidential => {
                        return oauth_error(
                            401,
                            "invalid_client",
                            "A public client must use PKCE.",
                        );
                    }
                    (None, _) => {}
                }
                let scopes = pending.scopes.clone();
                let grant = self.next_grant;
                self.next_grant += 1;
                pending.exchanged_for = Some(grant);
                self.grants.insert(
                    grant,
                    IssuedGrant {
                        scopes,
                        access_tokens: Vec::new(),
                        refresh_token: None,
                    },
                );
                self.issue(grant, tokens)
            }
            Some("refresh_token") => {
                let refresh_token = get("refresh_token").unwrap_or_default();
                let grant = self
                    .grants
                    .iter()
                    .find(|(_, issued)| issued.refresh_token.as_deref() == Some(refresh_token))
                    .map(|(id, _)| *id);
                match grant {
                    Some(grant) if !refresh_token.is_empty() => self.issue(grant, tokens),
                    _ => oauth_error(
                        400,
                        "invalid_grant",
                        "Invalid \"refresh_token\" in request.",
                    ),
                }
            }
            _ => oauth_error(400, "unsupported_grant_type", "Unsupported grant type"),
        }
    }

    /// Issues a fresh access token and a fresh refresh token for `grant`;
    /// the old refresh token stops working.
    fn issue(&mut self, grant: u64, tokens: &mut HashMap<String, Grant>) -> OAuthReply {
        let Some(issued) = self.grants.get_mut(&grant) else {
            return oauth_error(400, "invalid_grant", "Unknown grant.");
        };
        let access_token = random_token("sbx-at.");
        let refresh_token = random_token("sbx-rt.");
        let scopes: Vec<&str> = issued.scopes.iter().map(String::as_str).collect();
        tokens.insert(
            access_token.clone(),
            Grant {
                kind: Bearer::User,
                user_id: USER_ID.to_owned(),
                scopes: issued.scopes.clone(),
                expires_at: Some(SystemTime::now() + self.token_lifetime),
            },
        );
        issued.access_tokens.push(access_token.clone());
        issued.refresh_token = Some(refresh_token.clone());
        (
            200,
            json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime.as_secs(),
                "refresh_token": refresh_token,
                "scope": scopes.join(" "),
            }),
        )
    }

    /// Answers `POST /oauth2/token/revoke`: the token's whole grant ends.
    pub fn revoke(
        &mut self,
        form: &[(String, String)],
        authorization: Option<&str>,
        tokens: &mut HashMap<String, Grant>,
    ) -> OAuthReply {
        if let Err(reply) = client_authentication(form, authorization) {
            return reply;
        }
        let token = field(form, "token").unwrap_or_default();
        let grant = self
            .grants
            .iter()
            .find(|(_, issued)| {
                issued.refresh_token.as_deref() == Some(token)
                    || issued.access_tokens.iter().any(|access| access == token)
            })
            .map(|(id, _)| *id);
        if let Some(grant) = grant {
            self.revoke_grant(grant, tokens);
        }
        // RFC 7009: an unknown token is not an error.
        (200, json!({}))
    }

    fn revoke_grant(&mut self, grant: u64, tokens: &mut HashMap<String, Grant>) {
        if let Some(issued) = self.grants.remove(&grant) {
            for access_token in issued.access_tokens {
                tokens.remove(&access_token);
            }
        }
    }
}

/// Checks the client's credentials: HTTP Basic, or `client_id` (and
/// optionally `client_secret`) in the form. `Ok(true)` when the client
/// proved it holds the secret.
fn client_authentication(
    form: &[(String, String)],
    authorization: Option<&str>,
) -> Result<bool, OAuthReply> {
    let get = |name: &str| field(form, name).map(str::to_owned);
    let invalid_client = || oauth_error(401, "invalid_client", "Invalid client credentials.");
    let (client_id, secret) = match authorization.and_then(|value| value.strip_prefix("Basic ")) {
        Some(encoded) => {
            let decoded = STANDARD.decode(encoded).map_err(|_| invalid_client())?;
            let decoded = String::from_utf8(decoded).map_err(|_| invalid_client())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
            (urldecode(id), Some(urldecode(secret)))
        }
        None => (get("client_id").unwrap_or_default(), get("client_secret")),
    };
    if client_id != APPLICATION_ID {
        return Err(invalid_client());
    }
    match secret {
        Some(secret) if secret == CLIENT_SECRET => Ok(true),
        Some(_) => Err(invalid_client()),
        None => Ok(false),
    }
}

/// The value of the first `name` pair in a form or query.
fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn urldecode(value: &str) -> String {
    form_urlencoded::parse(format!("x={value}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}
