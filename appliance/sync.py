"""The incremental sync contract shared by the operator's and the visitor's views.

A client keeps the highest `sequence` it has seen and asks for everything
after it (reference §4.3). Every answer carries the highest sequence among
the events and tombstones it returns, or none when nothing changed, so the
client's checkpoint only ever moves forward.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from appliance.errors import BadRequest
from appliance.records import Event, Tombstone

_SEQUENCE = re.compile(r"^[0-9A-Za-z]{1,26}$")


def check_since(since: str | None) -> str | None:
    """`since` as given, or BadRequest when it cannot be a sequence value."""
    if since is not None and not _SEQUENCE.match(since):
        raise BadRequest("since must be a sequence value returned by an earlier call")
    return since


def add_checkpoint(
    result: dict[str, Any],
    events: Iterable[Event],
    tombstones: Iterable[Tombstone] | None,
    *,
    always_list_deleted: bool,
) -> dict[str, Any]:
    """Add `deletedEvents` (when tombstones were asked for) and `sequence` to an answer.

    Offen's operator view lists `deletedEvents` whenever `since` was given,
    even empty; the visitor's view only when there are some. Both shapes are
    kept because clients read them.
    """
    highest: str | None = None
    for event in events:
        if highest is None or event.sequence > highest:
            highest = event.sequence
    if tombstones is not None:
        tombstones = list(tombstones)
        if tombstones or always_list_deleted:
            result["deletedEvents"] = [tombstone.event_id for tombstone in tombstones]
        for tombstone in tombstones:
            if highest is None or tombstone.sequence > highest:
                highest = tombstone.sequence
    if highest is not None:
        result["sequence"] = highest
    return result
