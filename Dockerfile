# The StreetWatch image: one image for the hub, the edge gateways and the simulator
# (docker-compose.yml picks the command; docs/deploy.md). Build: docker build -t streetwatch .
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what `pip install .` needs: the packages and the project files (.dockerignore).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY streetwatch ./streetwatch
COPY edge ./edge
COPY hub ./hub
COPY simulators ./simulators
COPY dashboards ./dashboards
COPY demo ./demo
RUN pip install . && rm -rf /src

# Not root. The state directories belong to the user, and a new named volume mounted on them
# takes that ownership: the gateway's outbox (/var/lib/streetwatch), the hub's state.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/streetwatch streetwatch \
    && mkdir -p /var/lib/streetwatch /var/lib/streetwatch-hub /etc/streetwatch \
    && chown streetwatch:streetwatch /var/lib/streetwatch /var/lib/streetwatch-hub
USER streetwatch
WORKDIR /var/lib/streetwatch

ENTRYPOINT ["streetwatch"]
CMD ["--help"]
