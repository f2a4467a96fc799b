"""The demo page: an approver's Telegram and the 1C side on one web page, over both emulators."""
