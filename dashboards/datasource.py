"""The one Grafana datasource every panel, variable and annotation reads.

``dashboards/provisioning/datasources/streetwatch.yaml`` creates it with this uid; a Grafana set
up by hand must give its InfluxDB (InfluxQL) datasource the same uid.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "streetwatch-influxdb"
DATASOURCE_TYPE = "influxdb"


def datasource_ref() -> DataSourceRef:
    """A fresh reference to the StreetWatch InfluxDB datasource."""
    return DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)
