"""Treatment sessions: scheduling, lifecycle, the calendar feed and the monitoring timeline."""
