"""Check-in schedules: what a patient is asked for between sessions and when, what is due now,
reminders in the patient's local time, and missed check-ins that raise an alert."""
