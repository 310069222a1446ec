"""The loop model: repeat purchases on the loop chain, solved exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import pandas as pd

from . import _core, _scenario
from ._counts import DEFAULT_MAX_STATES, LoopCounts
from ._errors import InvalidInputError
from ._journeys import Histories
from ._model_base import ModelBase, Progress, progress_callback, warn_unshared
from ._scenario import Scenario
from ._shapley import RemovalRule, check_rule
from ._simulate import (
    DEFAULT_MAX_TOUCHES,
    expected_purchase_time,
    fit_loop_holding_times,
    simulate_histories,
)
from ._uncertainty import (
    DEFAULT_PRIOR,
    DEFAULT_REPLICATES,
    Uncertainty,
    figures_frame,
    interval_request,
    markov_replicates,
    with_bounds,
)

__all__ = ["LoopModel"]

#: The funnel model's figures, not the loop model's.
_FUNNEL_ONLY = {
    name: f"{name} is a figure of the funnel model (MarkovModel); this is a LoopModel, "
    "fitted on loop-form histories: see expected_purchases_, expected_value_, "
    "repeat_probability_, removal_effects(), attribution() and summary()"
    for name in (
        "conversion_rate_",
        "value_per_journey_",
        "expected_touches_",
        "expected_touches_converting_",
        "counts_",
        "transition_probabilities",
    )
}


class LoopModel(ModelBase):
    """The loop model of repeat purchases, solved exactly.

    The loop chain goes START → channel states → PURCHASE → channel states →
    … → END: ``PURCHASE`` is transient (a customer may buy again), ``END``
    absorbing. Expected purchases per customer are ``F[START, PURCHASE]``.
    States, transitions, graph exports, loops, top paths (to the first
    purchase), removal effects, attribution and Shapley (on the expected
    purchases) work as on :class:`MarkovModel`; figures of the funnel form
    (``conversion_rate_``, ...) raise :class:`NotApplicableError`.

    ``MarkovModel(...).fit(histories)`` returns one; ``LoopModel(...)`` takes
    the same parameters but ``padded``.

    Examples
    --------
    >>> import journeyloop as jl
    >>> h = jl.Journeys.from_paths(["a > purchase > b > purchase", "a > b", "b > purchase"],
    ...                            count=[1, 1, 2], form="loop")
    >>> loop = jl.MarkovModel(order=1).fit(h)
    >>> type(loop).__name__, round(loop.expected_purchases_, 12)
    ('LoopModel', 1.0)
    """

    is_loop_: ClassVar[bool] = True
    _NOT_APPLICABLE: ClassVar[Mapping[str, str]] = _FUNNEL_ONLY
    _GOAL: ClassVar[str] = "PURCHASE"
    _COUNT: ClassVar[str] = "purchases"

    #: The fitted core model (None until fit); ModelBase's constructor takes the options.
    _model: _core.loop_model | None
    #: The histories of the last fit (None when it was given counts).
    _journeys: Histories | None

    def fit(self, data: Histories | LoopCounts, *, progress: Progress = None) -> LoopModel:
        """Counts the transitions of loop-form histories (or takes their
        :class:`LoopCounts`) and solves the loop chain.

        ``progress=True`` draws a bar for each stage (the histories counted,
        then the states of both views solved); a callable ``(done, total)`` is
        called for both in turn (docs/progress.md). Ctrl-C stops the fit with
        ``KeyboardInterrupt`` and leaves the model as it was.

        Raises
        ------
        InvalidInputError
            For funnel journeys or transition counts (fit those with
            :class:`MarkovModel`).
        StateSpaceTooLargeError
            If the number of states could exceed ``max_states``.
        NumericalError
            If some state cannot reach an absorbing state.
        """
        if isinstance(data, LoopCounts):
            return self._fit_counts(data, progress)
        if not isinstance(data, Histories):
            msg = (
                "LoopModel fits loop-form histories (jl.Histories, from Histories.from_events/"
                'from_paths or Journeys.from_events/from_paths(..., form="loop")); got '
                f"{type(data).__name__}"
                + (" of funnel journeys" if getattr(data, "form", None) == "funnel" else "")
                + ": fit those with MarkovModel"
            )
            raise InvalidInputError(msg)
        options = _core.counting_options(
            order=self.order, collapse_repeats=self.collapse_repeats, max_states=self.max_states
        )
        counts = _core.count_loop_transitions(
            data._set, options, progress_callback(progress, "counting transitions")
        )
        model = _core.fit_loop(
            counts,
            _core.markov_options(smoothing=float(self.smoothing)),
            progress_callback(progress, "solving the chain"),
        )
        # -- sim --
        holding = fit_loop_holding_times(data, model)
        # Nothing of this model changes before the work is done (it may be
        # interrupted, or fail).
        self._model = model
        self._holding = holding
        # Kept (a reference, not a copy) for bootstrap intervals.
        self._journeys = data
        self._plan = None
        self.teams_ = data.teams
        self.stages_ = data.stages
        return self

    def _fit_counts(self, counts: LoopCounts, progress: Progress) -> LoopModel:
        """Fits the loop chain from counts alone (no histories: no holding
        times, and intervals by ``uncertainty="bayes"`` only)."""
        if (counts.order, counts.collapse_repeats) != (self.order, self.collapse_repeats):
            msg = (
                f"the counts have order={counts.order}, collapse_repeats="
                f"{counts.collapse_repeats}; the model order={self.order}, "
                f"collapse_repeats={self.collapse_repeats}"
            )
            raise InvalidInputError(msg)
        model = _core.fit_loop(
            counts._counts,
            _core.markov_options(smoothing=float(self.smoothing)),
            progress_callback(progress, "solving the chain"),
        )
        self._model = model
        self._holding = None
        self._journeys = None
        self._plan = None
        self.teams_ = None
        self.stages_ = None
        return self

    @property
    def _fitted(self) -> _core.loop_model:
        model: _core.loop_model = ModelBase._fitted.fget(self)  # type: ignore[attr-defined]
        return model

    @classmethod
    def _core_type(cls) -> Any:
        return _core.loop_model

    @classmethod
    def _from_core(
        cls, model: _core.loop_model, metadata: dict[str, Any] | None = None
    ) -> LoopModel:
        metadata = metadata or {}
        max_states = metadata.get("max_states")
        out = cls(
            int(model.order),
            collapse_repeats=bool(model.collapse_repeats),
            smoothing=float(model.smoothing),
            max_states=DEFAULT_MAX_STATES if max_states is None else int(max_states),
        )
        out._model = model
        out._restore_metadata(metadata)
        return out

    # -- fitted quantities ----------------------------------------------------

    def _fitted_channels(self) -> list[str]:
        return list(self._fitted.channels)

    def _fitted_num_states(self) -> int:
        return int(self._fitted.num_states)

    def _labels(self) -> list[str]:
        return list(self._fitted.state_labels())

    def _figure(self, name: str) -> float:
        return float(_core.loop_summary(self._fitted)[name])

    @property
    def expected_purchases_(self) -> float:
        """Expected purchases per customer, ``F[START, PURCHASE]``."""
        return self._figure("expected_purchases")

    @property
    def expected_value_(self) -> float:
        """Expected purchase value per customer."""
        return self._figure("expected_value")

    @property
    def first_purchase_probability_(self) -> float:
        """Probability that a customer purchases at least once."""
        return self._figure("first_purchase_probability")

    @property
    def repeat_probability_(self) -> float:
        """Probability of another purchase after a purchase."""
        return self._figure("repeat_probability")

    @property
    def touches_to_first_purchase_(self) -> float:
        """Expected touches before the first purchase, for buyers."""
        return self._figure("touches_to_first_purchase")

    @property
    def touches_between_purchases_(self) -> float:
        """Expected touches between a purchase and the next one."""
        return self._figure("touches_between_purchases")

    def states(self) -> pd.DataFrame:
        """Every state: ``state``, ``purchase_probability``, ``expected_visits``.

        ``purchase_probability`` is the probability of reaching PURCHASE from the
        state (from PURCHASE: of another purchase; END 0); ``expected_visits``
        the expected visits of a customer from START (PURCHASE: the expected
        purchases; START and END 1).
        """
        model = self._fitted
        return pd.DataFrame(
            {
                "state": self._labels(),
                "purchase_probability": model.purchase_probabilities(),
                "expected_visits": model.expected_visits(),
            }
        )

    def transition_matrix(self) -> pd.DataFrame:
        """Every transition of the loop chain: ``from``, ``to``, ``count``, ``probability``.

        States are ``START``, ``PURCHASE``, ``END`` or channel states. With
        smoothing, unobserved transitions have count 0.
        """
        src, dst, count, prob = self._fitted.transitions()
        labels = self._labels()
        return pd.DataFrame(
            {
                "from": [labels[s] for s in src],
                "to": [labels[t] for t in dst],
                "count": count,
                "probability": prob,
            }
        )

    def loyalty_loop_rate(
        self, stages: Mapping[str, str] | None = None, *, evaluation: str = "evaluation"
    ) -> float:
        """Probability of purchasing again after a purchase without touching an
        evaluation-stage channel in between.

        ``stages`` maps channel -> stage (default: the histories' channel
        metadata); channels of stage ``evaluation`` are the ones avoided.
        """
        stages = stages if stages is not None else self.stages_
        if stages is None:
            msg = "the loyalty-loop rate needs channel stages (stages= or channel metadata)"
            raise InvalidInputError(msg)
        avoided = [i for i, c in enumerate(self.channels_) if stages.get(c) == evaluation]
        return float(_core.loyalty_loop_rate(self._fitted, avoided))

    # -- sim --

    def simulate(
        self,
        n: int,
        *,
        seed: int = 0,
        threads: int | None = None,
        max_touches: int = DEFAULT_MAX_TOUCHES,
        progress: Progress = None,
    ) -> Histories:
        """Draws ``n`` customer histories from the fitted loop chain.

        Each history walks from START through the shared channel rows; at
        PURCHASE it gets a purchase marker (valued by the first view's value
        model for a first purchase, by the repeat view's for the next ones)
        and goes on from the repeat view's START row, until END. When the
        model was fitted on histories with times (from an event log), the
        touches and purchases carry times drawn from the fitted holding times
        (see ``docs/simulation.md``). The same seed gives the same histories
        whatever ``threads``.

        Parameters
        ----------
        n
            Customers to draw.
        seed
            The seed, an integer in [0, 2**64 - 1].
        threads
            Threads (None: the library's setting, at most two by default).
        max_touches
            The runaway guard: a history with this many touches ends there,
            with the purchases made so far; such histories are counted in a
            :class:`DataWarning`.
        progress
            ``True`` (print the blocks of walks drawn to stderr), or a callable
            ``(done, total)`` called after each block of 16,384 walks.

        Examples
        --------
        >>> import journeyloop as jl
        >>> h = jl.Histories.from_paths(["a > purchase > b > purchase", "a > b",
        ...                              "b > purchase"], count=[1, 1, 2])
        >>> loop = jl.MarkovModel().fit(h)
        >>> sim = loop.simulate(100_000, seed=1)
        >>> round(jl.MarkovModel().fit(sim).expected_purchases_, 1)
        1.0
        """
        return simulate_histories(
            self._fitted,
            self.__dict__.get("_holding"),
            n,
            seed,
            threads,
            max_touches,
            self.teams_,
            self.stages_,
            progress=progress,
        )

    @property
    def expected_time_to_first_purchase_(self) -> float | pd.Timedelta:
        """Exact expected time from a customer's first touch to the first purchase, for buyers.

        Needs a model fitted on histories with times (from an event log): a
        ``pd.Timedelta`` when their times were datetimes, else a number in
        their time units. It is the first view's expected time to conversion
        under the fitted mean holding times (see ``docs/simulation.md``).

        Examples
        --------
        >>> import pandas as pd
        >>> import journeyloop as jl
        >>> events = pd.DataFrame({"customer": [1, 1, 1, 1, 1, 2],
        ...                        "time": [0.0, 2.0, 5.0, 6.0, 10.0, 0.0],
        ...                        "channel": ["a", "b", None, "a", None, "b"],
        ...                        "conversion": [0, 0, 1, 0, 1, 0]})
        >>> h = jl.Histories.from_events(events, customer="customer", time="time",
        ...                              channel="channel", conversion="conversion")
        >>> loop = jl.LoopModel().fit(h)
        >>> loop.expected_time_to_first_purchase_
        3.6
        >>> loop.expected_time_to_next_purchase_
        5.0
        """
        return expected_purchase_time(self._fitted, self.__dict__.get("_holding"), "first")

    @property
    def expected_time_to_next_purchase_(self) -> float | pd.Timedelta:
        """Exact expected time from a purchase to the next, over the purchases another follows.

        The repeat view's expected time to conversion (its START is
        PURCHASE, so the time from the purchase to the touch after it counts)
        under the fitted mean holding times; a ``pd.Timedelta`` for datetime
        times, as :attr:`expected_time_to_first_purchase_`. 0 when no
        purchase is followed by another.
        """
        return expected_purchase_time(self._fitted, self.__dict__.get("_holding"), "next")

    # -- removal effects and attribution ------------------------------------

    def removal_effects(
        self,
        by: Literal["channel", "team", "group"] = "channel",
        *,
        teams: Mapping[str, str] | Any | None = None,
        groups: Mapping[str, Sequence[str]] | None = None,
        rule: RemovalRule = "null",
        ci: float | None = None,
        n_boot: int = DEFAULT_REPLICATES,
        uncertainty: Uncertainty = "bootstrap",
        seed: int = 0,
        prior: float = DEFAULT_PRIOR,
        progress: Progress = None,
    ) -> pd.DataFrame:
        """Relative drops when a channel (team, group) is removed: ``removal_effect``
        of the expected purchases, ``value_removal_effect``,
        ``first_purchase_removal_effect`` and ``repeat_purchase_removal_effect``
        (of the purchases after a first one, per buyer). ``rule``: ``"null"``
        (the default) or ``"skip"``, as :meth:`MarkovModel.removal_effects`
        says, in both views of the loop (from the start and from a purchase).

        With ``ci``, every effect gets ``_lower`` and ``_upper`` columns:
        percentile intervals of ``n_boot`` replicates, resampling customers
        (``uncertainty="bootstrap"``) or drawing the transition rows from
        their posterior (``"bayes"``), each replicate under the same rule; see
        docs/uncertainty.md.
        """
        keys, members = self._groups(by, teams, groups)
        e = _core.rule_loop_removal_effects(self._fitted, members, check_rule(rule))
        frame = pd.DataFrame(
            {
                by: keys,
                "removal_effect": e["purchases"],
                "value_removal_effect": e["value"],
                "first_purchase_removal_effect": e["first_purchases"],
                "repeat_purchase_removal_effect": e["repeat_purchases"],
            }
        )
        request = interval_request(ci, n_boot, uncertainty, seed, prior)
        if request is None:
            return frame
        table = markov_replicates(self, request, "removal", keys, members, progress, rule)
        columns = list(frame.columns[1:])
        return with_bounds(frame, columns, table, request.level)

    def attribution(
        self,
        by: Literal["channel", "team", "group"] = "channel",
        teams: Mapping[str, str] | Any | None = None,
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        rule: RemovalRule = "null",
        ci: float | None = None,
        n_boot: int = DEFAULT_REPLICATES,
        uncertainty: Uncertainty = "bootstrap",
        seed: int = 0,
        prior: float = DEFAULT_PRIOR,
        progress: Progress = None,
    ) -> pd.DataFrame:
        """Purchases, value, first and repeat purchases attributed by removal effect
        (under the removal ``rule``, ``"null"`` or ``"skip"``: :meth:`removal_effects`).

        With ``ci``, ``purchases``, ``value``, ``first_purchases`` and
        ``repeat_purchases`` get ``_lower`` and ``_upper`` columns, as in
        :meth:`removal_effects` (each a share of the replicate's totals put on
        the observed totals).

        Returns
        -------
        DataFrame
            ``channel`` (or ``team``, ``group``), ``purchases``, ``value``,
            ``share`` (of purchases), ``first_purchases``, ``repeat_purchases``:
            each column sums to its total, except a column that no group's
            removal changes (repeat purchases all made with no touch in
            between): it is 0 throughout, and a :class:`DataWarning` says so.
        """
        if by == "sequence":  # type: ignore[comparison-overlap]
            msg = 'the loop model attributes by "channel", "team" or "group", not "sequence"'
            raise InvalidInputError(msg)
        keys, members = self._groups(by, teams, groups)
        loop = self._fitted
        a = _core.rule_loop_markov_attribution(loop, keys, members, check_rule(rule))
        warn_unshared(
            by,
            [
                ("purchases", a.conversions, loop.purchases),
                ("value", a.value, loop.value),
                ("first_purchases", a.first_purchases, loop.buyers),
                ("repeat_purchases", a.repeat_purchases, loop.repeat_purchases),
            ],
        )
        frame = pd.DataFrame(
            {
                by: a.names,
                "purchases": a.conversions,
                "value": a.value,
                "share": a.shares,
                "first_purchases": a.first_purchases,
                "repeat_purchases": a.repeat_purchases,
            }
        )
        request = interval_request(ci, n_boot, uncertainty, seed, prior)
        if request is None:
            return frame
        table = markov_replicates(self, request, "attribution", keys, members, progress, rule)
        columns = ["purchases", "value", "first_purchases", "repeat_purchases"]
        return with_bounds(frame, columns, table, request.level)

    def figures(
        self,
        ci: float | None = None,
        *,
        n_boot: int = DEFAULT_REPLICATES,
        uncertainty: Uncertainty = "bootstrap",
        seed: int = 0,
        prior: float = DEFAULT_PRIOR,
        progress: Progress = None,
    ) -> pd.DataFrame:
        """The headline figures per customer, with intervals when ``ci`` is given.

        ``expected_purchases``, ``expected_value``, ``first_purchase_probability``
        and ``repeat_probability``; the parameters are those of
        :meth:`removal_effects`' intervals.

        Returns
        -------
        DataFrame
            ``figure``, ``estimate`` and, with ``ci``, ``estimate_lower`` and
            ``estimate_upper``.

        Examples
        --------
        >>> import journeyloop as jl
        >>> h = jl.Histories.from_paths(
        ...     ["a > purchase > b > purchase", "a > b", "b > purchase"], count=[10, 10, 20])
        >>> f = jl.MarkovModel().fit(h).figures(ci=0.9, n_boot=200)
        >>> f["figure"].tolist()
        ['expected_purchases', 'expected_value', 'first_purchase_probability', 'repeat_probability']
        >>> bool(f["estimate_lower"][0] <= f["estimate"][0] <= f["estimate_upper"][0])
        True
        """
        names = [
            "expected_purchases",
            "expected_value",
            "first_purchase_probability",
            "repeat_probability",
        ]
        summary = _core.loop_summary(self._fitted)
        return figures_frame(
            self,
            {n: float(summary[n]) for n in names},
            interval_request(ci, n_boot, uncertainty, seed, prior),
            progress,
        )

    def _attribution_totals(self) -> tuple[float, float]:
        return self._fitted.purchases, self._fitted.value

    # -- scen --

    def apply(self, scenario: Scenario, *, teams: Mapping[str, str] | Any = None) -> LoopModel:
        """The loop model changed by a what-if ``scenario``, solved exactly.

        Both views change together (they share their channel rows; the row
        of ``"PURCHASE"`` is what follows a purchase). A new fitted
        :class:`LoopModel` holding the expected counts of the same customers.
        See docs/scenarios.md.

        Examples
        --------
        >>> import journeyloop as jl
        >>> h = jl.Histories.from_paths(["a > purchase > b > purchase", "a > b", "b > purchase"],
        ...                             count=[1, 1, 2])
        >>> loop = jl.MarkovModel().fit(h)
        >>> round(loop.apply(jl.Scenario().scale("PURCHASE", "b", 2)).expected_purchases_, 12)
        1.3
        """
        return _scenario.apply(self, scenario, teams)  # type: ignore[no-any-return]

    def sensitivities(self, top: int | None = 20) -> pd.DataFrame:
        """The derivative of the expected purchases per customer with respect to
        every transition probability of the loop chain (the rest of the row
        renormalised), largest first: ``from``, ``to``, ``probability``,
        ``sensitivity``, ``elasticity``. ``top`` rows (None: all).

        Examples
        --------
        >>> import journeyloop as jl
        >>> h = jl.Histories.from_paths(["a > purchase > b > purchase", "a > b", "b > purchase"],
        ...                             count=[1, 1, 2])
        >>> s = jl.MarkovModel().fit(h).sensitivities(top=1)
        >>> s[["from", "to"]].values.tolist()
        [['b', 'PURCHASE']]
        """
        return _scenario.sensitivities(self, top)

    # -- text -----------------------------------------------------------------

    def summary(self) -> str:
        """The headline numbers as text (also printed)."""
        s = _core.loop_summary(self._fitted)
        loop = self._fitted
        lines = [
            f"Loop model, order {self.order}: {loop.customers:,.0f} customers, "
            f"{loop.purchases:,.0f} purchases, value {loop.value:,.2f}",
            f"  expected purchases per customer   {s['expected_purchases']:.6g}",
            f"  expected value per customer       {s['expected_value']:.6g}",
            f"  P(at least one purchase)          {s['first_purchase_probability']:.6g}",
            f"  P(another purchase | purchase)    {s['repeat_probability']:.6g}",
            f"  touches to the first purchase     {s['touches_to_first_purchase']:.6g}",
            f"  touches between purchases         {s['touches_between_purchases']:.6g}",
        ]
        if self.stages_ is not None:
            lines.append(f"  loyalty-loop rate                 {self.loyalty_loop_rate():.6g}")
        text = "\n".join(lines)
        print(text)
        return text

    def _headline(self) -> list[tuple[str, float]]:
        s = _core.loop_summary(self._fitted)
        names = [
            "expected_purchases",
            "expected_value",
            "first_purchase_probability",
            "repeat_probability",
            "touches_to_first_purchase",
            "touches_between_purchases",
        ]
        return [(n.replace("_", " "), float(s[n])) for n in names]

    def _fitted_figures(self) -> str:
        return (
            f"{self.n_states_} states, expected purchases {self.expected_purchases_:.6g}, "
            f"repeat probability {self.repeat_probability_:.6g}"
        )
