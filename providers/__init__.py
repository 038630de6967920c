"""Third parties behind small Protocols: each with a real adapter on the official SDK and a local fake."""
