"""`python -m tools.bench` (see tools/bench/cli.py and `--help`)."""

from app.tools.bench.cli import main

raise SystemExit(main())
