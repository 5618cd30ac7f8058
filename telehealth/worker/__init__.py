"""The background worker: one Huey queue, the tasks that carry out the outbox, and the periodic
checks (escalation, overdue checkpoints, reminders, the sweep). `flask --app wsgi worker` runs
it; any number of workers may run against one database and one queue."""
