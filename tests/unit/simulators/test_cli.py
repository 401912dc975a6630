"""`streetwatch sim city` writes valid configs; `sim score` scores hub incidents from JSON."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from edge.config import GatewayConfig
from hub.city import CityConfig
from hub.incidents.model import Incident, IncidentState
from simulators.cli import group as sim_cli
from simulators.truth import TruthKind, TruthLog, TruthRecord
from streetwatch.anomalies import Hazard
from streetwatch.config import load_config
from streetwatch.levels import Level


def test_city_writes_a_gateway_config_each_and_the_city(tmp_path: Path) -> None:
    out = tmp_path / "city"
    result = CliRunner().invoke(
        sim_cli, ["city", "--seed", "3", "--streets", "2", "--communities", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    gateways = sorted(p for p in out.glob("*.yaml") if p.name != "city.yaml")
    assert len(gateways) == 4  # 1 district x 2 streets x 2 communities x 1 gateway
    for path in gateways:
        assert load_config(GatewayConfig, path).gateway.id == path.stem
    city = CityConfig.model_validate(yaml.safe_load((out / "city.yaml").read_text()))
    assert city.problems() == []
    again = tmp_path / "again"
    args = ["city", "--seed", "3", "--streets", "2", "--communities", "2", "--out", str(again)]
    CliRunner().invoke(sim_cli, args)
    assert (again / "city.yaml").read_text() == (out / "city.yaml").read_text()


def test_score_from_truth_and_the_hubs_incidents(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    TruthLog(truth).write(
        [
            TruthRecord(
                kind=TruthKind.HAZARD,
                what="street_flood",
                hazard=Hazard.FLOOD,
                district="pudong",
                street="huamu",
                start_ms=1_000_000,
                end_ms=4_600_000,
                level=Level.ORANGE,
            )
        ]
    )
    found = Incident(
        id="I-20261122-0001",
        key="pudong/huamu/flood/*/*",
        hazard=Hazard.FLOOD,
        district="pudong",
        street="huamu",
        level=Level.ORANGE,
        state=IncidentState.ACKNOWLEDGED,
        opened_at=1_090_000,
        updated_at=1_200_000,
        acknowledged_at=1_200_000,
        acknowledged_by="wang",
    )
    incidents = tmp_path / "incidents.json"
    incidents.write_text(json.dumps([found.model_dump(mode="json")]))
    pages = tmp_path / "pages.json"  # as `sim run` records them
    page = {"incident_id": found.id, "t": 1_095_000, "recipient": "wang", "channel": "webhook"}
    pages.write_text(json.dumps({"pages": [page], "acks": []}))
    out = tmp_path / "score.json"
    result = CliRunner().invoke(
        sim_cli,
        ["score", "--truth", str(truth), "--incidents", str(incidents), "--pages", str(pages),
         "--json-out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = json.loads(out.read_text())
    summary = scored["summary"]
    assert (summary["hazards"], summary["detected"], summary["missed"]) == (1, 1, 0)
    assert summary["false_incidents"] == 0
    assert summary["unanswered"] == 0
    (flood,) = scored["hazards"]
    assert (flood["detect_s"], flood["page_s"], flood["ack_s"]) == (90, 95, 200)
