"""The end-to-end stacks a few modules here share (tests/conftest.py has the common one)."""

from tests.e2e.topology import topology  # noqa: F401 - docker-compose.yml's topology (test_topology.py)
