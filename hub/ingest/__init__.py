"""From MQTT to durable storage: admit, de-duplicate, hand over, acknowledge, confirm."""
