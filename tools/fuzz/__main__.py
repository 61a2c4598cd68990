"""`python -m tools.fuzz` (see tools/fuzz/cli.py and `--help`)."""

from tools.fuzz.cli import main

raise SystemExit(main())
