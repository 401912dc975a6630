"""Upload the dashboards to a running Grafana through its HTTP API (``grafana_client``).

The folder is found by its title, or created; every dashboard is saved with ``overwrite`` so a
push replaces what an earlier push (or a hand edit) left. Errors say what the operator can do:
a refused token, a Grafana that does not answer, a URL that is not Grafana's.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)
from niquests.exceptions import ConnectionError as NoConnection
from niquests.exceptions import RequestException

from dashboards.render import rendered

__all__ = ["DEFAULT_FOLDER", "PushError", "Pushed", "folder_uid", "push"]

DEFAULT_FOLDER = "StreetWatch"
_MESSAGE = "streetwatch dashboards push"


class PushError(Exception):
    """A push that did not go through, explained for the operator."""


@dataclass(frozen=True, slots=True)
class Pushed:
    folder: str
    folder_uid: str
    folder_created: bool
    dashboards: tuple[str, ...]  # uids, in the order pushed


def folder_uid(title: str) -> str:
    """The uid a created folder gets: its title as a slug (``StreetWatch`` → ``streetwatch``),
    the same uid the provisioning file gives the folder."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]
    return slug or "streetwatch"


def push(
    url: str,
    token: str,
    folder: str = DEFAULT_FOLDER,
    *,
    dashboards: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Pushed:
    """Push ``dashboards`` (file name → JSON text; default: a fresh build) into ``folder``."""
    _check_url(url)
    if not token:
        raise PushError(
            "no Grafana token: give --token or set GRAFANA_TOKEN (a service account token with "
            "the Editor role; Admin if the folder does not exist yet)"
        )
    boards = [json.loads(text) for text in (dashboards or rendered()).values()]
    # grafana_client appends "api" to the path as given: a sub-path needs its trailing slash.
    base = url if urlparse(url).path in ("", "/") or url.endswith("/") else url + "/"
    api: Any = GrafanaApi.from_url(base, credential=token, timeout=timeout)  # untyped library
    with _explained(url, f"finding the folder {folder!r}"):
        uid, created = _folder(api, folder)
    for board in boards:
        with _explained(url, f"saving the dashboard {board['title']!r}"):
            api.dashboard.update_dashboard(
                {"dashboard": board, "folderUid": uid, "overwrite": True, "message": _MESSAGE}
            )
    return Pushed(folder, uid, created, tuple(b["uid"] for b in boards))


def _check_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise PushError(
            f"{url!r} is not a Grafana address: give the address you open in the browser, "
            "e.g. http://grafana.example:3000 (with its sub-path if Grafana is served under one)"
        )


def _folder(api: Any, title: str) -> tuple[str, bool]:
    folders = api.folder.get_all_folders()
    if not isinstance(folders, list):
        raise ValueError("its /api/folders answered something else than a list of folders")
    for found in folders:
        if isinstance(found, dict) and found.get("title") == title:
            return str(found["uid"]), False
    made = api.folder.create_folder(title, uid=folder_uid(title))
    return str(made["uid"]), True


@contextlib.contextmanager
def _explained(url: str, doing: str) -> Iterator[None]:
    """Grafana's and the network's errors, as the operator can act on them."""
    try:
        yield
    except GrafanaUnauthorizedError:
        raise PushError(
            f"Grafana at {url} refused the token (401 Unauthorized) while {doing}: the token "
            "is wrong, expired or revoked. Create a service account token in Grafana "
            "(Administration → Service accounts) and pass it with --token or GRAFANA_TOKEN."
        ) from None
    except GrafanaClientError as e:
        raise PushError(_client_error(url, doing, e.status_code, e.message)) from None
    except GrafanaServerError as e:
        raise PushError(
            f"Grafana at {url} failed while {doing} ({e.message}); look at Grafana's log, "
            "then push again."
        ) from None
    except GrafanaTimeoutError:
        raise PushError(
            f"Grafana at {url} did not answer in time while {doing}; is it overloaded, or is "
            "a firewall dropping the connection?"
        ) from None
    except NoConnection as e:
        raise PushError(
            f"cannot reach Grafana at {url} ({_reason(e)}): is Grafana running, and are the "
            "host and port right? From a container, 127.0.0.1 is the container itself."
        ) from None
    except (GrafanaException, RequestException, ValueError) as e:
        raise PushError(
            f"{url} did not answer like Grafana while {doing} ({_reason(e)}); check that the "
            "URL is Grafana's, with its sub-path if it is served under one."
        ) from None


def _client_error(url: str, doing: str, status: int, message: str) -> str:
    if status == 403:
        return (
            f"Grafana at {url} accepted the token but does not allow {doing} (403 Forbidden): "
            "give the service account the Editor role (Admin to create folders)."
        )
    if status == 404:
        return (
            f"{url} has no Grafana API (404 Not Found while {doing}): check the URL, and add "
            "Grafana's sub-path if it is served under one (e.g. https://host/grafana)."
        )
    return f"Grafana at {url} refused {doing}: {message}"


def _reason(error: BaseException) -> str:
    text = str(error)
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(error).__name__
