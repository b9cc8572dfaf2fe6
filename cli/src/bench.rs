//! `discord-host bench`: what a tool call costs through the component,
//! against a native keep-alive hyper client making the same request to the
//! same loopback server, in one run, on tokio's current-thread runtime and
//! then on its multi-thread runtime. Bounded: a fixed number of calls per
//! measure, loopback only.
//!
//! The upstream is a minimal HTTP/1.1 server answering Discord's
//! `GET /gateway` body on a thread (and runtime) of its own, as a remote
//! server would be: what is measured is the client side, the instance, the
//! guest and wasi:http against hyper alone. CPU per call is the process's
//! CPU time over the measure (every thread but the upstream's) divided by
//! the calls, read from `/proc` (Linux only).

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use discord_host::engine::{Allocation, engine};
use discord_host::limiter::{LimiterPolicy, RateLimiter};
use discord_host::{Connector, Credential, DiscordLimiter, InstanceLimits, Output, ReuseLimits};
use discord_redis_limiter::{RedisLimiter, RedisLimiterOptions};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Serialize;
use wasmtime::component::Component;

/// The tool every measure calls: one GET, no credential.
const TOOL: &str = "discord_get_gateway";
const BODY: &str = r#"{"url":"wss://gateway.discord.gg"}"#;
/// Each latency measure is split into this many rounds, the paths taking
/// turns, so that a drift of the machine weighs on all of them alike.
const ROUNDS: usize = 4;
/// The largest release connector the project ships (`cargo xtask dist`
/// refuses a larger one).
const SIZE_BUDGET: u64 = 300_000;

/// How many of each thing to do.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Plan {
    /// Calls per latency measure (per path, per runtime).
    pub calls: usize,
    /// Calls per throughput level.
    pub throughput_calls: usize,
    /// Instantiations measured per runtime.
    pub instantiations: usize,
}

/// Latency figures of one series, in microseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// The 1st to the 99th percentile, for plotting the distribution.
    pub percentiles_us: Vec<f64>,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let at = |percent: usize| {
            let index = (samples.len() * percent).div_ceil(100).saturating_sub(1);
            samples.get(index).map_or(0.0, |sample| micros(*sample))
        };
        Self {
            p50_us: at(50),
            p99_us: at(99),
            percentiles_us: (1..=99).map(at).collect(),
        }
    }
}

fn micros(duration: Duration) -> f64 {
    round1(duration.as_secs_f64() * 1e6)
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// One way of making the call, measured.
#[derive(Clone, Debug, Serialize)]
pub struct PathReport {
    /// `native`, `reused`, `spare` or `fresh`.
    pub path: &'static str,
    /// What the path is.
    pub what: &'static str,
    /// Wall time of one call.
    pub latency: Latency,
    /// CPU time of the whole process but the upstream, per call (µs).
    pub cpu_us_per_call: Option<f64>,
    /// `latency.p50 / native latency.p50`.
    pub ratio_p50: f64,
}

/// Calls per second and connections opened at one concurrency.
#[derive(Clone, Debug, Serialize)]
pub struct Throughput {
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Through the component (`Connector::execute_tool`, default reuse).
    pub component_calls_per_s: f64,
    /// The native keep-alive client.
    pub native_calls_per_s: f64,
    /// `component / native`.
    pub ratio: f64,
    /// New connections the upstream accepted per 1,000 component calls.
    pub component_connections_per_1000: f64,
    /// The same for the native client.
    pub native_connections_per_1000: f64,
}

/// Everything measured on one tokio runtime.
#[derive(Clone, Debug, Serialize)]
pub struct RuntimeReport {
    /// `current-thread` or `multi-thread (N workers)`.
    pub runtime: String,
    /// The native call, then the component's paths.
    pub paths: Vec<PathReport>,
    /// A call the guest refuses before any HTTP (invalid arguments), on a
    /// warm instance: the guest and the call machinery alone.
    pub guest_only: Latency,
    /// `Connector::instance()` with the pooling allocator.
    pub instantiate: Latency,
    /// Calls per second at 1, 16 and 64 calls in flight.
    pub throughput: Vec<Throughput>,
}

impl RuntimeReport {
    fn path(&self, name: &str) -> Option<&PathReport> {
        self.paths.iter().find(|path| path.path == name)
    }
}

/// The machine the run was on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// Logical CPUs.
    pub cpus: usize,
    /// The 1-minute load average when the run began (`/proc/loadavg`).
    pub load_average_before: Option<f64>,
}

/// One run's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What was run.
    pub plan: Plan,
    /// Where it ran.
    pub machine: Machine,
    /// The connector's size.
    pub component_bytes: u64,
    /// `Component::new` (compiling with Cranelift), median of 3.
    pub compile_ms: f64,
    /// Loading a precompiled artifact (what the on-disk cache does), median of 10.
    pub load_precompiled_ms: f64,
    /// Current-thread first, then multi-thread.
    pub runtimes: Vec<RuntimeReport>,
    /// The process's peak resident set (VmHWM), whole run.
    pub peak_rss_mib: f64,
}

/// A loopback HTTP/1.1 server on a thread of its own that answers every
/// request with the gateway JSON and counts the connections it accepts.
struct Upstream {
    address: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
    /// The server thread's id, to leave its CPU time out.
    thread: Option<i64>,
}

impl Upstream {
    fn start() -> anyhow::Result<Self> {
        let (ready, started) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("bench-upstream".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => return drop(ready.send(Err(error))),
                };
                runtime.block_on(async move {
                    let bound = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await;
                    let listener = match bound {
                        Ok(listener) => listener,
                        Err(error) => return drop(ready.send(Err(error))),
                    };
                    let connections = Arc::new(AtomicUsize::new(0));
                    let upstream = listener.local_addr().map(|address| Self {
                        address,
                        connections: Arc::clone(&connections),
                        thread: this_thread_id(),
                    });
                    if ready.send(upstream).is_err() {
                        return;
                    }
                    while let Ok((stream, _)) = listener.accept().await {
                        connections.fetch_add(1, Ordering::Relaxed);
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(serve_connection(stream));
                    }
                });
            })?;
        Ok(started.recv()??)
    }

    fn api_base(&self) -> String {
        format!("http://{}/api/v10", self.address)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn serve_connection(stream: tokio::net::TcpStream) {
    let service = hyper::service::service_fn(|_request| async {
        Ok::<_, Infallible>(
            hyper::Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                .expect("a static response"),
        )
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The calling thread's id in `/proc/self/task`.
fn this_thread_id() -> Option<i64> {
    std::fs::read_link("/proc/thread-self")
        .ok()?
        .file_name()?
        .to_str()?
        .parse()
        .ok()
}

/// CPU time of every thread of the process but `except`, in nanoseconds
/// (each thread's `schedstat`; threads that ended are not counted, and
/// the bench's threads all live through the measures).
fn cpu_ns(except: Option<i64>) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let task = task.ok()?;
        if task.file_name().to_str().and_then(|id| id.parse().ok()) == except {
            continue;
        }
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += schedstat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// The baseline: hyper's pooled keep-alive client, the same GET.
#[derive(Clone)]
struct Native {
    client: Client<HttpConnector, Empty<Bytes>>,
    url: hyper::Uri,
}

impl Native {
    fn new(upstream: &Upstream) -> anyhow::Result<Self> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            url: format!("{}/gateway", upstream.api_base()).parse()?,
        })
    }

    async fn call(&self) -> anyhow::Result<()> {
        let response = self.client.get(self.url.clone()).await?;
        let body = response.into_body().collect().await?.to_bytes();
        anyhow::ensure!(body.len() == BODY.len(), "the native call read the body");
        Ok(())
    }
}

async fn component_call(connector: &Connector) -> anyhow::Result<()> {
    match connector
        .execute_tool(TOOL, "{}", &Credential::None)
        .await?
    {
        Output::Json(json) if json.contains("wss://") => Ok(()),
        other => anyhow::bail!("unexpected output {other:?}"),
    }
}

/// `count` calls one after another: each one's wall time, and the CPU
/// time they took together.
async fn timed<F, Fut>(
    count: usize,
    except: Option<i64>,
    mut call: F,
) -> anyhow::Result<(Vec<Duration>, Option<u64>)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(count);
    let cpu_before = cpu_ns(except);
    for _ in 0..count {
        let started = Instant::now();
        call().await?;
        samples.push(started.elapsed());
    }
    let cpu = cpu_before.zip(cpu_ns(except)).map(|(a, b)| b - a);
    Ok((samples, cpu))
}

/// Like [`timed`], but waiting for `between` (untimed) before each call,
/// and without the CPU time.
async fn timed_between<F, Fut, B, BFut>(
    count: usize,
    mut call: F,
    mut between: B,
) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
    B: FnMut() -> BFut,
    BFut: Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        between().await?;
        let started = Instant::now();
        call().await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// A pause between calls, as when they do not come back to back: a
/// millisecond at least, and until `connector` has its `spares` again
/// (made in the background; for a few seconds at most).
async fn pause(connector: &Connector, spares: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1)).await;
    while connector.stats().spares < spares {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(5),
            "the spares were not made: {:?}",
            connector.stats()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// `total` calls with `concurrency` in flight; calls per second.
async fn throughput<F, Fut>(total: usize, concurrency: usize, call: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, call) = (Arc::clone(&next), call.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    call().await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// wasmtime's error (not a `std` error without its `anyhow` feature) as ours.
fn wasm<T>(result: wasmtime::Result<T>) -> anyhow::Result<T> {
    result.map_err(|error| anyhow::anyhow!("{error:?}"))
}

fn median_ms(mut samples: Vec<Duration>) -> f64 {
    samples.sort_unstable();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |sample| micros(*sample) / 1000.0)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))?;
            line.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| round1(kib / 1024.0))
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The component's calls, each way of running them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Native,
    Reused,
    Spare,
    Fresh,
    /// Reused, through the in-process limiter.
    Limited,
    /// Reused, through the Redis limiter (when `--limiter` names one).
    Shared,
}

impl Way {
    /// The ways measured: the Redis limiter's only with a Redis URL.
    fn all(shared: bool) -> Vec<Self> {
        let mut ways = vec![
            Self::Native,
            Self::Reused,
            Self::Spare,
            Self::Fresh,
            Self::Limited,
        ];
        if shared {
            ways.push(Self::Shared);
        }
        ways
    }

    fn name(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Reused => "reused",
            Self::Spare => "spare",
            Self::Fresh => "fresh",
            Self::Limited => "limited",
            Self::Shared => "redis-limited",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Native => "the same GET, native hyper keep-alive client",
            Self::Reused => "execute_tool, default reuse: a warm instance of the credential",
            Self::Spare => {
                "execute_tool, one call per instance, taken from the spares made up in a 1 ms pause before it; CPU back to back"
            }
            Self::Fresh => {
                "execute_tool, no reuse: an instance made for the call, after a 1 ms pause; CPU back to back"
            }
            Self::Limited => {
                "reused, through the in-process Discord limiter (a route without rate-limit headers)"
            }
            Self::Shared => {
                "reused, through the Redis limiter (a route without rate-limit headers: each call takes and gives back the bucket's probe)"
            }
        }
    }

    /// The spares this way's connector keeps.
    fn spares(self) -> usize {
        match self {
            Self::Fresh => ReuseLimits::OFF.spares,
            _ => ReuseLimits::default().spares,
        }
    }

    /// The connector for this way, from `base`; `redis` is the Redis
    /// limiter's URL.
    fn connector(self, base: &Connector, redis: Option<&str>) -> anyhow::Result<Connector> {
        // What is measured is the limiter's cost, not Discord's limits.
        let policy = LimiterPolicy {
            global_per_second: usize::MAX,
            ..LimiterPolicy::default()
        };
        let reused = base.clone().with_reuse(ReuseLimits::default());
        Ok(match self {
            Self::Native | Self::Reused => reused,
            Self::Spare => base.clone().with_reuse(ReuseLimits {
                calls_per_instance: 1,
                ..ReuseLimits::default()
            }),
            Self::Fresh => base.clone().with_reuse(ReuseLimits::OFF),
            Self::Limited => reused.with_limiter(Arc::new(DiscordLimiter::new(policy))),
            Self::Shared => {
                let url = redis.context("the Redis limiter's URL")?;
                let options = RedisLimiterOptions {
                    policy,
                    prefix: format!("discord-host-bench-{}:", std::process::id()),
                    ..RedisLimiterOptions::default()
                };
                let limiter: Arc<dyn RateLimiter> = Arc::new(RedisLimiter::open(url, options)?);
                reused.with_limiter(limiter)
            }
        })
    }
}

/// Every measure of `plan` on the runtime this runs on.
async fn measure(
    component: &Component,
    upstream: &Upstream,
    plan: Plan,
    redis: Option<&str>,
) -> anyhow::Result<RuntimeReport> {
    let native = Native::new(upstream)?;
    let base =
        Connector::from_component(component)?.with_env("DISCORD_API_BASE", upstream.api_base());
    let ways = Way::all(redis.is_some());
    let connectors = ways
        .iter()
        .map(|way| way.connector(&base, redis))
        .collect::<anyhow::Result<Vec<Connector>>>()?;

    for _ in 0..200 {
        native.call().await?;
        for connector in &connectors[1..] {
            component_call(connector).await?;
        }
    }
    let except = upstream.thread;
    let mut samples = vec![Vec::with_capacity(plan.calls); ways.len()];
    let mut cpu = vec![Some(0_u64); ways.len()];
    let per_round = plan.calls.div_ceil(ROUNDS);
    for _ in 0..ROUNDS {
        for (index, way) in ways.iter().enumerate() {
            let (taken, spent) = match way {
                Way::Native => timed(per_round, except, || native.call()).await?,
                Way::Spare | Way::Fresh => {
                    // Latency after a pause (the spares made up in it);
                    // CPU back to back, the refills included.
                    let connector = &connectors[index];
                    let spares = way.spares();
                    let taken = timed_between(
                        per_round,
                        || component_call(connector),
                        || pause(connector, spares),
                    )
                    .await?;
                    let (_, spent) = timed(per_round, except, || component_call(connector)).await?;
                    (taken, spent)
                }
                Way::Reused | Way::Limited | Way::Shared => {
                    timed(per_round, except, || component_call(&connectors[index])).await?
                }
            };
            samples[index].extend(taken);
            cpu[index] = cpu[index].zip(spent).map(|(a, b)| a + b);
        }
    }
    let latencies: Vec<Latency> = samples.into_iter().map(Latency::of).collect();
    let native_p50 = latencies[0].p50_us;
    let paths = ways
        .iter()
        .zip(latencies)
        .zip(cpu)
        .map(|((way, latency), cpu)| PathReport {
            path: way.name(),
            what: way.what(),
            ratio_p50: round2(latency.p50_us / native_p50),
            latency,
            cpu_us_per_call: cpu.map(|ns| round1(ns as f64 / 1000.0 / (per_round * ROUNDS) as f64)),
        })
        .collect();

    let mut instance = base.instance().await?;
    let mut guest_only = Vec::with_capacity(plan.calls);
    for _ in 0..plan.calls {
        let started = Instant::now();
        let refused = instance
            .execute_tool("discord_get_user", r#"{"user_id": "x"}"#, &Credential::None)
            .await;
        guest_only.push(started.elapsed());
        anyhow::ensure!(refused.is_err(), "an invalid id is refused");
    }
    drop(instance);

    let fresh = &connectors[3];
    let (instantiations, _) = timed(plan.instantiations, except, || async {
        fresh.instance().await?;
        Ok(())
    })
    .await?;

    let mut levels = Vec::new();
    for concurrency in [1, 16, 64] {
        let before = upstream.connections();
        let component = {
            let connector = connectors[1].clone();
            throughput(plan.throughput_calls, concurrency, move || {
                let connector = connector.clone();
                async move { component_call(&connector).await }
            })
            .await?
        };
        let between = upstream.connections();
        let native_rate = {
            let native = native.clone();
            throughput(plan.throughput_calls, concurrency, move || {
                let native = native.clone();
                async move { native.call().await }
            })
            .await?
        };
        let after = upstream.connections();
        let per_1000 =
            |opened: usize| round1(opened as f64 * 1000.0 / plan.throughput_calls as f64);
        levels.push(Throughput {
            concurrency,
            component_calls_per_s: component.round(),
            native_calls_per_s: native_rate.round(),
            ratio: round2(component / native_rate),
            component_connections_per_1000: per_1000(between - before),
            native_connections_per_1000: per_1000(after - between),
        });
    }

    let handle = tokio::runtime::Handle::current();
    Ok(RuntimeReport {
        runtime: match handle.runtime_flavor() {
            tokio::runtime::RuntimeFlavor::CurrentThread => "current-thread".into(),
            _ => format!("multi-thread ({} workers)", handle.metrics().num_workers()),
        },
        paths,
        guest_only: Latency::of(guest_only),
        instantiate: Latency::of(instantiations),
        throughput: levels,
    })
}

/// Runs every measure of `plan` on the component in `bytes`, on a
/// current-thread runtime and then on a multi-thread one with a worker
/// per CPU. Call it outside any tokio runtime.
pub fn run(bytes: &[u8], plan: Plan, redis: Option<&str>) -> anyhow::Result<Report> {
    let machine = Machine {
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        load_average_before: load_average(),
    };
    let upstream = Upstream::start().context("starting the loopback upstream")?;
    let limits = InstanceLimits::default();

    let on_demand = engine(Allocation::OnDemand, &limits)?;
    let mut compiles = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        wasm(Component::new(&on_demand, bytes))?;
        compiles.push(started.elapsed());
    }
    let artifact = wasm(on_demand.precompile_component(bytes))?;
    let mut loads = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        // SAFETY: made by this engine just above.
        wasm(unsafe { Component::deserialize(&on_demand, &artifact) })?;
        loads.push(started.elapsed());
    }

    let pooling = engine(Allocation::Pooling, &limits)?;
    let artifact = wasm(pooling.precompile_component(bytes))?;
    // SAFETY: made by this engine just above.
    let component = wasm(unsafe { Component::deserialize(&pooling, &artifact) })?;
    let mut runtimes = Vec::new();
    for multi_thread in [false, true] {
        let runtime = if multi_thread {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(machine.cpus)
                .enable_all()
                .build()?
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
        };
        runtimes.push(runtime.block_on(measure(&component, &upstream, plan, redis))?);
        runtime.shutdown_timeout(Duration::from_secs(1));
    }
    Ok(Report {
        plan,
        machine,
        component_bytes: bytes.len() as u64,
        compile_ms: median_ms(compiles),
        load_precompiled_ms: median_ms(loads),
        runtimes,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// Whether `met`, as the goals table says it.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "not met" }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| measure | value |\n|---|---|")?;
        writeln!(
            f,
            "| machine | {} CPUs, load average {} at the start |",
            self.machine.cpus,
            self.machine
                .load_average_before
                .map_or("unknown".into(), |load| load.to_string())
        )?;
        writeln!(f, "| component size | {} bytes |", self.component_bytes)?;
        writeln!(
            f,
            "| `Component::new` (compile) | {:.1} ms |",
            self.compile_ms
        )?;
        writeln!(
            f,
            "| load a precompiled artifact | {:.2} ms |",
            self.load_precompiled_ms
        )?;
        writeln!(
            f,
            "| peak RSS (whole run) | {:.1} MiB |\n",
            self.peak_rss_mib
        )?;

        for runtime in &self.runtimes {
            writeln!(f, "On tokio's {} runtime:\n", runtime.runtime)?;
            writeln!(
                f,
                "| path | p50 µs | p99 µs | CPU µs/call | p50 / native |\n|---|---|---|---|---|"
            )?;
            for path in &runtime.paths {
                writeln!(
                    f,
                    "| {} ({}) | {:.1} | {:.1} | {} | {:.2}x |",
                    path.path,
                    path.what,
                    path.latency.p50_us,
                    path.latency.p99_us,
                    path.cpu_us_per_call
                        .map_or("-".into(), |cpu| format!("{cpu:.1}")),
                    path.ratio_p50
                )?;
            }
            writeln!(
                f,
                "| guest only (refused before HTTP, warm instance) | {:.1} | {:.1} | - | - |",
                runtime.guest_only.p50_us, runtime.guest_only.p99_us
            )?;
            writeln!(
                f,
                "| instantiate (pooling allocator) | {:.1} | {:.1} | - | - |\n",
                runtime.instantiate.p50_us, runtime.instantiate.p99_us
            )?;
            writeln!(
                f,
                "| in flight | component calls/s | native calls/s | ratio | component conns/1000 | native conns/1000 |\n|---|---|---|---|---|---|"
            )?;
            for level in &runtime.throughput {
                writeln!(
                    f,
                    "| {} | {} | {} | {:.2}x | {} | {} |",
                    level.concurrency,
                    level.component_calls_per_s,
                    level.native_calls_per_s,
                    level.ratio,
                    level.component_connections_per_1000,
                    level.native_connections_per_1000
                )?;
            }
            writeln!(f)?;
        }

        for runtime in &self.runtimes {
            if let (Some(local), Some(shared)) =
                (runtime.path("limited"), runtime.path("redis-limited"))
            {
                writeln!(
                    f,
                    "The Redis limiter, {}: {:.1} µs more per call at p50 than the in-process limiter ({:.1} against {:.1}), {} µs more CPU per call.\n",
                    runtime.runtime,
                    shared.latency.p50_us - local.latency.p50_us,
                    shared.latency.p50_us,
                    local.latency.p50_us,
                    shared.cpu_us_per_call.zip(local.cpu_us_per_call).map_or(
                        "-".into(),
                        |(shared, local)| format!("{:.1}", shared - local)
                    ),
                )?;
            }
        }
        writeln!(f, "| goal | figure | verdict |\n|---|---|---|")?;
        for runtime in &self.runtimes {
            if let Some(reused) = runtime.path("reused") {
                writeln!(
                    f,
                    "| call p50 ≤ 1.5x native, {} | {:.2}x | {} |",
                    runtime.runtime,
                    reused.ratio_p50,
                    verdict(reused.ratio_p50 <= 1.5)
                )?;
            }
            if let Some(level) = runtime.throughput.iter().find(|l| l.concurrency == 64) {
                writeln!(
                    f,
                    "| c=64 throughput ≥ 0.5x native, {} | {:.2}x | {} |",
                    runtime.runtime,
                    level.ratio,
                    verdict(level.ratio >= 0.5)
                )?;
            }
        }
        let reused_p50 = |index: usize| {
            self.runtimes
                .get(index)
                .and_then(|runtime| runtime.path("reused"))
                .map(|path| path.latency.p50_us)
        };
        if let (Some(current), Some(multi)) = (reused_p50(0), reused_p50(1)) {
            let ratio = round2(multi / current);
            writeln!(
                f,
                "| multi-thread p50 within 10% of current-thread | {ratio:.2}x | {} |",
                verdict(ratio <= 1.1)
            )?;
        }
        writeln!(
            f,
            "| connector ≤ {SIZE_BUDGET} bytes | {} bytes | {} |",
            self.component_bytes,
            verdict(self.component_bytes <= SIZE_BUDGET)
        )
    }
}
