//! The loopback redirect listener of a native OAuth client (RFC 8252):
//! `http://127.0.0.1:PORT/callback` receives Discord's redirect once.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// What the redirect carried.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Callback {
    /// The authorization code, on success.
    pub code: Option<String>,
    /// The state the link sent.
    pub state: Option<String>,
    /// The OAuth error name, when the user or Discord refused.
    pub error: Option<String>,
}

/// A listener bound to a loopback port, waiting for one redirect.
pub struct CallbackListener {
    listener: TcpListener,
}

impl CallbackListener {
    /// Binds `127.0.0.1:port` (0 picks a free port).
    pub async fn bind(port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        Ok(Self { listener })
    }

    /// The redirect URI to register and to put in the link.
    pub fn redirect_uri(&self) -> std::io::Result<String> {
        Ok(format!("http://{}/callback", self.listener.local_addr()?))
    }

    /// Serves until the first `/callback` request (or `timeout`), answers
    /// the browser with a short page, and returns what the redirect carried.
    pub async fn wait(self, timeout: Duration) -> std::io::Result<Callback> {
        let (sender, mut received) = mpsc::channel::<Callback>(1);
        let (stop, stopped) = oneshot::channel::<()>();
        let router = Router::new()
            .route("/callback", get(receive))
            .with_state(sender);
        let server = tokio::spawn(async move {
            axum::serve(self.listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        let callback = tokio::time::timeout(timeout, received.recv()).await;
        let _ = stop.send(());
        let _ = server.await;
        match callback {
            Ok(Some(callback)) => Ok(callback),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no redirect reached the callback listener in time",
            )),
        }
    }
}

async fn receive(
    State(sender): State<mpsc::Sender<Callback>>,
    Query(callback): Query<Callback>,
) -> Html<&'static str> {
    let page = if callback.code.is_some() {
        "<!doctype html><title>Connected</title><p>Discord is connected. You can close this window.</p>"
    } else {
        "<!doctype html><title>Not connected</title><p>The authorization did not complete. You can close this window.</p>"
    };
    let _ = sender.try_send(callback);
    Html(page)
}
