"""Mood check-ins from patients' phones, with server-scored questionnaires."""
