"""Values that cross the contract: credentials, outputs, OAuth links and tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

from ._errors import REDACTED


class Credential:
    """What a call authenticates with: :class:`Bearer` or :class:`Bot`
    (``None`` stands for no credential). The token is held in ``token`` and
    never shown by ``repr`` or ``str``."""

    __slots__ = ("_token",)
    kind: str = ""

    def __init__(self, token: str) -> None:
        if not isinstance(token, str):
            raise TypeError(f"{type(self).__name__} takes the token as a str")
        self._token = token

    @property
    def token(self) -> str:
        """The token itself."""
        return self._token

    def __repr__(self) -> str:
        return f"{type(self).__name__}({REDACTED})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credential) and type(other) is type(self) and other._token == self._token

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._token))

    def __reduce__(self) -> Any:
        return (type(self), (self._token,))


class Bearer(Credential):
    """A user's OAuth 2.0 access token: ``Authorization: Bearer <token>``."""

    __slots__ = ()
    kind = "bearer"


class Bot(Credential):
    """A bot token: ``Authorization: Bot <token>``."""

    __slots__ = ()
    kind = "bot"


@dataclass(frozen=True)
class Blob:
    """Binary output of a tool, such as a PNG image."""

    content_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Blob(content_type={self.content_type!r}, data=<{len(self.data)} bytes>)"


@dataclass(frozen=True)
class AuthorizationLink:
    """A link to Discord's authorization page.

    Send the user to ``url``; keep ``state`` to check the redirect and
    ``code_verifier`` (PKCE) for :meth:`Connector.exchange_code`.
    """

    url: str
    state: str
    code_verifier: str = field(repr=False)

    def __repr__(self) -> str:
        return f"AuthorizationLink(url={self.url!r}, state={self.state!r}, code_verifier={REDACTED})"


@dataclass(frozen=True)
class Token:
    """An OAuth 2.0 token from Discord's token endpoint; ``repr`` hides the tokens."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in_seconds: int
    refresh_token: Optional[str] = field(repr=False)
    scopes: List[str]

    def __repr__(self) -> str:
        refresh = REDACTED if self.refresh_token is not None else None
        return (
            f"Token(access_token={REDACTED}, token_type={self.token_type!r}, "
            f"expires_in_seconds={self.expires_in_seconds!r}, refresh_token={refresh}, "
            f"scopes={self.scopes!r})"
        )

    def bearer(self) -> Bearer:
        """The access token as a credential for tool and proxy calls."""
        return Bearer(self.access_token)


@dataclass(frozen=True)
class ProxyResponse:
    """Discord's answer to a proxied request, whatever its status."""

    status: int
    headers: List[Tuple[str, str]]
    body: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"ProxyResponse(status={self.status}, headers=<{len(self.headers)}>, body=<{len(self.body)} bytes>)"

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (case-insensitive), if present."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` when it is not JSON)."""
        return json.loads(self.body)
