"""The notify section: defaults per level, strict responders, checked channels, cross-checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import SettingsConfigDict
from support.city import example_city

from hub.notify.base import CHANNELS, ChannelType
from hub.notify.config import LevelPolicy, NotifyConfig, Responder, Role
from streetwatch.config import ComponentSettings, ConfigError, load_config_text
from streetwatch.levels import Level


def person(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "li-wei",
        "name": "李伟",
        "role": "grid_worker",
        "district": "pudong",
        "street": "huamu",
        "community": "lianyang",
        "contact": ["wecom", "sms"],
    }
    return data | over


class _FakeChannel(BaseModel):
    url: str = Field(pattern=r"^https://")


@pytest.fixture
def no_channel_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty channel registry, whatever the channels package registers for real."""
    import hub.notify.channels  # noqa: F401  # let the real ones register, then hide them

    for name in list(CHANNELS):
        monkeypatch.delitem(CHANNELS, name)


@pytest.fixture
def only_fake_channel(no_channel_types: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The channel registry holds exactly one type, ``fake``."""
    build: Any = lambda name, config: None  # noqa: E731  # never built here
    monkeypatch.setitem(CHANNELS, "fake", ChannelType("fake", _FakeChannel, build))


def test_defaults_page_yellow_orange_red_and_nobody_for_blue() -> None:
    policy = NotifyConfig().policy
    assert set(policy) == {Level.YELLOW, Level.ORANGE, Level.RED}
    assert [policy[level].ack_timeout_s for level in (Level.RED, Level.ORANGE, Level.YELLOW)] == [
        120,
        300,
        900,
    ]
    red = policy[Level.RED]
    assert red.renotify == 1
    assert red.tiers == [[Role.GRID_WORKER, Role.COMMUNITY], [Role.STREET], [Role.DISTRICT]]
    assert policy[Level.YELLOW].tiers == [[Role.GRID_WORKER, Role.COMMUNITY], [Role.STREET]]


def test_a_level_in_the_file_is_merged_over_its_defaults() -> None:
    config = NotifyConfig.model_validate({"policy": {"red": {"ack_timeout_s": 60}}})
    red = config.policy[Level.RED]
    assert (red.ack_timeout_s, red.renotify, len(red.tiers)) == (60, 1, 3)
    assert config.policy[Level.ORANGE].ack_timeout_s == 300


def test_red_schedule_reaches_street_at_round_2_and_district_at_round_3() -> None:
    red = NotifyConfig().policy[Level.RED]
    assert [red.tier_at(r) for r in range(6)] == [0, 0, 1, 2, 2, 2]
    assert [red.first_round_of(t) for t in range(3)] == [0, 2, 3]
    never = LevelPolicy(ack_timeout_s=60, renotify=0, tiers=[[Role.STREET]])
    assert [never.tier_at(r) for r in range(3)] == [0, 0, 0]


@pytest.mark.parametrize("level", ["blue", "none"])
def test_blue_and_none_cannot_be_paged(level: str) -> None:
    with pytest.raises(ValidationError, match="pages nobody"):
        NotifyConfig.model_validate({"policy": {level: {"ack_timeout_s": 60}}})


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"tiers": [["street"], ["street", "district"]]}, "a role appears in two tiers"),
        ({"tiers": [[]]}, "a tier needs at least one role"),
        ({"ack_timeout_s": 30, "fallback_delay_s": 30}, "shorter than ack_timeout_s"),
        ({"ack_timeout_s": 1}, "greater than or equal to 10"),
    ],
)
def test_bad_policies_are_refused(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NotifyConfig.model_validate({"policy": {"orange": policy}})


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"community": None}, "needs the community"),
        ({"role": "street", "street": None, "community": None}, "needs the street"),
        ({"role": "district", "street": None}, "a community needs its street"),
        ({"contact": ["sms", "sms"]}, "appears twice"),
        ({"contact": []}, "at least 1 item"),
        ({"duty_hours": "8-20"}, "must look like '08:00-20:00'"),
        ({"duty_hours": "08:00-08:00"}, "are empty"),
        ({"id": "Li Wei"}, "capitals|contains"),
    ],
)
def test_bad_responders_are_refused(over: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Responder.model_validate(person(**over))


def test_a_district_responder_needs_no_street_and_becomes_a_recipient() -> None:
    chen = Responder.model_validate(
        person(id="chen", role="district", street=None, community=None, phone="+86 138 0000 0000")
    )
    recipient = chen.recipient()
    assert (recipient.id, recipient.role, recipient.phone) == (
        "chen",
        "district",
        "+86 138 0000 0000",
    )


@pytest.mark.usefixtures("only_fake_channel")
def test_channels_are_checked_against_their_registered_type() -> None:
    ok = NotifyConfig.model_validate({"channels": {"hook": {"type": "fake", "url": "https://x"}}})
    entry, config = ok.channel_config("hook")
    assert entry.name == "fake"
    assert isinstance(config, _FakeChannel)
    with pytest.raises(ValidationError, match=r"unknown channel type 'wecon'; known types: fake"):
        NotifyConfig.model_validate({"channels": {"im": {"type": "wecon"}}})
    with pytest.raises(ValidationError, match=r"url: String should match pattern"):
        NotifyConfig.model_validate({"channels": {"hook": {"type": "fake", "url": "http://x"}}})
    with pytest.raises(ValidationError, match=r"needs 'type: <channel type>'"):
        NotifyConfig.model_validate({"channels": {"hook": {"url": "https://x"}}})


@pytest.mark.usefixtures("no_channel_types")
def test_any_channel_type_is_accepted_while_none_is_registered() -> None:
    config = NotifyConfig.model_validate({"channels": {"im": {"type": "later", "x": 1}}})
    assert config.channels["im"] == {"type": "later", "x": 1}


@pytest.mark.usefixtures("no_channel_types")
def test_problems_name_the_path_of_an_unknown_channel_and_a_duplicate_id() -> None:
    config = NotifyConfig.model_validate(
        {"channels": {"wecom": {"type": "later"}}, "responders": [person(), person()]}
    )
    problems = config.problems(prefix=("notify",))
    assert [path for path, _ in problems] == [
        ("notify", "responders", 0, "contact", 1),
        ("notify", "responders", 1, "id"),
        ("notify", "responders", 1, "contact", 1),
    ]
    assert "channel 'sms' is not defined under channels" in problems[0][1]
    assert "responder id 'li-wei' is used twice (first at responders[0])" in problems[1][1]


def test_problems_with_the_city_name_places_it_does_not_have() -> None:
    config = NotifyConfig.model_validate(
        {
            "responders": [
                person(community="nowhere"),
                person(id="x", street="nostreet", community=None, role="street"),
            ]
        }
    )
    paths = [
        (path, message)
        for path, message in config.problems(example_city())
        if "contact" not in path
    ]
    assert paths == [
        (("responders", 0, "community"), "community 'nowhere' is not in pudong/huamu"),
        (("responders", 1, "street"), "street 'nostreet' is not in pudong"),
    ]


def test_gaps_warn_about_a_street_with_nobody_at_a_tier() -> None:
    config = NotifyConfig.model_validate(
        {
            "responders": [
                person(),
                person(id="zhao", role="street", community=None),
                person(id="chen", role="district", street=None, community=None),
            ]
        }
    )
    gaps = config.gaps(example_city())
    yangjing = [(path, message) for path, message in gaps if "pudong/yangjing" in message]
    assert yangjing == [
        (
            ("policy", "yellow", "tiers", 0),
            "street pudong/yangjing has nobody for tier 0 (grid_worker, community) of yellow, "
            "orange, red warnings; its pages skip that tier",
        ),
        (
            ("policy", "yellow", "tiers", 1),
            "street pudong/yangjing has nobody for tier 1 (street) of yellow, orange, red "
            "warnings; its pages skip that tier",
        ),
    ]
    assert not [message for _, message in gaps if "pudong/huamu" in message]


class _Hub(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="STREETWATCH_TEST_NOTIFY_")
    notify: NotifyConfig


@pytest.mark.usefixtures("only_fake_channel")
def test_a_file_error_names_its_line_and_field() -> None:
    text = "notify:\n  channels:\n    im:\n      type: wecon\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(_Hub, text, "hub.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "notify.channels.im")
    assert "unknown channel type 'wecon'" in problem.message


def test_a_map_template_with_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(ValidationError, match="map_url may use only"):
        NotifyConfig(map_url="https://map.example/?q={latitude}")
    assert NotifyConfig(map_url=None).map_url is None
