//! Connecting an account to the sandbox through the whole link flow, as a
//! user would: a link from the connector, the sandbox's consent page
//! followed like a browser, the redirect caught by the loopback listener.

use std::time::Duration;

use discord_accounts::{Authorizer, CallbackListener, StoredToken};
use discord_host::Client;
use discord_sandbox::CLIENT_SECRET;
use discord_sandbox::tokens::APPLICATION_ID;

use crate::demo::follow_as_browser;

/// The sandbox's application as a confidential client (with its secret).
pub fn confidential() -> Client {
    Client {
        client_id: APPLICATION_ID.to_owned(),
        client_secret: Some(CLIENT_SECRET.to_owned()),
    }
}

/// Sends the user to `url` (the sandbox approves) and returns the code and
/// state the redirect brought to `listener`.
///
/// # Panics
/// When the link has no state, or no redirect arrives within 10 s.
pub async fn approve(url: &str, listener: CallbackListener) -> (String, String) {
    let query = url.split_once('?').expect("a query").1;
    let state = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "state")
        .expect("the link has a state")
        .1
        .into_owned();
    let url = url.to_owned();
    let browser = tokio::spawn(async move { follow_as_browser(&url).await });
    let callback = listener
        .wait(&state, Duration::from_secs(10))
        .await
        .expect("a redirect");
    browser
        .await
        .expect("the browser task ends")
        .expect("the browser got through");
    (
        callback.code.expect("a code"),
        callback.state.expect("a state"),
    )
}

/// Connects `identifier` to the connection `discord` through the whole
/// link flow, and returns the tokens stored.
///
/// # Panics
/// When any step fails.
pub async fn connect(authorizer: &Authorizer, identifier: &str) -> StoredToken {
    let listener = CallbackListener::bind(0)
        .await
        .expect("a loopback listener");
    let pending = authorizer
        .link("discord", &listener.redirect_uri().expect("its URI"), &[])
        .await
        .expect("a link");
    let (code, state) = approve(&pending.url, listener).await;
    authorizer
        .complete(&pending, identifier, &code, &state)
        .await
        .expect("the code exchanged and stored")
}
