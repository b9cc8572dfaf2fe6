//! `discord-host serve` as a user runs it, with fewer file descriptors than
//! clients: silent connections past its limit must not stop it answering,
//! nor make it spin. Linux only: the limit is set with bash's `ulimit` and
//! the server's CPU time read from `/proc`.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};

const DISCORD_HOST: &str = env!("CARGO_BIN_EXE_discord-host");

/// How long `/health` may take while the idle connections are open.
const HEALTH_BOUND: Duration = Duration::from_secs(1);

/// The CPU share (of one core) above which the idle server counts as
/// spinning; a spinning accept loop takes a whole core.
const IDLE_CPU_SHARE: f64 = 0.25;

/// `discord-host serve --port 0` with at most `fd_limit` open files,
/// killed when dropped; its pid and address.
async fn serve_with_fd_limit(fd_limit: u32) -> (tokio::process::Child, u32, SocketAddr) {
    let mut server = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n {fd_limit} && exec \"$0\" serve --port 0"
        ))
        .arg(DISCORD_HOST)
        .env_remove("DISCORD_BOT_TOKEN")
        .env_remove("DISCORD_BEARER_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bash starts discord-host serve");
    let pid = server.id().expect("a pid");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .expect("serving within 120 s")
        .unwrap()
        .expect("the address line");
    let address = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("an address in {line:?}"));
    (server, pid, address)
}

/// This process's soft limit on open files, from `/proc/self/limits`.
fn own_fd_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The CPU time `pid` has used (all its threads, user and system), from
/// `/proc/PID/stat` in clock ticks of 10 ms (Linux's `USER_HZ`).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server's stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("a command name")
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Opens `count` connections to `address` that send nothing.
async fn open_silent(address: SocketAddr, count: usize) -> Vec<TcpStream> {
    tokio::task::spawn_blocking(move || {
        (0..count)
            .map(|index| {
                TcpStream::connect_timeout(&address, Duration::from_secs(5))
                    .unwrap_or_else(|error| panic!("connection {index}: {error}"))
            })
            .collect()
    })
    .await
    .unwrap()
}

/// `GET /health` on a new connection: the status line and how long the
/// answer took (at most `HEALTH_BOUND` plus a margin, then it gives up).
async fn health(address: SocketAddr) -> (String, Duration) {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let attempt = || -> std::io::Result<String> {
            let mut stream = TcpStream::connect_timeout(&address, HEALTH_BOUND * 3)?;
            stream.set_read_timeout(Some(HEALTH_BOUND * 3))?;
            stream.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok(answer)
        };
        let answer = attempt().unwrap_or_else(|error| format!("no answer: {error}"));
        let status = answer.lines().next().unwrap_or_default().to_owned();
        (status, started.elapsed())
    })
    .await
    .unwrap()
}

/// Holds `silent` idle connections to a server started with `fd_limit`
/// files (lowered to `lowered_to` once it serves, when given), then checks
/// that it neither spins nor stops answering `/health`.
async fn answers_beside_idle_connections(fd_limit: u32, lowered_to: Option<u32>, silent: usize) {
    let needed = silent as u64 + 100;
    match own_fd_limit() {
        Some(limit) if limit >= needed => {}
        limit => {
            eprintln!(
                "SKIPPED: this test opens {silent} connections and needs {needed} open files, but this process may open {limit:?} (raise `ulimit -n`)"
            );
            return;
        }
    }
    let (_server, pid, address) = serve_with_fd_limit(fd_limit).await;
    if let Some(lowered) = lowered_to {
        let limit = format!("--nofile={lowered}:{lowered}");
        let pid = pid.to_string();
        match std::process::Command::new("prlimit")
            .args(["--pid", &pid, &limit])
            .status()
        {
            Ok(status) if status.success() => {}
            outcome => {
                eprintln!(
                    "SKIPPED: prlimit (util-linux) could not lower the server's open-file limit: {outcome:?}"
                );
                return;
            }
        }
    }
    let _silent = open_silent(address, silent).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let before = cpu_time(pid);
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let share = (cpu_time(pid) - before).as_secs_f64() / window.elapsed().as_secs_f64();
    assert!(
        share < IDLE_CPU_SHARE,
        "the server used {:.0}% of a core while {silent} connections sat idle",
        share * 100.0
    );

    let (status, took) = health(address).await;
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "/health beside {silent} idle connections with {fd_limit} files: {status}"
    );
    assert!(took < HEALTH_BOUND, "/health took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_beside_1100_idle_connections_with_1024_files() {
    answers_beside_idle_connections(1024, None, 1100).await;
}

/// With 256 files the server caps its connections at half of them (128),
/// below the default 512, so that instances still get files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_beside_400_idle_connections_with_256_files() {
    answers_beside_idle_connections(256, None, 400).await;
}

/// The limit lowered under a running server (its cap still 512): accepting
/// fails (EMFILE), and the server must close idle connections, lower its
/// cap and pause, not spin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_when_the_file_limit_is_lowered_while_serving() {
    answers_beside_idle_connections(1024, Some(128), 300).await;
}
