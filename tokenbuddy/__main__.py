"""Allow ``python -m tokenbuddy``."""

from tokenbuddy.cli.main import main

raise SystemExit(main())
