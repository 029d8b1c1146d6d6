"""tokenbuddy: a live token-spend companion for AI coding agents."""

__version__ = "0.1.0"
