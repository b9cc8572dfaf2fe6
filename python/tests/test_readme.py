"""The "Use it in Python" snippet of the READMEs, run against the sandbox.

The code between the two marker comments below is the snippet, word for
word: `test_the_readmes_show_this_snippet` checks python/README.md and the
top README carry exactly it.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from support import REPO, USER_TOKEN, Sandbox
from test_tools import EXPECTED_TOOLS

BEGIN = "# --- README snippet begins ---"
END = "# --- README snippet ends ---"


@pytest.mark.readme
def test_use_it_in_python(sandbox: Sandbox, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DISCORD_API_BASE", sandbox.api_base)
    monkeypatch.setenv("DISCORD_BEARER_TOKEN", USER_TOKEN)
    # --- README snippet begins ---
    import os
    from discord_connector import Bearer, Connector, Unauthorized

    connector = Connector(api_base=os.environ.get("DISCORD_API_BASE"))  # None: discord.com
    print(len(connector.list_tools()), "tools")
    me = connector.execute_tool("discord_get_my_user", {}, Bearer(os.environ["DISCORD_BEARER_TOKEN"]))
    print(me["username"])
    try:
        connector.execute_tool("discord_get_my_user", {}, Bearer("expired-token"))
    except Unauthorized as error:
        print(error.status, error.message)
    # --- README snippet ends ---
    assert capsys.readouterr().out.splitlines() == [
        f"{len(EXPECTED_TOOLS)} tools",
        "nelly",
        "401 Discord answered 401: 401: Unauthorized (code 0)",
    ]


def snippet() -> str:
    """The lines between the marker comments of `test_use_it_in_python`, dedented."""
    lines = Path(__file__).read_text().splitlines()
    begin = next(n for n, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(n for n, line in enumerate(lines) if line.strip() == END)
    return textwrap.dedent("\n".join(lines[begin + 1 : end])).strip("\n") + "\n"


def python_blocks(markdown: str, heading: str) -> list[str]:
    section = markdown.split(heading, 1)[1]
    section = re.split(r"\n#{1,6} ", section, maxsplit=1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.readme
def test_the_readmes_show_this_snippet() -> None:
    code = snippet()
    assert len(code.strip().splitlines()) <= 11
    package_readme = (REPO / "python" / "README.md").read_text()
    assert "## Use it in Python" in package_readme
    assert code in python_blocks(package_readme, "## Use it in Python")
    top = (REPO / "README.md").read_text()
    assert code in python_blocks(top, "## Use it in Python"), "the top README's snippet differs from tests/test_readme.py"
