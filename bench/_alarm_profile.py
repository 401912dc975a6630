"""Where the hub's and the edge agent's CPU went (``bench_alarm_latency.py --profile``).

With ``--profile`` both run under ``python -m cProfile`` and write their statistics when they
stop (SIGTERM: they shut down cleanly). This prints, per process, the busy CPU seconds (all but
the event loop's wait in ``epoll.poll``) and the functions that took most of it: own time
(``tottime``) over everything, and cumulative time over the project's code. For a coroutine,
cProfile counts each resumption as a call and only the time it ran, never the time it awaited:
so these are CPU costs, to hold against the wall-clock stages the benchmark measures.
"""

from __future__ import annotations

import pstats
from pathlib import Path

OWN_CODE = ("/edge/", "/hub/", "/streetwatch/", "/simulators/")
WAITING = "<method 'poll' of 'select.epoll' objects>"


def _name(key: tuple[str, int, str]) -> str:
    file, line, function = key
    if file == "~":
        return function
    parts = Path(file).parts
    short = "/".join(parts[-2:]) if len(parts) > 1 else file
    return f"{short}:{line}({function})"


def summary(path: Path, top: int = 12) -> list[str]:
    if not path.exists():
        return [f"no profile at {path} (did the process stop cleanly?)"]
    # pstats' table: (file, line, function) -> (primitive calls, calls, tottime, cumtime, callers)
    table = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    rows = [(key, nc, tt, ct) for key, (_, nc, tt, ct, _) in table.items()]
    waiting = sum(tt for key, _, tt, _ in rows if _name(key) == WAITING)
    busy = sum(tt for _, _, tt, _ in rows) - waiting
    lines = [f"busy {busy:.2f} s of CPU, {waiting:.2f} s waiting in epoll"]
    lines.append(f"  {'own s':>7} {'calls':>9}  function (by own time)")
    working = [r for r in rows if _name(r[0]) != WAITING]
    for key, nc, tt, _ in sorted(working, key=lambda r: r[2], reverse=True)[:top]:
        lines.append(f"  {tt:>7.3f} {nc:>9}  {_name(key)}")
    lines.append(f"  {'cum s':>7} {'calls':>9}  the project's code (by cumulative time)")
    # Called more than once: not the start-up (imports, the command line, the main coroutine).
    own = [r for r in rows if r[1] > 1 and any(part in r[0][0] for part in OWN_CODE)]
    for key, nc, _, ct in sorted(own, key=lambda r: r[3], reverse=True)[:top]:
        lines.append(f"  {ct:>7.3f} {nc:>9}  {_name(key)}")
    return lines
