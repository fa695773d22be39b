"""Which addresses a webhook may reach when private targets are not allowed."""

from __future__ import annotations

import ipaddress

import pytest

from clientdock.notify import ssrf


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1", "2001:db8::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    ],
)  # fmt: skip
def test_non_public_addresses(address: str) -> None:
    assert not ssrf.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses(address: str) -> None:
    assert ssrf.is_public(ipaddress.ip_address(address))


def test_literal_hosts_are_checked_without_dns() -> None:
    target = ssrf.resolve_target("https://[2606:4700:4700::1111]:8443/x", allow_private=False)

    assert (target.host, target.port) == ("2606:4700:4700::1111", 8443)
    assert target.addresses == (ipaddress.ip_address("2606:4700:4700::1111"),)
    with pytest.raises(ssrf.UnsafeUrl, match="private"):
        ssrf.resolve_target("http://[fe80::1%25eth0]/x", allow_private=False)


def test_allowing_private_targets_skips_resolution() -> None:
    target = ssrf.resolve_target("http://localhost:9/x", allow_private=True)

    assert (target.host, target.port, target.addresses) == ("localhost", 9, ())


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "gopher://x/", "http:///x", "http://exa mple.com/", "http://x/\n"]
)
def test_malformed_urls(url: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.parse(url)
