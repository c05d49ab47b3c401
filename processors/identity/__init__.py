"""Identity resolution: one customer across every channel, and the screen pop."""
