"""The connector: the contract's exports as Python methods."""

from __future__ import annotations

import json
import os
import urllib.parse
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from wasmtime.component import Record, Variant

from . import _runtime
from ._errors import HostError, from_record
from ._types import AuthorizationLink, Bearer, Blob, Bot, Credential, ProxyResponse, Token

Arguments = Union[Mapping[str, Any], str, None]
Pairs = Union[Mapping[str, str], Iterable[Tuple[str, str]], None]
JSONBody = Union[str, Mapping[str, Any], List[Any], None]


def _record(**fields: Any) -> Record:
    """A wasmtime record; Python names become the contract's kebab-case."""
    record = Record()
    for name, value in fields.items():
        setattr(record, name.replace("_", "-"), value)
    return record


def _field(record: Any, name: str) -> Any:
    return getattr(record, name.replace("_", "-"))


def _pairs(value: Pairs, what: str) -> List[Tuple[str, str]]:
    if value is None:
        return []
    items = value.items() if isinstance(value, Mapping) else value
    pairs = []
    for item in items:
        name, text = item
        if not isinstance(name, str) or not isinstance(text, str):
            raise TypeError(f"{what} takes str names and str values")
        pairs.append((name, text))
    return pairs


def _optional_str(value: Optional[str], what: str) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} is a str or None")
    return value


def _str(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is a str")
    return value


def _credential(credential: Optional[Credential]) -> Tuple[Variant, Optional[str]]:
    if credential is None:
        return Variant("none"), None
    if isinstance(credential, (Bearer, Bot)):
        return Variant(credential.kind, credential.token), credential.token
    raise TypeError("credential is None, Bearer(token) or Bot(token)")


class Connector:
    """The Discord connector component, run in this process with wasmtime.

    The component is compiled once per process (the first time any
    connector needs it) and every call runs in a fresh store and instance,
    so a connector may be shared by any number of threads.

    ``api_base`` becomes ``DISCORD_API_BASE``; ``tools`` becomes
    ``DISCORD_TOOLS`` (names or ``*`` globs, a comma-separated string or a
    sequence of them), which the component enforces: only those tools are
    listed, any other is :class:`UnknownTool`. ``env`` is the component's
    whole environment (``DISCORD_AUTHORIZE_URL``, ``DISCORD_TIMEOUT_MS``,
    ...; nothing is taken from ``os.environ``), to which
    ``DISCORD_MAX_BODY_BYTES=2097152`` is added unless it is set (larger
    byte lists cannot be copied out through wasmtime-py). ``wasm`` names
    another component file than the packaged one.

    A call that the component refuses raises a :class:`ConnectorError`
    subclass; a trap or a host failure raises :class:`HostError`.
    """

    def __init__(
        self,
        api_base: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        *,
        tools: Union[str, Sequence[str], None] = None,
        wasm: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> None:
        self._env = _runtime.env_pairs(api_base, env, tools)
        self._wasm = _runtime.component_path_from(wasm)

    def __repr__(self) -> str:
        base = dict(self._env).get("DISCORD_API_BASE")
        if base is not None and "@" in base:
            parts = urllib.parse.urlsplit(base)
            base = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
        return f"Connector(api_base={base!r}, env=<{len(self._env)} settings>)"

    @property
    def env(self) -> Dict[str, str]:
        """The component's environment (a copy)."""
        return dict(self._env)

    def _call(self, interface: str, function: str, *args: Any, secrets: Sequence[Optional[str]] = ()) -> Any:
        rt = _runtime.runtime(self._wasm)
        return _runtime.call(rt, self._env, interface, function, args, secrets)

    @staticmethod
    def _unwrap(result: Any, secrets: Sequence[Optional[str]]) -> Any:
        """The ok payload of a ``result<T, error>`` lifted by wasmtime-py, or
        the error raised."""
        if isinstance(result, Variant):
            if result.tag == "ok":
                return result.payload
            if result.tag == "err":
                raise from_record(result.payload, secrets)
        raise HostError(f"the component returned an unexpected value: {type(result).__name__}")

    # tools

    def list_tools(self) -> List[Dict[str, Any]]:
        """The tool catalogue: one dict per tool with ``name``,
        ``description``, ``input_schema`` (parsed JSON Schema), ``scopes``
        (OAuth scopes needed with a bearer) and ``accepts`` (``"none"``,
        ``"bearer"``, ``"bot"``)."""
        tools = self._call("tools", "list-tools")
        return [
            {
                "name": _field(tool, "name"),
                "description": _field(tool, "description"),
                "input_schema": json.loads(_field(tool, "input_schema")),
                "scopes": list(_field(tool, "scopes")),
                "accepts": list(_field(tool, "accepts")),
            }
            for tool in tools
        ]

    def execute_tool(
        self,
        name: str,
        arguments: Arguments = None,
        credential: Optional[Credential] = None,
    ) -> Union[Dict[str, Any], List[Any], Any, Blob]:
        """Runs tool ``name``.

        ``arguments`` is a dict (or a JSON object as a str; ``None`` is
        ``{}``); ``credential`` is ``None``, :class:`Bearer` or :class:`Bot`.
        Returns Discord's JSON answer parsed (a dict or a list), or a
        :class:`Blob` for binary content such as the widget PNG.
        """
        _str(name, "name")
        if arguments is None:
            text = "{}"
        elif isinstance(arguments, str):
            text = arguments
        elif isinstance(arguments, Mapping):
            text = json.dumps(dict(arguments))
        else:
            raise TypeError("arguments is a dict, a JSON str or None")
        variant, token = _credential(credential)
        output = self._unwrap(
            self._call("tools", "execute-tool", name, text, variant, secrets=(token,)), (token,)
        )
        # wasmtime-py lifts the `output` variant untagged: `json` is a str,
        # `binary` a record.
        if isinstance(output, str):
            return json.loads(output)
        if isinstance(output, Record):
            return Blob(content_type=_field(output, "content_type"), data=bytes(_field(output, "data")))
        raise HostError(f"the component returned an unexpected output: {type(output).__name__}")

    # oauth

    def authorization_link(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: Sequence[str],
        state: Optional[str] = None,
        prompt: Optional[str] = None,
        extra: Pairs = None,
    ) -> AuthorizationLink:
        """A link to Discord's authorization page, with PKCE (S256).

        ``state`` is made fresh when absent; ``prompt`` is ``"consent"`` or
        ``"none"``; ``extra`` holds further query parameters Discord knows
        (``guild_id``, ``permissions``, ``integration_type``, ...). Uses
        ``DISCORD_AUTHORIZE_URL`` from the environment.
        """
        if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes):
            raise TypeError("scopes is a list of str")
        request = _record(
            client_id=_str(client_id, "client_id"),
            redirect_uri=_str(redirect_uri, "redirect_uri"),
            scopes=list(scopes),
            state=_optional_str(state, "state"),
            prompt=_optional_str(prompt, "prompt"),
            extra=_pairs(extra, "extra"),
        )
        link = self._unwrap(self._call("oauth", "authorization-link", request), ())
        return AuthorizationLink(
            url=_field(link, "url"), state=_field(link, "state"), code_verifier=_field(link, "code_verifier")
        )

    @staticmethod
    def _client(client_id: str, client_secret: Optional[str]) -> Record:
        return _record(
            client_id=_str(client_id, "client_id"), client_secret=_optional_str(client_secret, "client_secret")
        )

    @staticmethod
    def _token(record: Any) -> Token:
        return Token(
            access_token=_field(record, "access_token"),
            token_type=_field(record, "token_type"),
            expires_in_seconds=_field(record, "expires_in_seconds"),
            refresh_token=_field(record, "refresh_token"),
            scopes=list(_field(record, "scopes")),
        )

    def exchange_code(
        self,
        *,
        client_id: str,
        client_secret: Optional[str] = None,
        code: str,
        redirect_uri: str,
        code_verifier: str,
    ) -> Token:
        """Exchanges an authorization ``code`` for a :class:`Token`.

        ``redirect_uri`` must be the link's; ``code_verifier`` is the link's
        PKCE verifier. Without ``client_secret`` the client is public and
        relies on PKCE alone.
        """
        secrets = (client_secret, code, code_verifier)
        token = self._unwrap(
            self._call(
                "oauth",
                "exchange-code",
                self._client(client_id, client_secret),
                _str(code, "code"),
                _str(redirect_uri, "redirect_uri"),
                _str(code_verifier, "code_verifier"),
                secrets=secrets,
            ),
            secrets,
        )
        return self._token(token)

    def refresh_token(
        self,
        *,
        client_id: str,
        client_secret: Optional[str] = None,
        refresh_token: str,
    ) -> Token:
        """A fresh :class:`Token` for ``refresh_token`` (which Discord then retires)."""
        secrets = (client_secret, refresh_token)
        token = self._unwrap(
            self._call(
                "oauth",
                "refresh-token",
                self._client(client_id, client_secret),
                _str(refresh_token, "refresh_token"),
                secrets=secrets,
            ),
            secrets,
        )
        return self._token(token)

    def revoke_token(
        self,
        *,
        client_id: str,
        client_secret: Optional[str] = None,
        token: str,
    ) -> None:
        """Revokes ``token`` (an access or a refresh token) and so its whole grant."""
        secrets = (client_secret, token)
        result = self._call(
            "oauth",
            "revoke-token",
            self._client(client_id, client_secret),
            _str(token, "token"),
            secrets=secrets,
        )
        # wasmtime-py lifts `result<_, error>` untagged: None is ok, a record an error.
        if result is None:
            return None
        if isinstance(result, Record):
            raise from_record(result, secrets)
        self._unwrap(result, secrets)
        return None

    # proxy

    def proxy(
        self,
        method: str,
        path: str,
        query: Pairs = None,
        body: JSONBody = None,
        credential: Optional[Credential] = None,
    ) -> ProxyResponse:
        """Sends a raw request to the Discord API and returns its answer,
        whatever its status.

        ``path`` is under the API base and starts with ``/`` (such as
        ``/users/@me``); ``query`` is a dict or a list of pairs; ``body`` a
        JSON str, or a dict or list sent as JSON. Only a request refused
        before sending, or one that gets no answer, raises.
        """
        if body is None or isinstance(body, str):
            text = body
        elif isinstance(body, (Mapping, list)):
            text = json.dumps(body)
        else:
            raise TypeError("body is a JSON str, a dict, a list or None")
        request = _record(
            method=_str(method, "method"), path=_str(path, "path"), query=_pairs(query, "query"), body=text
        )
        variant, token = _credential(credential)
        response = self._unwrap(self._call("proxy", "send", request, variant, secrets=(token,)), (token,))
        return ProxyResponse(
            status=_field(response, "status"),
            headers=[tuple(pair) for pair in _field(response, "headers")],
            body=bytes(_field(response, "body")),
        )
