"""Journeys: triggered multi-step campaigns and their durable runtime."""
