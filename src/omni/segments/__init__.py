"""Segments: definitions, compilation through Ibis, membership and audience exports."""
