//! Builds the components from the workspace's current source, with the same
//! code as `cargo xtask dist`, so the host's tests, its demo and `serve`
//! always run them as they are now: the connector, the gateway with the
//! connector plugged in, and the misbehaving test fixture.
//!
//! Components are built in release (the size-tuned profile users get) into
//! a target directory of their own, so these nested cargo runs never wait
//! on the lock of the build that runs this script.

use std::env;
use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("host-test sits in the workspace")
        .to_path_buf();
    for input in [
        "src",
        "wit",
        "gateway/src",
        "gateway/wit",
        "gateway/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }
    let fixture = manifest_dir.join("fixtures").join("misbehaving");
    for input in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", fixture.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=CONNECTOR_WASM");

    let target_dir = workspace.join("target").join("guest");
    let fail = |error: xtask::Error| -> ! { panic!("{error}") };
    let dist =
        xtask::dist(&workspace, &target_dir, &target_dir.join("dist")).unwrap_or_else(|e| fail(e));
    let connector = env::var_os("CONNECTOR_WASM").map_or(dist.connector, PathBuf::from);
    println!("cargo:rustc-env=CONNECTOR_WASM={}", connector.display());
    println!("cargo:rustc-env=GATEWAY_WASM={}", dist.gateway.display());
    let misbehaving = xtask::build_guest(
        &fixture.join("Cargo.toml"),
        None,
        &target_dir,
        "misbehaving_component.wasm",
    )
    .unwrap_or_else(|e| fail(e));
    println!("cargo:rustc-env=MISBEHAVING_WASM={}", misbehaving.display());
}
