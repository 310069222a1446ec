"""What the funnel and loop models share: the fitted chain's introspection,
written once for both forms."""

from __future__ import annotations

import numbers
import operator
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _core
from ._counts import DEFAULT_MAX_STATES, check_order
from ._errors import (
    DataWarning,
    InvalidInputError,
    NotApplicableError,
    NotFittedError,
    UnknownChannelError,
    file_bytes,
    flag,
    outside_frames,
)
from ._files import write_atomically
from ._teams import given_teams, team_of_channels

__all__ = [
    "By",
    "ModelBase",
    "Progress",
    "attribution_frame",
    "progress_callback",
    "real_number",
    "whole_number",
]

By = Literal["channel", "team", "group"]
#: ``True`` (print the steps to stderr), a callable ``(done, total)``, or None.
Progress = bool | Callable[[int, int], object] | None

Model = TypeVar("Model", bound="ModelBase")


def progress_callback(
    progress: Progress, what: str = "removal effects"
) -> Callable[[int, int], object] | None:
    """The callable the core calls after each step of ``what`` (the removal
    effects, or the blocks of walks of a simulation). ``True`` draws a tqdm bar
    when tqdm is installed (``pip install journeyloop[progress]``), else prints
    ``what: done/total`` to stderr."""
    if progress is None or progress is False:
        return None
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bars: list[Any] = []

            def advance(done: int, total: int) -> None:
                if not bars:
                    bars.append(tqdm(total=total, desc=what, leave=False))
                bar = bars[0]
                bar.update(done - bar.n)
                if done == total:
                    bar.close()

            return advance

        def show(done: int, total: int) -> None:
            end = "\n" if done == total else ""
            print(f"\r{what}: {done}/{total}", end=end, file=sys.stderr, flush=True)

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


def attribution_frame(
    a: _core.attribution,
    key: str,
    count: str = "conversions",
    totals: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """An attribution as a DataFrame: key, conversions (or ``count``), value, share
    (every number from the core). With ``totals`` (the conversions and value
    attributed), a positive total of which nothing could be shared is announced
    (:func:`warn_unshared`)."""
    if totals is not None:
        warn_unshared(key, [(count, a.conversions, totals[0]), ("value", a.value, totals[1])])
    return pd.DataFrame({key: a.names, count: a.conversions, "value": a.value, "share": a.shares})


def warn_unshared(key: str, columns: Sequence[tuple[str, npt.ArrayLike, float]]) -> None:
    """One :class:`DataWarning` naming each column whose total is positive but
    whose credits are all zero: no key's removal changes it, so nothing of it
    could be shared out (in the loop model, repeat purchases all made with no
    touch since the last purchase; in any model, a total too small against the
    counts for its probabilities to be represented)."""
    lost = [
        f"{name} {total:,.6g}"
        for name, credits, total in columns
        if total > 0 and not np.any(credits)
    ]
    if lost:
        warnings.warn(
            f"no {key} changes these totals when removed, so none of them is attributed: "
            + ", ".join(lost)
            + " (repeat purchases all made with no touch since the last purchase, or figures"
            " too small against the counts to be represented)",
            DataWarning,
            stacklevel=outside_frames(),
        )


def _pairs(mapping: Mapping[str, str] | None) -> list[tuple[str, str]] | None:
    return None if mapping is None else [(str(k), str(v)) for k, v in mapping.items()]


class ModelBase:
    """The introspection the funnel model (:class:`MarkovModel`) and the loop
    model (:class:`LoopModel`) share: states, transitions, graph exports, loops,
    top paths, Shapley, saving and pickling.

    A figure of the other form raises :class:`NotApplicableError`, an
    ``AttributeError``: ``hasattr`` is False for it and ``dir`` does not list it.
    """

    #: The model's form: True for the loop model (:class:`LoopModel`, fitted on
    #: loop-form histories), False for the funnel model (:class:`MarkovModel`).
    #: Each model class states its own; nothing switches on it.
    is_loop_: ClassVar[bool] = False
    #: Name -> message of the other form's figures.
    _NOT_APPLICABLE: ClassVar[Mapping[str, str]] = {}
    #: The absorbing outcome the paths of top_paths() end in.
    _GOAL: ClassVar[str] = ""
    #: The column of attributed counts ("conversions" or "purchases").
    _COUNT: ClassVar[str] = "conversions"

    def __init__(
        self,
        order: int = 1,
        *,
        collapse_repeats: bool = True,
        smoothing: float = 0.0,
        max_states: int = DEFAULT_MAX_STATES,
    ) -> None:
        self.order = check_order(order)
        self.collapse_repeats = flag(collapse_repeats, "collapse_repeats")
        self.smoothing = real_number(smoothing, "smoothing")
        self.max_states = whole_number(max_states, "max_states", 1)
        self._model: Any = None
        #: Channel -> team of the journeys it was fitted on (their metadata),
        #: used by ``by="team"`` when no ``teams=`` is given.
        self.teams_: dict[str, str] | None = None
        #: Channel -> stage of the journeys it was fitted on (their metadata).
        self.stages_: dict[str, str] | None = None

    # -- the other form's names ---------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Reached when normal lookup fails, also when a property raised an
        # AttributeError (NotFittedError is one): run it again for its error.
        if name in type(self).__dict__ or any(name in c.__dict__ for c in type(self).__mro__):
            return object.__getattribute__(self, name)
        message = type(self)._NOT_APPLICABLE.get(name)
        if message is not None:
            raise NotApplicableError(message)
        msg = f"{type(self).__name__!r} object has no attribute {name!r}"
        raise AttributeError(msg)

    def __dir__(self) -> list[str]:
        return sorted(n for n in super().__dir__() if n not in type(self)._NOT_APPLICABLE)

    # -- the fitted model -----------------------------------------------------

    def _not_fitted_message(self) -> str:
        return f"this {type(self).__name__} is not fitted yet: call fit(data) first"

    @property
    def _fitted(self) -> Any:
        model = self.__dict__.get("_model")
        if model is None:
            raise NotFittedError(self._not_fitted_message())
        return model

    @property
    def channels_(self) -> list[str]:
        """Channels of the fitted model."""
        return list(self._fitted_channels())

    def _fitted_channels(self) -> list[str]:
        raise NotImplementedError

    @property
    def n_states_(self) -> int:
        """Number of states, the start and the absorbing states included."""
        return int(self._fitted_num_states())

    def _fitted_num_states(self) -> int:
        raise NotImplementedError

    def _labels(self) -> list[str]:
        raise NotImplementedError

    def states(self) -> pd.DataFrame:
        """Every state, with the probability of reaching the goal from it and its
        expected visits (see the subclass)."""
        raise NotImplementedError

    def transition_matrix(self) -> pd.DataFrame:
        """Every transition: ``from``, ``to``, ``count``, ``probability``."""
        raise NotImplementedError

    # -- groups of channels ---------------------------------------------------

    def _channel_ids(self, names: Iterable[str], group: str) -> list[int]:
        index = {c: i for i, c in enumerate(self.channels_)}
        ids = []
        for name in names:
            if name not in index:
                msg = f"unknown channel {name!r} in group {group!r}"
                raise UnknownChannelError(msg)
            ids.append(index[name])
        return ids

    def _groups(
        self,
        by: str,
        teams: Mapping[str, str] | Any | None,
        groups: Mapping[str, Sequence[str]] | None,
    ) -> tuple[list[str], list[list[int]]]:
        """Names and channel ids of the players of ``by``: every channel, the teams,
        or the named groups."""
        if by == "channel":
            names = self.channels_
            return names, [[i] for i in range(len(names))]
        if by == "team":
            teams = given_teams(teams, self.teams_)
            group_of, extra = team_of_channels(self.channels_, teams)
            names, members = _core.group_members(group_of, extra)
            return list(names), [list(m) for m in members]
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

    def shapley(
        self,
        by: By = "channel",
        teams: Mapping[str, str] | Any | None = None,
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        # -- shap --
        method: Literal["auto", "exact", "sampled"] = "auto",
        permutations: int = 1000,
        seed: int = 0,
        threads: int | None = None,
        ci: float | None = None,
        n_boot: int = 1000,
        uncertainty: Literal["bootstrap", "bayes"] = "bootstrap",
        prior: float = 0.5,
        progress: Progress = None,
    ) -> pd.DataFrame:
        """Markov Shapley attribution, exact or sampled.

        Players are channels, teams (``by="team"``) or named groups of
        channels (``by="group"``, not overlapping). The value of a coalition
        is the conversion probability (the loop model: the expected purchases
        per customer) and the expected value of the model with every other
        player's channels removed; the loop model also plays the games of the
        first purchases (the probability of a first purchase) and of the
        repeat purchases (the expected purchases after a first one, per
        buyer). Each game's Shapley values are scaled to its total. See
        ``docs/shapley.md``.

        Parameters
        ----------
        by, teams, groups
            The players, as in :meth:`attribution`.
        method
            ``"exact"`` enumerates every coalition (at most
            ``journeyloop._core.max_shapley_players`` players); ``"sampled"``
            averages the marginal contributions over ``permutations``
            orderings of the players, drawn in antithetic pairs (an ordering
            and its reverse); ``"auto"`` (the default) is exact up to
            ``journeyloop._core.auto_exact_players`` players and sampled
            beyond.
        permutations
            Orderings sampled (an even number >= 4).
        seed
            The seed of the orderings: the same seed gives the same values
            whatever ``threads``.
        threads
            Threads of the sampling (None: the library's setting).
        progress
            ``True`` prints the pairs of orderings done to stderr; a callable
            gets ``(done, total)``.
        ci, n_boot, uncertainty, prior
            With ``ci`` (exact values only), ``conversions`` (``purchases``)
            and ``value`` get ``_lower`` and ``_upper`` columns, as in
            :meth:`attribution`; ``seed`` seeds the replicates too, and
            ``progress`` then reports the replicates.

        Returns
        -------
        DataFrame
            The key, ``conversions`` (the loop model: ``purchases``),
            ``value``, ``share``; the loop model adds ``first_purchases`` and
            ``repeat_purchases``. Sampled values add a standard error column
            per figure (``conversions_se``, ``value_se``, ...). ``attrs``
            holds ``method`` (``"exact"`` or ``"sampled"``) and
            ``permutations`` (0 when exact).

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
        ...                            nulls=[1, 2, 0])
        >>> jl.MarkovModel().fit(j).shapley()
          channel  conversions  value  share
        0       a         1.25    0.0  0.416667
        1       b         0.75    0.0  0.250000
        2       c         1.00    0.0  0.333333
        """
        from ._shapley import model_shapley
        from ._uncertainty import interval_request, markov_replicates, with_bounds

        request = interval_request(ci, n_boot, uncertainty, seed, prior)
        frame = model_shapley(
            self,
            by,
            teams,
            groups,
            method=method,
            permutations=permutations,
            seed=seed,
            threads=threads,
            progress=progress if request is None else None,
        )
        if request is None:
            return frame
        if frame.attrs["method"] != "exact":
            msg = (
                "ci: Shapley intervals are given for exact values (method='exact', at most "
                f"{_core.max_shapley_players} players); sampled values carry their own "
                "standard errors (the _se columns)"
            )
            raise InvalidInputError(msg)
        names, players = self._groups(by, teams, groups)
        table = markov_replicates(self, request, "shapley", names, players, progress)
        out = with_bounds(frame, [self._COUNT, "value"], table, request.level)
        out.attrs.update(frame.attrs)
        out.attrs["ci"] = request.level
        return out

    def _attribution_totals(self) -> tuple[float, float]:
        """The conversions (purchases) and value an attribution shares out."""
        raise NotImplementedError

    # -- the journey graph ----------------------------------------------------

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

        Nodes are state labels with the columns of :meth:`states`; edges carry
        ``count`` and ``probability``.
        """
        try:
            import networkx as nx
        except ImportError as err:  # pragma: no cover - depends on the environment
            msg = "to_networkx needs networkx: pip install networkx"
            raise ImportError(msg) from err
        g = nx.DiGraph()
        states = self.states()
        columns = [c for c in states.columns if c != "state"]
        for row in states.itertuples(index=False):
            g.add_node(row.state, **{c: getattr(row, c) for c in columns})
        frame = self.transition_matrix()[["from", "to", "count", "probability"]]
        for src, dst, count, prob in frame.itertuples(index=False):
            g.add_edge(src, dst, count=count, probability=prob)
        return g

    def loops(self) -> list[list[str]]:
        """The loops of the journey: cyclic strongly connected components, largest first."""
        labels = self._labels()
        return [[labels[s] for s in comp] for comp in _core.journey_loops(self._fitted)]

    def top_paths(
        self,
        n: int = 10,
        *,
        max_length: int = _core.top_paths_max_length,
        max_expanded: int = _core.top_paths_max_expanded,
    ) -> pd.DataFrame:
        """The ``n`` most probable complete paths from START to the goal
        (CONVERSION; the loop model: the first PURCHASE).

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
            ``path`` (the states between START and the goal joined by
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
                f"of the {n} paths asked for (most walks never reach {self._GOAL}; raise "
                "max_expanded)",
                RuntimeWarning,
                stacklevel=2,
            )
        for states, prob in paths:
            inner = [labels[s] for s in states[1:-1]]
            shown = inner if self.order == 1 else [f"({s})" for s in inner]
            rows.append((" > ".join(shown), prob, len(inner)))
        return pd.DataFrame(rows, columns=["path", "probability", "length"])

    # -- score --------------------------------------------------------------

    def score(
        self,
        journeys: Any,
        *,
        path: str = "path",
        sep: str = ">",
        unknown: Literal["start", "nan"] = "start",
        purchase: str = "purchase",
        threads: int | None = None,
    ) -> pd.DataFrame:
        """Scores journeys in flight: the exact probability that each open
        journey converts (the loop model: makes its next purchase, first or
        repeat) from the state it has reached, and the expected value.

        The state follows the fitting conventions: the last ``order``
        channels; a journey with fewer touches than the order is scored by
        the chain given its touches so far. A state never reached in fitting
        is backed off to the states ending with its longest known suffix
        (their mean, weighted by their expected visits); a journey whose last
        channel ends no state is scored from START (``unknown="start"``) or
        gets NaN (``unknown="nan"``). Both are counted in
        ``result.attrs["backoff"]`` and announced with a
        :class:`~journeyloop.DataWarning`. See ``docs/scoring.md``.

        Parameters
        ----------
        journeys
            The open journeys: :class:`Journeys` (their outcomes are
            ignored), a list of paths (``"email > demo"`` or lists of
            channels), a pandas Series of paths, or a DataFrame with a
            ``path`` column. The loop model also takes :class:`Histories`;
            in paths, the token ``purchase`` marks a purchase.
        path
            The path column of a DataFrame.
        sep
            Separator between channels in path strings.
        unknown
            What a journey whose last channel the model does not know gets:
            the probability from START (``"start"``) or NaN (``"nan"``).
        purchase
            Loop model: the purchase token of the paths.
        threads
            Threads (None: one per 100,000 journeys, up to the machine's
            or :func:`set_threads`'s number). The result does not depend on it.

        Returns
        -------
        DataFrame
            One row per journey, aligned to the input (a Series keeps its
            index): ``path``, ``state`` (the state scored from: ``"a > b"``;
            ``"a > ..."`` for fewer touches than the order; ``"... > b"``
            when backed off), ``status`` (``exact``, ``backed off``,
            ``unknown``), ``matched`` (channels of the journey's end matched),
            ``probability`` and ``expected_value``. The loop model adds
            ``next`` (``first`` or ``repeat`` purchase), ``expected_purchases``
            and ``future_value`` (every purchase from now on).

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "a > c", "b"], conversions=[1, 0, 1],
        ...                            nulls=[0, 1, 0])
        >>> model = jl.MarkovModel().fit(j)
        >>> model.score(["a", "b"])["probability"].tolist()
        [0.5, 1.0]
        """
        from . import _score

        return _score.score(
            self, journeys, path=path, sep=sep, unknown=unknown, purchase=purchase, threads=threads
        )

    def next_touch(
        self,
        journeys: Any,
        candidates: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        *,
        by: Literal["channel", "team"] = "channel",
        teams: Mapping[str, str] | Any | None = None,
        best: bool = False,
        path: str = "path",
        sep: str = ">",
        unknown: Literal["start", "nan"] = "start",
        purchase: str = "purchase",
        threads: int | None = None,
    ) -> pd.DataFrame:
        """The gain from each candidate next touch of each open journey: the
        probability of converting (the loop model: of the next purchase)
        after one more touch, and its gain over the probability now.

        Parameters
        ----------
        journeys
            The open journeys, as :meth:`score` takes them.
        candidates
            The next touches to weigh: None (every channel of the model), a
            list of channels, or ``{name: [channel, ...]}`` named groups, each
            represented by its best channel (the one that leaves the journey
            with the highest probability).
        by
            ``"team"``: the candidates are teams (``teams=``, or the metadata
            of the journeys fitted), each by its best channel; ``candidates``
            may then list the teams to weigh.
        teams
            Channel -> team, for ``by="team"``.
        best
            Only the best candidate of each journey (the highest probability
            after the touch; the first on ties), found without building the
            table of every journey and candidate. Without it that table is
            checked against the memory limit (:func:`set_memory_limit`)
            before it is built.
        path, sep, unknown, purchase, threads
            As :meth:`score`.

        Returns
        -------
        DataFrame
            One row per journey and candidate (per journey with
            ``best=True``): ``journey`` (the input's row label), ``path``,
            ``candidate``, ``channel`` (for teams and groups: the best
            channel), ``current`` (the probability now), ``probability``,
            ``gain``, ``expected_value``, ``value_gain`` and ``status`` (how
            the state after the touch was found). ``attrs["backoff"]``
            counts the journeys' states as :meth:`score` does,
            ``attrs["backoff_after"]`` the states after the touches (of the
            rows returned).

        Raises
        ------
        UnknownChannelError
            For a candidate channel the model does not have.
        MemoryLimitError
            Without ``best=True``, for a table above the memory limit.

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "a > c", "b"], conversions=[1, 0, 1],
        ...                            nulls=[0, 1, 0])
        >>> model = jl.MarkovModel().fit(j)
        >>> model.next_touch(["a"], best=True)[["candidate", "gain"]].to_dict("records")
        [{'candidate': 'b', 'gain': 0.5}]
        """
        from . import _score

        return _score.next_touch(
            self,
            journeys,
            candidates,
            by=by,
            teams=teams,
            best=best,
            path=path,
            sep=sep,
            unknown=unknown,
            purchase=purchase,
            threads=threads,
        )

    # -- persistence ----------------------------------------------------------

    @classmethod
    def _core_type(cls) -> Any:
        raise NotImplementedError

    @classmethod
    def _from_core(cls: type[Model], model: Any, metadata: dict[str, Any] | None = None) -> Model:
        raise NotImplementedError

    def _restore_metadata(self, metadata: dict[str, Any]) -> None:
        for key in ("teams", "stages"):
            pairs = metadata.get(key)
            setattr(self, key + "_", None if pairs is None else dict(pairs))
        self._holding = metadata.get("holding")

    def to_bytes(self) -> bytes:
        """The fitted model in journeyloop's versioned, checksummed file format.

        The file holds the counts and options, and also ``max_states``, the
        channel metadata (``teams_``, ``stages_``) and the holding times fitted
        from journeys with times, so that :meth:`from_bytes` gives back the
        same model.
        """
        return bytes(
            self._fitted.to_bytes(
                teams=_pairs(self.teams_),
                stages=_pairs(self.stages_),
                max_states=int(self.max_states),
                holding=self.__dict__.get("_holding"),
            )
        )

    @classmethod
    def from_bytes(cls: type[Model], data: bytes) -> Model:
        """A model from :meth:`to_bytes`, validated and solved again.

        Raises
        ------
        InvalidInputError
            If the bytes are not a journeyloop model file of this kind, or are
            damaged or inconsistent (the message says what is wrong).
        """
        model, metadata = cls._core_type().from_bytes_with_metadata(file_bytes(data))
        return cls._from_core(model, metadata)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the fitted model to a file (as :meth:`to_bytes`), atomically.

        The bytes go to a temporary file in the same folder, flushed to the
        disk, then renamed over ``path``: an interrupted save leaves the old
        file (or none), never a part of the new one.
        """
        write_atomically(path, self.to_bytes())

    @classmethod
    def load(cls: type[Model], path: str | os.PathLike[str]) -> Model:
        """Reads a model written by :meth:`save`; a damaged file raises InvalidInputError."""
        return cls.from_bytes(Path(path).read_bytes())

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_model"] = None if state.get("_model") is None else self.to_bytes()
        # The holding times travel inside the model's bytes; the journeys kept
        # for bootstrap intervals (and their plan) do not travel.
        state.pop("_holding", None)
        state.pop("_journeys", None)
        state.pop("_plan", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        blob = state.pop("_model")
        state.pop("_loop", None)  # pickles of MarkovModel before LoopModel existed
        self.__dict__.update(state)
        if blob is None:
            self._model = None
            return
        self._model, metadata = self._core_type().from_bytes_with_metadata(blob)
        self._holding = metadata.get("holding")

    # -- report --

    def report(self, path: str | os.PathLike[str] | None = None, **options: Any) -> str:
        """A self-contained HTML report of this model and the journeys it was fitted on
        (:func:`journeyloop.report`'s, with this model), written to ``path`` when given;
        returns the HTML. ``options``: ``teams``, ``stages``, ``methods``, ``ci``, ``title``.

        A model without its journeys (loaded from a file, or fitted on transition counts)
        gets a reduced report: its figures, attribution, removal effects, journey graph and
        transition probabilities.

        Examples
        --------
        >>> import journeyloop as jl
        >>> j = jl.Journeys.from_paths(["a > b", "b"], conversions=[3, 1], nulls=[1, 2])
        >>> jl.MarkovModel().fit(j).report().count("<svg")
        4
        """
        from ._report import model_report

        return model_report(self, path, **options)

    # -- plots --

    def plot_graph(self, *, ax: Any = None, **options: Any) -> Any:
        """:func:`journeyloop.plot.journey_graph` of this model, on ``ax``; returns the axes.
        ``options``: ``engine``, ``top``, ``min_probability``, ``labels``, ``level``."""
        from . import plot

        return plot.journey_graph(self, ax=ax, **options)

    def plot_transitions(self, *, ax: Any = None, **options: Any) -> Any:
        """:func:`journeyloop.plot.transition_matrix` of this model, on ``ax``; returns the
        axes. ``options``: ``annotate``."""
        from . import plot

        return plot.transition_matrix(self, ax=ax, **options)

    # -- text -----------------------------------------------------------------

    def _fitted_figures(self) -> str:
        raise NotImplementedError

    def _headline(self) -> list[tuple[str, float]]:
        """The figures the notebook display shows (name, value)."""
        raise NotImplementedError

    def _repr_html_(self) -> str:
        """Notebook display: order, states, headline figures, the largest transitions."""
        from ._display import model_html

        fitted = self.__dict__.get("_model") is not None
        return model_html(self, self._headline() if fitted else [])

    def __repr__(self) -> str:
        fitted = ""
        if self.__dict__.get("_model") is not None:
            fitted = f", fitted: {self._fitted_figures()}"
        return f"{type(self).__name__}(order={self.order}{fitted})"
