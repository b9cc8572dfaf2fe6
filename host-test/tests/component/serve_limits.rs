//! `discord_host::serve::Server` (what `discord-host serve` runs) against
//! clients that would stop it: silent and half-sent connections, slow
//! bodies, oversized bodies and more requests than instance slots. Each test
//! serves the REST/MCP component in this process with the limits it names
//! (`ServeLimits`, `InstanceLimits`), over raw TCP so that the client can
//! misbehave.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use discord_host::InstanceLimits;
use discord_host::serve::{ServeLimits, Server};
use discord_sandbox::{Fault, Sandbox};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn compiled() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        Server::from_bytes(discord_artifacts::REST_MCP).expect("the REST/MCP component loads")
    })
}

/// The REST/MCP component served with `limits` and `instances` against a
/// fresh sandbox.
async fn serve(limits: ServeLimits, instances: InstanceLimits) -> (Sandbox, SocketAddr) {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let (address, _serving) = compiled()
        .clone()
        .with_env("DISCORD_API_BASE", sandbox.base_url())
        .with_limits(instances)
        .bind_with_limits(([127, 0, 0, 1], 0).into(), limits)
        .await
        .expect("the REST/MCP component is served");
    (sandbox, address)
}

/// An answer read off the wire: its status line, headers and body.
struct Answer {
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn status(&self) -> u16 {
        self.head
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or_else(|| panic!("no status in {:?}", self.head))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (found, value) = line.split_once(':')?;
            found.eq_ignore_ascii_case(name).then_some(value.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "{}: not JSON: {}",
                self.head,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Reads one answer (its body sized by `Content-Length` or chunked) off
/// `stream`, within `within`.
async fn read_answer(stream: &mut TcpStream, within: Duration) -> Answer {
    tokio::time::timeout(within, async {
        let mut wire = Wire {
            stream,
            read: Vec::new(),
        };
        let head_end = wire.until(b"\r\n\r\n", 0).await;
        let head = String::from_utf8_lossy(&wire.read[..head_end]).into_owned();
        let mut answer = Answer {
            head,
            body: Vec::new(),
        };
        let mut at = head_end + 4;
        if answer
            .header("transfer-encoding")
            .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let line_end = wire.until(b"\r\n", at).await;
                let size = String::from_utf8_lossy(&wire.read[at..line_end]).into_owned();
                let size = usize::from_str_radix(size.trim(), 16)
                    .unwrap_or_else(|_| panic!("a chunk size, not {size:?}"));
                at = line_end + 2;
                wire.fill(at + size + 2).await;
                answer.body.extend_from_slice(&wire.read[at..at + size]);
                at += size + 2;
                if size == 0 {
                    return answer;
                }
            }
        }
        let length: usize = answer
            .header("content-length")
            .and_then(|length| length.parse().ok())
            .unwrap_or_else(|| panic!("no body length in {:?}", answer.head));
        wire.fill(at + length).await;
        answer.body = wire.read[at..at + length].to_vec();
        answer
    })
    .await
    .unwrap_or_else(|_| panic!("no answer within {within:?}"))
}

/// What has been read off a stream so far.
struct Wire<'a> {
    stream: &'a mut TcpStream,
    read: Vec<u8>,
}

impl Wire<'_> {
    /// Reads until `needle` is found at or after `from`; where it starts.
    async fn until(&mut self, needle: &[u8], from: usize) -> usize {
        loop {
            if let Some(found) = self.read[from..]
                .windows(needle.len())
                .position(|window| window == needle)
            {
                return from + found;
            }
            self.more().await;
        }
    }

    /// Reads until `length` bytes have been read.
    async fn fill(&mut self, length: usize) {
        while self.read.len() < length {
            self.more().await;
        }
    }

    async fn more(&mut self) {
        let mut chunk = [0u8; 4096];
        let count = self.stream.read(&mut chunk).await.expect("an answer");
        assert!(
            count > 0,
            "the connection closed inside an answer: {:?}",
            String::from_utf8_lossy(&self.read)
        );
        self.read.extend_from_slice(&chunk[..count]);
    }
}

/// Sends `request` on a new connection and reads the answer, within
/// `within`; returns it and how long it took.
async fn exchange(address: SocketAddr, request: &[u8], within: Duration) -> (Answer, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.expect("a connection");
    stream.write_all(request).await.expect("the request");
    let answer = read_answer(&mut stream, within).await;
    (answer, started.elapsed())
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

const GATEWAY: &[u8] = b"POST /v1/tools/discord_get_gateway HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

/// Whether the server closes `stream` within `within`: the read ends (EOF
/// or a reset) rather than waiting.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    loop {
        match tokio::time::timeout(within, stream.read(&mut byte)).await {
            Err(_elapsed) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

fn short_timeouts() -> ServeLimits {
    ServeLimits {
        header_read_timeout: Duration::from_millis(300),
        body_read_timeout: Duration::from_millis(300),
        ..ServeLimits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_is_closed_after_the_header_timeout() {
    let (_sandbox, address) = serve(short_timeouts(), InstanceLimits::default()).await;
    let mut half = TcpStream::connect(address).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut half, Duration::from_secs(3)).await,
        "a head sent in part stays open past the 300 ms header timeout"
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    let mut silent = TcpStream::connect(address).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(3)).await,
        "a connection that sends nothing stays open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_waiting_for_its_next_request_is_closed_in_time() {
    let (_sandbox, address) = serve(short_timeouts(), InstanceLimits::default()).await;
    let mut kept = TcpStream::connect(address).await.unwrap();
    for _ in 0..2 {
        kept.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let answer = read_answer(&mut kept, Duration::from_secs(10)).await;
        assert_eq!(answer.status(), 200, "kept alive between requests");
    }
    let idle = Instant::now();
    assert!(
        closed_within(&mut kept, Duration::from_secs(3)).await,
        "an idle keep-alive connection stays open"
    );
    assert!(idle.elapsed() >= Duration::from_millis(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_the_connection_idle_the_longest_makes_room() {
    let limits = ServeLimits {
        max_connections: 4,
        ..ServeLimits::default()
    };
    let (_sandbox, address) = serve(limits, InstanceLimits::default()).await;
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(address).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (health, took) = exchange(address, HEALTH, Duration::from_secs(10)).await;
    assert_eq!(health.status(), 200, "{}", health.head);
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(
        closed_within(&mut silent[0], Duration::from_secs(1)).await,
        "the connection idle the longest was closed for the new one"
    );
    assert!(
        !closed_within(&mut silent[3], Duration::from_millis(200)).await,
        "only one connection was closed"
    );
}

/// Opens a connection that sends a POST head promising `promised` body
/// bytes, then one of them.
async fn slow_body(address: SocketAddr, promised: usize) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("a connection");
    stream
        .write_all(
            format!(
                "POST /v1/tools/discord_get_gateway HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {promised}\r\n\r\n "
            )
            .as_bytes(),
        )
        .await
        .expect("a head and one byte");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_connection_has_a_request_in_flight_a_new_one_is_refused_at_once() {
    let limits = ServeLimits {
        max_connections: 2,
        ..ServeLimits::default()
    };
    let (_sandbox, address) = serve(limits, InstanceLimits::default()).await;
    let _busy = [slow_body(address, 100).await, slow_body(address, 100).await];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = TcpStream::connect(address).await.unwrap();
    let answer = read_answer(&mut refused, Duration::from_secs(2)).await;
    assert_eq!(answer.status(), 503, "{}", answer.head);
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(answer.json()["error"]["kind"], "rate-limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_too_large_or_too_slow_are_refused_before_an_instance_runs() {
    let limits = ServeLimits {
        body_read_timeout: Duration::from_secs(1),
        ..ServeLimits::default()
    };
    let (_sandbox, address) = serve(limits, InstanceLimits::default()).await;
    let max = limits.max_body_bytes;

    let declared = format!(
        "POST /v1/tools/discord_get_gateway HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        2 << 20
    );
    let (answer, took) = exchange(address, declared.as_bytes(), Duration::from_secs(3)).await;
    assert_eq!(answer.status(), 413, "{}", answer.head);
    assert_eq!(answer.json()["error"]["kind"], "invalid-arguments");
    assert!(took < Duration::from_secs(1), "{took:?}");

    let mut chunked = TcpStream::connect(address).await.unwrap();
    chunked
        .write_all(b"POST /v1/tools/discord_get_gateway HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    // Exactly the cap first, read in full; then one byte past it, small
    // enough to be read at once, so that the server closes with nothing
    // unread (which would reset the connection before the answer is read).
    let chunk = vec![b' '; max];
    let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
    chunked.write_all(&framed).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    chunked.write_all(b"1\r\n \r\n").await.unwrap();
    let answer = read_answer(&mut chunked, Duration::from_secs(3)).await;
    assert_eq!(answer.status(), 413, "a chunked body past the cap");

    let mut stalled = slow_body(address, 10).await;
    let answer = read_answer(&mut stalled, Duration::from_secs(5)).await;
    assert_eq!(answer.status(), 408, "{}", answer.head);
    assert_eq!(answer.json()["error"]["kind"], "transport");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_hold_connections_but_no_instance_slot() {
    let (_sandbox, address) = serve(ServeLimits::default(), InstanceLimits::default()).await;
    for request in [HEALTH, GATEWAY] {
        let (answer, _) = exchange(address, request, Duration::from_secs(30)).await;
        assert_eq!(answer.status(), 200, "warming up: {}", answer.head);
    }
    // More slow clients than the 256 instance slots, each sending a byte
    // of its body now and then.
    let mut slow = Vec::new();
    for _ in 0..300 {
        slow.push(slow_body(address, 1000).await);
    }
    let trickle = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            for stream in &mut slow {
                let _ = stream.write_all(b" ").await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (name, request) in [("/health", HEALTH), ("a tool call", GATEWAY)] {
        // The best of three, so that a test running beside this one on
        // the same cores cannot fail it; a server that queues behind the
        // slow bodies misses every one.
        let mut fastest = Duration::MAX;
        for _ in 0..3 {
            let (answer, took) = exchange(address, request, Duration::from_secs(30)).await;
            assert_eq!(answer.status(), 200, "{name}: {}", answer.head);
            fastest = fastest.min(took);
        }
        assert!(
            fastest < Duration::from_millis(100),
            "{name} took {fastest:?} beside 300 slow bodies"
        );
    }
    trickle.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_server_answers_503_with_retry_after() {
    let limits = ServeLimits {
        slot_wait: Duration::from_millis(200),
        ..ServeLimits::default()
    };
    let one = InstanceLimits {
        max_instances: 1,
        ..InstanceLimits::default()
    };
    let (sandbox, address) = serve(limits, one).await;
    sandbox.inject(
        Fault::json(200, json!({"url": "wss://gateway.discord.gg"}))
            .on("/gateway")
            .delay(Duration::from_secs(2)),
    );
    let held = tokio::spawn(exchange(address, GATEWAY, Duration::from_secs(30)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (refused, took) = exchange(address, HEALTH, Duration::from_secs(30)).await;
    assert_eq!(refused.status(), 503, "{}", refused.head);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.json()["error"]["kind"], "rate-limited");
    assert_eq!(refused.json()["error"]["retry_after_ms"], 1000);
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(1),
        "waited {took:?} for a slot, not the 200 ms slot_wait"
    );
    let (held, _) = held.await.unwrap();
    assert_eq!(held.status(), 200, "the call that held the slot");
    let (health, _) = exchange(address, HEALTH, Duration::from_secs(10)).await;
    assert_eq!(health.status(), 200, "served once the slot is free");
}

#[tokio::test]
async fn limits_the_server_could_not_keep_are_refused() {
    for limits in [
        ServeLimits {
            max_connections: 0,
            ..ServeLimits::default()
        },
        ServeLimits {
            header_read_timeout: Duration::MAX,
            ..ServeLimits::default()
        },
    ] {
        let refused = compiled()
            .clone()
            .bind_with_limits(([127, 0, 0, 1], 0).into(), limits)
            .await
            .map(|(address, _)| address)
            .expect_err("refused");
        let why = std::error::Error::source(&refused).map(ToString::to_string);
        assert!(
            why.as_deref()
                .is_some_and(|why| why.contains("ServeLimits::")),
            "{refused}: {why:?}"
        );
    }
}
