"""The customer profile behind the screen pop: sections fed by events, kept per customer."""
