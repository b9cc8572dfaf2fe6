//! Credential rules: the header each kind sends, and refusals that send nothing.

use discord_host::{ComponentErrorKind as ErrorKind, Credential, CredentialKind};

use crate::catalogue::TABLE;
use crate::common::{assert_kind, bot, error_of, expected_authorization, setup, user};

/// The tools of the catalogue but the bot-only ones (#18), whose runs
/// against the sandbox's bot routes come with their own end-to-end tests.
fn user_facing() -> impl Iterator<
    Item = &'static (
        &'static str,
        &'static [CredentialKind],
        &'static [&'static str],
    ),
> {
    TABLE
        .iter()
        .filter(|(_, accepts, _)| *accepts != [CredentialKind::Bot])
}

/// Arguments that satisfy each tool's schema.
fn valid_arguments(tool: &str) -> &'static str {
    match tool {
        "discord_get_current_user_application_entitlements" => {
            r#"{"application_id": "1178765261640953856"}"#
        }
        "discord_get_guild_template" => r#"{"template_code": "hgM48av5Q69A"}"#,
        "discord_get_guild_widget"
        | "discord_get_guild_widget_png"
        | "discord_get_my_guild_member" => r#"{"guild_id": "613425648685547541"}"#,
        "discord_get_invite_deprecated" | "discord_resolve_invite" => {
            r#"{"invite_code": "discord-developers"}"#
        }
        "discord_get_user" => r#"{"user_id": "41771983423143937"}"#,
        _ => "{}",
    }
}

#[tokio::test]
async fn every_tool_runs_with_every_kind_it_accepts() {
    let (sandbox, connector) = setup().await;
    for (tool, accepts, _) in user_facing() {
        for kind in *accepts {
            let credential = match kind {
                CredentialKind::None => Credential::None,
                CredentialKind::Bearer => user(),
                CredentialKind::Bot => bot(),
            };
            let result = connector
                .execute_tool(tool, valid_arguments(tool), &credential)
                .await;
            assert!(
                result.is_ok(),
                "{tool} with {kind:?}: {:?}",
                result.err().map(|e| e.to_string())
            );
            let sent = sandbox.requests().pop().expect("a request was sent");
            let expected = expected_authorization(&credential);
            assert_eq!(
                sent.header("authorization").map(str::to_owned),
                expected,
                "{tool} {kind:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_kind_the_tool_does_not_accept_is_refused_before_sending() {
    let (sandbox, connector) = setup().await;
    let mut refusals = 0;
    for (tool, accepts, _) in user_facing() {
        for (kind, credential) in [
            (CredentialKind::None, Credential::None),
            (CredentialKind::Bearer, user()),
            (CredentialKind::Bot, bot()),
        ] {
            if accepts.contains(&kind) {
                continue;
            }
            let error = error_of(&connector, tool, valid_arguments(tool), &credential).await;
            assert_kind(&error, ErrorKind::MissingCredential);
            assert!(error.message.contains(tool), "{}", error.message);
            assert!(
                !error.message.contains("sbx-"),
                "no token in {}",
                error.message
            );
            refusals += 1;
        }
    }
    assert_eq!(
        refusals, 13,
        "5 user-only tools refuse none and bot; 3 user-or-bot tools refuse none"
    );
    assert!(sandbox.requests().is_empty(), "nothing reached the sandbox");
}
