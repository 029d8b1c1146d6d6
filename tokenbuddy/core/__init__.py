"""The pure domain: records, pricing, metrics and projections, report totals, the
runaway-spend detectors (:mod:`~tokenbuddy.core.alerts`) and the money-saving tips
(:mod:`~tokenbuddy.core.tips`).

Nothing here reads the clock, files, the environment or the network: every function
that needs the time takes ``now``.
"""
