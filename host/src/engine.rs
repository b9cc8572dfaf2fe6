//! The wasmtime engine instances run on, and compiled components cached on
//! disk.
//!
//! Instances come from the pooling allocator (slots reserved up front,
//! memories reset copy-on-write from the component's image), so a fresh
//! instance per call costs microseconds. Compiling a component takes far
//! longer than loading a compiled artifact, so artifacts are kept in a
//! cache directory, named by the component's hash and the engine's
//! compatibility hash. An artifact is machine code the host will run: the
//! cache is used only in a directory no other user can write
//! ([`crate::private_dir`]), and an artifact is loaded only when it carries
//! an HMAC under a per-user key kept outside the cache.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::Error;
use crate::instance::InstanceLimits;
#[cfg(unix)]
use trusted::TrustedCache;

/// How the engine allocates instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation {
    /// Slots reserved up front and reused: the fastest instantiation.
    Pooling,
    /// Each instance's memory mapped when it is made.
    OnDemand,
}

/// An engine for the connector: epoch interruption on, instances as
/// `allocation` says, sized for `limits`. Pooling reserves address space
/// for `limits.max_instances` memories; where the system refuses that, use
/// [`Allocation::OnDemand`].
pub fn engine(allocation: Allocation, limits: &InstanceLimits) -> Result<Engine, Error> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    if allocation == Allocation::Pooling {
        let slots = u32::try_from(limits.max_instances).unwrap_or(u32::MAX);
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
            .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
            .total_memories(slots.saturating_mul(MEMORIES_PER_SLOT))
            .max_memories_per_component(MEMORIES_PER_COMPONENT)
            .total_tables(slots.saturating_mul(TABLES_PER_COMPONENT))
            .max_tables_per_component(TABLES_PER_COMPONENT)
            .max_memory_size(limits.memory_bytes);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    Engine::new(&config).map_err(Error::setup)
}

/// Core instances one component may make: the connector has its module and
/// the adapters wit-component adds; the REST/MCP component and the typed world plug
/// the connector in beside their own.
const CORE_INSTANCES_PER_COMPONENT: u32 = 32;
/// Memories per component (one per core module with a memory).
const MEMORIES_PER_COMPONENT: u32 = 4;
/// Memories reserved per instance slot: two (the REST/MCP component and the plugged-in
/// connector), not four, as each reserves a 4 GiB address range.
const MEMORIES_PER_SLOT: u32 = 2;
/// Tables per component.
const TABLES_PER_COMPONENT: u32 = 16;

/// The pooling engine, or an on-demand one when the pool cannot be
/// reserved (a low `ulimit -v`, say).
pub fn default_engine(limits: &InstanceLimits) -> Result<Engine, Error> {
    engine(Allocation::Pooling, limits).or_else(|error| {
        tracing::warn!(%error, "no pooling allocator; instances are allocated on demand");
        engine(Allocation::OnDemand, limits)
    })
}

/// Where compiled components are kept: `DISCORD_HOST_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/discord-host`, else `~/.cache/discord-host`.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    var("DISCORD_HOST_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| var("XDG_CACHE_HOME").map(|dir| PathBuf::from(dir).join("discord-host")))
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache/discord-host")))
}

/// The file of the cache's key: `cache.key` in the user's data directory
/// ([`private_dir::data_dir`](crate::private_dir::data_dir)), outside the
/// cache, so that whoever can write the cache cannot read or replace it.
#[cfg(unix)]
pub fn cache_key_file() -> Option<PathBuf> {
    crate::private_dir::data_dir().map(|dir| dir.join("cache.key"))
}

/// Where compiled components are kept, and the key that vouches for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheLocation {
    /// The directory of compiled components ([`cache_dir`] by default).
    pub dir: PathBuf,
    /// The file of the key the artifacts are signed with, outside `dir`
    /// (`cache_key_file` by default).
    pub key_file: PathBuf,
}

impl CacheLocation {
    /// [`cache_dir`] and `cache_key_file`, when the environment names
    /// both (and the system is Unix: elsewhere nothing is cached).
    pub fn from_env() -> Option<Self> {
        #[cfg(unix)]
        return Some(Self {
            dir: cache_dir()?,
            key_file: cache_key_file()?,
        });
        #[cfg(not(unix))]
        None
    }
}

/// Compiles the component in the file at `path` on a fresh
/// [`default_engine`], through the on-disk cache ([`CacheLocation::from_env`]).
pub(crate) fn compile_file(path: &Path) -> Result<Component, Error> {
    let bytes = std::fs::read(path).map_err(|error| {
        Error::setup(format!("reading the component {}: {error}", path.display()))
    })?;
    compile(&bytes)
        .map_err(|error| Error::setup(format!("loading the component {}: {error}", path.display())))
}

/// Compiles the component in `bytes` on a fresh [`default_engine`],
/// through the on-disk cache ([`CacheLocation::from_env`]).
pub(crate) fn compile(bytes: &[u8]) -> Result<Component, Error> {
    let engine = default_engine(&InstanceLimits::default())?;
    compile_cached(&engine, bytes, CacheLocation::from_env().as_ref())
}

/// `bytes` compiled for `engine`: from the cache at `cache` when an
/// artifact for this component and engine is there and carries a valid
/// tag under the cache's key, else compiled and stored. A cache whose
/// directory or key cannot be trusted is not used at all (one warning per
/// directory and process) and the component is compiled in memory; a file
/// that is corrupt, foreign or unreadable is compiled anew and replaced; a
/// cache that cannot be written is only a warning.
pub fn compile_cached(
    engine: &Engine,
    bytes: &[u8],
    cache: Option<&CacheLocation>,
) -> Result<Component, Error> {
    #[cfg(unix)]
    if let Some(cache) = cache.and_then(TrustedCache::open) {
        return cache.compile(engine, bytes);
    }
    #[cfg(not(unix))]
    let _ = cache;
    Component::new(engine, bytes).map_err(Error::setup)
}

/// The file name for `bytes` compiled by `engine`: the component's SHA-256
/// and the engine's version and settings.
fn artifact_name(engine: &Engine, bytes: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let component: [u8; 32] = Sha256::digest(bytes).into();
    format!(
        "{}-{:016x}.cwasm",
        hex(&component[..16]),
        engine_hash.finish()
    )
}

/// The cache as the host trusts it: a private directory, and a key kept
/// outside it that every artifact must carry a tag of.
#[cfg(unix)]
mod trusted {
    use std::collections::BTreeSet;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use wasmtime::Engine;
    use wasmtime::component::Component;

    use super::{CacheLocation, artifact_name};
    use crate::error::Error;
    use crate::private_dir::PrivateDir;

    type HmacSha256 = Hmac<Sha256>;

    /// Artifact files start with an HMAC-SHA256 of their name and the
    /// artifact under the cache's key.
    const TAG_LEN: usize = 32;
    /// The key's length: as long as the HMAC's output.
    const KEY_LEN: usize = 32;

    /// A cache directory checked private, and the keyed HMAC its files are
    /// checked with.
    pub(super) struct TrustedCache {
        dir: PrivateDir,
        mac: HmacSha256,
    }

    impl TrustedCache {
        /// The cache at `location`, or `None` (with one warning per
        /// directory in this process) when its directory or its key
        /// cannot be trusted or made.
        pub(super) fn open(location: &CacheLocation) -> Option<Self> {
            let opened = PrivateDir::create(&location.dir).and_then(|dir| {
                let key = cache_key(&location.key_file)?;
                let mac = HmacSha256::new_from_slice(&key).map_err(std::io::Error::other)?;
                Ok(Self { dir, mac })
            });
            match opened {
                Ok(cache) => Some(cache),
                Err(error) => {
                    if first_refusal(&location.dir) {
                        tracing::warn!(%error, cache = %location.dir.display(), "compiled components are not cached: compiling in memory");
                    }
                    None
                }
            }
        }

        pub(super) fn compile(&self, engine: &Engine, bytes: &[u8]) -> Result<Component, Error> {
            let name = artifact_name(engine, bytes);
            if let Some(component) = self.load(engine, &name) {
                return Ok(component);
            }
            let artifact = engine.precompile_component(bytes).map_err(Error::setup)?;
            let tag = self.keyed(&name, &artifact).finalize().into_bytes();
            if let Err(error) = self.dir.replace_file(&name, &[&tag, &artifact]) {
                tracing::warn!(%error, cache = %self.dir.path().display(), "could not cache the compiled component");
            }
            // SAFETY: `artifact` was made by this engine a moment ago.
            unsafe { Component::deserialize(engine, &artifact) }.map_err(Error::setup)
        }

        pub(super) fn load(&self, engine: &Engine, name: &str) -> Option<Component> {
            let path = self.dir.path().join(name);
            let mut contents = Vec::new();
            let read = self
                .dir
                .open_file(name)
                .and_then(|mut file| file.read_to_end(&mut contents));
            match read {
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
                Err(error) => {
                    tracing::warn!(%error, "an untrusted file in the cache; compiling anew");
                    return None;
                }
            }
            let Some((tag, artifact)) = contents.split_at_checked(TAG_LEN) else {
                tracing::warn!(path = %path.display(), "a torn compiled component in the cache; compiling anew");
                return None;
            };
            if self.keyed(name, artifact).verify_slice(tag).is_err() {
                tracing::warn!(path = %path.display(), "a compiled component in the cache without this user's tag (altered, torn or not written by this host); compiling anew");
                return None;
            }
            // SAFETY: the artifact carries a tag under this user's key, kept
            // outside the cache where only this user can read it: this
            // user's host wrote it (see docs/embedding.md). wasmtime refuses
            // one made by another version or configuration.
            match unsafe { Component::deserialize(engine, artifact) } {
                Ok(component) => Some(component),
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "an unusable compiled component in the cache; compiling anew");
                    None
                }
            }
        }

        /// The HMAC of `artifact` stored as `name`: the name is covered
        /// too, so a valid artifact of one component cannot stand in for
        /// another's.
        fn keyed(&self, name: &str, artifact: &[u8]) -> HmacSha256 {
            let mut mac = self.mac.clone();
            mac.update(name.as_bytes());
            mac.update(&[0]);
            mac.update(artifact);
            mac
        }
    }

    /// Whether this is the first refusal of the cache at `dir` in this
    /// process: a refused cache is worth one warning, not one per compile.
    fn first_refusal(dir: &Path) -> bool {
        static REFUSED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
        REFUSED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(dir.to_owned())
    }

    /// The key in `key_file`, in a private directory: made (32 random
    /// bytes, mode 0600) when there is none. A key file that is not this
    /// user's alone (another owner, readable or writable by others, a link)
    /// or of the wrong length is replaced by a new key; what the old one
    /// signed is then compiled anew.
    fn cache_key(key_file: &Path) -> std::io::Result<[u8; KEY_LEN]> {
        let (Some(dir), Some(name)) = (
            key_file.parent(),
            key_file.file_name().and_then(|name| name.to_str()),
        ) else {
            return Err(std::io::Error::other(format!(
                "{} cannot name a key file",
                key_file.display()
            )));
        };
        let dir = PrivateDir::create(dir)?;
        match read_key(&dir, name) {
            Ok(key) => Ok(key),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = new_key()?;
                if dir.create_file(name, &[&key])? {
                    Ok(key)
                } else {
                    read_key(&dir, name)
                }
            }
            Err(error) => {
                tracing::warn!(%error, "the cache's key is replaced by a new one");
                let key = new_key()?;
                dir.replace_file(name, &[&key])?;
                Ok(key)
            }
        }
    }

    fn read_key(dir: &PrivateDir, name: &str) -> std::io::Result<[u8; KEY_LEN]> {
        let file = dir.open_file(name)?;
        let path = dir.path().join(name);
        if file.metadata()?.mode() & 0o044 != 0 {
            return Err(std::io::Error::other(format!(
                "{} is readable by group or others",
                path.display()
            )));
        }
        let mut key = Vec::with_capacity(KEY_LEN);
        file.take(KEY_LEN as u64 + 1).read_to_end(&mut key)?;
        key.try_into().map_err(|_| {
            std::io::Error::other(format!(
                "{} is not a key of {KEY_LEN} bytes",
                path.display()
            ))
        })
    }

    fn new_key() -> std::io::Result<[u8; KEY_LEN]> {
        let mut key = [0; KEY_LEN];
        getrandom::fill(&mut key)?;
        Ok(key)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// The smallest valid component: the preamble alone.
    fn empty_component() -> Vec<u8> {
        vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]
    }

    /// A cache and its key's directory, fresh, under the temporary directory.
    fn scratch(name: &str) -> CacheLocation {
        let root =
            std::env::temp_dir().join(format!("discord-host-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        CacheLocation {
            dir: root.join("cache"),
            key_file: root.join("data/cache.key"),
        }
    }

    #[test]
    fn a_cached_artifact_is_reused_and_a_corrupt_one_rebuilt() {
        let engine = engine(Allocation::OnDemand, &InstanceLimits::default()).unwrap();
        let bytes = empty_component();
        let cache = scratch("reuse");
        compile_cached(&engine, &bytes, Some(&cache)).unwrap();
        let path = cache.dir.join(artifact_name(&engine, &bytes));
        let written = std::fs::read(&path).unwrap();
        let trusted = TrustedCache::open(&cache).unwrap();
        let name = artifact_name(&engine, &bytes);
        assert!(
            trusted.load(&engine, &name).is_some(),
            "the stored artifact loads"
        );

        let mut corrupt = written.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff;
        std::fs::write(&path, &corrupt).unwrap();
        assert!(
            trusted.load(&engine, &name).is_none(),
            "a flipped bit is caught"
        );
        compile_cached(&engine, &bytes, Some(&cache)).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            written,
            "and the file rebuilt"
        );

        std::fs::write(&path, b"short").unwrap();
        assert!(
            trusted.load(&engine, &name).is_none(),
            "a torn file is not trusted"
        );
        let _ = std::fs::remove_dir_all(cache.dir.parent().unwrap());
    }

    #[test]
    fn another_engine_configuration_uses_another_file() {
        let bytes = empty_component();
        let on_demand = engine(Allocation::OnDemand, &InstanceLimits::default()).unwrap();
        let mut config = Config::new();
        config.epoch_interruption(false);
        let other = Engine::new(&config).unwrap();
        assert_ne!(
            artifact_name(&on_demand, &bytes),
            artifact_name(&other, &bytes)
        );
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0x00, 0x00]);
        assert_ne!(
            artifact_name(&on_demand, &bytes),
            artifact_name(&on_demand, &longer)
        );
    }
}
