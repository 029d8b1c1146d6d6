"""Vendor usage endpoints: billed truth next to the local estimates.

- :mod:`.http`: shared async httpx plumbing (timeouts, backoff on 429/5xx, pagination);
- :mod:`.claude_oauth`: Claude subscription utilisation (Claude Code's own token, read-only);
- :mod:`.anthropic_admin`, :mod:`.openai_admin`: organisation usage and billed costs;
- :mod:`.cursor`: Cursor's dashboard and Teams Admin API usage events;
- :mod:`.poll`: credentials, polling and storing into the ledger.

What a pull produced is plain data in :mod:`tokenbuddy.core.vendor_usage`, so the
ledger side reads it without loading httpx; this package imports nothing heavy itself.
"""
