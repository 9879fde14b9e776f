"""banner."""
