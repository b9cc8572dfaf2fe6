//! What the `discord-host` binary trusts on disk, run as a user runs it:
//! a cache directory others may write is not used (one warning, the
//! component compiled in memory), a token store another user owns is
//! refused, and the default store lives in the user's data directory.
#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DISCORD_HOST: &str = env!("CARGO_BIN_EXE_discord-host");

/// The uid that plays another user (`nobody`).
const ANOTHER_USER: u32 = 65534;

/// `discord-host ARGS` in `cwd`, with a home of its own under `root`, the
/// cache in `root/cache` unless `env` says otherwise, warnings on stderr,
/// and no token or setting from this process's environment.
fn run(args: &[&str], root: &Path, cwd: &Path, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(DISCORD_HOST);
    command.args(args).current_dir(cwd).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("DISCORD_") || name.starts_with("XDG_") {
            command.env_remove(name);
        }
    }
    command
        .env("HOME", root.join("home"))
        .env("DISCORD_HOST_CACHE_DIR", root.join("cache"))
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(name, value)| (name, value)));
    command.output().expect("discord-host runs")
}

/// A fresh folder for one test, mode 0700, with a private home in it.
fn scratch(name: &str) -> PathBuf {
    let root =
        std::env::temp_dir().join(format!("discord-cli-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir(root.join("home")).unwrap();
    root
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

#[test]
fn tools_work_with_a_cache_others_may_write_and_warn_once() {
    let root = scratch("loose-cache");
    let cache = root.join("shared-cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();

    let output = run(
        &["tools"],
        &root,
        &root,
        &[("DISCORD_HOST_CACHE_DIR", &cache)],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("discord_get_my_user"),
        "the tools are listed"
    );
    assert_eq!(
        stderr.matches("not cached").count(),
        1,
        "one warning: {stderr}"
    );
    assert!(stderr.contains(&cache.display().to_string()), "{stderr}");
    assert_eq!(mode(&cache), 0o777, "the directory is left as it is");
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        0,
        "nothing is cached in it"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_store_another_user_owns_is_refused_with_a_clear_message() {
    let root = scratch("foreign-store");
    if std::fs::metadata(&root).unwrap().uid() != 0 {
        eprintln!(
            "SKIPPED a_store_another_user_owns_is_refused_with_a_clear_message: only root can give a file to uid {ANOTHER_USER}"
        );
        return;
    }
    let store = root.join("tokens.sqlite3");
    std::fs::write(&store, b"").unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&store, Some(ANOTHER_USER), Some(ANOTHER_USER)).unwrap();

    let store_arg = store.display().to_string();
    let output = run(&["auth", "list", "--store", &store_arg], &root, &root, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused: {stderr}");
    assert!(stderr.contains(&store_arg), "{stderr}");
    assert!(stderr.contains("owned by another user"), "{stderr}");
    assert_eq!(
        std::fs::metadata(&store).unwrap().len(),
        0,
        "left untouched"
    );
    assert_eq!(mode(&store), 0o666, "left untouched");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_default_store_is_in_the_data_directory_not_the_working_one() {
    let root = scratch("default-store");
    let work = root.join("work");
    std::fs::create_dir(&work).unwrap();

    let output = run(&["auth", "list"], &root, &work, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let data = root.join("home/.local/share/discord-host");
    assert_eq!(mode(&data.join("tokens.sqlite3")), 0o600);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "nothing in the working directory"
    );

    let xdg = root.join("xdg-data");
    let output = run(&["auth", "list"], &root, &work, &[("XDG_DATA_HOME", &xdg)]);
    assert!(output.status.success());
    assert_eq!(mode(&xdg.join("discord-host/tokens.sqlite3")), 0o600);
    std::fs::remove_dir_all(&root).unwrap();
}
