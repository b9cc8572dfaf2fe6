"""Exceptions: the contract's typed errors, and failures of the host."""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional

REDACTED = "[redacted]"


def scrub(text: str, secrets: Iterable[Optional[str]]) -> str:
    """`text` with every occurrence of each secret replaced by ``[redacted]``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class ConnectorError(Exception):
    """An error the component returned, as the contract defines it.

    ``kind`` is the contract's kebab-case ``error-kind`` (``"unauthorized"``,
    ``"rate-limited"``, ...); ``message`` is one sentence for a person or an
    agent; ``status`` is Discord's HTTP status and ``code`` its JSON error
    code when it sent them; ``details`` is Discord's field errors or other
    details, parsed from JSON (``None`` when absent); ``retry_after_ms`` is
    set with ``rate-limited``. Each kind has its own subclass.
    """

    kind: str = "error"

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[str] = None,
        status: Optional[int] = None,
        code: Optional[int] = None,
        details: Any = None,
        retry_after_ms: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.retry_after_ms = retry_after_ms

    def __str__(self) -> str:
        facts = []
        if self.status is not None:
            facts.append(f"status {self.status}")
        if self.code is not None:
            facts.append(f"code {self.code}")
        if self.retry_after_ms is not None:
            facts.append(f"retry_after_ms {self.retry_after_ms}")
        text = f"{self.kind}: {self.message}"
        return f"{text} ({', '.join(facts)})" if facts else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind!r}, message={self.message!r}, "
            f"status={self.status!r}, code={self.code!r}, retry_after_ms={self.retry_after_ms!r})"
        )

    def __reduce__(self) -> Any:
        return (
            _rebuild,
            (type(self), self.message, self.kind, self.status, self.code, self.details, self.retry_after_ms),
        )

    def to_dict(self) -> dict[str, Any]:
        """The error as plain JSON-ready data (for a model or a log)."""
        return {
            "kind": self.kind,
            "message": self.message,
            "status": self.status,
            "code": self.code,
            "details": self.details,
            "retry_after_ms": self.retry_after_ms,
        }


def _rebuild(
    cls: "type[ConnectorError]", message: str, kind: str, status: Any, code: Any, details: Any, retry: Any
) -> ConnectorError:
    return cls(message, kind=kind, status=status, code=code, details=details, retry_after_ms=retry)


class UnknownTool(ConnectorError):
    """No tool has that name."""

    kind = "unknown-tool"


class InvalidArguments(ConnectorError):
    """The arguments are not a JSON object, break the tool's schema, or a request is malformed."""

    kind = "invalid-arguments"


class MissingCredential(ConnectorError):
    """The tool needs a kind of credential the call did not bring."""

    kind = "missing-credential"


class Unauthorized(ConnectorError):
    """HTTP 401: the token is missing, expired or revoked (or an OAuth grant is invalid)."""

    kind = "unauthorized"


class Forbidden(ConnectorError):
    """HTTP 403: the token lacks a scope or permission."""

    kind = "forbidden"


class NotFound(ConnectorError):
    """HTTP 404: the object does not exist or is not visible."""

    kind = "not-found"


class RateLimited(ConnectorError):
    """HTTP 429 that the component would not wait out; see ``retry_after_ms``."""

    kind = "rate-limited"


class Upstream(ConnectorError):
    """Any other answer from Discord that is not a success."""

    kind = "upstream"


class Transport(ConnectorError):
    """No usable answer: connect, TLS, timeout, oversized or malformed body, or a broken setting."""

    kind = "transport"


ERROR_CLASSES: dict[str, type[ConnectorError]] = {
    cls.kind: cls
    for cls in (
        UnknownTool,
        InvalidArguments,
        MissingCredential,
        Unauthorized,
        Forbidden,
        NotFound,
        RateLimited,
        Upstream,
        Transport,
    )
}


def from_record(record: Any, secrets: Iterable[Optional[str]]) -> ConnectorError:
    """The exception for the contract's ``error`` record (a wasmtime ``Record``)."""
    secrets = list(secrets)
    kind = record.kind
    message = scrub(record.message, secrets)
    raw_details = record.details
    details: Any = None
    if raw_details is not None:
        raw_details = scrub(raw_details, secrets)
        try:
            details = json.loads(raw_details)
        except ValueError:
            details = raw_details
    cls = ERROR_CLASSES.get(kind, ConnectorError)
    return cls(
        message,
        kind=kind,
        status=record.status,
        code=record.code,
        details=details,
        retry_after_ms=getattr(record, "retry-after-ms"),
    )


class HostError(Exception):
    """The host could not run the call: the component is missing or does not
    load, or it trapped or overran the host's deadline.

    This is never one of the contract's error kinds; it is a bug or a setup
    problem, not an answer. Its text never contains a credential.
    """


class ComponentTrap(HostError):
    """The component trapped (or was stopped at the host's deadline) during a call."""
