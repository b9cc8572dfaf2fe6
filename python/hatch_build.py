"""Build hook: puts the release component into the wheel (and the sdist).

The component is built by Rust (`cargo xtask dist` writes
`dist/discord_connector.wasm` at the repository root); it is never committed
under `python/`. The build takes it from, in order:

1. `$DISCORD_CONNECTOR_WASM`, when set (it must name an existing file);
2. `discord_connector.wasm` next to `PKG-INFO` (building from an sdist,
   which carries the copy made when the sdist was built);
3. `../dist/discord_connector.wasm`, relative to this directory (a checkout).

Anything else fails the build with a message saying to run
`cargo xtask dist`. An editable install takes nothing: the package then
loads `../dist/discord_connector.wasm` from the checkout at run time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WASM_NAME = "discord_connector.wasm"
# A WebAssembly component: the magic number, then version 0x0d and layer 1
# (a core module has layer 0).
COMPONENT_HEADER = b"\x00asm\x0d\x00\x01\x00"


class ComponentBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def _source(self) -> Path:
        root = Path(self.root)
        override = os.environ.get("DISCORD_CONNECTOR_WASM")
        if override:
            path = Path(override).expanduser().resolve()
            if not path.is_file():
                raise RuntimeError(
                    f"DISCORD_CONNECTOR_WASM={override} is not a file; unset it to use "
                    f"../dist/{WASM_NAME}, built by `cargo xtask dist`"
                )
            return path
        bundled = root / WASM_NAME
        if (root / "PKG-INFO").is_file() and bundled.is_file():
            return bundled
        checkout = (root / ".." / "dist" / WASM_NAME).resolve()
        if checkout.is_file():
            return checkout
        raise RuntimeError(
            f"the Discord connector component is missing: {checkout} does not exist. "
            "Run `cargo xtask dist` at the repository root first (it builds the release "
            f"component into dist/{WASM_NAME}), then build this package again."
        )

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "editable":
            return
        if self.target_name not in ("wheel", "sdist"):
            return
        source = self._source()
        with source.open("rb") as file:
            header = file.read(len(COMPONENT_HEADER))
        if header != COMPONENT_HEADER:
            raise RuntimeError(
                f"{source} is not a WebAssembly component (header {header!r}); "
                "rebuild it with `cargo xtask dist`"
            )
        target = f"discord_connector/{WASM_NAME}" if self.target_name == "wheel" else WASM_NAME
        build_data["force_include"][str(source)] = target
