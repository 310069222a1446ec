"""The Markov model: exact absorbing-chain attribution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from . import _core
from ._errors import InvalidInputError, NotFittedError
from ._journeys import Journeys
from ._teams import team_of_channels

__all__ = ["MarkovModel", "attribution_frame"]


def attribution_frame(a: _core.attribution, key: str) -> pd.DataFrame:
    """An attribution as a DataFrame: key, conversions, value, share."""
    conv = a.conversions
    total = float(conv.sum())
    share = conv / total if total > 0 else conv * 0.0
    return pd.DataFrame({key: a.names, "conversions": conv, "value": a.value, "share": share})


class MarkovModel:
    """Markov-chain attribution of journeys (Anderl et al. 2016), solved exactly.

    States are the sliding windows of the last ``order`` channels, between
    ``START`` and the absorbing ``CONVERSION`` and ``NULL``. Transition
    probabilities are maximum-likelihood estimates; the conversion rate and
    the removal effects come from sparse linear solves, not simulation.

    Parameters
    ----------
    order
        Markov order k >= 1.
    collapse_repeats
        Collapse consecutive identical states (``a > a > b`` is ``a > b`` at
        order 1), as ChannelAttribution does. False keeps self-loops; removal
        effects do not change, transition probabilities do.
    max_states
        Cap on the number of states; fitting raises
        :class:`StateSpaceTooLargeError` before allocating more.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
    ...                            nulls=[1, 2, 0])
    >>> model = jl.MarkovModel().fit(j)
    >>> model.conversion_rate_
    0.5
    """

    def __init__(
        self, order: int = 1, *, collapse_repeats: bool = True, max_states: int = 50_000_000
    ) -> None:
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            msg = f"order must be an integer >= 1, got {order!r}"
            raise InvalidInputError(msg)
        self.order = order
        self.collapse_repeats = collapse_repeats
        self.max_states = max_states
        self._model: _core.markov_model | None = None

    def fit(self, journeys: Journeys) -> MarkovModel:
        """Counts the transitions of ``journeys`` and solves the chain.

        Raises
        ------
        StateSpaceTooLargeError
            If the number of states could exceed ``max_states``.
        NumericalError
            If some state cannot reach an absorbing state.
        InvalidInputError
            If no journey has an outcome.
        """
        if not isinstance(journeys, Journeys):
            msg = f"fit expects Journeys, got {type(journeys).__name__}"
            raise InvalidInputError(msg)
        counts = _core.count_transitions(
            journeys._set, self.order, self.collapse_repeats, self.max_states
        )
        self._model = _core.fit_markov(counts)
        return self

    @property
    def _fitted(self) -> _core.markov_model:
        if self._model is None:
            msg = "this MarkovModel is not fitted yet: call fit(journeys) first"
            raise NotFittedError(msg)
        return self._model

    @property
    def conversion_rate_(self) -> float:
        """Exact probability that a journey from START converts."""
        return float(self._fitted.conversion_rate)

    @property
    def value_per_journey_(self) -> float:
        """Exact expected conversion value per journey."""
        return float(self._fitted.value_per_journey)

    @property
    def channels_(self) -> list[str]:
        """Channels of the fitted model."""
        return list(self._fitted.counts.channels)

    @property
    def n_states_(self) -> int:
        """Number of states, START, CONVERSION and NULL included."""
        return int(self._fitted.counts.num_states)

    def removal_effects(self) -> pd.DataFrame:
        """Removal effect of every channel.

        Returns
        -------
        DataFrame
            ``channel``, ``removal_effect`` (relative drop of the conversion
            rate when every transition into a state holding the channel goes
            to NULL) and ``value_removal_effect`` (the same for the expected
            value, ChannelAttribution's value model).
        """
        conv, value = _core.removal_effects(self._fitted)
        return pd.DataFrame(
            {"channel": self.channels_, "removal_effect": conv, "value_removal_effect": value}
        )

    def attribution(
        self,
        by: Literal["channel", "team"] = "channel",
        teams: Mapping[str, str] | Any | None = None,
    ) -> pd.DataFrame:
        """Conversions and value attributed by removal effect.

        ``A(c) = RE(c) / sum_d RE(d) * total conversions``, and likewise for
        value with the value removal effects.

        Parameters
        ----------
        by
            ``"channel"``, or ``"team"`` to remove each team's channels at
            once (a team's effect is not the sum of its channels').
        teams
            With ``by="team"``: channel → team, a dict or a DataFrame with
            columns ``channel`` and ``team``. Channels not in it count as
            ``"unassigned"`` (with a warning); teams with no channel in the
            data get a zero row.

        Returns
        -------
        DataFrame
            ``channel`` (or ``team``), ``conversions``, ``value``, ``share``
            (of conversions). Conversions sum to the total conversions and
            value to the total value.
        """
        model = self._fitted
        if by == "channel":
            return attribution_frame(_core.markov_attribution(model), "channel")
        if by == "team":
            if teams is None:
                msg = 'by="team" needs teams={channel: team, ...}'
                raise InvalidInputError(msg)
            group_of, extra = team_of_channels(self.channels_, teams)
            return attribution_frame(_core.markov_attribution(model, group_of, extra), "team")
        msg = f'by must be "channel" or "team", got {by!r}'
        raise InvalidInputError(msg)

    def transition_matrix(self) -> pd.DataFrame:
        """Every observed transition: ``from``, ``to``, ``count``, ``probability``.

        States are named ``START``, ``CONVERSION``, ``NULL`` or by their
        channels joined with ``" > "`` (order > 1).
        """
        model = self._fitted
        counts = model.counts
        src, dst, weight = counts.edges()
        labels = [counts.state_label(s) for s in range(counts.num_states)]
        return pd.DataFrame(
            {
                "from": [labels[s] for s in src],
                "to": [labels[t] for t in dst],
                "count": weight,
                "probability": model.probabilities(),
            }
        )

    def __repr__(self) -> str:
        state = (
            f", fitted: {self.n_states_} states, conversion rate {self.conversion_rate_:.6g}"
            if self._model is not None
            else ""
        )
        return f"MarkovModel(order={self.order}{state})"
