"""Who has gone quiet: gateways, sensors, and whole communities or streets."""
