"""Engine, sessions, the declarative base and dialect helpers shared by every domain."""
