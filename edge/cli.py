"""`streetwatch edge`: the community gateway agent and the installer's commands."""

from __future__ import annotations

import click

from edge.config import GatewayConfig
from streetwatch.check_config import check_config_command


def _describe(config: GatewayConfig) -> list[str]:
    g = config.gateway
    lines = [
        f"gateway {g.id} in {g.area.district}/{g.area.street}/{g.area.community}",
        f"uplink mqtt://{config.uplink.host}:{config.uplink.port}"
        + (" (TLS)" if config.uplink.tls else ""),
        f"{len(config.sensors)} sensor(s):",
    ]
    for s in config.sensors:
        lines.append(
            f"  {s.id:<24} {s.kind:<12} {s.source.ecosystem}:{s.source.device}"
            f"  every {s.interval_s:g} s, offline after {s.offline_s:g} s"
        )
    return lines


@click.group(name="edge")
def group() -> None:
    """Community gateway agent: run, check-config, discover, status, test-alarm."""


group.add_command(check_config_command(GatewayConfig, _describe, "gateway config"))
