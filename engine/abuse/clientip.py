"""Who is calling: the client IP a rate limit counts against.

Behind a reverse proxy every request comes from the proxy, and the client is named in
X-Forwarded-For. That header is written by whoever sends the request, so it is believed only
when the peer is a trusted proxy (TRUSTED_PROXIES), and then only as far as the chain of trusted
proxies goes: reading from the right, the first address not of a trusted proxy is the client
(the leftmost entries are whatever the client chose to send). IPv6 clients are counted per /64,
the block one subscriber gets, so rotating addresses within it does not reset a limit.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"


@lru_cache(maxsize=16)
def trusted_networks(setting: str) -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES ("10.0.0.0/8, 127.0.0.1") parsed; a typo is a ValueError (at start)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def _address(value: str) -> IPAddress | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address: IPAddress | None, networks: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def _key(address: IPAddress | None, raw: str) -> str:
    if address is None:
        return raw or UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_ip(scope: Any, trusted_proxies: str = "") -> str:
    """The client's address (IPv6 as its /64) for an ASGI scope (or a Request/WebSocket)."""
    if not isinstance(scope, dict):
        scope = scope.scope
    client = scope.get("client")
    peer_raw = str(client[0]) if client else ""
    peer = _address(peer_raw)
    networks = trusted_networks(trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return _key(peer, peer_raw)
    forwarded = [
        value.decode("latin-1") for name, value in scope.get("headers", ()) if name.lower() == b"x-forwarded-for"
    ]
    hops = [hop.strip() for hop in ",".join(forwarded).split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage where a proxy should have written an address: stop at the proxy
        if not _trusted(address, networks):
            return _key(address, hop)
        peer, peer_raw = address, hop
    return _key(peer, peer_raw)
