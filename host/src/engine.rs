//! The wasmtime engine instances run on, and compiled components cached on
//! disk.
//!
//! Instances come from the pooling allocator (slots reserved up front,
//! memories reset copy-on-write from the component's image), so a fresh
//! instance per call costs microseconds. Compiling a component takes far
//! longer than loading a compiled artifact, so artifacts are kept in a
//! cache directory, named by the component's hash and the engine's
//! compatibility hash, and each is checked against its own digest before
//! wasmtime is asked to trust it.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::Error;
use crate::instance::InstanceLimits;

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

/// Compiles the component in the file at `path` on a fresh
/// [`default_engine`], through the on-disk cache in [`cache_dir`].
pub(crate) fn compile_file(path: &Path) -> Result<Component, Error> {
    let bytes = std::fs::read(path).map_err(|error| {
        Error::setup(format!("reading the component {}: {error}", path.display()))
    })?;
    compile(&bytes)
        .map_err(|error| Error::setup(format!("loading the component {}: {error}", path.display())))
}

/// Compiles the component in `bytes` on a fresh [`default_engine`],
/// through the on-disk cache in [`cache_dir`].
pub(crate) fn compile(bytes: &[u8]) -> Result<Component, Error> {
    let engine = default_engine(&InstanceLimits::default())?;
    compile_cached(&engine, bytes, cache_dir().as_deref())
}

/// `bytes` compiled for `engine`: from the cache in `cache` when a sound
/// artifact for this component and engine is there, else compiled and
/// stored. A cache file that is corrupt, foreign or unreadable is compiled
/// anew and replaced; a cache that cannot be written is only a warning.
pub fn compile_cached(
    engine: &Engine,
    bytes: &[u8],
    cache: Option<&Path>,
) -> Result<Component, Error> {
    let Some(cache) = cache else {
        return Component::new(engine, bytes).map_err(Error::setup);
    };
    let path = cache.join(artifact_name(engine, bytes));
    if let Some(component) = load(engine, &path) {
        return Ok(component);
    }
    let artifact = engine.precompile_component(bytes).map_err(Error::setup)?;
    if let Err(error) = store(cache, &path, &artifact) {
        tracing::warn!(%error, cache = %cache.display(), "could not cache the compiled component");
    }
    // SAFETY: `artifact` was made by this engine a moment ago.
    unsafe { Component::deserialize(engine, &artifact) }.map_err(Error::setup)
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

/// Artifact files start with the SHA-256 of what follows: a torn write or
/// a flipped bit is caught before wasmtime maps the code.
const DIGEST_LEN: usize = 32;

fn load(engine: &Engine, path: &Path) -> Option<Component> {
    let file = std::fs::read(path).ok()?;
    let (digest, artifact) = file.split_at_checked(DIGEST_LEN)?;
    if Sha256::digest(artifact).as_slice() != digest {
        tracing::warn!(path = %path.display(), "a corrupt compiled component in the cache; compiling anew");
        return None;
    }
    // SAFETY: the artifact is the one this host wrote (its digest matches),
    // and wasmtime refuses one made by another version or configuration.
    match unsafe { Component::deserialize(engine, artifact) } {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "an unusable compiled component in the cache; compiling anew");
            None
        }
    }
}

/// Writes the artifact under a temporary name and renames it into place,
/// so a reader never sees half a file.
/// The directory is made private (0700): an artifact is machine code the
/// host will run.
fn store(cache: &Path, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(cache)?;
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(&Sha256::digest(artifact))?;
    file.write_all(artifact)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component: the preamble alone.
    fn empty_component() -> Vec<u8> {
        vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("discord-host-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_cached_artifact_is_reused_and_a_corrupt_one_rebuilt() {
        let engine = engine(Allocation::OnDemand, &InstanceLimits::default()).unwrap();
        let bytes = empty_component();
        let cache = scratch("reuse");
        compile_cached(&engine, &bytes, Some(&cache)).unwrap();
        let path = cache.join(artifact_name(&engine, &bytes));
        let written = std::fs::read(&path).unwrap();
        assert!(load(&engine, &path).is_some(), "the stored artifact loads");

        let mut corrupt = written.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff;
        std::fs::write(&path, &corrupt).unwrap();
        assert!(load(&engine, &path).is_none(), "a flipped bit is caught");
        compile_cached(&engine, &bytes, Some(&cache)).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            written,
            "and the file rebuilt"
        );

        std::fs::write(&path, b"short").unwrap();
        assert!(load(&engine, &path).is_none(), "a torn file is not trusted");
        let _ = std::fs::remove_dir_all(&cache);
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
