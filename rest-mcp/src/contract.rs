//! The connector's contract, imported: the generated types and a trait over
//! the calls, implemented by the real imports on `wasm32`.

#![allow(missing_docs)]

wit_bindgen::generate!({
    path: ["../wit", "wit"],
    world: "agent-tools:rest-mcp/rest-mcp",
    generate_all,
});

pub use agent_tools::connector::oauth::{Client, Link, LinkRequest, Token};
pub use agent_tools::connector::proxy::{Request as ProxyRequest, Response as ProxyResponse};
pub use agent_tools::connector::tools::{Blob, Output, Tool};
pub use agent_tools::connector::types::{Credential, CredentialKind, Error, ErrorKind};

/// The contract's calls. The component implements it with its imports;
/// tests implement it with a script.
pub trait Contract {
    /// `tools.list-tools`
    fn list_tools(&mut self) -> Vec<Tool>;
    /// `tools.execute-tool`
    fn execute_tool(
        &mut self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> Result<Output, Error>;
    /// `proxy.send`
    fn proxy(
        &mut self,
        request: &ProxyRequest,
        credential: &Credential,
    ) -> Result<ProxyResponse, Error>;
    /// `oauth.authorization-link`
    fn authorization_link(&mut self, request: &LinkRequest) -> Result<Link, Error>;
    /// `oauth.exchange-code`
    fn exchange_code(
        &mut self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Token, Error>;
    /// `oauth.refresh-token`
    fn refresh_token(&mut self, client: &Client, refresh_token: &str) -> Result<Token, Error>;
    /// `oauth.revoke-token`
    fn revoke_token(&mut self, client: &Client, token: &str) -> Result<(), Error>;
}

/// The contract through this component's imports.
pub struct Imports;

impl Contract for Imports {
    fn list_tools(&mut self) -> Vec<Tool> {
        agent_tools::connector::tools::list_tools()
    }

    fn execute_tool(
        &mut self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> Result<Output, Error> {
        agent_tools::connector::tools::execute_tool(name, arguments, credential)
    }

    fn proxy(
        &mut self,
        request: &ProxyRequest,
        credential: &Credential,
    ) -> Result<ProxyResponse, Error> {
        agent_tools::connector::proxy::send(request, credential)
    }

    fn authorization_link(&mut self, request: &LinkRequest) -> Result<Link, Error> {
        agent_tools::connector::oauth::authorization_link(request)
    }

    fn exchange_code(
        &mut self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Token, Error> {
        agent_tools::connector::oauth::exchange_code(client, code, redirect_uri, code_verifier)
    }

    fn refresh_token(&mut self, client: &Client, refresh_token: &str) -> Result<Token, Error> {
        agent_tools::connector::oauth::refresh_token(client, refresh_token)
    }

    fn revoke_token(&mut self, client: &Client, token: &str) -> Result<(), Error> {
        agent_tools::connector::oauth::revoke_token(client, token)
    }
}

/// The contract's name for `kind`.
pub fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::UnknownTool => "unknown-tool",
        ErrorKind::InvalidArguments => "invalid-arguments",
        ErrorKind::MissingCredential => "missing-credential",
        ErrorKind::Unauthorized => "unauthorized",
        ErrorKind::Forbidden => "forbidden",
        ErrorKind::NotFound => "not-found",
        ErrorKind::RateLimited => "rate-limited",
        ErrorKind::Upstream => "upstream",
        ErrorKind::Transport => "transport",
    }
}

/// The contract's name for a credential kind.
pub fn credential_kind_name(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::None => "none",
        CredentialKind::Bearer => "bearer",
        CredentialKind::Bot => "bot",
    }
}
