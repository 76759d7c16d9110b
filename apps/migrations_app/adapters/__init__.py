"""Adapters: the kinds of source and destination the engine moves data between, behind one contract (base.py)."""
