"""All I/O on behalf of workflows: database and providers. Every activity is safe to run twice."""
