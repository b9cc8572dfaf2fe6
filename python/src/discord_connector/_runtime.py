"""The wasmtime side: one engine and one compiled component per process,
a fresh store and instance per call, a deadline on every call."""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple, Union

import wasmtime
from wasmtime import component as cm

from ._errors import ComponentTrap, HostError, scrub

WASM_NAME = "discord_connector.wasm"
PACKAGE = "agent-tools:connector"
CONTRACT_VERSION = "0.1.0"
INTERFACES = ("tools", "oauth", "proxy")
FUNCTIONS = {
    "tools": ("list-tools", "execute-tool"),
    "oauth": ("authorization-link", "exchange-code", "refresh-token", "revoke-token"),
    "proxy": ("send",),
}

# How often the engine's epoch ticks, which is the granularity of the
# host's deadline on a guest that computes.
EPOCH_TICK_S = 0.01
# The component's own whole-call deadline when DISCORD_TIMEOUT_MS is unset,
# and the largest it accepts; the host stops a call this much later.
DEFAULT_TIMEOUT_MS = 15_000
MAX_TIMEOUT_MS = 600_000
DEADLINE_MARGIN_MS = 2_000
# Linear memory per instance, as the Rust host allows.
MEMORY_BYTES = 64 << 20
# The body cap stated to the component unless `env` sets DISCORD_MAX_BODY_BYTES
# (the component's own default is 8 MiB). wasmtime-py lifts a `list<u8>`
# (a proxy body, a binary output) one value at a time through the C API, and
# wasmtime stops a copy of more than about 2.6 MiB of bytes that way (its
# hostcall fuel, which the C API cannot raise): with this cap a larger
# answer is a typed `transport` error (class `too-large`), not a trap.
DEFAULT_BODY_CAP = 2 << 20


def default_component_path() -> Path:
    """Where the component is: in the installed package, or (an editable
    install or a checkout) at ``<repo>/dist/discord_connector.wasm``."""
    here = Path(__file__).resolve().parent
    packaged = here / WASM_NAME
    if packaged.is_file():
        return packaged
    checkout = here.parent.parent.parent / "dist" / WASM_NAME
    if checkout.is_file() and (here.parent.parent / "pyproject.toml").is_file():
        return checkout
    raise HostError(
        f"the Discord connector component is not installed: {packaged} is missing. "
        "Reinstall the package; from a checkout, run `cargo xtask dist` first "
        f"(it builds dist/{WASM_NAME}), then `pip install ./python`."
    )


@dataclass
class Runtime:
    """An engine, the compiled component, a linker with WASI 0.2 and
    wasi:http, and the export indexes of the contract's functions."""

    path: Path
    engine: wasmtime.Engine
    component: cm.Component
    linker: cm.Linker
    exports: Dict[Tuple[str, str], cm.ExportIndex]


_RUNTIMES: Dict[Path, Runtime] = {}
_DEFAULT: Optional[Runtime] = None
_LOCK = threading.Lock()


def _tick(engine: wasmtime.Engine) -> None:
    while True:
        engine.increment_epoch()
        time.sleep(EPOCH_TICK_S)


_ENGINE: Optional[Tuple[wasmtime.Engine, cm.Linker]] = None


def _engine() -> Tuple[wasmtime.Engine, cm.Linker]:
    """The process's engine (epoch interruption on, its epoch ticked by a
    daemon thread) and its linker with WASI 0.2 and wasi:http; call with
    ``_LOCK`` held."""
    global _ENGINE
    if _ENGINE is None:
        config = wasmtime.Config()
        config.epoch_interruption = True
        engine = wasmtime.Engine(config)
        linker = cm.Linker(engine)
        try:
            linker.add_wasip2()
            linker.add_wasi_http()
        except wasmtime.WasmtimeError as error:
            raise HostError(f"wasmtime could not link WASI 0.2 and wasi:http: {error}") from None
        threading.Thread(target=_tick, args=(engine,), name="discord-connector-epoch", daemon=True).start()
        _ENGINE = (engine, linker)
    return _ENGINE


def _load(path: Path) -> Runtime:
    engine, linker = _engine()
    try:
        component = cm.Component.from_file(engine, path)
    except (OSError, wasmtime.WasmtimeError) as error:
        raise HostError(f"the component {path} does not load: {error}") from None
    exports: Dict[Tuple[str, str], cm.ExportIndex] = {}
    for interface in INTERFACES:
        name = f"{PACKAGE}/{interface}@{CONTRACT_VERSION}"
        index = component.get_export_index(name)
        if index is None:
            raise HostError(f"the component {path} does not export {name}")
        for function in FUNCTIONS[interface]:
            func = component.get_export_index(function, index)
            if func is None:
                raise HostError(f"the component {path} does not export {name}#{function}")
            exports[(interface, function)] = func
    return Runtime(path, engine, component, linker, exports)


def runtime(path: Optional[Path] = None) -> Runtime:
    """The process's runtime for the component at ``path`` (the packaged
    one by default), compiled on first use; thread-safe."""
    global _DEFAULT
    if path is None and _DEFAULT is not None:
        return _DEFAULT
    resolved = (path or default_component_path()).resolve()
    with _LOCK:
        found = _RUNTIMES.get(resolved)
        if found is None:
            found = _load(resolved)
            _RUNTIMES[resolved] = found
        if path is None:
            _DEFAULT = found
        return found


def call_deadline_ms(env: Sequence[Tuple[str, str]]) -> int:
    """The host's deadline for one call: the component's own
    ``DISCORD_TIMEOUT_MS`` (its default when unset or unreadable, capped at
    its maximum) plus a margin, so the component's own timeout comes first."""
    timeout = DEFAULT_TIMEOUT_MS
    for name, value in reversed(env):
        if name == "DISCORD_TIMEOUT_MS":
            try:
                timeout = int(value.strip())
            except ValueError:
                pass
            break
    return min(max(timeout, 0), MAX_TIMEOUT_MS) + DEADLINE_MARGIN_MS


def _ticks(deadline_ms: int) -> int:
    return math.ceil(deadline_ms / 1000 / EPOCH_TICK_S)


def _failure(
    error: Exception, what: str, started: float, deadline_ms: int, secrets: Iterable[Optional[str]]
) -> HostError:
    text = scrub(str(error), secrets)
    elapsed_ms = (time.monotonic() - started) * 1000
    if "fuel allocated for hostcalls" in text:
        return ComponentTrap(
            f"{what} returned more data than wasmtime-py can copy out of the component "
            "(about 2.6 MiB of bytes); keep DISCORD_MAX_BODY_BYTES at or below "
            f"{DEFAULT_BODY_CAP} ({text})"
        )
    if "interrupt" in text and elapsed_ms >= deadline_ms * 0.9:
        return ComponentTrap(f"{what} ran past the host's deadline of {deadline_ms} ms and was stopped ({text})")
    return ComponentTrap(f"the component trapped in {what}: {text}")


def call(
    rt: Runtime,
    env: Sequence[Tuple[str, str]],
    interface: str,
    function: str,
    args: Iterable[Any],
    secrets: Iterable[Optional[str]] = (),
) -> Any:
    """Runs one export call in a fresh store and instance and returns what
    wasmtime-py lifted; a trap or host failure raises :class:`HostError`
    with every secret scrubbed from its text.

    Instantiation and the call each get the host's deadline (see
    :func:`call_deadline_ms`): a guest that computes past it is stopped at
    the next epoch tick. A guest waiting in a host call (an HTTP request)
    is not interrupted; the component's own ``DISCORD_TIMEOUT_MS`` ends it.
    """
    args = list(args)
    secrets = list(secrets)
    deadline_ms = call_deadline_ms(env)
    store = wasmtime.Store(rt.engine)
    store.set_limits(memory_size=MEMORY_BYTES)
    wasi = wasmtime.WasiConfig()
    wasi.env = [list(pair) for pair in env]
    store.set_wasi(wasi)
    store.set_wasi_http()
    what = f"{interface}.{function}"
    started = time.monotonic()
    store.set_epoch_deadline(_ticks(deadline_ms))
    try:
        instance = rt.linker.instantiate(store, rt.component)
    except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
        raise _failure(error, f"instantiating the component for {what}", started, deadline_ms, secrets) from None
    func = instance.get_func(store, rt.exports[(interface, function)])
    if func is None:
        raise HostError(f"the component instance has no function {what}")
    started = time.monotonic()
    store.set_epoch_deadline(_ticks(deadline_ms))
    try:
        result = func(store, *args)
        func.post_return(store)
    except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
        raise _failure(error, what, started, deadline_ms, secrets) from None
    return result


def env_pairs(
    api_base: Optional[str],
    env: Optional[Dict[str, str]],
    tools: Union[str, Sequence[str], None] = None,
) -> Tuple[Tuple[str, str], ...]:
    """The component's environment: ``env`` as given, with ``api_base`` as
    ``DISCORD_API_BASE`` and ``tools`` as ``DISCORD_TOOLS`` (each wins over
    one in ``env``) and ``DISCORD_MAX_BODY_BYTES`` stated as
    :data:`DEFAULT_BODY_CAP` unless ``env`` sets it."""
    pairs: Dict[str, str] = {}
    for name, value in (env or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("env maps str names to str values")
        pairs[name] = value
    if api_base is not None:
        if not isinstance(api_base, str):
            raise TypeError("api_base is a str")
        pairs["DISCORD_API_BASE"] = api_base
    if tools is not None:
        pairs["DISCORD_TOOLS"] = tools_setting(tools)
    pairs.setdefault("DISCORD_MAX_BODY_BYTES", str(DEFAULT_BODY_CAP))
    return tuple(pairs.items())


def tools_setting(tools: Union[str, Sequence[str]]) -> str:
    """``tools`` as ``DISCORD_TOOLS`` reads it: a string as it is, a sequence
    of names and globs joined with commas."""
    if isinstance(tools, str):
        return tools
    entries = list(tools)
    if not all(isinstance(entry, str) for entry in entries):
        raise TypeError("tools is a str such as 'discord_get_*,discord_list_*' or a sequence of str")
    return ",".join(entries)


def component_path_from(value: Optional[os.PathLike[str] | str]) -> Optional[Path]:
    return None if value is None else Path(value)
