"""What the service tells people and systems when nobody is looking: an outbox of events written
in the same transaction as their cause, an in-app inbox, and deliveries by email and webhook
carried out by the background worker."""
