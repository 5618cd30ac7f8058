"""Calendar subscriptions: a secret, revocable feed URL per clinician for calendar apps."""
