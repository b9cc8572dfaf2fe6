//! The typed-tools world (`dist/discord_typed_tools.wasm`) in wasmtime: its
//! exports called with typed values, the credential from the component's
//! environment, and the docs runtimes such as wassette show.

use std::sync::Arc;

use discord_host::limiter::DiscordLimiter;
use discord_host::{EgressHooks, add_to_linker_async};

use discord_sandbox::Sandbox;
use discord_sandbox::tokens::USER_TOKEN;
use wasmtime::component::{Component, Linker, ResourceTable, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpCtx;

use crate::host_limits::AgentState;

/// The typed world instantiated with `env`, ready for [`Typed::call`].
struct Typed {
    store: Store<AgentState>,
    instance: wasmtime::component::Instance,
}

impl Typed {
    async fn new(env: &[(&str, String)]) -> Self {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).unwrap();
        let component = Component::new(&engine, discord_artifacts::TYPED_TOOLS).unwrap();
        let mut linker = Linker::<AgentState>::new(&engine);
        add_to_linker_async(&mut linker).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        let state = AgentState {
            wasi: WasiCtx::builder().envs(&env).build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: EgressHooks::limited(Arc::new(DiscordLimiter::default())),
            calls_made: 0,
        };
        let mut store = Store::new(&engine, state);
        // The linker's ticker advances the epoch every 10 ms: a minute's worth.
        store.set_epoch_deadline(6_000);
        let instance = linker
            .instantiate_async(&mut store, &component)
            .await
            .unwrap();
        Self { store, instance }
    }

    /// Calls export `name` and returns its `result`: the ok or err payload.
    async fn call(&mut self, name: &str, params: &[Val]) -> Result<Val, Val> {
        let func = self
            .instance
            .get_func(&mut self.store, name)
            .unwrap_or_else(|| panic!("no export {name}"));
        let mut results = [Val::Bool(false)];
        func.call_async(&mut self.store, params, &mut results)
            .await
            .unwrap();
        let [Val::Result(result)] = results else {
            panic!("{name} returns a result: {results:?}");
        };
        result.map(|ok| *ok.unwrap()).map_err(|err| *err.unwrap())
    }
}

fn field<'a>(record: &'a Val, name: &str) -> &'a Val {
    let Val::Record(fields) = record else {
        panic!("not a record: {record:?}");
    };
    &fields.iter().find(|(field, _)| field == name).unwrap().1
}

fn json(value: Val) -> serde_json::Value {
    let Val::String(text) = value else {
        panic!("not JSON text: {value:?}");
    };
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn typed_exports_run_the_tools_with_the_credential_from_the_environment() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let env = [
        ("DISCORD_API_BASE", sandbox.base_url()),
        ("DISCORD_BEARER_TOKEN", USER_TOKEN.to_owned()),
    ];
    let mut typed = Typed::new(&env).await;

    let me = json(typed.call("discord-get-my-user", &[]).await.unwrap());
    assert_eq!(me["username"], "nelly");

    let guilds = json(
        typed
            .call(
                "discord-list-my-guilds",
                &[
                    Val::Option(None),
                    Val::Option(None),
                    Val::Option(Some(Box::new(Val::U32(1)))),
                    Val::Option(Some(Box::new(Val::Bool(true)))),
                ],
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        guilds.as_array().map(Vec::len),
        Some(1),
        "limit 1: {guilds}"
    );

    let png = typed
        .call(
            "discord-get-guild-widget-png",
            &[
                Val::String("1144100424245366835".into()),
                Val::Option(Some(Box::new(Val::Enum("banner4".into())))),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        field(&png, "content-type"),
        &Val::String("image/png".into())
    );
    let Val::List(data) = field(&png, "data") else {
        panic!("bytes");
    };
    let signature: Vec<Val> = b"\x89PNG".iter().map(|byte| Val::U8(*byte)).collect();
    assert_eq!(&data[..4], &signature[..]);
    let requested = sandbox.requests();
    assert!(
        requested
            .iter()
            .any(|request| request.path_and_query.ends_with("widget.png?style=banner4")),
        "the enum became the query: {requested:?}"
    );

    let error = typed
        .call(
            "discord-list-my-guilds",
            &[
                Val::Option(None),
                Val::Option(None),
                Val::Option(Some(Box::new(Val::U32(500)))),
                Val::Option(None),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(
        field(&error, "kind"),
        &Val::Enum("invalid-arguments".into()),
        "a bound the WIT cannot state is still checked: {error:?}"
    );
}

#[tokio::test]
async fn without_a_token_in_the_environment_a_user_tool_says_what_is_missing() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let mut typed = Typed::new(&[("DISCORD_API_BASE", sandbox.base_url())]).await;
    let error = typed.call("discord-get-my-user", &[]).await.unwrap_err();
    assert_eq!(
        field(&error, "kind"),
        &Val::Enum("missing-credential".into())
    );
    let gateway = json(typed.call("discord-get-gateway", &[]).await.unwrap());
    assert!(gateway["url"].as_str().unwrap().starts_with("wss://"));
    assert!(
        sandbox.requests().len() == 1,
        "only the REST/MCP component call went out"
    );
}

#[test]
fn the_component_carries_its_docs_for_runtimes() {
    let bytes = discord_artifacts::TYPED_TOOLS.to_vec();
    let at = bytes
        .windows(b"package-docs".len())
        .position(|window| window == b"package-docs")
        .expect("a package-docs section");
    let docs = String::from_utf8_lossy(&bytes[at..]);
    let tool = discord_connector::catalogue::find("discord_get_my_user").unwrap();
    assert!(
        docs.contains(&tool.description[..40]),
        "the tool's description is in the docs"
    );
    assert!(
        docs.contains("\"root\""),
        "keyed by the decoded world's name"
    );
}
