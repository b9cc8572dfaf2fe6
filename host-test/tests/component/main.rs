//! End-to-end tests: the built `.wasm` in wasmtime, over wasi:http, against
//! the Discord sandbox. One test binary, so the component compiles once.

mod arguments;
mod bot_tools;
mod catalogue;
mod common;
mod credentials;
mod errors;
mod hardening;
mod host_limits;
mod instance_reuse;
mod limiter_lockout;
mod load;
mod mcp_sdk;
mod oauth;
mod proxy;
mod resilience;
mod rest_mcp;
mod serve_limits;
mod tools;
mod typed_tools;
