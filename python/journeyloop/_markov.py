"""The Markov model: exact absorbing-chain attribution."""

from __future__ import annotations

import numbers
import operator
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _core
from ._counts import DEFAULT_MAX_STATES, TransitionCounts, check_order
from ._errors import InvalidInputError, NotFittedError, UnknownChannelError
from ._journeys import Histories, Journeys
from ._teams import team_of_channels

__all__ = ["MarkovModel", "attribution_frame"]

By = Literal["channel", "team", "group"]
#: ``True`` (print the steps to stderr), a callable ``(done, total)``, or None.
Progress = bool | Callable[[int, int], object] | None


def progress_callback(progress: Progress) -> Callable[[int, int], object] | None:
    """The callable the core calls after each step of the removal effects."""
    if progress is None or progress is False:
        return None
    if progress is True:

        def show(done: int, total: int) -> None:
            end = "\n" if done == total else ""
            print(f"\rremoval effects: {done}/{total}", end=end, file=sys.stderr, flush=True)

        return show
    if callable(progress):
        return progress
    msg = f"progress must be True, False, None or a callable (done, total), got {progress!r}"
    raise InvalidInputError(msg)


def whole_number(value: object, name: str, minimum: int, maximum: int = 2**63 - 1) -> int:
    """``value`` (an int or a NumPy integer) if it is an integer in [minimum, maximum];
    InvalidInputError naming ``name`` otherwise."""
    bounds = f">= {minimum}" if maximum == 2**63 - 1 else f"in [{minimum:,}, {maximum:,}]"
    msg = f"{name} must be an integer {bounds}, got {value!r}"
    if isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(msg)
    try:
        n = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidInputError(msg) from None
    if not minimum <= n <= maximum:
        raise InvalidInputError(msg)
    return n


def real_number(value: object, name: str) -> float:
    """``value`` as a float if it is a finite real number >= 0 (Python or NumPy);
    InvalidInputError otherwise."""
    msg = f"{name} must be a finite number >= 0, got {value!r}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidInputError(msg)
    try:
        x = float(value)
    except OverflowError:
        raise InvalidInputError(msg) from None
    if not 0 <= x < float("inf"):
        raise InvalidInputError(msg)
    return x


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
    probabilities are maximum-likelihood estimates (optionally smoothed);
    the conversion rate, removal effects, expected visits and touches come
    from exact linear solves, not simulation.

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
        self,
        order: int = 1,
        *,
        collapse_repeats: bool = True,
        padded: bool = False,
        smoothing: float = 0.0,
        max_states: int = DEFAULT_MAX_STATES,
    ) -> None:
        self.order = check_order(order)
        self.collapse_repeats = collapse_repeats
        self.padded = padded
        self.smoothing = real_number(smoothing, "smoothing")
        self.max_states = whole_number(max_states, "max_states", 1)
        self._model: _core.markov_model | None = None
        #: Channel -> team of the journeys it was fitted on (their metadata),
        #: used by ``by="team"`` when no ``teams=`` is given.
        self.teams_: dict[str, str] | None = None
        #: Channel -> stage of the journeys it was fitted on (their metadata).
        self.stages_: dict[str, str] | None = None
        self._loop: _core.loop_model | None = None

    # -- fitting and persistence ------------------------------------------

    def fit(self, data: Journeys | Histories | TransitionCounts) -> MarkovModel:
        """Counts the transitions of ``data`` (or takes its counts) and solves the chain.

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
        elif isinstance(data, Histories):
            if self.padded:
                msg = "the loop model has no padded form"
                raise InvalidInputError(msg)
            loop_counts = _core.count_loop_transitions(
                data._set, self.order, self.collapse_repeats, self.max_states
            )
            self._loop = _core.fit_loop(loop_counts, float(self.smoothing))
            self._model = None
            self.teams_ = data.teams
            self.stages_ = data.stages
            return self
        elif isinstance(data, Journeys):
            counts = TransitionCounts.from_journeys(
                data,
                self.order,
                collapse_repeats=self.collapse_repeats,
                padded=self.padded,
                max_states=self.max_states,
            )
            self.teams_ = data.teams
            self.stages_ = data.stages
            # These counts are this call's own: they move into the model
            # (no second copy of every transition while it is fitted).
            self._model = _core.fit_markov_taking(counts._counts, float(self.smoothing))
            self._loop = None
            return self
        else:
            msg = f"fit expects Journeys, Histories or TransitionCounts, got {type(data).__name__}"
            raise InvalidInputError(msg)
        self._model = _core.fit_markov(counts._counts, float(self.smoothing))
        self._loop = None
        return self

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
        for key in ("teams", "stages"):
            pairs = metadata.get(key)
            setattr(out, key + "_", None if pairs is None else dict(pairs))
        return out

    def to_bytes(self) -> bytes:
        """The fitted model in journeyloop's versioned, checksummed file format.

        The file holds the counts and options, and also ``max_states`` and the
        channel metadata (``teams_``, ``stages_``), so that :meth:`from_bytes`
        gives back the same model.
        """
        fitted = self._fitted

        def pairs(mapping: dict[str, str] | None) -> list[tuple[str, str]] | None:
            return None if mapping is None else [(str(k), str(v)) for k, v in mapping.items()]

        return bytes(
            fitted.to_bytes(
                teams=pairs(getattr(self, "teams_", None)),
                stages=pairs(getattr(self, "stages_", None)),
                max_states=int(self.max_states),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> MarkovModel:
        """A model from :meth:`to_bytes`, validated and solved again.

        Raises
        ------
        InvalidInputError
            If the bytes are not a journeyloop model file, or are damaged or
            inconsistent (the message says what is wrong).
        """
        model, metadata = _core.markov_model.from_bytes_with_metadata(bytes(data))
        return cls._from_core(model, metadata)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the fitted model to a file (as :meth:`to_bytes`)."""
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MarkovModel:
        """Reads a model written by :meth:`save`; a damaged file raises InvalidInputError."""
        return cls.from_bytes(Path(path).read_bytes())

    def __getstate__(self) -> dict[str, Any]:
        if getattr(self, "_loop", None) is not None:
            msg = "a loop model cannot be pickled or saved yet; keep its histories and refit"
            raise TypeError(msg)
        state = dict(self.__dict__)
        state["_model"] = None if self._model is None else self.to_bytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        blob = state.pop("_model")
        self.__dict__.update(state)
        self._model = None if blob is None else _core.markov_model.from_bytes(blob)
        self._loop = None

    # -- fitted quantities ------------------------------------------------

    @property
    def _fitted(self) -> _core.markov_model:
        if getattr(self, "_loop", None) is not None:
            msg = (
                "this model was fitted on loop-form histories: use expected_purchases_, "
                "expected_value_, repeat_probability_, removal_effects(), attribution() "
                "and summary()"
            )
            raise InvalidInputError(msg)
        if self._model is None:
            msg = "this MarkovModel is not fitted yet: call fit(journeys) first"
            raise NotFittedError(msg)
        return self._model

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

    @property
    def channels_(self) -> list[str]:
        """Channels of the fitted model."""
        return list(self._fitted.counts.channels)

    @property
    def n_states_(self) -> int:
        """Number of states, START, CONVERSION and NULL included."""
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

    # -- removal effects and attribution ----------------------------------

    def _channel_names(self) -> list[str]:
        if getattr(self, "_loop", None) is not None:
            assert self._loop is not None
            return list(self._loop.first.counts.channels)
        return self.channels_

    def _channel_ids(self, names: Iterable[str], group: str) -> list[int]:
        index = {c: i for i, c in enumerate(self._channel_names())}
        ids = []
        for name in names:
            if name not in index:
                msg = f"unknown channel {name!r} in group {group!r}"
                raise UnknownChannelError(msg)
            ids.append(index[name])
        return ids

    def _groups(
        self,
        by: By,
        teams: Mapping[str, str] | Any | None,
        groups: Mapping[str, Sequence[str]] | None,
    ) -> tuple[list[str], list[list[int]]]:
        if by == "team":
            teams = teams if teams is not None else getattr(self, "teams_", None)
            if teams is None:
                msg = (
                    'by="team" needs teams={channel: team, ...} (or journeys with channel metadata)'
                )
                raise InvalidInputError(msg)
            group_of, extra = team_of_channels(self._channel_names(), teams)
            members_of: dict[str, list[int]] = {g: [] for g in [*group_of, *extra]}
            for i, g in enumerate(group_of):
                members_of[g].append(i)
            return list(members_of), list(members_of.values())
        if by == "group":
            if not groups:
                msg = 'by="group" needs groups={name: [channel, ...], ...}'
                raise InvalidInputError(msg)
            if isinstance(groups, Mapping):
                for g, m in groups.items():
                    if isinstance(m, (str, bytes)):
                        msg = f"group {g!r}: its channels must be a list, got the string {m!r}"
                        raise InvalidInputError(msg)
                return list(groups), [self._channel_ids(m, g) for g, m in groups.items()]
            msg = "groups must be a dict {name: [channel, ...]}"
            raise InvalidInputError(msg)
        msg = f'by must be "channel", "team" or "group", got {by!r}'
        raise InvalidInputError(msg)

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
            if label not in index or index[label] < 3:
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
        if self._loop is not None:
            return self._loop_effects(by, teams, groups)
        model = self._fitted
        conv: list[float] = []
        value: list[float] = []
        if by == "channel":
            conv_arr, value_arr = _core.removal_effects(model, progress_callback(progress))
            keys: list[str] = self.channels_
            conv, value = conv_arr.tolist(), value_arr.tolist()
        elif by == "sequence":
            keys, states = self._sequence_states(sequences)
            conv_arr, value_arr = _core.state_removal_effects(
                model, states, progress_callback(progress)
            )
            conv, value = conv_arr.tolist(), value_arr.tolist()
        else:
            keys, members = self._groups(by, teams, groups)
            # The groups with channels are solved together; an empty group removes nothing.
            solved = [m for m in members if m]
            conv_arr, value_arr = _core.group_removal_effects(
                model, solved, progress_callback(progress)
            )
            it = iter(zip(conv_arr.tolist(), value_arr.tolist(), strict=True))
            effects = [next(it) if m else (0.0, 0.0) for m in members]
            conv = [e[0] for e in effects]
            value = [e[1] for e in effects]
        return pd.DataFrame({by: keys, "removal_effect": conv, "value_removal_effect": value})

    def attribution(
        self,
        by: By | Literal["sequence"] = "channel",
        teams: Mapping[str, str] | Any | None = None,
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        sequences: Sequence[str | Sequence[str]] | None = None,
        progress: Progress = None,
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

        Returns
        -------
        DataFrame
            ``channel`` (or ``team``, ``group``, ``sequence``), ``conversions``, ``value``,
            ``share`` (of conversions). Conversions sum to the total
            conversions and value to the total value.
        """
        if self._loop is not None:
            if by == "sequence":
                msg = 'the loop model attributes by "channel", "team" or "group", not "sequence"'
                raise InvalidInputError(msg)
            return self._loop_attribution(by, teams, groups)
        model = self._fitted
        callback = progress_callback(progress)
        if by == "sequence":
            _, states = self._sequence_states(sequences)
            return attribution_frame(
                _core.state_markov_attribution(model, states, callback), "sequence"
            )
        if by == "channel":
            return attribution_frame(_core.markov_attribution(model, progress=callback), "channel")
        names, members = self._groups(by, teams, groups)
        return attribution_frame(
            _core.group_markov_attribution(model, names, members, callback), by
        )

    def shapley(
        self,
        by: By = "channel",
        teams: Mapping[str, str] | Any | None = None,
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
    ) -> pd.DataFrame:
        """Exact Shapley attribution of conversions and value.

        Players are channels, teams (``by="team"``) or named groups of
        channels (``by="group"``, not overlapping). The value of a coalition
        is the conversion probability (and expected value) of the model with
        every other player's channels removed; every coalition is enumerated,
        so at most 16 players. The Shapley values are scaled to the total
        conversions and value.

        Returns
        -------
        DataFrame
            As :meth:`attribution`: key, ``conversions``, ``value``, ``share``.
        """
        model = self._fitted
        if by == "channel":
            names = self.channels_
            players = [[i] for i in range(len(names))]
        else:
            names, players = self._groups(by, teams, groups)
        return attribution_frame(_core.shapley_attribution(model, names, players), by)

    # -- the loop model -------------------------------------------------------

    @property
    def _loop_fit(self) -> _core.loop_model:
        if self._loop is None:
            if self._model is None:
                msg = "this MarkovModel is not fitted yet: call fit(histories) first"
                raise NotFittedError(msg)
            msg = (
                "this model was fitted on funnel journeys; the loop quantities need loop-form "
                'histories (Journeys.from_events(..., form="loop") or from_paths(..., '
                'form="loop"))'
            )
            raise InvalidInputError(msg)
        return self._loop

    @property
    def is_loop_(self) -> bool:
        """Whether the model was fitted on loop-form histories."""
        return self._loop is not None

    def _loop_figure(self, name: str) -> float:
        return float(_core.loop_summary(self._loop_fit)[name])

    @property
    def expected_purchases_(self) -> float:
        """Loop model: expected purchases per customer, ``F[START, PURCHASE]``."""
        return self._loop_figure("expected_purchases")

    @property
    def expected_value_(self) -> float:
        """Loop model: expected purchase value per customer."""
        return self._loop_figure("expected_value")

    @property
    def first_purchase_probability_(self) -> float:
        """Loop model: probability that a customer purchases at least once."""
        return self._loop_figure("first_purchase_probability")

    @property
    def repeat_probability_(self) -> float:
        """Loop model: probability of another purchase after a purchase."""
        return self._loop_figure("repeat_probability")

    @property
    def touches_to_first_purchase_(self) -> float:
        """Loop model: expected touches before the first purchase, for buyers."""
        return self._loop_figure("touches_to_first_purchase")

    @property
    def touches_between_purchases_(self) -> float:
        """Loop model: expected touches between a purchase and the next one."""
        return self._loop_figure("touches_between_purchases")

    def loyalty_loop_rate(
        self, stages: Mapping[str, str] | None = None, *, evaluation: str = "evaluation"
    ) -> float:
        """Loop model: probability of purchasing again after a purchase without
        touching an evaluation-stage channel in between.

        ``stages`` maps channel -> stage (default: the histories' channel
        metadata); channels of stage ``evaluation`` are the ones avoided.
        """
        stages = stages if stages is not None else self.stages_
        if stages is None:
            msg = "the loyalty-loop rate needs channel stages (stages= or channel metadata)"
            raise InvalidInputError(msg)
        names = self._channel_names()
        avoided = [i for i, c in enumerate(names) if stages.get(c) == evaluation]
        return float(_core.loyalty_loop_rate(self._loop_fit, avoided))

    def _loop_groups(
        self,
        by: str,
        teams: Mapping[str, str] | Any | None,
        groups: Mapping[str, Sequence[str]] | None,
    ) -> tuple[list[str], list[list[int]]]:
        if by == "channel":
            names = self._channel_names()
            return names, [[i] for i in range(len(names))]
        if by in ("team", "group"):
            return self._groups(by, teams, groups)  # type: ignore[arg-type]
        msg = f'by must be "channel", "team" or "group" for a loop model, got {by!r}'
        raise InvalidInputError(msg)

    def _loop_effects(
        self,
        by: str,
        teams: Mapping[str, str] | Any | None,
        groups: Mapping[str, Sequence[str]] | None,
    ) -> pd.DataFrame:
        keys, members = self._loop_groups(by, teams, groups)
        e = _core.loop_removal_effects(self._loop_fit, members)
        return pd.DataFrame(
            {
                by: keys,
                "removal_effect": e["purchases"],
                "value_removal_effect": e["value"],
                "first_purchase_removal_effect": e["first_purchases"],
                "repeat_purchase_removal_effect": e["repeat_purchases"],
            }
        )

    def _loop_attribution(
        self,
        by: str,
        teams: Mapping[str, str] | Any | None,
        groups: Mapping[str, Sequence[str]] | None,
    ) -> pd.DataFrame:
        effects = self._loop_effects(by, teams, groups)
        loop = self._loop_fit

        def share_out(column: str, total: float) -> Any:
            re = effects[column].to_numpy()
            return re / re.sum() * total if re.sum() > 0 else re * 0.0

        purchases = share_out("removal_effect", loop.purchases)
        out = pd.DataFrame(
            {
                by: effects[by],
                "purchases": purchases,
                "value": share_out("value_removal_effect", loop.value),
                "share": purchases / loop.purchases if loop.purchases > 0 else purchases * 0.0,
                "first_purchases": share_out("first_purchase_removal_effect", loop.buyers),
                "repeat_purchases": share_out(
                    "repeat_purchase_removal_effect", loop.repeat_purchases
                ),
            }
        )
        return out

    def summary(self) -> str:
        """The headline numbers as text (also printed)."""
        if self._loop is not None:
            s = _core.loop_summary(self._loop)
            loop = self._loop
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
        else:
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

    # -- the journey graph --------------------------------------------------

    def to_dot(self, path: str | os.PathLike[str] | None = None) -> str:
        """The journey graph in Graphviz DOT (written to ``path`` if given)."""
        text = str(_core.to_dot(self._fitted))
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_graphml(self, path: str | os.PathLike[str] | None = None) -> str:
        """The journey graph in GraphML (written to ``path`` if given)."""
        text = str(_core.to_graphml(self._fitted))
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_networkx(self) -> Any:
        """The journey graph as a ``networkx.DiGraph`` (networkx must be installed).

        Nodes are state labels with ``conversion_probability`` and
        ``expected_visits``; edges carry ``count`` and ``probability``.
        """
        try:
            import networkx as nx
        except ImportError as err:  # pragma: no cover - depends on the environment
            msg = "to_networkx needs networkx: pip install networkx"
            raise ImportError(msg) from err
        g = nx.DiGraph()
        for row in self.states().itertuples(index=False):
            g.add_node(
                row.state,
                conversion_probability=row.conversion_probability,
                expected_visits=row.expected_visits,
            )
        for src, dst, count, prob in self.transition_matrix().itertuples(index=False):
            g.add_edge(src, dst, count=count, probability=prob)
        return g

    def loops(self) -> list[list[str]]:
        """The loops of the journey: cyclic strongly connected components, largest first."""
        labels = self._labels()
        return [[labels[s] for s in comp] for comp in _core.journey_loops(self._fitted)]

    def top_paths(
        self, n: int = 10, *, max_length: int = 64, max_expanded: int = 2_000_000
    ) -> pd.DataFrame:
        """The ``n`` most probable complete paths START → … → CONVERSION.

        A best-first search over walks (the k shortest paths on ``-log p``);
        walks may repeat states.

        Parameters
        ----------
        n
            How many paths.
        max_length
            The longest walk, in transitions.
        max_expanded
            The search stops after expanding this many walks (its memory
            grows with them). If it stops before finding ``n`` paths, it
            returns those it found and warns (``RuntimeWarning``).

        Returns
        -------
        DataFrame
            ``path`` (the states between START and CONVERSION joined by
            ``" > "``; at order k > 1 each state is a tuple in brackets),
            ``probability`` and ``length`` (number of states), most probable
            first.
        """
        whole_number(n, "n", 1)
        whole_number(max_length, "max_length", 1)
        whole_number(max_expanded, "max_expanded", 1)
        labels = self._labels()
        rows = []
        paths, stopped = _core.top_paths(self._fitted, n, max_length, max_expanded)
        if stopped:
            warnings.warn(
                f"top_paths stopped after expanding {max_expanded:,} walks, with {len(paths)} "
                f"of the {n} paths asked for (most walks end in NULL; raise max_expanded)",
                RuntimeWarning,
                stacklevel=2,
            )
        for states, prob in paths:
            inner = [labels[s] for s in states[1:-1]]
            shown = inner if self.order == 1 else [f"({s})" for s in inner]
            rows.append((" > ".join(shown), prob, len(inner)))
        return pd.DataFrame(rows, columns=["path", "probability", "length"])

    def __repr__(self) -> str:
        state = (
            f", fitted: {self.n_states_} states, conversion rate {self.conversion_rate_:.6g}"
            if self._model is not None
            else ""
        )
        return f"MarkovModel(order={self.order}{state})"
