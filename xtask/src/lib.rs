//! Build tasks shared by `cargo xtask` and the harness's build script:
//! building the guests in the size-tuned [`PROFILE`] for `wasm32-wasip2`,
//! holding the connector to its size budget ([`within_budget`]), composing
//! the REST/MCP component and the typed-tools adapter with the connector
//! plugged into their imports, and generating from the catalogue the tools'
//! JSON Schemas ([`input_schemas`]), the typed-tools world
//! ([`typed_world`]), the tools' methods for MCP annotations
//! ([`tool_methods`]) and the tools' reference page ([`tools_doc`]).
//!
//! Its tests also check that no crate of the workspace has a circle of
//! files (`module_graph`).

pub mod input_schemas;
#[cfg(test)]
mod module_graph;
pub mod tool_methods;
pub mod tools_doc;
pub mod typed_world;

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, plug};

/// A failed task, in one sentence.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn error(message: impl Into<String>) -> Error {
    Error(message.into())
}

/// The guest target.
pub const TARGET: &str = "wasm32-wasip2";

/// The Cargo profile the guests are built in: size-tuned (`opt-level = "z"`,
/// fat LTO, `panic = "abort"`), while `release` stays tuned for native code.
/// Every workspace a guest is built from declares it.
pub const PROFILE: &str = "guest";

/// The most `discord_connector.wasm` may weigh, in bytes, with every tool of
/// the catalogue: issue #19's goal of 300,000 (it was 289,563 bytes when
/// the budget was set), so that growth is a decision rather than an
/// accident. Make room before adding to it; raise it only knowingly.
pub const CONNECTOR_BUDGET: u64 = 300_000;

/// Refuses an artifact of `size` bytes heavier than `budget`, naming both.
pub fn within_budget(name: &str, size: u64, budget: u64) -> Result<(), Error> {
    if size <= budget {
        Ok(())
    } else {
        Err(error(format!(
            "{name} is {size} bytes, over its budget of {budget} bytes by {}; \
             make it smaller, or raise the budget in xtask/src/lib.rs knowingly",
            size - budget
        )))
    }
}

/// Builds the `cdylib` of the package at `manifest` in [`PROFILE`] for
/// [`TARGET`] into `target_dir`, and returns the path of `wasm_name`.
///
/// Settings meant for an enclosing build (its flags, target and target
/// directory) are kept out, so this also works from a build script.
pub fn build_guest(
    manifest: &Path,
    package: Option<&str>,
    target_dir: &Path,
    wasm_name: &str,
) -> Result<PathBuf, Error> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--profile",
            PROFILE,
            "--locked",
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    if let Some(package) = package {
        command.args(["--package", package]);
    }
    let status = command
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .map_err(|failure| error(format!("could not run cargo: {failure}")))?;
    if !status.success() {
        return Err(error(format!(
            "building {} failed; is the target installed? run `rustup target add {TARGET}`",
            package.unwrap_or(&manifest.display().to_string())
        )));
    }
    Ok(target_dir.join(TARGET).join(PROFILE).join(wasm_name))
}

/// `socket` (the REST/MCP component or the typed-tools adapter) with the connector
/// plugged into its imports of the contract: one component that imports
/// only WASI.
pub fn compose(socket: &[u8], connector: &[u8]) -> Result<Vec<u8>, Error> {
    let mut graph = CompositionGraph::new();
    let package = |name: &str, bytes: &[u8], graph: &mut CompositionGraph| {
        Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut())
            .map_err(|failure| error(format!("reading {name}: {failure:#}")))
            .and_then(|package| {
                graph
                    .register_package(package)
                    .map_err(|failure| error(format!("registering {name}: {failure}")))
            })
    };
    let socket = package("agent-tools:socket", socket, &mut graph)?;
    let plugged = package("agent-tools:connector", connector, &mut graph)?;
    plug(&mut graph, vec![plugged], socket)
        .map_err(|failure| error(format!("plugging the connector in: {failure}")))?;
    graph
        .encode(EncodeOptions::default())
        .map_err(|failure| error(format!("encoding the composition: {failure}")))
}

/// `component` with a `package-docs` custom section holding the docs of the
/// WIT package in `wit_dir` (which may use the contract in `contract_dir`):
/// runtimes such as wassette describe each export with them.
pub fn with_package_docs(
    component: &[u8],
    contract_dir: &Path,
    wit_dir: &Path,
) -> Result<Vec<u8>, Error> {
    let mut resolve = wit_parser::Resolve::default();
    let parse = |resolve: &mut wit_parser::Resolve, dir: &Path| {
        resolve
            .push_dir(dir)
            .map(|(package, _)| package)
            .map_err(|failure| error(format!("parsing {}: {failure:#}", dir.display())))
    };
    parse(&mut resolve, contract_dir)?;
    let package = parse(&mut resolve, wit_dir)?;
    // A decoder names a component's world `root` (wit-parser's
    // `decode_component`) and looks the docs up under that name.
    let worlds = std::mem::take(&mut resolve.packages[package].worlds);
    let [(_, world)] = <[_; 1]>::try_from(worlds.into_iter().collect::<Vec<_>>())
        .map_err(|_| error(format!("{} must hold one world", wit_dir.display())))?;
    resolve.worlds[world].name = "root".into();
    resolve.packages[package]
        .worlds
        .insert("root".into(), world);
    let docs = wit_parser::PackageMetadata::extract(&resolve, package)
        .encode()
        .map_err(|failure| error(format!("encoding package docs: {failure:#}")))?;
    let section = wasm_encoder::CustomSection {
        name: wit_parser::PackageMetadata::SECTION_NAME.into(),
        data: docs.into(),
    };
    let mut bytes = component.to_vec();
    bytes.push(wasm_encoder::ComponentSectionId::CoreCustom.into());
    wasm_encoder::Encode::encode(&section, &mut bytes);
    Ok(bytes)
}

/// `component` without its top-level `component-name` custom section: the
/// names of the component's own items, which `wasm-component-ld` writes
/// and `strip` does not reach (7.6 KB of the connector). Nothing reads
/// them but debuggers and `wasm-tools print`; the core modules' code and
/// every import and export name stay. Fails on bytes that are not a
/// well-formed sequence of sections after a component header.
pub fn without_component_names(component: &[u8]) -> Result<Vec<u8>, Error> {
    const HEADER: usize = 8;
    const CUSTOM: u8 = 0;
    let malformed = || error("the component's sections are malformed");
    if component.len() < HEADER || &component[..4] != b"\0asm" {
        return Err(error("not a WebAssembly binary"));
    }
    let mut kept = component[..HEADER].to_vec();
    let mut at = HEADER;
    while at < component.len() {
        let id = component[at];
        let (size, size_bytes) = leb128_u32(&component[at + 1..]).ok_or_else(malformed)?;
        let payload_start = at + 1 + size_bytes;
        let end = payload_start
            .checked_add(size as usize)
            .filter(|&end| end <= component.len())
            .ok_or_else(malformed)?;
        let payload = &component[payload_start..end];
        let is_names = id == CUSTOM
            && leb128_u32(payload).is_some_and(|(length, length_bytes)| {
                payload.get(length_bytes..length_bytes + length as usize)
                    == Some(b"component-name".as_slice())
            });
        if !is_names {
            kept.extend_from_slice(&component[at..end]);
        }
        at = end;
    }
    Ok(kept)
}

/// An unsigned LEB128 number of at most 32 bits at the start of `bytes`,
/// and how many bytes it took.
fn leb128_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for (index, &byte) in bytes.iter().take(5).enumerate() {
        let bits = u32::from(byte & 0x7f);
        value |= bits.checked_shl(7 * index as u32)?;
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

/// What `dist` wrote.
pub struct Dist {
    /// The connector, the library component.
    pub connector: PathBuf,
    /// The REST/MCP component with the connector plugged in.
    pub rest_mcp: PathBuf,
    /// The typed-tools world: the adapter with the connector plugged in.
    pub tools: PathBuf,
}

/// Builds the guests from the workspace at `workspace` into `target_dir`
/// and writes `discord_connector.wasm`, `discord_rest_mcp.wasm` and
/// `discord_typed_tools.wasm` (both composed) into `out`, the connector
/// without its component names ([`without_component_names`]); then fails
/// if the connector is over [`CONNECTOR_BUDGET`] (the files stay, to be
/// looked at).
pub fn dist(workspace: &Path, target_dir: &Path, out: &Path) -> Result<Dist, Error> {
    let manifest = workspace.join("Cargo.toml");
    let connector = build_guest(
        &manifest,
        Some("discord-connector"),
        target_dir,
        "discord_connector.wasm",
    )?;
    let rest_mcp = build_guest(
        &manifest,
        Some("discord-rest-mcp"),
        target_dir,
        "discord_rest_mcp.wasm",
    )?;
    let tools = build_guest(
        &manifest,
        Some("discord-typed-tools"),
        target_dir,
        "discord_typed_tools.wasm",
    )?;
    let read = |path: &Path| {
        std::fs::read(path)
            .map_err(|failure| error(format!("reading {}: {failure}", path.display())))
    };
    let connector_bytes = without_component_names(&read(&connector)?)?;
    let rest_mcp_composed = compose(&read(&rest_mcp)?, &connector_bytes)?;
    let tools_composed = with_package_docs(
        &compose(&read(&tools)?, &connector_bytes)?,
        &workspace.join("wit"),
        &workspace.join("typed-tools").join("wit"),
    )?;
    std::fs::create_dir_all(out)
        .map_err(|failure| error(format!("creating {}: {failure}", out.display())))?;
    let dist = Dist {
        connector: out.join("discord_connector.wasm"),
        rest_mcp: out.join("discord_rest_mcp.wasm"),
        tools: out.join("discord_typed_tools.wasm"),
    };
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|failure| error(format!("writing {}: {failure}", path.display())))
    };
    write(&dist.connector, &connector_bytes)?;
    write(&dist.rest_mcp, &rest_mcp_composed)?;
    write(&dist.tools, &tools_composed)?;
    within_budget(
        "discord_connector.wasm",
        connector_bytes.len() as u64,
        CONNECTOR_BUDGET,
    )?;
    Ok(dist)
}

/// Writes the generated `files` (paths under `workspace`, contents).
pub(crate) fn write_generated(workspace: &Path, files: &[(&str, &str)]) -> Result<(), Error> {
    for (path, contents) in files {
        let path = workspace.join(path);
        std::fs::write(&path, contents)
            .map_err(|failure| error(format!("writing {}: {failure}", path.display())))?;
    }
    Ok(())
}

/// Fails, naming the stale ones, when the committed `files` under
/// `workspace` are not what the catalogue generates.
pub(crate) fn check_generated(workspace: &Path, files: &[(&str, &str)]) -> Result<(), Error> {
    let stale: Vec<&str> = files
        .iter()
        .filter(|(path, contents)| {
            std::fs::read_to_string(workspace.join(path))
                .ok()
                .as_deref()
                != Some(*contents)
        })
        .map(|(path, _)| *path)
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        let verb = if stale.len() == 1 {
            "differs"
        } else {
            "differ"
        };
        Err(error(format!(
            "{} {verb} from the catalogue: run `cargo xtask generate`",
            stale.join(" and ")
        )))
    }
}

/// `code` as rustfmt formats it (edition 2024), for generated Rust files.
pub(crate) fn rustfmt(code: &str) -> Result<String, Error> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|failure| error(format!("could not run rustfmt: {failure}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let code = code.to_owned();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, code.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|failure| error(format!("rustfmt: {failure}")))?;
    let written = writer.join().expect("the writer does not panic");
    if !output.status.success() || written.is_err() {
        return Err(error("rustfmt rejected the generated code"));
    }
    String::from_utf8(output.stdout).map_err(|_| error("rustfmt wrote something not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component holding a core module, a `component-name` section
    /// between others, and a custom section of another name.
    fn component(with_names: bool) -> Vec<u8> {
        fn custom(name: &'static str, data: &[u8]) -> wasm_encoder::CustomSection<'static> {
            wasm_encoder::CustomSection {
                name: name.into(),
                data: data.to_vec().into(),
            }
        }
        let mut component = wasm_encoder::Component::new();
        component.section(&wasm_encoder::ModuleSection(&wasm_encoder::Module::new()));
        if with_names {
            component.section(&custom("component-name", &[0x80; 200]));
        }
        component.section(&custom("producers", b"kept"));
        component.finish()
    }

    #[test]
    fn component_names_are_dropped_and_nothing_else() {
        let stripped = without_component_names(&component(true)).unwrap();
        assert_eq!(stripped, component(false));
        assert_eq!(
            without_component_names(&component(false)).unwrap(),
            component(false)
        );
    }

    #[test]
    fn malformed_components_are_refused() {
        let whole = component(true);
        assert!(without_component_names(&whole[..whole.len() - 1]).is_err());
        assert!(without_component_names(b"not wasm").is_err());
        let mut overlong = whole[..8].to_vec();
        overlong.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert!(without_component_names(&overlong).is_err());
    }

    #[test]
    fn the_budget_holds_up_to_its_last_byte() {
        assert_eq!(CONNECTOR_BUDGET, 300_000, "issue #19's goal");
        assert!(within_budget("x.wasm", 0, CONNECTOR_BUDGET).is_ok());
        assert!(within_budget("x.wasm", 300_000, CONNECTOR_BUDGET).is_ok());
        let refusal = within_budget("x.wasm", 300_001, CONNECTOR_BUDGET)
            .unwrap_err()
            .to_string();
        assert!(
            refusal.starts_with("x.wasm is 300001 bytes, over its budget of 300000 bytes by 1;"),
            "{refusal}"
        );
    }
}
