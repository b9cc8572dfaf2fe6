//! The component shell: exports the contract in `wit/connector.wit` and
//! converts between its types and the core's.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::catalogue;
use crate::config::{Config, TOOLS_SETTING, ToolSelection};
use crate::error::{Error, ErrorKind};
use crate::http::TransportError;
use crate::oauth::Grant;
use crate::response::Output;
use crate::wasi_http::WasiHttp;
use crate::{credential, execute, tool};

wit_bindgen::generate!({
    path: "wit",
    world: "component",
});

use exports::agent_tools::connector::types as wit;
use exports::agent_tools::connector::{oauth, proxy, tools};

struct Component;

export!(Component);

/// The environment the host gave this instance, asked of `wasi:cli`
/// directly: `std::env` would first copy it into C strings and back.
fn config() -> Result<Config, Error> {
    let vars = wasip2::cli::environment::get_environment();
    Config::from_vars(
        vars.iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
}

impl From<wit::Credential> for credential::Credential {
    fn from(credential: wit::Credential) -> Self {
        match credential {
            wit::Credential::None => Self::None,
            wit::Credential::Bearer(token) => Self::Bearer(token),
            wit::Credential::Bot(token) => Self::Bot(token),
        }
    }
}

impl From<credential::CredentialKind> for wit::CredentialKind {
    fn from(kind: credential::CredentialKind) -> Self {
        match kind {
            credential::CredentialKind::None => Self::None,
            credential::CredentialKind::Bearer => Self::Bearer,
            credential::CredentialKind::Bot => Self::Bot,
        }
    }
}

impl From<Error> for wit::Error {
    fn from(error: Error) -> Self {
        let kind = match error.kind {
            ErrorKind::UnknownTool => wit::ErrorKind::UnknownTool,
            ErrorKind::InvalidArguments => wit::ErrorKind::InvalidArguments,
            ErrorKind::MissingCredential => wit::ErrorKind::MissingCredential,
            ErrorKind::Unauthorized => wit::ErrorKind::Unauthorized,
            ErrorKind::Forbidden => wit::ErrorKind::Forbidden,
            ErrorKind::NotFound => wit::ErrorKind::NotFound,
            ErrorKind::RateLimited => wit::ErrorKind::RateLimited,
            ErrorKind::Upstream => wit::ErrorKind::Upstream,
            ErrorKind::Transport => wit::ErrorKind::Transport,
        };
        Self {
            kind,
            message: error.message,
            status: error.status,
            code: error.code,
            details: error.details,
            retry_after_ms: error.retry_after_ms,
        }
    }
}

impl tools::Guest for Component {
    /// The tools `DISCORD_TOOLS` offers; none when it is malformed or names
    /// no tool, as `execute-tool` then says (`list-tools` cannot fail).
    fn list_tools() -> Vec<tools::Tool> {
        let vars = wasip2::cli::environment::get_environment();
        let setting = vars
            .iter()
            .find(|(name, _)| name == TOOLS_SETTING)
            .map_or("", |(_, value)| value.as_str());
        let Ok(selection) = ToolSelection::parse(setting) else {
            return Vec::new();
        };
        let Ok(offered) = catalogue::offered(&selection) else {
            return Vec::new();
        };
        let mut listed = tool::listed();
        offered
            .map(|tool| {
                let listed = listed.iter_mut().find(|listed| listed.name == tool.name);
                let (description, input_schema) = listed
                    .map(|listed| {
                        (
                            core::mem::take(&mut listed.description),
                            core::mem::take(&mut listed.input_schema),
                        )
                    })
                    .unwrap_or_default();
                tools::Tool {
                    name: tool.name.to_owned(),
                    description,
                    input_schema,
                    scopes: tool
                        .scopes
                        .iter()
                        .map(|scope| (*scope).to_owned())
                        .collect(),
                    accepts: tool.accepts.iter().map(|kind| (*kind).into()).collect(),
                }
            })
            .collect()
    }

    fn execute_tool(
        name: String,
        arguments: String,
        credential: wit::Credential,
    ) -> Result<tools::Output, wit::Error> {
        let config = config()?;
        let mut transport = WasiHttp::new(&config);
        let credential = credential.into();
        let output =
            execute::execute_tool(&name, &arguments, &credential, &config, &mut transport)?;
        Ok(match output {
            Output::Json(json) => tools::Output::Json(json),
            Output::Binary { content_type, data } => {
                tools::Output::Binary(tools::Blob { content_type, data })
            }
        })
    }
}

impl From<oauth::Client> for crate::oauth::Client {
    fn from(client: oauth::Client) -> Self {
        Self {
            client_id: client.client_id,
            client_secret: client.client_secret,
        }
    }
}

impl From<crate::oauth::Token> for oauth::Token {
    fn from(token: crate::oauth::Token) -> Self {
        Self {
            access_token: token.access_token,
            token_type: token.token_type,
            expires_in_seconds: token.expires_in_seconds,
            refresh_token: token.refresh_token,
            scopes: token.scopes,
        }
    }
}

impl oauth::Guest for Component {
    fn authorization_link(request: oauth::LinkRequest) -> Result<oauth::Link, wit::Error> {
        let config = config()?;
        let random =
            wasip2::random::random::get_random_bytes(crate::oauth::LINK_ENTROPY_BYTES as u64);
        let entropy: [u8; crate::oauth::LINK_ENTROPY_BYTES] = random
            .try_into()
            .map_err(|_| Error::from(TransportError::broken("wasi:random gave too few bytes")))?;
        let request = crate::oauth::LinkRequest {
            client_id: request.client_id,
            redirect_uri: request.redirect_uri,
            scopes: request.scopes,
            state: request.state,
            prompt: request.prompt,
            extra: request.extra,
        };
        let link = crate::oauth::authorization_link(&request, &config.authorize_url, &entropy)?;
        Ok(oauth::Link {
            url: link.url,
            state: link.state,
            code_verifier: link.code_verifier,
        })
    }

    fn exchange_code(
        client: oauth::Client,
        code: String,
        redirect_uri: String,
        code_verifier: String,
    ) -> Result<oauth::Token, wit::Error> {
        let grant = Grant::AuthorizationCode {
            code: &code,
            redirect_uri: &redirect_uri,
            code_verifier: &code_verifier,
        };
        let config = config()?;
        let token =
            execute::fetch_token(&client.into(), &grant, &config, &mut WasiHttp::new(&config))?;
        Ok(token.into())
    }

    fn refresh_token(
        client: oauth::Client,
        refresh_token: String,
    ) -> Result<oauth::Token, wit::Error> {
        let grant = Grant::RefreshToken(&refresh_token);
        let config = config()?;
        let token =
            execute::fetch_token(&client.into(), &grant, &config, &mut WasiHttp::new(&config))?;
        Ok(token.into())
    }

    fn revoke_token(client: oauth::Client, token: String) -> Result<(), wit::Error> {
        let config = config()?;
        let mut transport = WasiHttp::new(&config);
        Ok(execute::revoke_token(
            &client.into(),
            &token,
            &config,
            &mut transport,
        )?)
    }
}

impl proxy::Guest for Component {
    fn send(
        request: proxy::Request,
        credential: wit::Credential,
    ) -> Result<proxy::Response, wit::Error> {
        let config = config()?;
        let request = crate::proxy::ProxyRequest {
            method: request.method,
            path: request.path,
            query: request.query,
            body: request.body,
        };
        let answer = execute::proxy_send(
            &request,
            &credential.into(),
            &config,
            &mut WasiHttp::passing_headers_on(&config),
        )?;
        Ok(proxy::Response {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        })
    }
}
