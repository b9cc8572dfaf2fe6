//! Builds the harness's misbehaving test component (a guest that traps,
//! spins and grows memory on demand, `fixtures/misbehaving`) for
//! `wasm32-wasip2` in the `guest` profile, and hands its path to the tests
//! as `MISBEHAVING_WASM`. The release components come from
//! `discord-artifacts`.
//!
//! The fixture builds in `<workspace>/target/guest`, a target directory of
//! its own, so the nested cargo never waits on the lock of this build.

use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let fixture = manifest_dir.join("fixtures").join("misbehaving");
    for input in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", fixture.join(input).display());
    }
    let target_dir = manifest_dir
        .parent()
        .expect("host-test sits in the workspace")
        .join("target")
        .join("guest");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--locked",
            "--profile",
            "guest",
            "--target",
            TARGET,
        ])
        .arg("--manifest-path")
        .arg(fixture.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the misbehaving fixture failed");
    let wasm = target_dir
        .join(TARGET)
        .join("guest")
        .join("misbehaving_component.wasm");
    println!("cargo:rustc-env=MISBEHAVING_WASM={}", wasm.display());
}
