"""Fetch one URL politely and safely into a RawDocument.

Safety: http(s) only; TLS verification always on; proxies from the environment are ignored (a proxy
would bypass the address check); before every hop the host is resolved and *every* address must be
public (loopback, private, link-local, reserved, multicast and unspecified ranges are refused unless
`FetchPolicy.allow_private_addresses` or an `allowed_private_networks` entry allows them); after
connecting, the peer address is checked again (DNS rebinding). Redirects are followed by hand, up to
`max_redirects`, each hop re-checked; a loop is refused. Connect/read timeouts plus an overall deadline;
the body size is enforced while streaming; only text-like content types are accepted.

Politeness: a module-level, thread-safe limiter keyed by host keeps `min_delay_per_host` seconds between
request starts and at most `max_concurrency_per_host` requests in flight per host.

Errors: `FetchError.retryable` is True for 5xx, 408/425/429, timeouts and connection failures; False for
404/410 and other 4xx, refused targets, bad content, oversize bodies and redirect problems.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator
from wirecopy.connectors.encoding import UndecodableError, binary_reason, decode_bytes, sniff_declared_charset
from wirecopy.connectors.files import FileKind, sniff_kind

from wirecopy.models import ContentType, IngestError, RawDocument, content_hash

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRYABLE_4XX = frozenset({408, 425, 429})


class FetchPolicy(BaseModel):
    """How to fetch: limits, politeness and address rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0, description="max wait for any single read")
    total_timeout: float = Field(default=60.0, gt=0, description="deadline for the whole fetch")
    max_bytes: int = Field(default=5 * 1024 * 1024, gt=0, description="decoded body size limit")
    max_redirects: int = Field(default=5, ge=0)
    allowed_content_types: tuple[str, ...] = (
        "text/html",
        "application/xhtml+xml",
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "text/plain",
    )
    min_delay_per_host: float = Field(default=1.0, ge=0, description="seconds between request starts")
    max_concurrency_per_host: int = Field(default=2, ge=1)
    allow_private_addresses: bool = False
    allowed_private_networks: tuple[str, ...] = Field(
        default=(), description='exceptions to the address rule, e.g. ("127.0.0.1/32",) in tests'
    )
    user_agent: str = "wirecopy/0.1 (news ingestion)"

    @field_validator("allowed_private_networks")
    @classmethod
    def _valid_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value


class FetchError(Exception):
    """A URL could not be fetched. `retryable` says whether trying again later may succeed."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        kind = "retryable" if retryable else "permanent"
        super().__init__(f"{url}: {reason} ({kind})")

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle by fields (orchestrators ship exceptions between processes)."""
        return (_rebuild_fetch_error, (self.url, self.reason, self.retryable, self.status, self.retry_after))


def _rebuild_fetch_error(
    url: str, reason: str, retryable: bool, status: int | None, retry_after: float | None
) -> FetchError:
    return FetchError(url, reason, retryable=retryable, status=status, retry_after=retry_after)


class HostLimiter:
    """Per-host minimum delay between request starts and maximum concurrent requests."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._condition = threading.Condition()
        self._active: dict[str, int] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, host: str, *, min_delay: float, max_concurrency: int) -> Iterator[None]:
        """Hold one of `max_concurrency` slots for `host`, starting no sooner than `min_delay` after
        the previous start."""
        with self._condition:
            while self._active.get(host, 0) >= max_concurrency:
                self._condition.wait()
            self._active[host] = self._active.get(host, 0) + 1
            now = self._clock()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + min_delay
        try:
            if start > now:
                self._sleep(start - now)
            yield
        finally:
            with self._condition:
                self._active[host] -= 1
                if not self._active[host]:
                    del self._active[host]
                self._condition.notify_all()


HOST_LIMITER = HostLimiter()


def fetch_url(url: str, *, policy: FetchPolicy | None = None) -> RawDocument:
    """Fetch `url` and return it as a RawDocument; raises FetchError."""
    policy = policy or FetchPolicy()
    deadline = time.monotonic() + policy.total_timeout
    timeout = httpx.Timeout(
        connect=policy.connect_timeout, read=policy.read_timeout, write=policy.read_timeout, pool=policy.connect_timeout
    )
    headers = {
        "User-Agent": policy.user_agent,
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.1",
    }
    visited = [url]
    current = url
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=False, verify=True, trust_env=False) as client:
        while True:
            if time.monotonic() > deadline:
                raise FetchError(url, f"took longer than total_timeout {policy.total_timeout}s", retryable=True)
            host = _check_target(current, url, policy)
            with HOST_LIMITER.slot(
                host, min_delay=policy.min_delay_per_host, max_concurrency=policy.max_concurrency_per_host
            ):
                outcome = _get(client, current, url, policy, deadline)
            if isinstance(outcome, RawDocument):
                return outcome.model_copy(update={"source_uri": url})
            target = urljoin(current, outcome)
            if target in visited:
                raise FetchError(url, f"redirect loop at {current} -> {target}", retryable=False)
            if len(visited) > policy.max_redirects:
                raise FetchError(url, f"more than {policy.max_redirects} redirects", retryable=False)
            visited.append(target)
            current = target


def outlet_for_url(url: str) -> str:
    """Outlet name of a URL: its host, lower-cased, without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _check_target(url: str, original: str, policy: FetchPolicy) -> str:
    """Validate scheme and resolved addresses of `url`; return the limiter key (host)."""
    hop = "" if url == original else f"redirect to {url} refused: "
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(original, f"{hop}invalid URL ({exc})", retryable=False) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(original, f"{hop}scheme {parts.scheme!r} is not allowed (http/https only)", retryable=False)
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchError(original, f"{hop}URL has no host", retryable=False)
    if policy.allow_private_addresses:
        return host
    for address in _resolve(host, port or (443 if parts.scheme.lower() == "https" else 80), original):
        if not _address_allowed(address, policy):
            raise FetchError(original, f"{hop}host {host} resolves to non-public address {address}", retryable=False)
    return host


def _resolve(host: str, port: int, original: str) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        retryable = exc.errno == socket.EAI_AGAIN
        raise FetchError(original, f"cannot resolve host {host} ({exc.strerror})", retryable=retryable) from exc
    except UnicodeError as exc:
        raise FetchError(original, f"invalid host name {host!r}", retryable=False) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _address_allowed(address: IPAddress, policy: FetchPolicy) -> bool:
    if policy.allow_private_addresses:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in ipaddress.ip_network(net, strict=False) for net in policy.allowed_private_networks):
        return True
    special = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )
    return address.is_global and not special


def _get(client: httpx.Client, url: str, original: str, policy: FetchPolicy, deadline: float) -> RawDocument | str:
    """One GET: a RawDocument, or the Location of a redirect."""
    try:
        with client.stream("GET", url) as response:
            _check_peer(response, url, original, policy)
            status = response.status_code
            if status in _REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(original, f"HTTP {status} redirect without Location", retryable=False)
                return location
            _check_status(response, original)
            media_type, charset = _content_type(response)
            if media_type and media_type not in policy.allowed_content_types:
                raise FetchError(original, f"content type {media_type} is not accepted", retryable=False, status=status)
            body = _read_body(response, original, policy, deadline)
    except httpx.TimeoutException as exc:
        raise FetchError(original, f"timed out ({type(exc).__name__})", retryable=True) from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(original, f"unsupported URL ({exc})", retryable=False) from exc
    except httpx.TransportError as exc:
        if _is_certificate_error(exc):
            raise FetchError(original, f"TLS certificate verification failed ({exc})", retryable=False) from exc
        raise FetchError(original, f"connection failed ({type(exc).__name__}: {exc})", retryable=True) from exc
    except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
        raise FetchError(original, f"invalid response or URL ({type(exc).__name__}: {exc})", retryable=False) from exc
    return _to_document(str(response.url), body, media_type, charset, original)


def _check_peer(response: httpx.Response, url: str, original: str, policy: FetchPolicy) -> None:
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return
    address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    if not _address_allowed(address, policy):
        raise FetchError(original, f"connected to non-public address {address} for {url}", retryable=False)


def _check_status(response: httpx.Response, original: str) -> None:
    status = response.status_code
    if 200 <= status < 300 and status != 204:
        return
    reason = f"HTTP {status} {response.reason_phrase}".rstrip()
    if status >= 500 or status in _RETRYABLE_4XX:
        raise FetchError(original, reason, retryable=True, status=status, retry_after=_retry_after(response.headers))
    raise FetchError(original, reason, retryable=False, status=status)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _content_type(response: httpx.Response) -> tuple[str | None, str | None]:
    header = response.headers.get("content-type")
    if not header:
        return None, None
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.strip().lower() or None, charset


def _read_body(response: httpx.Response, original: str, policy: FetchPolicy, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(original, f"Content-Length {declared} exceeds max_bytes {policy.max_bytes}", retryable=False)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > policy.max_bytes:
            raise FetchError(original, f"body exceeds max_bytes {policy.max_bytes}", retryable=False)
        if time.monotonic() > deadline:
            raise FetchError(original, f"took longer than total_timeout {policy.total_timeout}s", retryable=True)
        chunks.append(chunk)
    return b"".join(chunks)


def _to_document(
    final_url: str, body: bytes, media_type: str | None, charset: str | None, original: str
) -> RawDocument:
    if not body.strip():
        raise FetchError(original, "empty body", retryable=False)
    reason = binary_reason(body)
    if reason:
        raise FetchError(original, f"not text: {reason}", retryable=False)
    try:
        text, _encoding = decode_bytes(body, declared=charset or sniff_declared_charset(body))
    except UndecodableError as exc:
        raise FetchError(original, f"cannot decode body: {exc}", retryable=False) from exc
    if media_type is None:
        is_text = sniff_kind(text) is FileKind.TEXT and not text.lstrip().startswith("<")
    else:
        is_text = media_type == "text/plain"
    return RawDocument(
        source_uri=original,
        outlet=outlet_for_url(final_url),
        content=text,
        content_type=ContentType.TEXT if is_text else ContentType.HTML,
        content_hash=content_hash(text),
        fetched_at=datetime.now(UTC),
        url=final_url,
    )


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def fetch_failure(error: FetchError, retries: int) -> IngestError:
    """The IngestError for a fetch that failed for good: the URL, the fault, and whether it was retried."""
    tried = f"gave up after {retries + 1} attempts" if error.retryable and retries else "not retried"
    return IngestError(source_uri=error.url, stage="fetch", reason=f"{error.url}: {error.reason} ({tried})")
