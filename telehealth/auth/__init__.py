"""Authentication: login, token rotation and revocation, roles, the current user."""
