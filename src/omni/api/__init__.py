"""The HTTP API: error shape, request logging, dependencies and one thin router per domain."""
