"""hvgrae."""
