"""The application layer: what the command line and the dashboard ask tokenbuddy to do.

Services bring the ledger up to date (ingest), build the live snapshot and the status
file, run the monitor, tips, vendor polls and team sync, and manage tokenbuddy's own
processes. ``cli`` and ``tui`` call these; services call ``store``, ``sources``,
``team`` and ``core``, never the other way round.
"""
