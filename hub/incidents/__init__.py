"""Street-level incidents: grouping, correlation rules, life cycle, durable state."""
