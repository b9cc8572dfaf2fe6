//! What several of the CLI's test files share.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `command` (a `discord-host serve ...`, stdout piped here, killed
/// when dropped) and waits for the line that says where it serves: the
/// running server and its `http://` base address.
pub async fn serving(mut command: Command) -> (Child, String) {
    let mut server = command
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("discord-host serve starts");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("serving within 30 s")
        .unwrap()
        .expect("the address line");
    let base = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .expect("an address")
        .to_owned();
    (server, base)
}
