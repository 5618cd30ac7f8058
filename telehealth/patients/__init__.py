"""Patients, their profile and their care team."""
