//! The wasi-http egress hook: every request an instance sends goes through
//! the shared [`DiscordLimiter`] (when there is one), then out.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::limiter::DiscordLimiter;

/// The wasi-http hooks of one instance. Put them in your
/// [`WasiHttpView`](wasmtime_wasi_http::WasiHttpView) to give instances on
/// your own store the same limiter.
#[derive(Clone, Default)]
pub struct EgressHooks {
    limiter: Option<Arc<DiscordLimiter>>,
}

impl EgressHooks {
    /// Hooks that send through `limiter`.
    pub fn limited(limiter: Arc<DiscordLimiter>) -> Self {
        Self {
            limiter: Some(limiter),
        }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type Answer = Result<(http::Response<WasiBody>, IoFuture), HttpError>;

/// The longest wait a request's own timeouts allow: the component sets its
/// connect and first-byte timeouts to what is left of the call's deadline.
fn deadline_of(options: Option<&RequestOptions>) -> Option<Duration> {
    let options = options?;
    [options.connect_timeout, options.first_byte_timeout]
        .into_iter()
        .flatten()
        .min()
}

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> Box<dyn Future<Output = Answer> + Send> {
        drop(fut);
        let limiter = self.limiter.clone();
        Box::new(async move {
            let permit = match &limiter {
                None => None,
                Some(limiter) => {
                    let deadline = deadline_of(options.as_ref())
                        .map(|wait| tokio::time::Instant::now() + wait);
                    let authorization = request
                        .headers()
                        .get(http::header::AUTHORIZATION)
                        .map(|value| value.as_bytes());
                    let permit = limiter
                        .acquire(
                            authorization,
                            request.method().as_str(),
                            request.uri().path(),
                            deadline,
                        )
                        .await
                        .map_err(|refusal| HttpError::InternalError(Some(refusal.to_string())))?;
                    Some(permit)
                }
            };
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            if let Some(permit) = permit {
                permit.report(response.status().as_u16(), response.headers());
            }
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as IoFuture,
            ))
        })
    }
}
