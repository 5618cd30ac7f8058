"""Passwords after activation: changing one's own, and resetting a forgotten one by email."""
