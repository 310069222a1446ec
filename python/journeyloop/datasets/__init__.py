"""Bundled example data sets.

The B2B data set is a synthetic, deterministic table of customer journeys of
a B2B SaaS funnel (marketing opens journeys, sales closes deals).  It is
produced by ``_generate_b2b.py`` in this directory; see that module's
docstring for the generative model.  Regenerate it with::

    python python/journeyloop/datasets/_generate_b2b.py

The same processes, with their ground truth (what each channel and team
really causes), are ``jl.synthetic.generate(60_000, regime="b2b",
seed=20240531)`` for the paths and ``generate(20_000, regime="b2b_loop",
seed=20240532)`` for the histories.

``pandas`` is only needed by the ``load_*`` functions and is imported
lazily, so the dictionaries returned by :func:`b2b_teams` and
:func:`b2b_stages` are available without it.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import pandas

__all__ = [
    "b2b_stages",
    "b2b_teams",
    "load_b2b_channels",
    "load_b2b_histories",
    "load_b2b_loop_channels",
    "load_b2b_paths",
]

_PATHS_FILE = "b2b_paths.csv.gz"
_CHANNELS_FILE = "b2b_channels.csv"
_HISTORIES_FILE = "b2b_histories.csv.gz"
_LOOP_CHANNELS_FILE = "b2b_loop_channels.csv"


def _data(name: str) -> Traversable:
    return files(__package__) / "data" / name


def _channel_rows() -> list[dict[str, str]]:
    text = _data(_CHANNELS_FILE).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def load_b2b_paths() -> pandas.DataFrame:
    """Load the synthetic B2B customer-journey path table.

    Each row is one distinct channel sequence with the number of journeys
    that followed it and converted, the number that ended without a
    conversion, and the revenue of the converted ones.  About 60,000
    simulated journeys over nine channels are aggregated into a few thousand
    rows.

    Returns
    -------
    pandas.DataFrame
        Columns:

        ``path`` : str
            Channels of the journey in time order, joined by ``" > "``,
            e.g. ``"paid_search > email > email > sdr_call > demo"``.
        ``conversions`` : int64
            Number of journeys with this path that converted (>= 0).
        ``nulls`` : int64
            Number of journeys with this path that did not convert (>= 0).
            ``conversions + nulls >= 1`` on every row.
        ``value`` : float64
            Total revenue of the converted journeys, rounded to 2 decimals;
            ``0.0`` when ``conversions == 0``.

        Rows are sorted by descending ``conversions + nulls``, then ``path``.

    See Also
    --------
    load_b2b_channels : Team and funnel stage of each channel.

    Examples
    --------
    >>> from journeyloop.datasets import load_b2b_paths
    >>> df = load_b2b_paths()
    >>> list(df.columns)
    ['path', 'conversions', 'nulls', 'value']
    """
    import pandas as pd

    with _data(_PATHS_FILE).open("rb") as fh:
        df = pd.read_csv(
            fh,
            compression="gzip",
            dtype={
                "path": "str",
                "conversions": "int64",
                "nulls": "int64",
                "value": "float64",
            },
            keep_default_na=False,
        )
    return df


def load_b2b_channels() -> pandas.DataFrame:
    """Load the channel metadata of the synthetic B2B data set.

    Returns
    -------
    pandas.DataFrame
        One row per channel used in :func:`load_b2b_paths`, with columns
        ``channel`` (str), ``team`` (``"marketing"`` or ``"sales"``) and
        ``stage`` (``"awareness"``, ``"consideration"`` or
        ``"evaluation"``).

    Examples
    --------
    >>> from journeyloop.datasets import load_b2b_channels
    >>> load_b2b_channels().shape
    (9, 3)
    """
    import pandas as pd

    with _data(_CHANNELS_FILE).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def load_b2b_histories() -> pandas.DataFrame:
    """Load the synthetic B2B customer histories (loop form).

    Each row is one distinct customer history: the acquisition journey, then,
    for customers who bought, the post-purchase loop (onboarding, support,
    nurturing, account reviews, renewals), with the token ``purchase`` after
    each purchase. 20,000 simulated customers.

    Returns
    -------
    pandas.DataFrame
        Columns ``history`` (str, channels and ``purchase`` joined by
        ``" > "``), ``customers`` (int64, customers with this history) and
        ``value`` (float64, the total value of their purchases).

    Examples
    --------
    >>> from journeyloop.datasets import load_b2b_histories
    >>> h = load_b2b_histories()
    >>> int(h["customers"].sum())
    20000
    """
    import pandas as pd

    with _data(_HISTORIES_FILE).open("rb") as fh:
        return pd.read_csv(
            fh,
            compression="gzip",
            dtype={"history": "str", "customers": "int64", "value": "float64"},
            keep_default_na=False,
        )


def load_b2b_loop_channels() -> pandas.DataFrame:
    """Channel, team and stage of every channel of :func:`load_b2b_histories`:
    the funnel channels plus the post-purchase ones (team ``"service"`` for
    onboarding and support; stages ``"experience"`` and ``"loyalty"``).

    Examples
    --------
    >>> from journeyloop.datasets import load_b2b_loop_channels
    >>> load_b2b_loop_channels().shape
    (13, 3)
    """
    import pandas as pd

    with _data(_LOOP_CHANNELS_FILE).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def b2b_teams() -> dict[str, str]:
    """Map each channel of the B2B data set to the team that owns it.

    Returns
    -------
    dict[str, str]
        ``{channel: team}`` with team ``"marketing"`` or ``"sales"``, in the
        order of :func:`load_b2b_channels`.

    Examples
    --------
    >>> from journeyloop.datasets import b2b_teams
    >>> b2b_teams()["demo"]
    'sales'
    """
    return {row["channel"]: row["team"] for row in _channel_rows()}


def b2b_stages() -> dict[str, str]:
    """Map each channel of the B2B data set to its funnel stage.

    Returns
    -------
    dict[str, str]
        ``{channel: stage}`` with stage ``"awareness"``, ``"consideration"``
        or ``"evaluation"``, in the order of :func:`load_b2b_channels`.

    Examples
    --------
    >>> from journeyloop.datasets import b2b_stages
    >>> b2b_stages()["webinar"]
    'consideration'
    """
    return {row["channel"]: row["stage"] for row in _channel_rows()}
