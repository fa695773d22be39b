"""Refuse webhook URLs that would make the server call into a private network.

A URL is checked when a webhook is registered and again just before each delivery, because a
name that resolved to a public address yesterday may resolve to 127.0.0.1 today (DNS
rebinding). :func:`resolve_target` returns the address that was checked, so the caller can
connect to exactly that address instead of resolving the name a second time.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048


class UnsafeUrl(ValueError):
    """The URL is malformed, or its host is (or resolves to) a non-public address."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its host name and the addresses it resolved to (empty when unchecked)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...] = ()


def parse(url: str) -> Target:
    """Syntax only: an absolute http(s) URL with a host."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"must be at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise UnsafeUrl("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl("must be an http:// or https:// URL")
    if not parts.hostname:
        raise UnsafeUrl("must name a host")
    return Target(url, scheme, parts.hostname, port or (443 if scheme == "https" else 80))


def is_public(ip: IPAddress) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified addresses,
    including IPv4 addresses embedded in IPv6 (mapped, 6to4, Teredo)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return is_public(ip.ipv4_mapped)
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public(embedded):
            return False
        if ip.is_site_local:
            return False
    blocked = ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    return ip.is_global and not blocked


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    literal = _literal(host)
    if literal is not None:
        return (literal,)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl(f"host '{host}' could not be resolved") from exc
    found: dict[IPAddress, None] = {}
    for info in infos:
        address = _literal(str(info[4][0]))
        if address is not None:
            found[address] = None
    if not found:
        raise UnsafeUrl(f"host '{host}' could not be resolved")
    return tuple(found)


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Parse ``url`` and, unless private targets are allowed, resolve its host and refuse it
    when ANY of its addresses is not public (an attacker controls which one is used)."""
    target = parse(url)
    if allow_private:
        return target
    addresses = _resolve(target.host, target.port)
    for address in addresses:
        if not is_public(address):
            raise UnsafeUrl(f"host '{target.host}' resolves to {address}, a private or reserved address; webhooks must reach the internet")
    return Target(target.url, target.scheme, target.host, target.port, addresses)
