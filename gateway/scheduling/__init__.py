"""Scheduling: which work runs when and on which thread."""
