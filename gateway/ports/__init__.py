"""Ports: what the core needs from the outside world, as `typing.Protocol`s.

Adapters implement them structurally (no inheritance); the composition root picks which.
Every method may raise only errors from `gateway.errors`.
"""
