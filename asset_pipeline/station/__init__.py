"""Who this station is: its config file, data directory, signing key and shared state."""
