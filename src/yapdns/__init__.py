"""YAPDNS: Yet Another Passive DNS System.

The package is split by role: ``core`` (model and normalization shared by agent
and server), ``storage`` (the record store contract and its backends),
``server`` (the Django application), ``agent`` (the collector) and ``cli``.
"""

__version__ = "0.1.0"
