"""Accounts: users of every role, invitations and passwords."""
