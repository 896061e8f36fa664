"""Allows `python -m syncbot`."""

from syncbot.cli import main

raise SystemExit(main())
