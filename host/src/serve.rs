//! Serving a `wasi:http/incoming-handler` component (the REST/MCP component) the way
//! `wasmtime serve` does: pre-linked once, one fresh instance per request,
//! with this host's instance limits, deadline model and egress limiter.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use tokio::net::TcpListener;
use wasmtime::component::Component;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::engine::{compile, compile_file};
use crate::error::{Error, ErrorKind};
use crate::instance::{InstanceState, PreparedStore, arm_deadline, hard_stop, linked};
use crate::loaded::Loaded;

/// A compiled HTTP component and what each request's instance gets, set
/// with the builder [`Loaded`] shares with `Connector`
/// ([`with_env`](Loaded::with_env), [`with_limits`](Loaded::with_limits),
/// [`with_limiter`](Loaded::with_limiter), [`with_pool`](Loaded::with_pool)).
pub type Server = Loaded<ProxyPre<InstanceState>>;

impl Server {
    /// Compiles the component in the file at `path` (one that exports
    /// `wasi:http/incoming-handler`, such as `dist/discord_rest_mcp.wasm`)
    /// through the on-disk cache of compiled components.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::from_component(&compile_file(path.as_ref())?)
    }

    /// Compiles the component in `bytes` (through the on-disk cache), for
    /// a host that embeds its component.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_component(&compile(bytes)?)
    }

    /// Links an already compiled `component` with WASI and WASI HTTP. Its
    /// engine must have epoch interruption on.
    pub fn from_component(component: &Component) -> Result<Self, Error> {
        let pre = linked(component)?
            .instantiate_pre(component)
            .and_then(ProxyPre::new)
            .map_err(Error::setup)?;
        Self::new(pre)
    }

    /// Serves HTTP/1.1 on `listener` until the task is dropped.
    pub async fn serve(self, listener: TcpListener) -> Result<(), Error> {
        let env = self.plan.env()?;
        let server = Arc::new((self, env));
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    continue;
                }
            };
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let server = Arc::clone(&server);
                    async move {
                        let (server, env) = &*server;
                        Ok::<_, std::convert::Infallible>(server.handle(request, env).await)
                    }
                });
                if let Err(error) = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(%error, "a connection ended with an error");
                }
            });
        }
    }

    /// Binds `address` and serves on it; returns the bound address and the
    /// serving task.
    pub async fn bind(
        self,
        address: SocketAddr,
    ) -> Result<(SocketAddr, tokio::task::JoinHandle<Result<(), Error>>), Error> {
        let listener = TcpListener::bind(address).await.map_err(Error::setup)?;
        let bound = listener.local_addr().map_err(Error::setup)?;
        Ok((bound, tokio::spawn(self.serve(listener))))
    }

    /// One request in a fresh instance; a host failure is a JSON 500, never
    /// an empty one.
    async fn handle(
        &self,
        request: hyper::Request<Incoming>,
        env: &[(String, String)],
    ) -> hyper::Response<HyperOutgoingBody> {
        match self.run(request, env).await {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(%error, "a request failed in the host");
                let body = format!(
                    "{{\"error\":{{\"kind\":\"transport\",\"message\":{}}}}}",
                    quote(&error.to_string())
                );
                hyper::Response::builder()
                    .status(500)
                    .header("content-type", "application/json")
                    .body(
                        Full::new(Bytes::from(body))
                            .map_err(|never| match never {})
                            .boxed_unsync(),
                    )
                    .unwrap_or_default()
            }
        }
    }

    async fn run(
        &self,
        request: hyper::Request<Incoming>,
        env: &[(String, String)],
    ) -> Result<hyper::Response<HyperOutgoingBody>, Error> {
        let PreparedStore {
            mut store,
            slot,
            deadline,
        } = self.plan.store(self.pre.engine(), env).await?;
        arm_deadline(&mut store, Instant::now() + deadline);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(Error::setup)?;
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(Error::setup)?;
        let pre = self.pre.clone();
        let task = tokio::spawn(async move {
            let _slot = slot;
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(store, incoming, out)
                .await
        });
        match tokio::time::timeout(hard_stop(deadline), receiver).await {
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(code))) => Err(Error::setup(format!(
                "the component answered with an error: {code:?}"
            ))),
            Ok(Err(_)) => match task.await {
                Ok(Err(trap)) => Err(Error::from_wasmtime(trap, deadline)),
                _ => Err(Error::setup("the component never set a response")),
            },
            Err(_elapsed) => {
                task.abort();
                Err(Error::new(ErrorKind::Deadline { after: deadline }))
            }
        }
    }
}

/// `text` as a JSON string literal.
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}
