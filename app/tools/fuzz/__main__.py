"""`python -m tools.fuzz` (see tools/fuzz/cli.py and `--help`)."""

from app.tools.fuzz.cli import main

raise SystemExit(main())
