"""Development helpers, mounted only when LENDFLOW_ENV=dev."""
