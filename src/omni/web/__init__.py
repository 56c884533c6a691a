"""The server-rendered dashboard: login, navigation, and a page per section."""
