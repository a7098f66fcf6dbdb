"""The drives a station sees: discovery and identity, hot-plug events, loop devices."""
