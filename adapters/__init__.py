"""Adapters: each wraps one outside system behind a core port and imports no other adapter."""
