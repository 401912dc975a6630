#!/bin/sh
# The hub broker in Docker (eclipse-mosquitto:2; docker-compose.yml service "mqtt").
#
# Runs Mosquitto with the settings we ship, deploy/mosquitto/streetwatch-hub.conf, changed only
# where a container differs from a host: it listens on every interface of the container (the
# compose network, and the host port docker-compose.yml publishes), logs to stdout, and keeps
# its files under /mosquitto. The password file is written from the environment at every start
# (write-passwords.sh), so passwords live only in .env. The ACL is streetwatch.acl as shipped.
#
# Usage (docker-compose.yml): entrypoint.sh /usr/sbin/mosquitto -c /mosquitto/config/streetwatch.conf
# MOSQUITTO_DIR (default /mosquitto, the image's directory) is for tests only.
set -eu

here=$(dirname "$0")
base=${MOSQUITTO_DIR:-/mosquitto}
conf=$base/config
data=$base/data
mkdir -p "$conf" "$data"

sh "$here/write-passwords.sh" "$conf/streetwatch.passwd"
cp "$here/streetwatch.acl" "$conf/streetwatch.acl"
sed -e 's|^listener .*|listener 1883|' \
    -e "s|^password_file .*|password_file $conf/streetwatch.passwd|" \
    -e "s|^acl_file .*|acl_file $conf/streetwatch.acl|" \
    -e "s|^persistence_location .*|persistence_location $data/|" \
    -e 's|^log_dest .*|log_dest stdout|' \
    "$here/streetwatch-hub.conf" >"$conf/streetwatch.conf"

chmod 600 "$conf/streetwatch.passwd" "$conf/streetwatch.acl"
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    # Mosquitto drops to the user mosquitto: it must read these and write its data.
    chown mosquitto:mosquitto "$conf/streetwatch.passwd" "$conf/streetwatch.acl"
    chown -R mosquitto:mosquitto "$data"
fi
exec "$@"
