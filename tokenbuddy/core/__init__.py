"""The pure domain: records, pricing, dedup rules and report aggregation.

Nothing here reads the clock, files, the environment or the network.
"""
