"""Staff accounts of the dashboard: users, roles, sessions."""
