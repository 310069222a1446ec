"""Channel → team (or any group) maps."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from ._errors import InvalidInputError

UNASSIGNED = "unassigned"


def given_teams(teams: Mapping[str, str] | Any | None, stored: Mapping[str, str] | None) -> Any:
    """The channel → team map for ``by="team"``: ``teams`` if given, else the
    channel metadata ``stored`` with the journeys or model; raises
    InvalidInputError when there is neither."""
    if teams is not None:
        return teams
    if stored is None:
        msg = 'by="team" needs teams={channel: team, ...} (or journeys with channel metadata)'
        raise InvalidInputError(msg)
    return stored


def team_of_channels(
    channels: list[str], teams: Mapping[str, str] | Any
) -> tuple[list[str], list[str]]:
    """The team of every channel, and the teams that have no channel here.

    ``teams`` maps channel → team (a dict, or a DataFrame with columns
    ``channel`` and ``team``, each channel on one row). Channels missing from
    the map get the team ``"unassigned"``, with a warning that lists them (and
    share it with channels the map assigns to ``"unassigned"``).
    """
    if hasattr(teams, "columns"):
        if "channel" not in teams.columns or "team" not in teams.columns:
            msg = "a teams DataFrame needs the columns 'channel' and 'team'"
            raise InvalidInputError(msg)
        mapping = {}
        for row, (channel, team) in enumerate(zip(teams["channel"], teams["team"])):
            if channel in mapping:
                msg = f"teams: row {row}, column 'channel': channel {channel!r} is listed twice"
                raise InvalidInputError(msg)
            mapping[channel] = team
    elif isinstance(teams, Mapping):
        mapping = dict(teams)
    else:
        msg = f"teams must be a dict channel -> team or a DataFrame, got {type(teams).__name__}"
        raise InvalidInputError(msg)
    for channel, team in mapping.items():
        if not isinstance(team, str) or not team:
            msg = f"team of channel {channel!r} must be a non-empty string, got {team!r}"
            raise InvalidInputError(msg)
    missing = [c for c in channels if c not in mapping]
    if missing:
        warnings.warn(
            f"{len(missing)} channel(s) have no team and count as {UNASSIGNED!r}: "
            + ", ".join(missing),
            UserWarning,
            stacklevel=3,
        )
    group_of = [mapping.get(c, UNASSIGNED) for c in channels]
    present = set(group_of)
    extra = [t for t in dict.fromkeys(mapping.values()) if t not in present]
    return group_of, extra
