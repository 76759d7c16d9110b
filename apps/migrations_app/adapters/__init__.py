"""Adapters: the kinds of source and destination a migration moves data between, behind one contract (base.py)."""
