#!/bin/bash
# Runs once, when the influxdb:2.7 container sets up a new database (DOCKER_INFLUXDB_INIT_MODE
# setup; docker-compose.yml mounts this directory as /docker-entrypoint-initdb.d). The image runs
# it with the influx CLI logged in as the admin and DOCKER_INFLUXDB_INIT_BUCKET_ID exported.
#
# StreetWatch reads InfluxDB with InfluxQL (the hub's `streetwatch hub query`, storage.md §2;
# Grafana's datasource). InfluxQL names a database and a retention policy, not a bucket: this
# maps database "streetwatch" (the bucket's own name), policy "autogen", to the bucket.
set -euo pipefail

influx v1 dbrp create \
    --org "${DOCKER_INFLUXDB_INIT_ORG}" \
    --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
    --db "${DOCKER_INFLUXDB_INIT_BUCKET}" \
    --rp autogen \
    --default
echo "InfluxQL database ${DOCKER_INFLUXDB_INIT_BUCKET} (policy autogen) maps to bucket ${DOCKER_INFLUXDB_INIT_BUCKET}"
