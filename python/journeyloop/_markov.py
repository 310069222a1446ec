"""The funnel Markov model: exact absorbing-chain attribution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import pandas as pd

from . import _core, _credit, _scenario
from ._counts import DEFAULT_MAX_STATES, LoopCounts, TransitionCounts
from ._errors import InvalidInputError, UnknownChannelError
from ._journeys import Histories, Journeys
from ._loop import LoopModel
from ._model_base import (
    By,
    ModelBase,
    Progress,
    attribution_frame,
    progress_callback,
    real_number,
    whole_number,
)
from ._order import backed_off, check_min_count
from ._scenario import Scenario
from ._shapley import RemovalRule, check_rule
from ._simulate import (
    DEFAULT_MAX_TOUCHES,
    expected_time_to_conversion,
    fit_holding_times,
    simulate_journeys,
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

__all__ = [
    "MarkovModel",
    "Progress",
    "attribution_frame",
    "progress_callback",
    "real_number",
    "whole_number",
]

#: The loop model's figures, not the funnel model's.
_LOOP_ONLY = {
    name: f"{name} is a figure of the loop model (LoopModel, fitted on loop-form histories); "
    "this is a funnel MarkovModel"
    for name in (
        "expected_purchases_",
        "expected_value_",
        "first_purchase_probability_",
        "repeat_probability_",
        "touches_to_first_purchase_",
        "touches_between_purchases_",
        "loyalty_loop_rate",
    )
}


class MarkovModel(ModelBase):
    """Markov-chain attribution of journeys (Anderl et al. 2016), solved exactly.

    States are the sliding windows of the last ``order`` channels, between
    ``START`` and the absorbing ``CONVERSION`` and ``NULL``. Transition
    probabilities are maximum-likelihood estimates (optionally smoothed);
    the conversion rate, removal effects, expected visits and touches come
    from exact linear solves, not simulation.

    ``fit`` on loop-form histories returns a fitted :class:`LoopModel` (the
    loop chain of repeat purchases) instead of this model: write
    ``model = MarkovModel(...).fit(data)``. Figures of the loop form raise
    :class:`NotApplicableError` here.

    Parameters
    ----------
    order
        Markov order k >= 1.
    collapse_repeats
        Collapse consecutive identical states (``a > a > b`` is ``a > b`` at
        order 1), as ChannelAttribution does. False keeps self-loops; removal
        effects do not change, transition probabilities do.
    padded
        Pad paths with k - 1 ``(start)`` symbols so that every state holds k
        symbols. The default is ChannelAttribution's: a path shorter than k
        is one state holding the shorter tuple.
    smoothing
        Additive smoothing alpha >= 0 on observed rows, over the states a
        journey could move to (see the C++ ``markov_options``). 0 is the
        maximum-likelihood estimate.
    max_states
        Cap on the number of states; fitting raises
        :class:`StateSpaceTooLargeError` before allocating more.
    min_count
        Back-off of sparse states (funnel journeys, unpadded): a state seen
        fewer than ``min_count`` times is merged into its suffix state (its
        last k - 1 channels), recursively down to one channel (see
        ``docs/order.md``). None (the default) keeps every state. Such a
        model has no holding times (the times of its journeys follow the
        sliding windows) and cannot be saved or pickled yet.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
    ...                            nulls=[1, 2, 0])
    >>> model = jl.MarkovModel().fit(j)
    >>> round(model.conversion_rate_, 12)
    0.5
    """

    _NOT_APPLICABLE: ClassVar[Mapping[str, str]] = _LOOP_ONLY
    _GOAL: ClassVar[str] = "CONVERSION"
    _COUNT: ClassVar[str] = "conversions"

    def __init__(
        self,
        order: int = 1,
        *,
        collapse_repeats: bool = True,
        padded: bool = False,
        smoothing: float = 0.0,
        max_states: int = DEFAULT_MAX_STATES,
        min_count: int | None = None,
    ) -> None:
        super().__init__(
            order, collapse_repeats=collapse_repeats, smoothing=smoothing, max_states=max_states
        )
        self.padded = padded
        # -- order --
        self.min_count = check_min_count(min_count)
        self._model: _core.markov_model | None = None
        #: Whether the last fit() was given loop histories (and returned a LoopModel).
        self._gave_loop = False

    # -- fitting and persistence ------------------------------------------

    def fit(
        self,
        data: Journeys | Histories | TransitionCounts | LoopCounts,
        *,
        progress: Progress = None,
    ) -> MarkovModel | LoopModel:
        """Counts the transitions of ``data`` (or takes its counts) and solves the chain.

        ``progress=True`` draws a bar for each stage (a tqdm bar when tqdm is
        installed, else a line on stderr): the rows counted, then the states
        solved (after each strongly connected component of the chain, so a
        large component is one step); a callable ``(done, total)`` is called
        for both stages in turn (docs/progress.md). Ctrl-C stops a fit with
        ``KeyboardInterrupt`` and leaves the model as it was before the call.

        Funnel journeys (or counts) fit this model, which is returned. Loop-form
        histories (``form="loop"``) and their :class:`LoopCounts` fit a
        :class:`LoopModel` with the same options, which is returned instead
        (this model stays unfitted): write ``model = MarkovModel(...).fit(data)``.

        Raises
        ------
        StateSpaceTooLargeError
            If the number of states could exceed ``max_states``.
        NumericalError
            If some state cannot reach an absorbing state.
        InvalidInputError
            If no journey has an outcome, or counts of another order or
            options are given.
        """
        if isinstance(data, TransitionCounts):
            counts = data
            if (counts.order, counts.collapse_repeats, counts.padded) != (
                self.order,
                self.collapse_repeats,
                self.padded,
            ):
                msg = (
                    f"the counts have order={counts.order}, collapse_repeats="
                    f"{counts.collapse_repeats}, padded={counts.padded}; the model "
                    f"order={self.order}, collapse_repeats={self.collapse_repeats}, "
                    f"padded={self.padded}"
                )
                raise InvalidInputError(msg)
            self._model = self._solve(
                backed_off(counts._counts, self.__dict__.get("min_count")),
                progress_callback(progress, "solving the chain"),
                taking=False,
            )
            self._gave_loop = False
            # Counts alone: intervals by uncertainty="bayes" only.
            self._journeys = None
            self._plan = None
            # -- sim --
            self._holding = None
            # -- credit --
            self._journeys = None
            return self
        if isinstance(data, (Histories, LoopCounts)):
            if self.__dict__.get("min_count") is not None:
                msg = "min_count applies to funnel journeys: fit histories with min_count=None"
                raise InvalidInputError(msg)
            if self.padded:
                msg = "the loop model has no padded form: fit histories with padded=False"
                raise InvalidInputError(msg)
            loop = LoopModel(
                self.order,
                collapse_repeats=self.collapse_repeats,
                smoothing=self.smoothing,
                max_states=self.max_states,
            ).fit(data, progress=progress)
            self._model = None
            self._gave_loop = True
            return loop
        if isinstance(data, Journeys):
            counts = TransitionCounts.from_journeys(
                data,
                self.order,
                collapse_repeats=self.collapse_repeats,
                padded=self.padded,
                max_states=self.max_states,
                progress=progress,
            )
            # These counts are this call's own: they move into the model
            # (no second copy of every transition while it is fitted).
            model = self._solve(
                backed_off(counts._counts, self.__dict__.get("min_count")),
                progress_callback(progress, "solving the chain"),
                taking=True,
            )
            # -- sim --
            # Holding times follow each touch's sliding window, which a
            # backed-off state (-- order --) no longer is.
            holding = (
                fit_holding_times(data, model) if self.__dict__.get("min_count") is None else None
            )
            # Nothing of this model changes before the work is done (it may be
            # interrupted, or fail).
            self._model = model
            self._holding = holding
            self.teams_ = data.teams
            self.stages_ = data.stages
            self._gave_loop = False
            # Kept (a reference, not a copy, not saved with the model) for
            # bootstrap intervals and attribution(level="journey").
            self._journeys = data
            self._plan = None
            return self
        msg = (
            "fit expects Journeys, Histories, TransitionCounts or LoopCounts, got "
            f"{type(data).__name__}"
        )
        raise InvalidInputError(msg)

    def refit(self, data: Journeys | TransitionCounts, *, progress: Progress = None) -> MarkovModel:
        """Fits new journeys or counts of the chain this model is fitted on, reusing its structure.

        For data whose states are this model's states (or some of them) and whose transitions
        are among its transitions, with new weights: a bootstrap replicate, a later period of
        the same journeys, a scenario that reweights rows. The chain's strongly connected
        components and the order its states are stored and solved in are kept, and each solve
        starts from the current solution. The estimation and the solves remain, so a refit
        saves the structure's search, not the solve (docs/markov.md, "Refitting on a fitted
        chain's structure"). The result is what :meth:`fit` would give, to the
        solver's tolerance; data that does not fit the structure (a new state or transition,
        other channels or options) is fitted from scratch, which gives the same model, only
        slower. Returns this model, refitted (the previous fit is replaced, as by
        :meth:`fit`).

        >>> model = jl.MarkovModel(order=2).fit(journeys)       # doctest: +SKIP
        >>> model.refit(later_journeys).removal_effects()        # doctest: +SKIP

        Raises
        ------
        NotFittedError
            If the model is not fitted yet.
        InvalidInputError
            For loop histories or counts (refit a :class:`LoopModel` by fitting it), and
            as :meth:`fit`.
        """
        fitted = self._fitted
        if isinstance(data, (Histories, LoopCounts)):
            msg = "refit takes funnel journeys or TransitionCounts; fit loop histories with fit()"
            raise InvalidInputError(msg)
        self._reuse: _core.markov_model | None = fitted
        try:
            out = self.fit(data, progress=progress)
        finally:
            self._reuse = None
        assert isinstance(out, MarkovModel)
        return out

    def _solve(
        self, counts: _core.transition_counts, progress: Any, *, taking: bool
    ) -> _core.markov_model:
        """Fits the core counts: on the structure of the model :meth:`refit` is given, or
        from scratch (``taking``: the counts move into the model)."""
        reuse = self.__dict__.get("_reuse")
        if reuse is not None and reuse.options.smoothing == float(self.smoothing):
            return _core.refit_markov(reuse, counts, progress)
        if taking:
            return _core.fit_markov_taking(counts, self._options(), progress)
        return _core.fit_markov(counts, self._options(), progress)

    def _options(self) -> _core.markov_options:
        return _core.markov_options(smoothing=float(self.smoothing))

    # -- order --

    def to_bytes(self) -> bytes:
        """The fitted model in journeyloop's file format (see ``ModelBase.to_bytes``);
        refused for a model fitted with ``min_count``."""
        if self.__dict__.get("min_count") is not None:
            msg = (
                "a model fitted with min_count cannot be saved or pickled yet (a file of "
                "counts holds sliding windows of one length): save its journeys or counts "
                "and fit again"
            )
            raise InvalidInputError(msg)
        return super().to_bytes()

    def _not_fitted_message(self) -> str:
        if self.__dict__.get("_gave_loop"):
            return (
                "this MarkovModel was given loop histories: fit() returned a LoopModel; write "
                "model = MarkovModel(...).fit(histories)"
            )
        return "this MarkovModel is not fitted yet: call fit(journeys) first"

    @classmethod
    def _core_type(cls) -> Any:
        return _core.markov_model

    @classmethod
    def _from_core(
        cls, model: _core.markov_model, metadata: dict[str, Any] | None = None
    ) -> MarkovModel:
        counts = model.counts
        metadata = metadata or {}
        max_states = metadata.get("max_states")
        out = cls(
            int(counts.order),
            collapse_repeats=bool(counts.collapse_repeats),
            padded=bool(counts.padded),
            smoothing=float(model.smoothing),
            max_states=DEFAULT_MAX_STATES if max_states is None else int(max_states),
        )
        out._model = model
        out._restore_metadata(metadata)
        return out

    # -- fitted quantities ------------------------------------------------

    @property
    def _fitted(self) -> _core.markov_model:
        model: _core.markov_model = ModelBase._fitted.fget(self)  # type: ignore[attr-defined]
        return model

    @property
    def counts_(self) -> TransitionCounts:
        """The transition counts the model was estimated from."""
        return TransitionCounts(self._fitted.counts)

    @property
    def conversion_rate_(self) -> float:
        """Exact probability that a journey from START converts."""
        return float(self._fitted.conversion_rate)

    @property
    def value_per_journey_(self) -> float:
        """Exact expected conversion value per journey."""
        return float(self._fitted.value_per_journey)

    @property
    def expected_touches_(self) -> float:
        """Expected number of states visited before absorption (touches at order 1)."""
        return float(self._fitted.expected_touches)

    @property
    def expected_touches_converting_(self) -> float:
        """Expected number of states visited by converting journeys."""
        return float(self._fitted.expected_touches_converting)

    def _fitted_channels(self) -> list[str]:
        return list(self._fitted.counts.channels)

    def _fitted_num_states(self) -> int:
        return int(self._fitted.counts.num_states)

    def _labels(self) -> list[str]:
        return list(self._fitted.counts.state_labels())

    def states(self) -> pd.DataFrame:
        """Every state: ``state``, ``conversion_probability``, ``expected_visits``.

        ``conversion_probability`` is P(CONVERSION) from the state;
        ``expected_visits`` the expected number of visits of a journey from
        START (for CONVERSION and NULL: the probability of ending there).
        """
        model = self._fitted
        return pd.DataFrame(
            {
                "state": self._labels(),
                "conversion_probability": model.conversion_probabilities(),
                "expected_visits": model.expected_visits(),
            }
        )

    def transition_matrix(self) -> pd.DataFrame:
        """Every observed transition: ``from``, ``to``, ``count``, ``probability``.

        States are named ``START``, ``CONVERSION``, ``NULL`` or by their
        channels joined with ``" > "`` (order > 1). With smoothing, the
        probabilities of unobserved transitions are in
        :meth:`transition_probabilities`.
        """
        model = self._fitted
        frame = self.counts_.to_frame()
        if self.smoothing == 0:
            frame["probability"] = model.probabilities()
            return frame
        probs = self.transition_probabilities()
        return frame.merge(probs, on=["from", "to"], how="left")

    def transition_probabilities(self) -> pd.DataFrame:
        """Every nonzero transition probability: ``from``, ``to``, ``probability``."""
        src, dst, prob = self._fitted.transitions()
        labels = self._labels()
        return pd.DataFrame(
            {"from": [labels[s] for s in src], "to": [labels[t] for t in dst], "probability": prob}
        )

    # -- sim --

    def simulate(
        self,
        n: int,
        *,
        seed: int = 0,
        threads: int | None = None,
        max_touches: int = DEFAULT_MAX_TOUCHES,
        progress: Progress = None,
    ) -> Journeys:
        """Draws ``n`` journeys from the fitted chain.

        Each journey walks from START by the transition probabilities until
        CONVERSION or NULL; its path is a channel sequence at every order. A
        conversion from state ``s`` is worth the mean value of the fitted
        conversions that left from ``s`` (the value model). When the model
        was fitted on journeys with times, the touches carry times drawn from
        the fitted holding times (see ``docs/simulation.md``). The same seed
        gives the same journeys whatever ``threads``.

        Parameters
        ----------
        n
            Journeys to draw.
        seed
            The seed, an integer in [0, 2**64 - 1].
        threads
            Threads (None: the library's setting, at most two by default).
        max_touches
            The runaway guard: a walk with this many touches stops there and
            is kept as a non-converting journey; such walks are counted in a
            :class:`DataWarning`.
        progress
            ``True`` (print the blocks of walks drawn to stderr), or a callable
            ``(done, total)`` called after each block of 16,384 walks.

        Returns
        -------
        Journeys
            One row per walk (conversions 1 and nulls 0, or 0 and 1).

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
        ...                            nulls=[1, 2, 0])
        >>> model = jl.MarkovModel().fit(j)
        >>> sim = model.simulate(100_000, seed=1)
        >>> len(sim.to_frame())
        100000
        >>> round(jl.MarkovModel().fit(sim).conversion_rate_, 2)
        0.5
        """
        return simulate_journeys(
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
    def expected_time_to_conversion_(self) -> float | pd.Timedelta:
        """Exact expected time from the first touch to the conversion, for converting journeys.

        Needs a model fitted on journeys with times (``Journeys.from_events``):
        a ``pd.Timedelta`` when their times were datetimes, else a number in
        their time units: ``E[T | CONVERSION] = sum_s V(s) sum_t P(s, t)
        m(s, t) x(t) / p``, with ``m`` the fitted mean holding times (see
        ``docs/simulation.md``).

        Examples
        --------
        >>> import pandas as pd
        >>> import journeyloop as jl
        >>> events = pd.DataFrame({"customer": [1, 1, 1, 2], "time": [0.0, 2.0, 5.0, 0.0],
        ...                        "channel": ["a", "b", None, "b"],
        ...                        "conversion": [0, 0, 1, 0]})
        >>> j = jl.Journeys.from_events(events, customer="customer", time="time",
        ...                             channel="channel", conversion="conversion")
        >>> jl.MarkovModel().fit(j).expected_time_to_conversion_
        3.75
        """
        return expected_time_to_conversion(self._fitted, self.__dict__.get("_holding"))

    # -- removal effects and attribution ----------------------------------

    def _sequence_states(
        self, sequences: Sequence[str | Sequence[str]] | None
    ) -> tuple[list[str], list[int]]:
        """Labels and state ids of the sequences of ``by="sequence"``."""
        if not sequences or isinstance(sequences, str):
            msg = 'by="sequence" needs sequences=["a > b", ...] (a list of states)'
            raise InvalidInputError(msg)
        index = {label: s for s, label in enumerate(self._labels())}
        labels: list[str] = []
        states: list[int] = []
        for seq in sequences:
            label = seq if isinstance(seq, str) else " > ".join(seq)
            label = " > ".join(t.strip() for t in label.split(">"))
            if label not in index or index[label] < _core.first_channel_state:
                msg = f"unknown sequence {label!r}: not a state of this order-{self.order} model"
                raise UnknownChannelError(msg)
            labels.append(label)
            states.append(index[label])
        return labels, states

    def removal_effects(
        self,
        by: Literal["channel", "team", "group", "sequence"] = "channel",
        *,
        teams: Mapping[str, str] | Any | None = None,
        groups: Mapping[str, Sequence[str]] | None = None,
        sequences: Sequence[str | Sequence[str]] | None = None,
        progress: Progress = None,
        ci: float | None = None,
        n_boot: int = DEFAULT_REPLICATES,
        uncertainty: Uncertainty = "bootstrap",
        seed: int = 0,
        prior: float = DEFAULT_PRIOR,
        rule: RemovalRule = "null",
    ) -> pd.DataFrame:
        """Removal effects: the relative drop of the conversion rate (and value).

        Parameters
        ----------
        by
            ``"channel"`` (every channel), ``"team"`` (each team's channels
            removed at once), ``"group"`` (any named groups of channels,
            possibly overlapping) or ``"sequence"`` (one state, a tuple of k
            channels at order k, removed: transitions into it go to NULL).
        teams
            Channel → team, with ``by="team"`` (dict or DataFrame).
        groups
            ``{name: [channel, ...]}``, with ``by="group"``.
        sequences
            With ``by="sequence"``: states as ``"a > b"`` strings or
            ``("a", "b")`` tuples.
        progress
            ``True`` prints ``removal effects: done/total`` to stderr after
            each step (a batch of removals solved together, or on two or more
            threads its conversions or its values, or one removal);
            a callable gets ``(done, total)`` instead (it may raise to stop).
        ci
            With a level such as ``0.95``: every figure gets a ``_lower`` and
            an ``_upper`` column, the percentile interval of ``n_boot``
            replicates (docs/uncertainty.md). ``progress`` then reports the
            replicates.
        n_boot
            Replicates drawn for ``ci`` (at least 2).
        uncertainty
            ``"bootstrap"`` resamples the journeys the model was fitted on
            (by customer for journeys from events); ``"bayes"`` draws every
            transition row from its Dirichlet posterior (counts alone suffice).
        seed
            Seed of the replicates: the same seed gives the same intervals
            whatever the number of threads.
        prior
            The Dirichlet prior per observed transition of ``"bayes"``.
        rule
            ``"null"`` (the default, ChannelAttribution's): transitions into a
            removed state go to NULL. ``"skip"``: the walk goes on where it
            would first leave the removed states, so only the conversions of
            journeys whose every touch is removed are lost (see
            ``docs/markov.md``, "Removal rules").

        Returns
        -------
        DataFrame
            The key (``channel``, ``team``, ``group`` or ``sequence``),
            ``removal_effect`` and ``value_removal_effect`` (the same for the
            expected value, ChannelAttribution's value model).

        Raises
        ------
        UnknownChannelError
            For a channel or sequence the model does not know.
        """
        check_rule(rule)
        model = self._fitted
        request = interval_request(ci, n_boot, uncertainty, seed, prior)
        if request is not None:
            names, players = self._interval_groups(by, teams, groups)
            frame = self.removal_effects(by, teams=teams, groups=groups, rule=rule)
            table = markov_replicates(self, request, "removal", names, players, progress, rule)
            return with_bounds(
                frame, ["removal_effect", "value_removal_effect"], table, request.level
            )
        conv: list[float] = []
        value: list[float] = []
        if by == "channel" and rule == "null":
            conv_arr, value_arr = _core.removal_effects(model, progress_callback(progress))
            keys: list[str] = self.channels_
            conv, value = conv_arr.tolist(), value_arr.tolist()
        elif by == "sequence":
            keys, states = self._sequence_states(sequences)
            conv_arr, value_arr = _core.rule_state_removal_effects(
                model, states, rule, progress_callback(progress)
            )
            conv, value = conv_arr.tolist(), value_arr.tolist()
        else:
            keys, members = self._groups(by, teams, groups)
            # An empty group (a team with no channel in the data) gets zero from the core.
            conv_arr, value_arr = _core.rule_group_removal_effects(
                model, members, rule, progress_callback(progress)
            )
            conv, value = conv_arr.tolist(), value_arr.tolist()
        return pd.DataFrame({by: keys, "removal_effect": conv, "value_removal_effect": value})

    def attribution(
        self,
        by: By | Literal["sequence"] = "channel",
        teams: Mapping[str, str] | Any | None = None,
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        sequences: Sequence[str | Sequence[str]] | None = None,
        progress: Progress = None,
        ci: float | None = None,
        n_boot: int = DEFAULT_REPLICATES,
        uncertainty: Uncertainty = "bootstrap",
        seed: int = 0,
        prior: float = DEFAULT_PRIOR,
        level: Literal["total", "journey"] = "total",
        journeys: Journeys | None = None,
        threads: int | None = None,
        rule: RemovalRule = "null",
    ) -> pd.DataFrame:
        """Conversions and value attributed by removal effect.

        ``A(c) = RE(c) / sum_d RE(d) * total conversions``, and likewise for
        value with the value removal effects.

        Parameters
        ----------
        by
            ``"channel"``; ``"team"`` to remove each team's channels at
            once (a team's effect is not the sum of its channels');
            ``"group"`` for any named groups of channels; or ``"sequence"``
            for the given states (k-tuples of channels at order k), each
            removed on its own. Sequences overlap, so the totals are shared
            among the sequences given.
        teams
            With ``by="team"``: channel → team, a dict or a DataFrame with
            columns ``channel`` and ``team``. Channels not in it count as
            ``"unassigned"`` (with a warning); teams with no channel in the
            data get a zero row.
        groups
            With ``by="group"``: ``{name: [channel, ...]}``.
        sequences
            With ``by="sequence"``: states as ``"a > b"`` strings or
            ``("a", "b")`` tuples.
        progress
            As in :meth:`removal_effects`: ``True`` prints the steps of the
            removal effects to stderr, a callable gets ``(done, total)``.
        ci
            With a level such as ``0.95``: every figure gets a ``_lower`` and
            an ``_upper`` column, the percentile interval of ``n_boot``
            replicates (docs/uncertainty.md): the interval of each share of
            the replicate's totals, times the observed totals. ``progress`` then reports the
            replicates.
        n_boot
            Replicates drawn for ``ci`` (at least 2).
        uncertainty
            ``"bootstrap"`` resamples the journeys the model was fitted on
            (by customer for journeys from events); ``"bayes"`` draws every
            transition row from its Dirichlet posterior (counts alone suffice).
        seed
            Seed of the replicates: the same seed gives the same intervals
            whatever the number of threads.
        prior
            The Dirichlet prior per observed transition of ``"bayes"``.
        level
            ``"total"`` (the default) or ``"journey"``: each journey's
            conversions and value split between the channels (or teams) it
            touched in proportion to their removal effects (``by`` is
            ``"channel"`` or ``"team"``; see ``docs/credit.md``).
        journeys
            With ``level="journey"``: the journeys to credit (default: those
            the model was fitted on, kept while the model lives; a loaded
            model needs them).
        threads
            Threads of the per-journey credit (None: the library's setting).
        rule
            The removal rule, ``"null"`` (the default) or ``"skip"``, as in
            :meth:`removal_effects`.

        Returns
        -------
        DataFrame
            ``channel`` (or ``team``, ``group``, ``sequence``), ``conversions``, ``value``,
            ``share`` (of conversions). Conversions sum to the total
            conversions and value to the total value. With
            ``level="journey"``: ``journey``, ``customer`` (journeys built
            from events), ``path``, ``channel`` (or ``team``),
            ``conversions``, ``value``, one row per journey with conversions
            or value and channel it touched.

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
        ...                            nulls=[1, 2, 0])
        >>> model = jl.MarkovModel().fit(j)
        >>> model.attribution(level="journey").round(6)
           journey   path channel  conversions  value
        0        0  a > b       a     0.714286    0.0
        1        0  a > b       b     0.285714    0.0
        2        2  a > c       a     1.111111    0.0
        3        2  a > c       c     0.888889    0.0
        """
        check_rule(rule)
        model = self._fitted
        request = interval_request(ci, n_boot, uncertainty, seed, prior)
        if request is not None:
            if level != "total":
                msg = (
                    "ci: intervals are given for the total credit (level='total'); per-journey "
                    "credit divides each journey's own conversions, which are observed"
                )
                raise InvalidInputError(msg)
            keys, members = self._interval_groups(by, teams, groups)
            frame = self.attribution(by, teams, groups=groups, rule=rule)
            table = markov_replicates(self, request, "attribution", keys, members, progress, rule)
            return with_bounds(frame, ["conversions", "value"], table, request.level)
        callback = progress_callback(progress)
        # -- credit --
        if level == "journey":
            return _credit.model_journey_credit(self, journeys, by, teams, callback, threads)
        if level != "total":
            msg = f'level must be "total" or "journey", got {level!r}'
            raise InvalidInputError(msg)
        if by == "sequence":
            _, states = self._sequence_states(sequences)
            return attribution_frame(
                _core.rule_state_markov_attribution(model, states, rule, callback),
                "sequence",
                totals=self._attribution_totals(),
            )
        if by == "channel" and rule == "null":
            return attribution_frame(
                _core.markov_attribution(model, progress=callback),
                "channel",
                totals=self._attribution_totals(),
            )
        names, members = self._groups(by, teams, groups)
        return attribution_frame(
            _core.rule_group_markov_attribution(model, names, members, rule, callback),
            by,
            totals=self._attribution_totals(),
        )

    def _attribution_totals(self) -> tuple[float, float]:
        counts = self._fitted.counts
        return counts.total_conversions, counts.total_value

    # -- intervals --

    def _interval_groups(
        self,
        by: str,
        teams: Mapping[str, str] | Any | None,
        groups: Mapping[str, Sequence[str]] | None,
    ) -> tuple[list[str], list[list[int]]]:
        """The names and channel ids whose figures get intervals."""
        if by == "sequence":
            msg = (
                "ci: intervals are given by channel, team or group; sequences (states) are not "
                "shared by the replicates, whose states differ"
            )
            raise InvalidInputError(msg)
        if by == "channel":
            return list(self.channels_), [[c] for c in range(len(self.channels_))]
        return self._groups(by, teams, groups)

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
        """The conversion rate and the value per journey, with intervals when ``ci`` is given.

        Parameters are those of :meth:`attribution`'s intervals.

        Returns
        -------
        DataFrame
            ``figure``, ``estimate`` and, with ``ci``, ``estimate_lower`` and
            ``estimate_upper``.

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[30, 0, 20],
        ...                            nulls=[30, 20, 0])
        >>> f = jl.MarkovModel().fit(j).figures(ci=0.9, n_boot=200)
        >>> f["figure"].tolist(), f["estimate"].tolist()
        (['conversion_rate', 'value_per_journey'], [0.5, 0.0])
        >>> bool(f["estimate_lower"][0] < 0.5 < f["estimate_upper"][0])
        True
        """
        m = self._fitted
        return figures_frame(
            self,
            {"conversion_rate": m.conversion_rate, "value_per_journey": m.value_per_journey},
            interval_request(ci, n_boot, uncertainty, seed, prior),
            progress,
        )

    # -- scen --

    def apply(self, scenario: Scenario, *, teams: Mapping[str, str] | Any = None) -> MarkovModel:
        """The model changed by a what-if ``scenario``, solved exactly.

        A new fitted :class:`MarkovModel` whose counts are the expected counts
        of the same journeys under the changed chain (without smoothing), so
        that every method works on it. ``teams`` (channel -> team; default
        :attr:`teams_`) lets ``remove`` take team names. See docs/scenarios.md.

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
        ...                            nulls=[1, 2, 0])
        >>> model = jl.MarkovModel().fit(j)
        >>> round(model.apply(jl.Scenario().scale("a", "c", 1.5)).conversion_rate_, 12)
        0.625
        """
        return _scenario.apply(self, scenario, teams)  # type: ignore[no-any-return]

    def sensitivities(self, top: int | None = 20) -> pd.DataFrame:
        """The derivative of the conversion probability with respect to every
        transition probability (the rest of the row renormalised), largest
        first: ``from``, ``to``, ``probability``, ``sensitivity`` and
        ``elasticity`` (sensitivity * probability / conversion probability).
        ``top`` rows (None: all). See docs/scenarios.md for the formula.

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
        ...                            nulls=[1, 2, 0])
        >>> s = jl.MarkovModel().fit(j).sensitivities(top=1)
        >>> s[["from", "to"]].values.tolist(), round(float(s["sensitivity"].iloc[0]), 12)
        ([['b', 'CONVERSION']], 0.666666666667)
        """
        return _scenario.sensitivities(self, top)

    def summary(self) -> str:
        """The headline numbers as text (also printed)."""
        m = self._fitted
        lines = [
            f"Markov model, order {self.order}: {self.n_states_:,} states, "
            f"{len(self.channels_)} channels",
            f"  conversion rate                   {m.conversion_rate:.6g}",
            f"  value per journey                 {m.value_per_journey:.6g}",
            f"  expected touches                  {m.expected_touches:.6g}",
            f"  expected touches (converting)     {m.expected_touches_converting:.6g}",
        ]
        text = "\n".join(lines)
        print(text)
        return text

    def _headline(self) -> list[tuple[str, float]]:
        m = self._fitted
        return [
            ("conversion rate", float(m.conversion_rate)),
            ("value per journey", float(m.value_per_journey)),
            ("expected touches", float(m.expected_touches)),
            ("expected touches (converting)", float(m.expected_touches_converting)),
        ]

    def _fitted_figures(self) -> str:
        return f"{self.n_states_} states, conversion rate {self.conversion_rate_:.6g}"
