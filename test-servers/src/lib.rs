//! Real PostgreSQL and Redis servers for the tests: each started on
//! loopback, on a free port, in a temporary directory of its own, and
//! stopped (its directory removed) when dropped.
//!
//! They come from the machine's packages (Debian's `postgresql` and
//! `redis-server`). Where they are missing, [`Postgres::start`] and
//! [`Redis::start`] say so loudly on stderr and return `None`, so a test
//! can skip; with `DISCORD_TEST_SERVERS=require` (as `.ci/run` sets) they
//! panic instead, so CI never passes by skipping.
//!
//! PostgreSQL refuses to run as root: as root, its commands run as the
//! `postgres` user (`runuser`), which Debian's package creates.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The variable that turns a missing server from a loud skip into a failure.
pub const REQUIRE_VARIABLE: &str = "DISCORD_TEST_SERVERS";

/// How long a server may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What happens when `what` is not on this machine: a panic under
/// `DISCORD_TEST_SERVERS=require`, else a loud skip.
fn missing<T>(what: &str, install: &str) -> Option<T> {
    let message = format!(
        "{what} is not installed on this machine ({install}): the tests that need it are SKIPPED"
    );
    if std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| value == "require") {
        panic!("{message}, and {REQUIRE_VARIABLE}=require forbids skipping");
    }
    eprintln!("\n!!!!!!!! {message} !!!!!!!!\n");
    None
}

/// A port on loopback nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A new empty directory under the system's temporary directory.
fn scratch(kind: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "discord-{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// `name` in `first_in`, else on the PATH.
fn find_program(name: &str, first_in: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    first_in
        .iter()
        .cloned()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// A PostgreSQL server of this test's: a cluster in a temporary
/// directory, listening on 127.0.0.1 only, with a role that owns its
/// database and is not a superuser.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// Run the server's commands as `postgres` (this process is root).
    as_postgres: bool,
    tls: bool,
}

/// The role the tests connect as, and its database.
pub const POSTGRES_USER: &str = "discord_host";
/// The role's password: the tests check no error or log line repeats it.
pub const POSTGRES_PASSWORD: &str = "pw-Zq8sEcret-71c";
/// The database the role owns.
pub const POSTGRES_DATABASE: &str = "discord_tokens";

impl Postgres {
    /// Starts a new cluster (`None`, loudly, when PostgreSQL is missing).
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// Starts a new cluster that also takes TLS connections, with a
    /// self-signed certificate made by `openssl`.
    pub fn start_with_tls() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Option<Self> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|dirs| dirs.flatten().map(|dir| dir.path().join("bin")).collect())
            .unwrap_or_default();
        versions.sort();
        versions.reverse();
        let Some(initdb) = find_program("initdb", &versions) else {
            return missing("PostgreSQL", "apt-get install postgresql");
        };
        let bin = initdb.parent().expect("initdb's directory").to_owned();
        let as_postgres = is_root();
        let dir = scratch("postgres");
        let port = free_port();
        let server = Self {
            bin,
            dir,
            port,
            as_postgres,
            tls,
        };
        server.init();
        server.start_again();
        server.create_role();
        Some(server)
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn init(&self) {
        let mode = |path: &Path, mode: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        mode(&self.dir, 0o755);
        if self.as_postgres {
            run(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&self.dir),
                "giving the cluster's directory to postgres",
            );
        }
        run(
            self.command("initdb").arg("-D").arg(self.data()).args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
                "--encoding=UTF8",
            ]),
            "initdb",
        );
        if self.tls {
            let data = self.data();
            run(
                Command::new("openssl")
                    .args(["req", "-new", "-x509", "-days", "2", "-nodes", "-subj"])
                    .arg("/CN=localhost")
                    .args(["-newkey", "rsa:2048", "-keyout"])
                    .arg(data.join("server.key"))
                    .arg("-out")
                    .arg(data.join("server.crt")),
                "making a self-signed certificate",
            );
            mode(&data.join("server.key"), 0o600);
            if self.as_postgres {
                run(
                    Command::new("chown")
                        .arg("postgres:postgres")
                        .arg(data.join("server.key"))
                        .arg(data.join("server.crt")),
                    "giving the certificate to postgres",
                );
            }
        }
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port.
    pub fn start_again(&self) {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        if self.tls {
            options.push_str(" -c ssl=on");
        }
        run(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.join("server.log"))
                .args(["-o", &options, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        );
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn stop(&self) {
        run(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        );
    }

    fn create_role(&self) {
        self.psql_in(
            "postgres",
            &format!(
                "CREATE ROLE {POSTGRES_USER} LOGIN PASSWORD '{POSTGRES_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE"
            ),
        );
        self.psql_in(
            "postgres",
            &format!("CREATE DATABASE {POSTGRES_DATABASE} OWNER {POSTGRES_USER}"),
        );
    }

    /// Runs `sql` as the superuser in `database` over the cluster's Unix
    /// socket; what psql printed (unaligned, tuples only).
    fn psql_in(&self, database: &str, sql: &str) -> String {
        let output = self
            .command("psql")
            .arg("-h")
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-c", sql])
            .stdin(Stdio::null())
            .output()
            .expect("psql");
        assert!(
            output.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://discord_host:PASSWORD@127.0.0.1:PORT/discord_tokens`:
    /// the role that owns the database, not a superuser.
    pub fn url(&self) -> String {
        format!(
            "postgres://{POSTGRES_USER}:{POSTGRES_PASSWORD}@127.0.0.1:{}/{POSTGRES_DATABASE}",
            self.port
        )
    }

    /// Runs `sql` as the superuser in the tests' database and returns what
    /// psql printed (unaligned, tuples only).
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in(POSTGRES_DATABASE, sql)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server of this test's, on 127.0.0.1, keeping nothing on disk.
pub struct Redis {
    program: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Mutex<Option<Child>>,
}

impl Redis {
    /// Starts a server (`None`, loudly, when Redis is missing).
    pub fn start() -> Option<Self> {
        let Some(program) = find_program("redis-server", &[PathBuf::from("/usr/bin")]) else {
            return missing("Redis", "apt-get install redis-server");
        };
        let server = Self {
            program,
            dir: scratch("redis"),
            port: free_port(),
            child: Mutex::new(None),
        };
        server.start_again();
        Some(server)
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server again after [`stop`](Self::stop), on the same
    /// port, empty.
    pub fn start_again(&self) {
        let mut child = self.child.lock().unwrap();
        assert!(child.is_none(), "Redis is running already");
        let spawned = Command::new(&self.program)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        *child = Some(spawned);
        let started = Instant::now();
        while !self.answers_ping() {
            assert!(started.elapsed() < START_TIMEOUT, "Redis did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (its data goes with it).
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends one command (inline protocol) and returns the raw answer.
    pub fn command(&self, line: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("Redis");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        let mut answer = vec![0; 1 << 16];
        let read = stream.read(&mut answer).unwrap_or(0);
        String::from_utf8_lossy(&answer[..read]).into_owned()
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_starts_stops_and_starts_again() {
        let Some(postgres) = Postgres::start() else {
            return;
        };
        assert_eq!(
            postgres.psql("SELECT rolsuper FROM pg_roles WHERE rolname = 'discord_host'"),
            "f"
        );
        assert!(postgres.url().contains(&format!(":{}/", postgres.port())));
        postgres.stop();
        assert!(TcpStream::connect(("127.0.0.1", postgres.port())).is_err());
        postgres.start_again();
        assert_eq!(postgres.psql("SELECT 1"), "1");
    }

    #[test]
    fn redis_starts_stops_and_starts_again() {
        let Some(redis) = Redis::start() else {
            return;
        };
        assert_eq!(redis.command("SET k v"), "+OK\r\n");
        redis.stop();
        assert!(TcpStream::connect(("127.0.0.1", redis.port())).is_err());
        redis.start_again();
        assert_eq!(redis.command("GET k"), "$-1\r\n", "nothing was kept");
    }
}
