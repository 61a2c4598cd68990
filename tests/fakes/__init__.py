"""Fakes that stand in for third-party services at the network edge (real HTTP on loopback)."""
