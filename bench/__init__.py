"""Load benchmark of the service against a minimal reference app: `bench/run`."""
