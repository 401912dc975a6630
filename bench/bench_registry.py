"""How long a street's gateways re-registering holds up the hub's event loop.

Not a test. After a power cut all gateways of a street come back at once, each with a new boot,
and each birth changes its registry record. This registers ``--gateways`` births of
``--sensors`` sensors each (DOMAIN.md's planning street: 280 gateways of 12 sensors) into a
registry file in a temporary directory, twice: writing the file on the loop per birth (the
registry alone, as before ``hub.registry_saver``) and with the ``RegistrySaver`` (the hub now).
It prints the longest the loop was held by one birth and by all of them, and the writes made.

    .venv/bin/python bench/bench_registry.py
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from hub.city import CityConfig
from hub.registry import GatewayRegistry
from hub.registry_saver import RegistrySaver
from streetwatch.clock import SystemClock
from streetwatch.kinds import KindName
from streetwatch.location import Area
from streetwatch.messages import GatewayState, SensorInfo


def city() -> CityConfig:
    place = {"id": "d", "zh": "d", "en": "d"}
    street = {"id": "s", "zh": "s", "en": "s", "communities": [{"id": "c", "zh": "c", "en": "c"}]}
    return CityConfig.model_validate({"districts": [place | {"streets": [street]}]})


def births(gateways: int, sensors: int, boot: str) -> list[GatewayState]:
    return [
        GatewayState(
            gateway=f"gw-{g}",
            area=Area(district="d", street="s", community="c"),
            online=True,
            boot=boot,
            t=1,
            software="1.4.2",
            sensors=tuple(
                SensorInfo(
                    id=f"gw-{g}-s{s}",
                    kind=KindName.SMOKE,
                    report_interval_s=60,
                    offline_after_s=300,
                )
                for s in range(sensors)
            ),
            health_interval_s=60,
        )
        for g in range(gateways)
    ]


def register_all(registry: GatewayRegistry, states: list[GatewayState]) -> tuple[float, float]:
    """(longest single birth, all births) in seconds on the calling thread."""
    longest, start = 0.0, time.perf_counter()
    for state in states:
        t0 = time.perf_counter()
        registry.register("d", "s", state.gateway, state, 1)
        longest = max(longest, time.perf_counter() - t0)
    return longest, time.perf_counter() - start


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gateways", type=int, default=280)
    ap.add_argument("--sensors", type=int, default=12)
    args = ap.parse_args()
    first, again = (births(args.gateways, args.sensors, boot) for boot in ("b0000001", "b0000002"))
    with tempfile.TemporaryDirectory() as tmp:
        on_loop = GatewayRegistry(city(), Path(tmp) / "a.json").open()
        register_all(on_loop, first)
        one, all_ = register_all(on_loop, again)
        print(
            f"write per birth, on the loop: longest birth {one * 1e3:7.1f} ms, all births "
            f"{all_ * 1e3:8.1f} ms, {on_loop.saves - args.gateways} writes"
        )
        saved = GatewayRegistry(city(), Path(tmp) / "b.json").open()
        register_all(saved, first)
        async with RegistrySaver(saved, clock=SystemClock()) as saver:
            await saver.save()
            before = saved.saves
            one, all_ = register_all(saved, again)
            t0 = time.perf_counter()
            await saver.save()
            write = time.perf_counter() - t0
        print(
            f"RegistrySaver:               longest birth {one * 1e3:7.1f} ms, all births "
            f"{all_ * 1e3:8.1f} ms, {saved.saves - before} write(s) in a thread, "
            f"{write * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
