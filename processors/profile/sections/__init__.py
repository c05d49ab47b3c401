"""Built-in profile sections."""
