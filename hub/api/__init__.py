"""The responder's HTTP API."""
