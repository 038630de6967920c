"""What the processes pass each other: inputs, results, signals, updates, queries and workflow ids."""
