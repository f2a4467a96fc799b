"""Presentation: how a card looks, what its buttons carry, and every text an approver reads."""
