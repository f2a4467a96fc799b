"""tg1c core: approval tasks from 1C relayed to approvers in Telegram, decisions written back.

The core holds domain types, ports and use cases; it imports no framework or client library.
"""

__version__ = "0.1.0"
