#!/usr/bin/env bash
# Prepare a machine for StreetWatch development and CI (Debian):
#   1. the servers the integration tests start themselves, if missing:
#      mosquitto, influxdb (1.x) and victoria-metrics, from Debian's packages;
#   2. .venv with the project installed editable, with its dev extras.
# Safe to run again: it installs only what is missing. It never starts or stops a system
# service (the tests run their own servers on free ports; see tests/support/services.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Server binaries live in /usr/sbin (mosquitto) or /usr/bin, which a non-root PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# Debian package -> the commands it must provide.
declare -A COMMANDS=(
  [mosquitto]="mosquitto mosquitto_passwd"
  [influxdb]="influxd"
  [victoria-metrics]="victoria-metrics"
)

missing=()
for package in mosquitto influxdb victoria-metrics; do
  for cmd in ${COMMANDS[$package]}; do
    if ! command -v "$cmd" >/dev/null; then
      missing+=("$package")
      break
    fi
  done
done

if ((${#missing[@]})); then
  if [[ $EUID -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "setup.sh: install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "setup.sh: missing packages ${missing[*]}, and there is no apt-get here" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "setup.sh: creating .venv"
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
