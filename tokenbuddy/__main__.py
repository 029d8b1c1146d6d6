"""Allow ``python -m tokenbuddy``."""

from tokenbuddy.cli.main import run

run()
