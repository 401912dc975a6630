"""Grafana dashboards as code: the monitoring staff's boards over the hub's InfluxDB schema.

``dashboards.boards.BOARDS`` lists the dashboards; ``dashboards.render`` turns them into the JSON
committed under ``dashboards/json``; ``dashboards.push`` uploads them to a Grafana. Queries are
plain InfluxQL (``dashboards.query``) against the schema of ``hub/storage/schema.py``.
"""
