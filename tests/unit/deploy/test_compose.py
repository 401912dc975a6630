"""docker-compose.yml: the services a city starts, what they mount, and every variable they set
is one something reads (no docker needed)."""

from __future__ import annotations

import re
import stat
import subprocess
import tomllib
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_settings import BaseSettings

from edge.config import GatewayConfig
from hub.config import HubConfig

from .stack import (
    DEPLOY,
    DOCS,
    ROOT,
    MissingVariable,
    command,
    compose,
    env_example,
    environment,
    gateway_services,
    interpolate,
    mounts,
    mqtt_password_variable,
    services,
    variables_used,
)

STREETWATCH_IMAGE_SERVICES = ("hub", *gateway_services(), "simulator")

# The variables of the images we use that the stack sets, from their documentation:
# Grafana reads GF_<SECTION>_<KEY> for any grafana.ini key
# (https://grafana.com/docs/grafana/latest/setup-grafana/configure-grafana/#override-configuration-with-environment-variables);
# these are the keys we set, each a key of Grafana 11's defaults.ini.
GRAFANA_VARIABLES = frozenset(
    {
        "GF_SECURITY_ADMIN_USER",  # [security] admin_user
        "GF_SECURITY_ADMIN_PASSWORD",  # [security] admin_password
        "GF_USERS_ALLOW_SIGN_UP",  # [users] allow_sign_up
        "GF_ANALYTICS_REPORTING_ENABLED",  # [analytics] reporting_enabled
        "GF_ANALYTICS_CHECK_FOR_UPDATES",  # [analytics] check_for_updates
    }
)
# influxdb:2.x image, "Automated setup" (https://hub.docker.com/_/influxdb): its entrypoint reads
# these (entrypoint.sh of influxdata/influxdata-docker, influxdb/2.7).
INFLUXDB_INIT_VARIABLES = frozenset(
    {
        "DOCKER_INFLUXDB_INIT_MODE",
        "DOCKER_INFLUXDB_INIT_USERNAME",
        "DOCKER_INFLUXDB_INIT_PASSWORD",
        "DOCKER_INFLUXDB_INIT_ORG",
        "DOCKER_INFLUXDB_INIT_BUCKET",
        "DOCKER_INFLUXDB_INIT_RETENTION",
        "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN",
    }
)
DATASOURCE = ROOT / "dashboards" / "provisioning" / "datasources" / "streetwatch.yaml"
WRITE_PASSWORDS = DEPLOY / "mosquitto" / "write-passwords.sh"


def test_the_stack_has_every_service_a_city_needs() -> None:
    found = services()
    assert found["mqtt"]["image"] == "eclipse-mosquitto:2"
    assert found["field"]["image"] == "eclipse-mosquitto:2"
    assert found["influxdb"]["image"] == "influxdb:2.7"
    assert found["grafana"]["image"] == "grafana/grafana-oss:11.6.0"
    assert set(gateway_services()) == {"gw-mingsong-01", "gw-changjiang-01"}
    for name in STREETWATCH_IMAGE_SERVICES:
        assert found[name]["build"] == ".", name
        assert found[name]["image"] == found["hub"]["image"], name
    for name, service in found.items():
        if name != "simulator":
            assert service.get("restart") == "unless-stopped", f"{name} must come back by itself"


def test_the_commands_are_real_streetwatch_commands() -> None:
    """Each command parses with the `streetwatch` CLI's own options (nothing runs)."""
    from edge.cli import group as edge_cli
    from hub.cli import group as hub_cli
    from simulators.cli import group as sim_cli

    groups = {"edge": edge_cli, "hub": hub_cli, "sim": sim_cli}
    for name in STREETWATCH_IMAGE_SERVICES:
        group, sub, *args = command(name)
        click_command = groups[group].commands[sub]
        click_command.make_context(sub, list(args))
    assert command("hub") == ["hub", "run", "--config", "/etc/streetwatch/hub.yaml"]
    for name in gateway_services():
        assert command(name) == ["edge", "run", "--config", "/etc/streetwatch/gateway.yaml"]
    sim = command("simulator")
    assert sim[:2] == ["sim", "drive"]
    assert {"--loop", "--broker", "--scenario", "--seed"} <= set(sim)
    assert sim[sim.index("--broker") + 1] == "field:1883"


def test_services_start_once_what_they_need_is_healthy() -> None:
    found = services()
    for name in ("mqtt", "field", "influxdb"):
        assert found[name]["healthcheck"]["test"], name
        check = " ".join(found[name]["healthcheck"]["test"])
        for variable in re.findall(r"\$\$(STREETWATCH_\w+)", check):  # the container's own
            assert variable in environment(name), f"{name}'s healthcheck reads {variable}"
    healthy = {"condition": "service_healthy"}
    assert found["hub"]["depends_on"] == {"mqtt": healthy, "influxdb": healthy}
    assert found["grafana"]["depends_on"] == {"influxdb": healthy}
    for name in gateway_services():
        assert found[name]["depends_on"] == {"mqtt": healthy, "field": healthy}
    assert found["simulator"]["depends_on"] == {"field": healthy}


def test_only_the_brokers_and_the_user_interfaces_are_published() -> None:
    found = services()
    assert "ports" not in found["field"], "the field broker is the compose network's only"
    assert found["mqtt"]["ports"] == ["1883:1883"]
    assert found["influxdb"]["ports"] == ["127.0.0.1:8086:8086"]
    assert found["grafana"]["ports"] == ["3000:3000"]
    assert found["hub"]["ports"] == ["8080:8080"]
    for name in (*gateway_services(), "simulator"):
        assert "ports" not in found[name], name


def test_every_mounted_file_or_directory_is_in_the_repository() -> None:
    declared = set(compose().get("volumes") or {})
    for name in services():
        for target, source in mounts(name).items():
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts {source} at {target}: missing"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_the_mounts_are_where_the_configs_say() -> None:
    assert mounts("hub") == {
        "/etc/streetwatch/hub.yaml": "./deploy/hub/hub.yaml",
        "/var/lib/streetwatch-hub": "hub-state",
    }
    outboxes = set()
    for name in gateway_services():
        assert mounts(name) == {
            "/etc/streetwatch/gateway.yaml": f"./deploy/gateways/{name}.yaml",
            "/var/lib/streetwatch": f"{name}-outbox",
        }
        outboxes.add(f"{name}-outbox")
    assert len(outboxes) == len(gateway_services()), "each gateway has its own outbox volume"
    assert mounts("grafana")["/etc/grafana/provisioning"] == "./dashboards/provisioning"
    assert mounts("grafana")["/var/lib/grafana/dashboards/streetwatch"] == "./dashboards/json"
    assert mounts("influxdb")["/docker-entrypoint-initdb.d"] == "./deploy/influxdb/init"
    assert mounts("simulator") == {
        "/etc/streetwatch/scenario.yaml": "./deploy/simulator/scenario.yaml"
    }
    assert services()["mqtt"]["entrypoint"] == [
        "/bin/sh",
        "/streetwatch/mosquitto/entrypoint.sh",
    ]
    assert mounts("mqtt")["/streetwatch/mosquitto"] == "./deploy/mosquitto"


def test_grafana_provisioning_is_in_the_repository() -> None:
    provider = ROOT / "dashboards" / "provisioning" / "dashboards" / "streetwatch.yaml"
    assert provider.is_file()
    assert "/var/lib/grafana/dashboards/streetwatch" in provider.read_text(encoding="utf-8")
    assert DATASOURCE.is_file()
    assert list((ROOT / "dashboards" / "json").glob("*.json")), "no dashboards to provision"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _field_exists(model: type[BaseModel], path: list[str]) -> bool:
    name, *rest = path
    info = model.model_fields.get(name.lower())
    if info is None:
        return False
    if not rest:
        return True
    sub = _model_of(info.annotation)
    return sub is not None and _field_exists(sub, rest)


def _settings_field(settings: type[BaseSettings], variable: str) -> bool:
    prefix = str(settings.model_config.get("env_prefix", ""))
    delimiter = str(settings.model_config.get("env_nested_delimiter"))
    if not variable.startswith(prefix):
        return False
    return _field_exists(settings, variable.removeprefix(prefix).split(delimiter))


def _datasource_variables() -> set[str]:
    return variables_used(DATASOURCE.read_text(encoding="utf-8"))


def _mqtt_users() -> list[str]:
    return environment("mqtt")["STREETWATCH_MQTT_USERS"].split()


def _read_by(service: str, variable: str) -> bool:
    """Whether the program in ``service`` reads ``variable``."""
    if service == "hub":
        return _settings_field(HubConfig, variable)
    if service in gateway_services():
        return _settings_field(GatewayConfig, variable)
    if service == "grafana":
        return variable in GRAFANA_VARIABLES or variable in _datasource_variables()
    if service == "influxdb":
        return variable in INFLUXDB_INIT_VARIABLES
    if service == "mqtt":
        script = WRITE_PASSWORDS.read_text(encoding="utf-8")
        users = {mqtt_password_variable(u) for u in _mqtt_users()}
        return (variable in script and variable.startswith("STREETWATCH_MQTT_")) or (
            variable in users and "STREETWATCH_MQTT_PASSWORD_$(" in script
        )
    return False


def test_every_variable_the_stack_sets_is_read_by_its_service() -> None:
    for name, service in services().items():
        for variable in service.get("environment", {}):
            assert _read_by(name, variable), f"{name}: nothing reads {variable}"


def test_the_settings_walk_refuses_what_is_not_a_field() -> None:
    assert _settings_field(HubConfig, "STREETWATCH_HUB_STORAGE__INFLUXDB_V2__TOKEN")
    assert not _settings_field(HubConfig, "STREETWATCH_HUB_STORAGE__INFLUXDB__TOKEN")
    assert not _settings_field(HubConfig, "STREETWATCH_HUB_MQTT_PASSWORD")
    assert not _settings_field(GatewayConfig, "STREETWATCH_HUB_MQTT__PASSWORD")
    assert _settings_field(GatewayConfig, "STREETWATCH_EDGE_UPLINK__PASSWORD")


def test_the_secrets_reach_the_components_that_need_them() -> None:
    assert set(environment("hub")) >= {
        "STREETWATCH_HUB_MQTT__PASSWORD",
        "STREETWATCH_HUB_STORAGE__INFLUXDB_V2__TOKEN",
        "STREETWATCH_HUB_API__LINK_SECRET",
    }
    for name in gateway_services():
        assert environment(name) == {
            "STREETWATCH_EDGE_UPLINK__PASSWORD": environment("mqtt")[mqtt_password_variable(name)]
        }
    token = environment("influxdb")["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
    assert environment("grafana")["STREETWATCH_INFLUX_TOKEN"] == token
    hub = environment("hub")
    assert hub["STREETWATCH_HUB_STORAGE__INFLUXDB_V2__TOKEN"] == token
    mqtt = environment("mqtt")
    assert hub["STREETWATCH_HUB_MQTT__PASSWORD"] == mqtt[mqtt_password_variable("hub")]


def test_the_broker_has_a_user_for_the_hub_and_each_gateway() -> None:
    assert sorted(_mqtt_users()) == sorted(["hub", *gateway_services()])
    passwords = {v for v in environment("mqtt") if v.startswith("STREETWATCH_MQTT_PASSWORD_")}
    assert passwords == {mqtt_password_variable(u) for u in _mqtt_users()}


def test_every_variable_in_the_compose_file_is_in_env_example_and_the_docs() -> None:
    used = variables_used(compose())
    assert used, "the compose file takes nothing from .env?"
    example = env_example()
    docs = DOCS.read_text(encoding="utf-8")
    for variable in sorted(used):
        assert variable in example, f"{variable} is not in deploy/.env.example"
        assert f"`{variable}`" in docs, f"{variable} is not in docs/deploy.md"
    assert "COMPOSE_PROFILES" in example
    assert "`COMPOSE_PROFILES`" in docs


def test_every_variable_set_in_a_container_is_in_the_docs() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name, service in services().items():
        for variable in service.get("environment", {}):
            short = variable.removeprefix("DOCKER_INFLUXDB_INIT")
            named = f"`{variable}`" in docs or (short != variable and f"`{short}`" in docs)
            per_user = variable.startswith("STREETWATCH_MQTT_PASSWORD_")
            assert named or per_user, f"{name}: {variable} is not in docs/deploy.md"


def test_the_secrets_are_placeholders_and_required() -> None:
    example = env_example()
    for name, service in services().items():
        for variable, value in service.get("environment", {}).items():
            for used in variables_used(str(value)):
                secret = any(w in used for w in ("PASSWORD", "TOKEN", "SECRET"))
                if secret:
                    assert example[used].startswith("change-me"), f"{used}: not a placeholder"
                    with pytest.raises(MissingVariable):
                        interpolate(str(value), {})
                    assert re.search(r"\$\{" + used + r":\?", str(value)), f"{name}.{variable}"


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, service in services().items():
        for variable, value in service.get("environment", {}).items():
            if any(w in variable for w in ("PASSWORD", "TOKEN", "SECRET")):
                assert str(value).startswith("${"), f"{name}: {variable} is written in the file"


def test_the_dbrp_init_script_maps_the_bucket_for_influxql() -> None:
    init = DEPLOY / "influxdb" / "init"
    scripts = list(init.glob("*.sh"))
    assert len(scripts) == 1
    script = scripts[0]
    # The influxdb image runs only executable *.sh files (run-parts).
    assert script.stat().st_mode & stat.S_IXUSR, f"{script} must be executable"
    text = script.read_text(encoding="utf-8")
    assert "influx v1 dbrp create" in text
    for flag in (
        '--bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}"',
        '--db "${DOCKER_INFLUXDB_INIT_BUCKET}"',
        "--rp autogen",
        "--default",
    ):
        assert flag in text
    subprocess.run(["bash", "-n", str(script)], check=True)
    influx = environment("influxdb")
    assert influx["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    grafana = environment("grafana")
    assert grafana["STREETWATCH_INFLUX_DATABASE"] == influx["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert {v for v in grafana if v.startswith("STREETWATCH_INFLUX_")} <= _datasource_variables()


def test_the_broker_scripts_are_posix_shell() -> None:
    for name in ("entrypoint.sh", "write-passwords.sh"):
        path = DEPLOY / "mosquitto" / name
        subprocess.run(["sh", "-n", str(path)], check=True)
        assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")


def test_the_image_installs_streetwatch_and_runs_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^RUN pip install \.", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users, "the image must not run as root"
    assert users[-1] not in ("root", "0"), "the image must not run as root"
    assert 'ENTRYPOINT ["streetwatch"]' in dockerfile
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in (p.rstrip("*") for p in packages):
        assert f"COPY {package} ./{package}" in dockerfile, f"the image lacks {package}"
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ".env" in ignored, "the secrets must stay out of the build context"
    for kept in ("pyproject.toml", "README.md", "streetwatch", "hub"):
        assert kept not in ignored


def test_no_env_file_is_in_the_repository() -> None:
    """`.env` holds the real secrets: it must never be committed next to the compose file."""
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert tracked.stdout.strip() == "", "remove .env from git: it holds the stack's secrets"
