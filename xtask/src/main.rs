//! `cargo xtask dist`: builds both guests in release and writes
//! `dist/discord_connector.wasm` and `dist/discord_gateway.wasm` (the
//! gateway with the connector plugged in).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    if task.as_deref() != Some("dist") {
        eprintln!("usage: cargo xtask dist");
        return ExitCode::FAILURE;
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf();
    match xtask::dist(
        &workspace,
        &workspace.join("target"),
        &workspace.join("dist"),
    ) {
        Ok(dist) => {
            for path in [dist.connector, dist.gateway] {
                let size = std::fs::metadata(&path).map_or(0, |meta| meta.len());
                println!("{} ({size} bytes)", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("xtask dist: {error}");
            ExitCode::FAILURE
        }
    }
}
