"""Monitoring notes: what the clinician observed before, during and after a session."""
