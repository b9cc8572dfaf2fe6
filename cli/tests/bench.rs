//! `discord-host bench`, run as a user runs it (a few calls only: the
//! figures themselves are for `scripts/bench`, not for a test): one run
//! measures every path on both tokio runtimes against the native client,
//! the in-process and the Redis limiter among them.

use std::process::Command;

use serde_json::Value;

#[test]
fn one_run_measures_every_path_on_both_runtimes() {
    let dir = std::env::temp_dir().join(format!("discord-host-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("bench.json");
    let redis = discord_test_servers::Redis::start();
    let mut command = Command::new(env!("CARGO_BIN_EXE_discord-host"));
    command
        .args(["bench", "--calls", "40", "--throughput-calls", "64"])
        .args(["--instantiations", "10", "--json"])
        .arg(&json)
        .env_remove("DISCORD_LIMITER_URL");
    if let Some(redis) = &redis {
        command.args(["--limiter", &redis.url()]);
    }
    let output = command.output().expect("discord-host runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for goal in [
        "call p50 ≤ 1.5x native, current-thread",
        "c=64 throughput ≥ 0.5x native, multi-thread",
        "multi-thread p50 within 10% of current-thread",
        "connector ≤ 300000 bytes",
    ] {
        assert!(stdout.contains(goal), "{goal} in {stdout}");
    }
    if redis.is_some() {
        assert!(
            stdout.contains("The Redis limiter, current-thread:"),
            "{stdout}"
        );
    }
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        report["component_bytes"].as_u64(),
        Some(discord_artifacts::CONNECTOR.len() as u64)
    );
    let runtimes = report["runtimes"].as_array().unwrap();
    let names: Vec<&str> = runtimes
        .iter()
        .map(|runtime| runtime["runtime"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "current-thread");
    assert!(names[1].starts_with("multi-thread"), "{names:?}");
    for runtime in runtimes {
        let paths: Vec<&str> = runtime["paths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|path| path["path"].as_str().unwrap())
            .collect();
        let mut expected = vec!["native", "reused", "spare", "fresh", "limited"];
        if redis.is_some() {
            expected.push("redis-limited");
        }
        assert_eq!(paths, expected);
        for path in runtime["paths"].as_array().unwrap() {
            let latency = &path["latency"];
            assert!(latency["p50_us"].as_f64().unwrap() > 0.0, "{path}");
            assert!(latency["p99_us"].as_f64() >= latency["p50_us"].as_f64());
            assert_eq!(latency["percentiles_us"].as_array().unwrap().len(), 99);
            if cfg!(target_os = "linux") {
                assert!(path["cpu_us_per_call"].as_f64().unwrap() > 0.0, "{path}");
            }
        }
        let levels: Vec<u64> = runtime["throughput"]
            .as_array()
            .unwrap()
            .iter()
            .map(|level| level["concurrency"].as_u64().unwrap())
            .collect();
        assert_eq!(levels, [1, 16, 64]);
    }
}
