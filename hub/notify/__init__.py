"""Pushes that must be answered (叫应): rosters, escalation, channels, signed links."""
