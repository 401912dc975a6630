"""Running a scenario: brokers, network, responders, the timeline."""
