"""The domain: approval tasks and decisions as 1C describes them, and the records kept."""
