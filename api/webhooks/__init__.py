"""Provider callbacks: authenticated by the provider's signature, stored once, then handed to workflows."""
