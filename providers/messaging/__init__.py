"""SMS and e-mail delivery."""
