"""The client IP a limit counts against: X-Forwarded-For only from trusted proxies, IPv6 per /64."""

from __future__ import annotations

import pytest

from engine.abuse.clientip import client_ip, trusted_networks


def scope(peer: str | None, *forwarded: str) -> dict:
    return {
        "type": "http",
        "client": (peer, 50000) if peer else None,
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_ip(scope("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_an_untrusted_peer_cannot_claim_another_address() -> None:
    assert client_ip(scope("203.0.113.9", "198.51.100.1"), "10.0.0.0/8") == "203.0.113.9"


def test_the_first_untrusted_hop_from_the_right_is_the_client() -> None:
    # The client forged "1.2.3.4"; our proxy (10.0.0.2) appended what it saw (198.51.100.7).
    assert client_ip(scope("10.0.0.2", "1.2.3.4, 198.51.100.7"), "10.0.0.0/8") == "198.51.100.7"
    # Two proxies of ours in a row (CDN edge 10.1.1.1, then the ingress 10.0.0.2).
    assert client_ip(scope("10.0.0.2", "198.51.100.7, 10.1.1.1"), "10.0.0.0/8") == "198.51.100.7"
    # Several header lines are one list.
    assert client_ip(scope("10.0.0.2", "1.2.3.4", "198.51.100.7"), "10.0.0.0/8") == "198.51.100.7"


def test_garbage_or_an_all_trusted_chain_stops_at_the_proxy() -> None:
    assert client_ip(scope("10.0.0.2", "not-an-ip"), "10.0.0.0/8") == "10.0.0.2"
    assert client_ip(scope("10.0.0.2"), "10.0.0.0/8") == "10.0.0.2"
    assert client_ip(scope("10.0.0.2", "10.9.9.9"), "10.0.0.0/8") == "10.9.9.9"


def test_ipv6_is_counted_per_64_and_ports_are_dropped() -> None:
    assert client_ip(scope("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64"
    assert client_ip(scope("2001:db8:1:2:bbbb::9")) == "2001:db8:1:2::/64"
    assert client_ip(scope("::ffff:192.0.2.5")) == "192.0.2.5"
    assert client_ip(scope("::1", "[2001:db8::7]:4431"), "::1") == "2001:db8::/64"
    assert client_ip(scope("127.0.0.1", "192.0.2.5:1234"), "127.0.0.1") == "192.0.2.5"


def test_no_peer_and_test_clients() -> None:
    assert client_ip(scope(None)) == "unknown"
    assert client_ip(scope("testclient")) == "testclient"


def test_a_typo_in_trusted_proxies_fails_loudly() -> None:
    with pytest.raises(ValueError):
        trusted_networks("10.0.0.0/8, not-a-network")
