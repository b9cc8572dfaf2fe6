//! A plain HTTP/1.1 client for the sandbox's tests: one connection per
//! request, so a connection the sandbox drops fails only that request.

use bytes::Bytes;
use discord_sandbox::Sandbox;
use discord_sandbox::tokens::BOT_TOKEN;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// The sandbox's answer.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// A header's value, if sent and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

/// The `Authorization` of the sandbox's bot.
pub fn bot() -> Option<String> {
    Some(format!("Bot {BOT_TOKEN}"))
}

/// Sends `method path` (under the API base) with `authorization` and a JSON
/// `body`; `Err` when the connection ends without an answer.
pub async fn send(
    sandbox: &Sandbox,
    method: &str,
    path: &str,
    authorization: Option<String>,
    body: Option<&Value>,
) -> Result<Answer, hyper::Error> {
    let stream = tokio::net::TcpStream::connect(sandbox.address())
        .await
        .expect("the sandbox accepts connections");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 handshake needs no round trip");
    tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("/api/v10{path}"))
        .header("host", sandbox.address().to_string());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Bytes::from(body.to_string())
        }
        None => Bytes::new(),
    };
    let request = request.body(Full::new(body)).expect("a valid request line");
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    Ok(Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// Sends as the bot and expects an answer.
pub async fn call(sandbox: &Sandbox, method: &str, path: &str, body: Option<&Value>) -> Answer {
    send(sandbox, method, path, bot(), body)
        .await
        .unwrap_or_else(|error| panic!("{method} {path} got no answer: {error}"))
}
