"""Where the hub keeps time series: SQLite (default), InfluxDB v1 API, InfluxDB v2 write API."""
