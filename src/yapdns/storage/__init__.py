"""The record store: one contract (``base.Store``), one backend per engine."""
