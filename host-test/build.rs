//! Builds the connector component from the workspace's current source, so
//! the host, its tests and its demo always run the component as it is now,
//! and the misbehaving test fixture beside it.
//!
//! Components are built in release (the size-tuned profile users get) into
//! a target directory of their own, so these nested cargo runs never wait
//! on the lock of the build that runs this script.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the `wasm32-wasip2` cdylib of the package at `manifest` and
/// returns the path of its `.wasm`.
fn build_component(manifest: &Path, target_dir: &Path, wasm_name: &str) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        // Settings meant for the host build must not leak into the guest's.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("could not run cargo to build a component");
    if !status.success() {
        panic!(
            "building {} failed; is the target installed? run `rustup target add wasm32-wasip2`",
            manifest.display()
        );
    }
    target_dir
        .join("wasm32-wasip2")
        .join("release")
        .join(wasm_name)
}

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("host-test sits in the workspace")
        .to_path_buf();
    for input in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }
    let fixture = manifest_dir.join("fixtures").join("misbehaving");
    for input in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", fixture.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=CONNECTOR_WASM");

    let target_dir = workspace.join("target").join("guest");
    let connector = match env::var_os("CONNECTOR_WASM") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_component(
            &workspace.join("Cargo.toml"),
            &target_dir,
            "discord_connector.wasm",
        ),
    };
    println!("cargo:rustc-env=CONNECTOR_WASM={}", connector.display());
    let misbehaving = build_component(
        &fixture.join("Cargo.toml"),
        &target_dir,
        "misbehaving_component.wasm",
    );
    println!("cargo:rustc-env=MISBEHAVING_WASM={}", misbehaving.display());
}
