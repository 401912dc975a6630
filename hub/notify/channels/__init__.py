"""One folder per channel: its config model, its sender, its tests (``CHANNELS`` registry)."""
