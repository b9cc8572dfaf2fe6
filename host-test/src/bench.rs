//! `host-test bench`: what a tool call costs through the component,
//! against a native keep-alive hyper client making the same request to the
//! same loopback server, in the same run. Bounded: a fixed number of calls
//! per measure, loopback only.
//!
//! The upstream is a minimal HTTP/1.1 server answering Discord's
//! `GET /gateway` body, so what is measured is the client side: the
//! instance, the guest and wasi:http against hyper alone.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use discord_host::engine::{Allocation, engine};
use discord_host::{Connector, Credential, InstanceLimits, Output};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Serialize;
use wasmtime::component::Component;

/// The tool every measure calls: one GET, no credential.
const TOOL: &str = "discord_get_gateway";
const BODY: &str = r#"{"url":"wss://gateway.discord.gg"}"#;
/// Calls of the sandbox measure, as the packages' benches make.
const SANDBOX_CALLS: usize = 500;

/// How many of each thing to do.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Calls per latency measure.
    pub calls: usize,
    /// Calls per throughput level.
    pub throughput_calls: usize,
    /// Instantiations per allocator.
    pub instantiations: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            calls: 2_000,
            throughput_calls: 5_000,
            instantiations: 2_000,
        }
    }
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
    (duration.as_secs_f64() * 1e7).round() / 10.0
}

/// Calls per second and connections opened at one concurrency.
#[derive(Clone, Debug, Serialize)]
pub struct Throughput {
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Through the component (`Connector::execute_tool`: an instance reused
    /// for the credential's calls).
    pub component_calls_per_s: f64,
    /// The native keep-alive client.
    pub native_calls_per_s: f64,
    /// New connections the upstream accepted per 1,000 component calls.
    pub component_connections_per_1000: f64,
    /// The same for the native client.
    pub native_connections_per_1000: f64,
}

/// One run's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What was run.
    pub plan: String,
    /// The tokio runtime the run used.
    pub runtime: String,
    /// The release component's size.
    pub component_bytes: u64,
    /// `Component::new` (compiling with Cranelift), median of 3.
    pub compile_ms: f64,
    /// Loading a precompiled artifact (what the on-disk cache does), median of 10.
    pub load_precompiled_ms: f64,
    /// `Connector::instance()` (store, WASI context, instantiation), on-demand allocator.
    pub instantiate_on_demand: Latency,
    /// The same with the pooling allocator (the default).
    pub instantiate_pooling: Latency,
    /// One call end to end through `Connector::execute_tool` (a reused instance).
    pub call_component: Latency,
    /// The same GET from the native keep-alive client.
    pub call_native: Latency,
    /// `call_component.p50 / call_native.p50`.
    pub ratio_p50: f64,
    /// A call on an instance that has already made one: no instantiation.
    pub call_warm_instance: Latency,
    /// A call the guest refuses before any HTTP (invalid arguments), on a warm instance.
    pub guest_only: Latency,
    /// The first call on a fresh instance.
    pub first_call: Latency,
    /// The second call on the same instance.
    pub second_call: Latency,
    /// Calls per second at 1, 16 and 64 calls in flight.
    pub throughput: Vec<Throughput>,
    /// `discord_get_my_user` with a bearer against the Discord sandbox (its
    /// rate limit off), through `Connector::execute_tool`; the Python and
    /// JavaScript packages' benches make a fresh instance per call.
    pub call_sandbox_get_my_user: Latency,
    /// The process's peak resident set (VmHWM), whole run.
    pub peak_rss_mib: f64,
}

/// A loopback HTTP/1.1 server that answers every request with the REST/MCP component
/// JSON and counts the connections it accepts.
struct Upstream {
    address: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl Upstream {
    async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
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
                });
            }
        });
        Ok(Self {
            address,
            connections,
        })
    }

    fn api_base(&self) -> String {
        format!("http://{}/api/v10", self.address)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
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

async fn timed<F, Fut>(count: usize, mut call: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        call().await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
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
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(0.0, |kib| (kib / 1024.0 * 10.0).round() / 10.0)
}

/// Runs every measure of `plan` on the component in `bytes`.
pub async fn run(bytes: &[u8], plan: Plan) -> anyhow::Result<Report> {
    let upstream = Upstream::start().await?;
    let native = Native::new(&upstream)?;
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

    let mut instantiate = Vec::new();
    let mut connectors = Vec::new();
    for allocation in [Allocation::OnDemand, Allocation::Pooling] {
        let engine = engine(allocation, &limits)?;
        let artifact = wasm(engine.precompile_component(bytes))?;
        // SAFETY: made by this engine just above.
        let component = wasm(unsafe { Component::deserialize(&engine, &artifact) })?;
        let connector = Connector::from_component(&component)?
            .with_env("DISCORD_API_BASE", upstream.api_base());
        for _ in 0..50 {
            connector.instance().await?;
        }
        let samples = timed(plan.instantiations, || async {
            connector.instance().await?;
            Ok(())
        })
        .await?;
        instantiate.push(Latency::of(samples));
        connectors.push(connector);
    }
    let connector = connectors.pop().expect("the pooling connector");

    for _ in 0..200 {
        component_call(&connector).await?;
        native.call().await?;
    }
    let call_component = Latency::of(timed(plan.calls, || component_call(&connector)).await?);
    let call_native = Latency::of(timed(plan.calls, || native.call()).await?);

    let mut instance = connector.instance().await?;
    instance.execute_tool(TOOL, "{}", &Credential::None).await?;
    let mut warm = Vec::with_capacity(plan.calls);
    let mut guest_only = Vec::with_capacity(plan.calls);
    for _ in 0..plan.calls {
        let started = Instant::now();
        instance.execute_tool(TOOL, "{}", &Credential::None).await?;
        warm.push(started.elapsed());
        let started = Instant::now();
        let refused = instance
            .execute_tool("discord_get_user", r#"{"user_id": "x"}"#, &Credential::None)
            .await;
        guest_only.push(started.elapsed());
        anyhow::ensure!(refused.is_err(), "an invalid id is refused");
    }
    drop(instance);

    let mut first = Vec::new();
    let mut second = Vec::new();
    for _ in 0..plan.calls / 4 {
        let mut instance = connector.instance().await?;
        for samples in [&mut first, &mut second] {
            let started = Instant::now();
            instance.execute_tool(TOOL, "{}", &Credential::None).await?;
            samples.push(started.elapsed());
        }
    }

    let mut levels = Vec::new();
    for concurrency in [1, 16, 64] {
        let before = upstream.connections();
        let component = {
            let connector = connector.clone();
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
        let per_1000 = |opened: usize| {
            (opened as f64 * 1000.0 / plan.throughput_calls as f64 * 10.0).round() / 10.0
        };
        levels.push(Throughput {
            concurrency,
            component_calls_per_s: component.round(),
            native_calls_per_s: native_rate.round(),
            component_connections_per_1000: per_1000(between - before),
            native_connections_per_1000: per_1000(after - between),
        });
    }

    let sandbox = discord_sandbox::Sandbox::start().await?;
    sandbox.set_rate_limit(discord_sandbox::RateLimitPolicy {
        limit: u32::MAX,
        window: Duration::from_secs(1),
    });
    let on_sandbox = connector
        .clone()
        .with_env("DISCORD_API_BASE", sandbox.base_url());
    let bearer = Credential::Bearer(discord_sandbox::tokens::USER_TOKEN.to_owned());
    let get_my_user = || async {
        on_sandbox
            .execute_tool("discord_get_my_user", "{}", &bearer)
            .await?;
        anyhow::Ok(())
    };
    timed(50, get_my_user).await?;
    let call_sandbox_get_my_user = Latency::of(timed(SANDBOX_CALLS, get_my_user).await?);

    let ratio_p50 = (call_component.p50_us / call_native.p50_us * 100.0).round() / 100.0;
    let [instantiate_on_demand, instantiate_pooling] =
        <[Latency; 2]>::try_from(instantiate).expect("two allocators");
    Ok(Report {
        plan: format!("{plan:?}"),
        runtime: match tokio::runtime::Handle::current().runtime_flavor() {
            tokio::runtime::RuntimeFlavor::CurrentThread => "current-thread".into(),
            _ => format!(
                "multi-thread ({} workers)",
                tokio::runtime::Handle::current().metrics().num_workers()
            ),
        },
        component_bytes: bytes.len() as u64,
        compile_ms: median_ms(compiles),
        load_precompiled_ms: median_ms(loads),
        instantiate_on_demand,
        instantiate_pooling,
        call_component,
        call_native,
        ratio_p50,
        call_warm_instance: Latency::of(warm),
        guest_only: Latency::of(guest_only),
        first_call: Latency::of(first),
        second_call: Latency::of(second),
        throughput: levels,
        call_sandbox_get_my_user,
        peak_rss_mib: peak_rss_mib(),
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, name: &str, latency: &Latency| {
            writeln!(
                f,
                "| {name} | {:.1} | {:.1} |",
                latency.p50_us, latency.p99_us
            )
        };
        writeln!(f, "| measure | value |\n|---|---|")?;
        writeln!(f, "| tokio runtime | {} |", self.runtime)?;
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
            "| call p50, component / native | {:.2}x |",
            self.ratio_p50
        )?;
        writeln!(
            f,
            "| peak RSS (whole run) | {:.1} MiB |\n",
            self.peak_rss_mib
        )?;
        writeln!(f, "| latency (µs) | p50 | p99 |\n|---|---|---|")?;
        row(
            f,
            "instantiate, on-demand allocator",
            &self.instantiate_on_demand,
        )?;
        row(
            f,
            "instantiate, pooling allocator",
            &self.instantiate_pooling,
        )?;
        row(
            f,
            "call through the component (execute_tool, reused instance)",
            &self.call_component,
        )?;
        row(f, "same GET, native hyper keep-alive", &self.call_native)?;
        row(f, "call on a warm instance", &self.call_warm_instance)?;
        row(
            f,
            "guest only (refused before HTTP), warm",
            &self.guest_only,
        )?;
        row(f, "first call on a fresh instance", &self.first_call)?;
        row(f, "second call on it", &self.second_call)?;
        row(
            f,
            "discord_get_my_user against the sandbox, execute_tool",
            &self.call_sandbox_get_my_user,
        )?;
        writeln!(
            f,
            "\n| in flight | component calls/s | native calls/s | component conns/1000 | native conns/1000 |\n|---|---|---|---|---|"
        )?;
        for level in &self.throughput {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} |",
                level.concurrency,
                level.component_calls_per_s,
                level.native_calls_per_s,
                level.component_connections_per_1000,
                level.native_connections_per_1000
            )?;
        }
        Ok(())
    }
}
