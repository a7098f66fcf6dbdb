"""The demo: a synthetic customer drive taken through the whole station."""
