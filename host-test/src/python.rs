//! Python virtual environments that tests share: made once, whichever test
//! (or test process) asks first, and used by the others only once they
//! are complete.
//!
//! Each environment is `target/<name>`, guarded by an exclusive lock on
//! `target/<name>.lock` while it is checked or made. It counts as ready
//! only when its marker file holds the digest of its requirements, written
//! after `pip install` succeeded: an interrupted or failed install, or
//! changed requirements, make it anew.

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The harness's folder of Python clients and their requirements.
fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("python")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-test sits in the workspace")
        .join("target")
}

/// The interpreter of the environment with the official MCP Python SDK
/// (`tests/python/requirements.txt`), made if needed.
///
/// # Panics
/// When the environment cannot be made: no `python3`, or pip failed.
pub fn mcp_sdk() -> PathBuf {
    environment("mcp-venv", &python_dir().join("requirements.txt"))
}

/// A Python client script of the harness, such as `mcp_stdio_client.py`.
pub fn script(name: &str) -> PathBuf {
    python_dir().join(name)
}

/// The interpreter of `target/<name>` with `requirements` installed, made
/// (or remade) under the lock when it is not ready.
///
/// # Panics
/// When the environment cannot be made.
pub fn environment(name: &str, requirements: &Path) -> PathBuf {
    let target = target_dir();
    fs::create_dir_all(&target).expect("the target directory");
    let venv = target.join(name);
    let python = venv.join("bin").join("python");
    let marker = venv.join(".requirements-installed");
    let wanted = digest(&fs::read(requirements).expect("the requirements file"));

    let lock = File::create(target.join(format!("{name}.lock"))).expect("the lock file");
    lock.lock().expect("the lock on the environment");
    if fs::read_to_string(&marker).is_ok_and(|found| found == wanted) {
        return python;
    }
    if venv.exists() {
        fs::remove_dir_all(&venv).expect("removing an environment that is not ready");
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements));
    fs::write(&marker, wanted).expect("the ready marker");
    python
}

fn digest(bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn run(command: &mut Command) {
    let status = command.status();
    assert!(
        status.as_ref().is_ok_and(|status| status.success()),
        "{command:?} failed: {status:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads asking at once get one environment, made once; an
    /// environment whose install did not finish (no marker) is made anew.
    #[test]
    fn concurrent_callers_share_one_environment_made_once() {
        let dir = target_dir().join("python-env-test");
        fs::create_dir_all(&dir).unwrap();
        let requirements = dir.join("requirements.txt");
        fs::write(&requirements, "# nothing to install\n").unwrap();
        let name = format!("python-env-test/venv-{}", std::process::id());
        let pythons: Vec<PathBuf> = std::thread::scope(|scope| {
            let callers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| environment(&name, &requirements)))
                .collect();
            callers
                .into_iter()
                .map(|caller| caller.join().unwrap())
                .collect()
        });
        assert!(pythons.windows(2).all(|pair| pair[0] == pair[1]));
        let venv = target_dir().join(&name);
        let marker = venv.join(".requirements-installed");
        let made = fs::metadata(&marker).unwrap().modified().unwrap();
        assert_eq!(environment(&name, &requirements), pythons[0]);
        assert_eq!(
            fs::metadata(&marker).unwrap().modified().unwrap(),
            made,
            "a ready environment is used as it is"
        );

        fs::remove_file(&marker).unwrap();
        fs::write(venv.join("half-installed"), "").unwrap();
        environment(&name, &requirements);
        assert!(marker.exists(), "made anew and marked ready");
        assert!(!venv.join("half-installed").exists());
        fs::remove_dir_all(&venv).unwrap();
    }
}
