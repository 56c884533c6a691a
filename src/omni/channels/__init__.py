"""Channels: email, SMS, WhatsApp, LINE, push and in-app providers; templates; delivery tracking."""
