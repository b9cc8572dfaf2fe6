//! Builds the connector component from the workspace's current source, so
//! the host, its tests and its demo always run the component as it is now.
//!
//! The guest is built in release (the size-tuned profile users get) into a
//! target directory of its own, so this nested cargo never waits on the
//! lock of the build that runs this script.

use std::env;
use std::path::PathBuf;
use std::process::Command;

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
    println!("cargo:rerun-if-env-changed=CONNECTOR_WASM");

    if let Some(prebuilt) = env::var_os("CONNECTOR_WASM") {
        println!(
            "cargo:rustc-env=CONNECTOR_WASM={}",
            PathBuf::from(prebuilt).display()
        );
        return;
    }

    let target_dir = workspace.join("target").join("guest");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "-p",
            "discord-connector",
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        // Settings meant for the host build must not leak into the guest's.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("could not run cargo to build the connector component");
    if !status.success() {
        panic!(
            "building the connector component failed; is the target installed? \
             run `rustup target add wasm32-wasip2`"
        );
    }
    let wasm = target_dir
        .join("wasm32-wasip2")
        .join("release")
        .join("discord_connector.wasm");
    println!("cargo:rustc-env=CONNECTOR_WASM={}", wasm.display());
}
