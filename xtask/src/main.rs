//! `cargo xtask dist [--target-dir DIR] [--out DIR]`: builds the guests in
//! the size-tuned `guest` profile and writes `discord_connector.wasm`,
//! `discord_rest_mcp.wasm` (the REST/MCP component with the connector
//! plugged in) and `discord_typed_tools.wasm` (the typed-tools world) into
//! `dist/` (or `--out`). Fails when the connector is over its size budget
//! (`xtask::CONNECTOR_BUDGET`).
//!
//! `cargo xtask guest MANIFEST WASM [--target-dir DIR]`: builds one more
//! guest (the harness's test fixture, whose workspace declares a `guest`
//! profile too) and prints the path of its `.wasm`.
//!
//! `cargo xtask generate`: rewrites the tools' JSON Schemas, the
//! typed-tools world's WIT and adapter code, the tools' methods the MCP
//! annotations derive from, and docs/tools.md, from the catalogue.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let option = |name: &str, default: PathBuf| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
            .map_or(default, PathBuf::from)
    };
    let target_dir = option("--target-dir", workspace.join("target"));
    let outcome = match args.first().map(String::as_str) {
        Some("dist") => xtask::dist(
            &workspace,
            &target_dir,
            &option("--out", workspace.join("dist")),
        )
        .map(|dist| {
            for path in [dist.connector, dist.rest_mcp, dist.tools] {
                let size = std::fs::metadata(&path).map_or(0, |meta| meta.len());
                println!("{} ({size} bytes)", path.display());
            }
        }),
        Some("guest") if args.len() >= 3 => {
            xtask::build_guest(Path::new(&args[1]), None, &target_dir, &args[2])
                .map(|wasm| println!("{}", wasm.display()))
        }
        Some("generate") => xtask::input_schemas::write(&workspace)
            .and_then(|()| xtask::typed_world::write(&workspace))
            .and_then(|()| xtask::tool_methods::write(&workspace))
            .and_then(|()| xtask::tools_doc::write(&workspace))
            .map(|()| {
                println!(
                    "wrote {}, {}, {}, {}, {} and the table of {}",
                    xtask::input_schemas::PATH,
                    xtask::typed_world::WIT_PATH,
                    xtask::typed_world::GLUE_PATH,
                    xtask::tool_methods::PATH,
                    xtask::tools_doc::PATH,
                    xtask::tools_doc::README
                );
            }),
        _ => {
            eprintln!(
                "usage: cargo xtask dist [--target-dir DIR] [--out DIR]\n       cargo xtask guest MANIFEST WASM [--target-dir DIR]\n       cargo xtask generate"
            );
            return ExitCode::FAILURE;
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}
