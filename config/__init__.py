"""Process configuration: the one settings class every layer is handed (it imports nothing of ours)."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
