"""The provisioning files Grafana reads at start-up: the datasource the dashboards name, and
the folder of JSON files they are loaded from (docker-compose mounts both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import dashboards
from dashboards.datasource import DATASOURCE_TYPE, DATASOURCE_UID
from dashboards.push import DEFAULT_FOLDER, folder_uid

PROVISIONING = Path(dashboards.__file__).parent / "provisioning"


def load(name: str) -> Any:
    return yaml.safe_load((PROVISIONING / name).read_text(encoding="utf-8"))


def test_the_datasource_is_influxql_with_its_uid_and_environment() -> None:
    doc = load("datasources/streetwatch.yaml")
    assert doc["apiVersion"] == 1
    (source,) = doc["datasources"]
    assert source["uid"] == DATASOURCE_UID
    assert source["type"] == DATASOURCE_TYPE
    assert source["url"] == "$STREETWATCH_INFLUX_URL"
    assert source["database"] == "$STREETWATCH_INFLUX_DATABASE"
    assert source["jsonData"]["dbName"] == "$STREETWATCH_INFLUX_DATABASE"
    assert source["jsonData"]["version"] == "InfluxQL"
    assert source["jsonData"]["httpHeaderName1"] == "Authorization"
    assert source["secureJsonData"]["httpHeaderValue1"] == "Token $STREETWATCH_INFLUX_TOKEN"


def test_dashboards_are_read_from_the_mounted_folder() -> None:
    doc = load("dashboards/streetwatch.yaml")
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/streetwatch"
    assert provider["folder"] == DEFAULT_FOLDER
    assert provider["folderUid"] == folder_uid(DEFAULT_FOLDER)  # push finds the same folder
