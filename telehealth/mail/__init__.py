"""Email: SMTP over the standard library (`sender`), what each event's email says
(`messages`), and the email channel the worker delivers over (`channel`)."""
