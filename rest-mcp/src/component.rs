//! The component shell: waki's `wasi:http/incoming-handler` export reads
//! the request into plain values, [`router::handle`] answers, and the
//! answer is written back.

use waki::{ErrorCode, Method, handler};

use crate::contract::Imports;
use crate::http::{MAX_BODY_BYTES, Request, Response};
use crate::router;
use crate::settings::Settings;

/// How much of the body one read asks for.
const READ_CHUNK: u64 = 64 * 1024;

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".to_owned(),
        Method::Head => "HEAD".to_owned(),
        Method::Post => "POST".to_owned(),
        Method::Put => "PUT".to_owned(),
        Method::Delete => "DELETE".to_owned(),
        Method::Connect => "CONNECT".to_owned(),
        Method::Options => "OPTIONS".to_owned(),
        Method::Trace => "TRACE".to_owned(),
        Method::Patch => "PATCH".to_owned(),
        Method::Other(other) => other.to_ascii_uppercase(),
    }
}

/// The request as plain values; the body is read up to one byte past the
/// limit, so an oversized one is refused without reading it all.
fn read(request: waki::Request) -> Result<Request, ErrorCode> {
    let headers = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_owned(),
            ))
        })
        .collect();
    let mut query: Vec<(String, String)> = request.query().into_iter().collect();
    query.sort();
    let mut incoming = Request {
        method: method_name(&request.method()),
        path: request.path().to_owned(),
        query,
        headers,
        body: Vec::new(),
    };
    while incoming.body.len() <= MAX_BODY_BYTES {
        match request.chunk(READ_CHUNK) {
            Ok(Some(chunk)) => incoming.body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(error) => return Err(ErrorCode::InternalError(Some(error.to_string()))),
        }
    }
    Ok(incoming)
}

fn write(response: Response) -> Result<waki::Response, ErrorCode> {
    let mut builder = waki::Response::builder().status_code(response.status);
    for (name, value) in response.headers {
        let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        builder = builder.header(name, value);
    }
    builder.body(response.body).build()
}

#[handler]
fn serve(request: waki::Request) -> Result<waki::Response, ErrorCode> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let settings = Settings::from_vars(
        vars.iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    let request = read(request)?;
    write(router::handle(&request, &settings, &mut Imports))
}
