"""The flow of one device: states and transitions, the pipeline, station mode (watch)."""
