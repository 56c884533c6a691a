"""Omni: an open-source omnichannel customer platform for retailers."""

__version__ = "0.1.0"
