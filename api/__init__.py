"""The HTTP layer: authenticates, validates, starts and steers workflows, and reads. It never moves money."""
