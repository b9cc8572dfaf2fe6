//! Builds the three release components from this workspace's source with
//! `cargo xtask dist` (the guests in the size-tuned `guest` profile, the
//! REST/MCP component and the typed tools composed with the connector) and
//! writes them into `OUT_DIR`, where `src/lib.rs` embeds them.
//!
//! The guests build in `<target>/guest`, a target directory of their own:
//! a nested cargo must not wait on the lock of the build running this
//! script, and its wasm32 crates never mix with this build's native ones.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("artifacts/ sits in the workspace");
    for input in [
        "src",
        "wit",
        "build.rs",
        "rest-mcp/src",
        "rest-mcp/wit",
        "rest-mcp/Cargo.toml",
        "typed-tools/src",
        "typed-tools/wit",
        "typed-tools/Cargo.toml",
        "xtask/src",
        "xtask/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let guest_target = target_dir(&out_dir)
        .unwrap_or_else(|| workspace.join("target"))
        .join("guest");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let status = Command::new(cargo)
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
        .arg(&guest_target)
        .args(["--", "dist", "--out"])
        .arg(out_dir.join("dist"))
        .arg("--target-dir")
        .arg(&guest_target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo xtask dist failed: is the guest target installed? `rustup target add wasm32-wasip2`"
    );
}

/// The target directory this build writes into: the nearest ancestor of
/// `OUT_DIR` that cargo marked with `CACHEDIR.TAG` (with `--target-dir`,
/// `cargo install` or `CARGO_TARGET_DIR` it is not the workspace's).
fn target_dir(out_dir: &Path) -> Option<PathBuf> {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}
