//! Builds the components from the workspace's current source, with the same
//! code as `cargo xtask dist`, so the host's tests, its demo and `serve`
//! always run them as they are now: the connector, the gateway and the
//! typed-tools world with the connector plugged in, and the misbehaving
//! test fixture.
//!
//! It runs `cargo xtask` (rather than linking it) in a target directory of
//! its own: the components are built in release, the profile users get.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

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
        "tools/src",
        "tools/wit",
        "tools/Cargo.toml",
        "xtask/src",
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
    let dist = target_dir.join("dist");
    xtask(
        &workspace,
        &target_dir,
        &["dist".as_ref(), "--out".as_ref(), dist.as_os_str()],
    );
    let connector = env::var_os("CONNECTOR_WASM")
        .map_or_else(|| dist.join("discord_connector.wasm"), PathBuf::from);
    println!("cargo:rustc-env=CONNECTOR_WASM={}", connector.display());
    for (name, file) in [
        ("GATEWAY_WASM", "discord_gateway.wasm"),
        ("TOOLS_WASM", "discord_tools.wasm"),
    ] {
        println!("cargo:rustc-env={name}={}", dist.join(file).display());
    }
    let misbehaving = xtask(
        &workspace,
        &target_dir,
        &[
            "guest".as_ref(),
            fixture.join("Cargo.toml").as_os_str(),
            "misbehaving_component.wasm".as_ref(),
        ],
    );
    println!("cargo:rustc-env=MISBEHAVING_WASM={}", misbehaving.trim());
}

/// Runs `cargo xtask ARGS` with its own target directory (so it never
/// waits on the lock of the build running this script, and its native
/// crates never mix with this build's), and returns what it printed.
fn xtask(workspace: &Path, target_dir: &Path, args: &[&std::ffi::OsStr]) -> String {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let output = Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "--locked",
            "--package",
            "xtask",
            "--manifest-path",
        ])
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--")
        .args(args)
        .arg("--target-dir")
        .arg(target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("cargo runs");
    if !output.status.success() {
        panic!("cargo xtask {args:?} failed");
    }
    String::from_utf8(output.stdout).expect("xtask prints paths")
}
