"""The approval flow in Telegram (design section 6): use cases as plain functions over the ports."""
