"""Consistent hashing of conversations onto Rasa instances.

Each instance owns many points ("virtual nodes") on a 64-bit ring; a conversation belongs to the
first point clockwise from its own hash. Adding or removing one of N instances therefore moves
only the conversations of the share it gains or loses (~1/N), never conversations between the
instances that stay. The hash is SHA-256, stable across processes and restarts (Python's `hash()`
is salted per process). Stickiness is an optimisation, not a correctness requirement: sharded
Rasa instances share their tracker store and lock store (bot/endpoints-sharded.yml).

`python -m conversations.sharding procfile N` prints the Procfile with its `rasa` line repeated
for N instances (ports RASA_PORT, RASA_PORT+1, ...) on the sharded endpoints, for honcho.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import sys
from collections.abc import Sequence

DEFAULT_VNODES = 160


def stable_hash(key: str) -> int:
    """First 8 bytes of SHA-256 as an unsigned integer: the same in every process and release."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


class HashRing:
    """An immutable ring over distinct node names (here: Rasa base URLs)."""

    def __init__(self, nodes: Sequence[str], *, vnodes: int = DEFAULT_VNODES) -> None:
        if not nodes:
            raise ValueError("a hash ring needs at least one node")
        if len(set(nodes)) != len(nodes):
            raise ValueError(f"duplicate nodes: {list(nodes)}")
        if vnodes < 1:
            raise ValueError("vnodes must be at least 1")
        self.nodes: tuple[str, ...] = tuple(nodes)
        points = sorted((stable_hash(f"{node}#{i}"), node) for node in self.nodes for i in range(vnodes))
        self._hashes = [h for h, _ in points]
        self._owners = [node for _, node in points]

    def __len__(self) -> int:
        return len(self.nodes)

    def node_for(self, key: str) -> str:
        """The instance that owns `key`."""
        return self._owners[self._index(key)]

    def preference(self, key: str) -> list[str]:
        """Every instance, in the order `key` should try them: its owner first, then the next
        distinct instances clockwise (the failover order, equally stable)."""
        if len(self.nodes) == 1:
            return [self.nodes[0]]
        order: list[str] = []
        start = self._index(key)
        for offset in range(len(self._owners)):
            node = self._owners[(start + offset) % len(self._owners)]
            if node not in order:
                order.append(node)
                if len(order) == len(self.nodes):
                    break
        return order

    def _index(self, key: str) -> int:
        return bisect.bisect_right(self._hashes, stable_hash(key)) % len(self._hashes)


def sharded_procfile(procfile: str, instances: int) -> str:
    """The Procfile with its `rasa` process replaced by `rasa1..rasaN` on consecutive ports
    (`$RASA_PORT`, `$((RASA_PORT+1))`, ...) and the sharded endpoints (shared tracker + lock store)."""
    if instances < 1:
        raise ValueError("instances must be at least 1")
    out: list[str] = []
    for line in procfile.splitlines():
        name, _, command = line.partition(":")
        if name.strip() != "rasa":
            out.append(line)
            continue
        if "$RASA_PORT" not in command or "bot/endpoints.yml" not in command:
            raise ValueError("the rasa line must use $RASA_PORT and bot/endpoints.yml")
        command = command.replace("bot/endpoints.yml", "bot/endpoints-sharded.yml")
        for i in range(instances):
            port = "$RASA_PORT" if i == 0 else f"$((RASA_PORT+{i}))"
            out.append(f"rasa{i + 1}:" + re.sub(r"\$RASA_PORT\b", port, command))
    return "\n".join(out) + "\n"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2 or argv[0] != "procfile" or not argv[1].isdigit():
        print("usage: python -m conversations.sharding procfile N < Procfile", file=sys.stderr)
        return 2
    sys.stdout.write(sharded_procfile(sys.stdin.read(), int(argv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
