"""Users, roles and users' query tokens."""
