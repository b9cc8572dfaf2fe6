//! The one module that touches the network: a [`Transport`] over
//! `wasi:http/outgoing-handler`, by way of `waki`.

use crate::error::Error;
use crate::http::{Method, Request, Response, Transport};

/// Sends requests through the host's `wasi:http` implementation.
pub struct WasiHttp;

impl Transport for WasiHttp {
    fn send(&mut self, request: &Request) -> Result<Response, Error> {
        let method = match request.method {
            Method::Get => waki::Method::Get,
            Method::Post => waki::Method::Post,
            Method::Put => waki::Method::Put,
            Method::Patch => waki::Method::Patch,
            Method::Delete => waki::Method::Delete,
        };
        let mut builder = waki::Client::new().request(method, &request.url);
        for (name, value) in &request.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::transport(format!("header name {name:?} is not valid")))?;
            builder = builder.header(name, value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let answer = builder
            .send()
            .map_err(|error| Error::transport(format!("no answer from Discord: {error}")))?;
        let status = answer.status_code();
        let headers = answer
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let body = answer
            .body()
            .map_err(|error| Error::transport(format!("Discord's answer broke off: {error}")))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}
