"""Outbound channels (web push, webhook, email) behind one small interface."""
