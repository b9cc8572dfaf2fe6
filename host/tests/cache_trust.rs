//! The compiled-component cache trusts only what this user's host wrote:
//! a replaced artifact, a directory others may write or another user owns,
//! and links planted in the cache never lead to foreign code running or to
//! a file being written through a link.
#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use discord_host::engine::{CacheLocation, compile_cached};
use sha2::{Digest, Sha256};
use wasm_encoder::{
    CanonicalFunctionSection, CodeSection, ComponentAliasSection, ComponentExportKind,
    ComponentExportSection, ComponentTypeSection, ComponentValType, ExportKind, ExportSection,
    Function, FunctionSection, InstanceSection, Module, ModuleSection, PrimitiveValType,
    TypeSection, ValType,
};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

/// What the genuine component answers.
const GENUINE: u32 = 7;
/// What the planted component answers.
const PLANTED: u32 = 666;
/// The uid that plays another user (`nobody`).
const ANOTHER_USER: u32 = 65534;

/// A component exporting `answer: func() -> u32` that returns `value`.
fn component_answering(value: u32) -> Vec<u8> {
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut exports = ExportSection::new();
    exports.export("answer", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.instructions().i32_const(value.cast_signed()).end();
    code.function(&body);
    module.section(&code);

    let mut component = wasm_encoder::Component::new();
    component.section(&ModuleSection(&module));
    let mut instances = InstanceSection::new();
    instances.instantiate(0, Vec::<(&str, wasm_encoder::ModuleArg)>::new());
    component.section(&instances);
    let mut aliases = ComponentAliasSection::new();
    aliases.alias(wasm_encoder::Alias::CoreInstanceExport {
        instance: 0,
        kind: ExportKind::Func,
        name: "answer",
    });
    component.section(&aliases);
    let mut component_types = ComponentTypeSection::new();
    component_types
        .function()
        .params(Vec::<(&str, ComponentValType)>::new())
        .result(Some(ComponentValType::Primitive(PrimitiveValType::U32)));
    component.section(&component_types);
    let mut canonical = CanonicalFunctionSection::new();
    canonical.lift(0, 0, []);
    component.section(&canonical);
    let mut component_exports = ComponentExportSection::new();
    component_exports.export("answer", ComponentExportKind::Func, 0, None);
    component.section(&component_exports);
    component.finish()
}

/// What `component` answers when instantiated and called.
fn answer(engine: &Engine, component: &Component) -> u32 {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, component)
        .expect("the component instantiates");
    let answer = instance
        .get_typed_func::<(), (u32,)>(&mut store, "answer")
        .expect("it exports answer");
    answer.call(&mut store, ()).expect("answer returns").0
}

fn engine() -> Engine {
    Engine::new(&Config::new()).unwrap()
}

/// A cache and its key's directory under a fresh scratch folder.
fn scratch(name: &str) -> CacheLocation {
    let root =
        std::env::temp_dir().join(format!("discord-cache-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    CacheLocation {
        dir: root.join("cache"),
        key_file: root.join("data/cache.key"),
    }
}

fn remove(cache: &CacheLocation) {
    let _ = std::fs::remove_dir_all(cache.dir.parent().unwrap());
}

/// The one artifact file in `dir`.
fn artifact_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "cwasm")
        })
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one artifact in {}: {files:?}",
        dir.display()
    );
    files.into_iter().next().unwrap()
}

/// The planted component's artifact, compiled by a host of this very
/// version in a cache of its own (named after `test`): the 32-byte header
/// stripped.
fn planted_artifact(engine: &Engine, test: &str) -> Vec<u8> {
    let elsewhere = scratch(&format!("{test}-planted-source"));
    compile_cached(engine, &component_answering(PLANTED), Some(&elsewhere)).unwrap();
    let file = std::fs::read(artifact_file(&elsewhere.dir)).unwrap();
    remove(&elsewhere);
    file[32..].to_vec()
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Counts warnings, on the thread it is the default of.
#[derive(Clone, Default)]
struct WarningCounter(Arc<AtomicUsize>);

impl WarningCounter {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl tracing::Subscriber for WarningCounter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn an_artifact_replaced_with_its_digest_recomputed_is_not_loaded() {
    let engine = engine();
    let genuine = component_answering(GENUINE);
    let cache = scratch("replaced");
    compile_cached(&engine, &genuine, Some(&cache)).unwrap();
    let path = artifact_file(&cache.dir);

    let planted = planted_artifact(&engine, "replaced");
    let mut forged = Sha256::digest(&planted).to_vec();
    forged.extend_from_slice(&planted);
    std::fs::write(&path, &forged).unwrap();

    let component = compile_cached(&engine, &genuine, Some(&cache)).unwrap();
    assert_eq!(
        answer(&engine, &component),
        GENUINE,
        "the planted artifact must not run"
    );
    assert_ne!(
        std::fs::read(&path).unwrap(),
        forged,
        "the forged file is replaced"
    );
    let again = compile_cached(&engine, &genuine, Some(&cache)).unwrap();
    assert_eq!(
        answer(&engine, &again),
        GENUINE,
        "and the rebuilt one is used"
    );
    remove(&cache);
}

#[test]
fn a_cache_others_may_write_is_refused_once_and_left_as_it_is() {
    let engine = engine();
    let cache = scratch("loose");
    std::fs::create_dir(&cache.dir).unwrap();
    std::fs::set_permissions(&cache.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let warnings = WarningCounter::default();
    tracing::subscriber::with_default(warnings.clone(), || {
        for _ in 0..3 {
            let component =
                compile_cached(&engine, &component_answering(GENUINE), Some(&cache)).unwrap();
            assert_eq!(answer(&engine, &component), GENUINE, "compiled in memory");
        }
    });
    assert_eq!(warnings.count(), 1, "one warning for three compiles");
    assert_eq!(
        std::fs::metadata(&cache.dir).unwrap().mode() & 0o7777,
        0o777,
        "the directory is left as it is"
    );
    assert_eq!(
        std::fs::read_dir(&cache.dir).unwrap().count(),
        0,
        "nothing is written into it"
    );
    remove(&cache);
}

#[test]
fn a_cache_another_user_owns_is_refused() {
    if !is_root() {
        eprintln!(
            "SKIPPED a_cache_another_user_owns_is_refused: only root can give a directory to uid {ANOTHER_USER}"
        );
        return;
    }
    let engine = engine();
    let genuine = component_answering(GENUINE);
    let cache = scratch("foreign");
    std::fs::create_dir(&cache.dir).unwrap();
    std::fs::set_permissions(&cache.dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let own = scratch("foreign-source");
    compile_cached(&engine, &genuine, Some(&own)).unwrap();
    let own_file = artifact_file(&own.dir);
    let name = own_file.file_name().unwrap();
    // The other user's file: a planted artifact under a digest header, in
    // the genuine component's name.
    let planted = planted_artifact(&engine, "foreign");
    let mut forged = Sha256::digest(&planted).to_vec();
    forged.extend_from_slice(&planted);
    std::fs::write(cache.dir.join(name), &forged).unwrap();
    std::os::unix::fs::chown(cache.dir.join(name), Some(ANOTHER_USER), Some(ANOTHER_USER)).unwrap();
    std::os::unix::fs::chown(&cache.dir, Some(ANOTHER_USER), Some(ANOTHER_USER)).unwrap();

    let warnings = WarningCounter::default();
    let component = tracing::subscriber::with_default(warnings.clone(), || {
        compile_cached(&engine, &genuine, Some(&cache)).unwrap()
    });
    assert_eq!(answer(&engine, &component), GENUINE);
    assert_eq!(warnings.count(), 1, "one warning");
    assert_eq!(
        std::fs::read(cache.dir.join(name)).unwrap(),
        forged,
        "the other user's directory is not written"
    );
    assert_eq!(std::fs::metadata(&cache.dir).unwrap().uid(), ANOTHER_USER);
    remove(&cache);
    remove(&own);
}

/// The genuine component's artifact name, from a compile elsewhere (a
/// scratch folder named after `test`, as tests run side by side).
fn genuine_artifact_name(engine: &Engine, test: &str) -> std::ffi::OsString {
    let first = scratch(&format!("{test}-name-source"));
    compile_cached(engine, &component_answering(GENUINE), Some(&first)).unwrap();
    let name = artifact_file(&first.dir).file_name().unwrap().to_owned();
    remove(&first);
    name
}

/// A fresh private cache directory and a file of this user's beside it.
fn private_cache_with_victim(name: &str) -> (CacheLocation, PathBuf) {
    let cache = scratch(name);
    std::fs::create_dir(&cache.dir).unwrap();
    std::fs::set_permissions(&cache.dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let victim = cache.dir.parent().unwrap().join("victim");
    std::fs::write(&victim, b"the user's own file").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    (cache, victim)
}

#[test]
fn a_link_planted_at_a_temporary_name_is_not_written_through() {
    let engine = engine();
    let name = genuine_artifact_name(&engine, "temporary-link");
    let (cache, victim) = private_cache_with_victim("temporary-link");
    // The temporary name a host before this fix used, `<artifact>.<pid>.tmp`,
    // and any name a guess of the next ones could take.
    let artifact = cache.dir.join(&name);
    for pid in std::process::id()..std::process::id() + 4 {
        std::os::unix::fs::symlink(&victim, artifact.with_extension(format!("{pid}.tmp"))).unwrap();
    }

    let component = compile_cached(&engine, &component_answering(GENUINE), Some(&cache)).unwrap();
    assert_eq!(answer(&engine, &component), GENUINE);
    let victim_now = std::fs::read(&victim).unwrap();
    assert!(
        victim_now == b"the user's own file",
        "the link's target keeps its content (it now holds {} bytes)",
        victim_now.len()
    );
    assert!(
        std::fs::symlink_metadata(&artifact)
            .unwrap()
            .file_type()
            .is_file(),
        "the artifact is a file of its own"
    );
    remove(&cache);
}

#[test]
fn a_link_planted_at_the_artifact_name_is_not_followed() {
    let engine = engine();
    let genuine = component_answering(GENUINE);
    let name = genuine_artifact_name(&engine, "artifact-link");
    let (cache, _) = private_cache_with_victim("artifact-link");
    // At the artifact's name, a link to a planted artifact under a
    // recomputed digest.
    let planted = planted_artifact(&engine, "artifact-link");
    let mut forged = Sha256::digest(&planted).to_vec();
    forged.extend_from_slice(&planted);
    let planted_file = cache.dir.parent().unwrap().join("planted.cwasm");
    std::fs::write(&planted_file, &forged).unwrap();
    let artifact = cache.dir.join(&name);
    std::os::unix::fs::symlink(&planted_file, &artifact).unwrap();

    let component = compile_cached(&engine, &genuine, Some(&cache)).unwrap();
    assert_eq!(
        answer(&engine, &component),
        GENUINE,
        "the linked artifact must not run"
    );
    assert_eq!(
        std::fs::read(&planted_file).unwrap(),
        forged,
        "the link's target keeps its content"
    );
    assert!(
        std::fs::symlink_metadata(&artifact)
            .unwrap()
            .file_type()
            .is_file(),
        "the cache entry is now a file of its own"
    );
    let reused = compile_cached(&engine, &genuine, Some(&cache)).unwrap();
    assert_eq!(answer(&engine, &reused), GENUINE);
    remove(&cache);
}

#[test]
fn the_key_lives_outside_the_cache_and_only_its_user_reads_it() {
    let engine = engine();
    let cache = scratch("key");
    compile_cached(&engine, &component_answering(GENUINE), Some(&cache)).unwrap();
    let key = std::fs::metadata(&cache.key_file).unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(key.mode() & 0o777, 0o600);
    let key_dir = cache.key_file.parent().unwrap();
    assert_eq!(std::fs::metadata(key_dir).unwrap().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&cache.dir).unwrap().mode() & 0o777, 0o700);
    assert!(!cache.key_file.starts_with(&cache.dir));
    remove(&cache);
}
