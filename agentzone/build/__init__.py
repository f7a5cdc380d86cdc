"""Incremental, parallel synth: the landing zone in units, each synthesized and checked once per input.

``inputs`` says what a unit reads and hashes it; ``cache`` keeps verified results by that hash; ``worker``
synthesizes and checks one unit in its own process; ``assembly`` joins units into one cloud assembly;
``engine`` plans, runs and reports.
"""
