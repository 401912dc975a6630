#!/bin/sh
# Write the hub broker's Mosquitto password file from the environment: passwords are never
# committed, only set in .env (docs/deploy.md). Usage: write-passwords.sh PASSWORD_FILE
#
#   STREETWATCH_MQTT_USERS            the broker's users, separated by spaces: hub and every
#                                     gateway id (a gateway logs in as its id: streetwatch.acl)
#   STREETWATCH_MQTT_PASSWORD_<USER>  each user's password; <USER> is the name in capitals with
#                                     "-" written "_": gw-mingsong-01 -> ..._PASSWORD_GW_MINGSONG_01
set -euf  # -f: no file name expansion of the user list

file=${1:?usage: write-passwords.sh PASSWORD_FILE}
users=${STREETWATCH_MQTT_USERS:?"set STREETWATCH_MQTT_USERS to the broker's users (hub and every gateway id)"}

umask 077
new="$file.new"
: >"$new"
for user in $users; do
    case $user in
    *[!a-z0-9_-]* | [-_]*)
        echo "error: STREETWATCH_MQTT_USERS: '$user' is not a gateway id or 'hub' (a-z, 0-9, - and _)" >&2
        rm -f "$new"
        exit 1
        ;;
    esac
    var="STREETWATCH_MQTT_PASSWORD_$(printf '%s' "$user" | tr 'a-z-' 'A-Z_')"
    eval "password=\${$var:-}"
    if [ -z "$password" ]; then
        echo "error: no password for MQTT user '$user': set $var in .env" >&2
        rm -f "$new"
        exit 1
    fi
    case $password in
    change-me*) echo "warning: $var is still the placeholder of .env.example; set a real password" >&2 ;;
    esac
    mosquitto_passwd -b "$new" "$user" "$password"
done
mv "$new" "$file"
echo "password file $file: $(wc -l <"$file" | tr -d ' ') users"
