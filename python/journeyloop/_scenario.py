"""What-if scenarios on a fitted model, answered exactly, and sensitivities.

The arithmetic is the core's (``journeyloop._core.apply_scenario``,
``sensitivities``); this module checks arguments, builds the core's scenario
and shapes the results.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core
from ._errors import InvalidInputError
from ._simulate import DEFAULT_MAX_TOUCHES, simulate_histories, simulate_journeys

if TYPE_CHECKING:
    from ._loop import LoopModel
    from ._markov import MarkovModel

__all__ = ["Scenario", "apply", "compare", "sensitivities"]

# (kind, arguments) of one change, as the core's scenario builder takes them.
_Change = tuple[str, tuple[Any, ...]]


def _number(value: object, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        msg = f"{what} must be a number, got {value!r}"
        raise InvalidInputError(msg)
    return float(value)


def _name(value: object, what: str) -> str:
    if not isinstance(value, str):
        msg = f"{what} must be a string (a channel or state name), got {value!r}"
        raise InvalidInputError(msg)
    return value


class Scenario:
    """A what-if scenario: an ordered list of changes to a fitted chain.

    Each builder method returns a new scenario with one more change, so that
    changes chain; ``a + b`` applies ``a``'s changes then ``b``'s. Nothing is
    checked against a model until :meth:`MarkovModel.apply` (or
    :func:`compare`) applies it; an invalid change then raises
    :class:`InvalidInputError` naming the change (its index from 0 and kind).

    ``from_`` and ``to`` name a channel (at order k: every state whose last
    channel it is), the exact label of a state (``"a > b"``), ``"START"`` (as
    ``from_``), or an outcome: ``"CONVERSION"``/``"NULL"`` in the funnel,
    ``"PURCHASE"``/``"END"`` in the loop (``"PURCHASE"`` is also a ``from_``:
    what follows a purchase). When a change moves P(s -> t) from p to p', the
    rest of row s is multiplied by (1 - p') / (1 - p): see docs/scenarios.md.

    Parameters
    ----------
    name
        A name for the scenario (used in messages, and by :func:`compare` when
        given a list).

    Examples
    --------
    >>> import journeyloop as jl
    >>> s = jl.Scenario("cut b").remove("b").scale("a", "CONVERSION", 1.2)
    >>> s
    Scenario('cut b', 2 changes: remove, scale)
    >>> len(s + jl.Scenario().set_value(20))
    3
    """

    __slots__ = ("_changes", "name")

    def __init__(self, name: str = "") -> None:
        self.name = _name(name, "name")
        self._changes: tuple[_Change, ...] = ()

    def _with(self, kind: str, *args: Any) -> Scenario:
        out = Scenario(self.name)
        out._changes = (*self._changes, (kind, args))
        return out

    def _where(self) -> str:
        return f"change {len(self._changes)}"

    def remove(self, *names: str) -> Scenario:
        """Removes channels (or teams, with ``teams=`` where it is applied)
        together: every transition into a state holding one of them goes to
        NULL (END), as the removal effects do."""
        if not names:
            msg = f"{self._where()} (remove): give at least one channel or team"
            raise InvalidInputError(msg)
        checked = [_name(n, f"{self._where()} (remove): a name") for n in names]
        return self._with("remove", checked)

    def scale(self, from_: str, to: str, factor: float) -> Scenario:
        """P(from_ -> to) times ``factor`` (>= 0), the rest of the row renormalised."""
        w = f"{self._where()} (scale)"
        return self._with(
            "scale",
            _name(from_, f"{w}: from_"),
            _name(to, f"{w}: to"),
            _number(factor, f"{w}: factor"),
        )

    def set(self, from_: str, to: str, probability: float) -> Scenario:
        """P(from_ -> to) = ``probability``, the rest of the row renormalised. At
        order 1 (or into an outcome) a transition the model lacks is made."""
        w = f"{self._where()} (set)"
        return self._with(
            "set",
            _name(from_, f"{w}: from_"),
            _name(to, f"{w}: to"),
            _number(probability, f"{w}: probability"),
        )

    def redirect(self, from_: str, to: str, share: float) -> Scenario:
        """A ``share`` in [0, 1] of the transitions into channel ``from_`` go to
        ``to`` (a channel, or an outcome) instead."""
        w = f"{self._where()} (redirect)"
        return self._with(
            "redirect",
            _name(from_, f"{w}: from_"),
            _name(to, f"{w}: to"),
            _number(share, f"{w}: share"),
        )

    def add_channel(
        self,
        name: str,
        inbound: Mapping[str, float],
        outbound: Mapping[str, float],
        value: float | None = None,
    ) -> Scenario:
        """A new channel (order-1 models): P(s -> name) for each ``inbound``
        entry (the rest of each row renormalised), its own row ``outbound``
        (summing to 1), and the value of its conversions (None: the model's
        mean value per conversion)."""
        w = f"{self._where()} (add_channel)"
        pairs = []
        for label, mapping in (("inbound", inbound), ("outbound", outbound)):
            if not isinstance(mapping, Mapping):
                msg = f"{w}: {label} must be a dict name -> probability, got {mapping!r}"
                raise InvalidInputError(msg)
            pairs.append(
                [
                    (_name(k, f"{w}: {label} key"), _number(v, f"{w}: {label}[{k!r}]"))
                    for k, v in mapping.items()
                ]
            )
        v = math.nan if value is None else _number(value, f"{w}: value")
        return self._with("add_channel", _name(name, f"{w}: name"), pairs[0], pairs[1], v)

    def scale_value(self, factor: float, channel: str | None = None) -> Scenario:
        """The value per conversion (per purchase in the loop) times ``factor``,
        for the conversions from ``channel`` (None: all)."""
        w = f"{self._where()} (scale_value)"
        c = "" if channel is None else _name(channel, f"{w}: channel")
        return self._with("scale_value", _number(factor, f"{w}: factor"), c)

    def set_value(self, value: float, channel: str | None = None) -> Scenario:
        """The value per conversion (per purchase in the loop) set to ``value``,
        for the conversions from ``channel`` (None: all)."""
        w = f"{self._where()} (set_value)"
        c = "" if channel is None else _name(channel, f"{w}: channel")
        return self._with("set_value", _number(value, f"{w}: value"), c)

    def __add__(self, other: Scenario) -> Scenario:
        if not isinstance(other, Scenario):
            return NotImplemented
        out = Scenario(self.name or other.name)
        out._changes = self._changes + other._changes
        return out

    def __len__(self) -> int:
        return len(self._changes)

    @property
    def changes(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The changes in order: (kind, arguments)."""
        return list(self._changes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.name == other.name and self._changes == other._changes

    def __hash__(self) -> int:
        return hash((self.name, repr(self._changes)))

    def __repr__(self) -> str:
        kinds = ", ".join(kind for kind, _ in self._changes)
        n = len(self._changes)
        return (
            f"Scenario({self.name!r}, {n} change{'s' if n != 1 else ''}{': ' if n else ''}{kinds})"
        )

    def _core(self) -> _core.scenario:
        out = _core.scenario(self.name)
        for kind, args in self._changes:
            getattr(out, kind)(*args)
        return out


def _team_pairs(teams: Any) -> list[tuple[str, str]]:
    if teams is None:
        return []
    if hasattr(teams, "columns"):
        if "channel" not in teams.columns or "team" not in teams.columns:
            msg = "a teams DataFrame needs the columns 'channel' and 'team'"
            raise InvalidInputError(msg)
        return [(str(c), str(t)) for c, t in zip(teams["channel"], teams["team"])]
    if isinstance(teams, Mapping):
        return [(str(c), str(t)) for c, t in teams.items()]
    msg = f"teams must be a dict channel -> team or a DataFrame, got {type(teams).__name__}"
    raise InvalidInputError(msg)


def _options(model: Any, teams: Any, threads: int | None = None) -> _core.scenario_options:
    from ._model_base import whole_number

    pairs = _team_pairs(model.teams_ if teams is None else teams)
    n = 0 if threads is None else whole_number(threads, "threads", 1)
    return _core.scenario_options(teams=pairs, threads=n)


def _check_scenario(scenario: object, where: str = "scenario") -> Scenario:
    if not isinstance(scenario, Scenario):
        msg = f"{where} must be a jl.Scenario, got {type(scenario).__name__}"
        raise InvalidInputError(msg)
    return scenario


def _wrap(model: Any, core: Any) -> Any:
    out = type(model)._from_core(core)
    out.teams_ = None if model.teams_ is None else dict(model.teams_)
    out.stages_ = None if model.stages_ is None else dict(model.stages_)
    out.max_states = model.max_states
    return out


def apply(model: Any, scenario: Scenario, teams: Any = None) -> Any:
    """The body of ``MarkovModel.apply`` and ``LoopModel.apply``."""
    core = _core.apply_scenario(
        model._fitted, _check_scenario(scenario)._core(), _options(model, teams)
    )
    return _wrap(model, core)


def sensitivities(model: Any, top: int | None = 20) -> pd.DataFrame:
    """The body of ``MarkovModel.sensitivities`` and ``LoopModel.sensitivities``."""
    from ._model_base import whole_number

    fitted = model._fitted
    n = None if top is None else whole_number(top, "top", 1)
    src, dst, prob, sens, elast = _core.sensitivities(fitted)
    labels = model._labels()
    frame = pd.DataFrame(
        {
            "from": [labels[s] for s in src],
            "to": [labels[t] for t in dst],
            "probability": prob,
            "sensitivity": sens,
            "elasticity": elast,
        }
    )
    # Largest |sensitivity| first; ties keep the from/to order (a stable sort).
    order = np.argsort(-np.abs(sens), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    return frame if n is None else frame.head(n)


def _funnel_figures(core: Any) -> dict[str, float]:
    counts = core.counts
    return {
        "conversion_probability": float(core.conversion_rate),
        "expected_conversions": float(counts.total_conversions),
        "value_per_journey": float(core.value_per_journey),
    }


def _loop_figures(core: Any) -> dict[str, float]:
    s = _core.loop_summary(core)
    return {
        "expected_purchases": float(s["expected_purchases"]),
        "repeat_probability": float(s["repeat_probability"]),
        "value_per_customer": float(s["expected_value"]),
    }


def _simulated_funnel(
    journeys: Any, report: dict[str, Any], n: int, per_journey: float
) -> dict[str, tuple[float, float]]:
    """Estimates and standard errors from ``n`` simulated funnel walks: each
    converts or not (binomial), and a conversion's value is fixed by the state
    it converts from (the model's value model). The walks that ended before
    their first touch are no rows (a scenario can send START's traffic straight
    to NULL): they count as journeys, with the conversions and value the report
    gives them (all from START, so of one value each)."""
    frame = journeys.to_frame()
    conv = frame["conversions"].to_numpy(dtype=float)
    value = frame["value"].to_numpy(dtype=float) if "value" in frame else np.zeros_like(conv)
    empty_conv = float(report["empty_conversions"])
    empty_value = float(report["empty_value"])
    p = (float(conv.sum()) + empty_conv) / n
    se_p = math.sqrt(max(p * (1 - p), 0.0) / n)
    mean_v = (float(value.sum()) + empty_value) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(conv > 0, value / np.where(conv > 0, conv, 1), 0.0)
    second = float(np.sum(conv * per * per))
    if empty_conv > 0:
        second += empty_value * empty_value / empty_conv
    second /= n
    se_v = math.sqrt(max(second - mean_v * mean_v, 0.0) / n)
    return {
        "conversion_probability": (p, se_p),
        "expected_conversions": (p * per_journey, se_p * per_journey),
        "value_per_journey": (mean_v, se_v),
    }


def _simulated_loop(
    histories: Any, report: dict[str, Any], n: int
) -> dict[str, tuple[float, float]]:
    """Estimates and standard errors from ``n`` simulated customers: per
    customer purchases and value (each row's customers share its means), and
    the repeat probability as the share of purchases followed by another (each
    a Bernoulli trial, by the Markov property). Customers whose walk made no
    touch are no rows: they count in the means with the purchases and value the
    report gives them (their spread, seldom any, is left out of the standard
    errors) and, having no touch to follow, not in the repeat probability."""
    frame = histories.to_frame()
    customers = frame["customers"].to_numpy(dtype=float)
    purchases = frame["purchases"].to_numpy(dtype=float)
    value = frame["value"].to_numpy(dtype=float)
    out = {}
    for name, column, empty in (
        ("expected_purchases", purchases, float(report["empty_conversions"])),
        ("value_per_customer", value, float(report["empty_value"])),
    ):
        per = column / np.where(customers > 0, customers, 1)
        mean = (float(column.sum()) + empty) / n
        second = float(np.sum(customers * per * per)) / n
        out[name] = (mean, math.sqrt(max(second - mean * mean, 0.0) / n))
    bought = float(purchases.sum())
    buyers = float(customers[purchases > 0].sum())
    r = (bought - buyers) / bought if bought > 0 else 0.0
    out["repeat_probability"] = (r, math.sqrt(max(r * (1 - r), 0.0) / bought) if bought else 0.0)
    return out


def compare(
    model: MarkovModel | LoopModel,
    scenarios: Mapping[str, Scenario] | list[Scenario],
    simulate: int | None = None,
    seed: int = 0,
    *,
    teams: Any = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """The baseline and every scenario side by side, exact.

    Funnel models: ``conversion_probability``, ``expected_conversions`` (of
    the journeys the model was fitted on) and ``value_per_journey``. Loop
    models: ``expected_purchases`` and ``value_per_customer`` (per customer)
    and ``repeat_probability``. One row for the baseline (``"baseline"``),
    then one per scenario, in the order given. Each scenario is applied with
    :meth:`MarkovModel.apply`; they are solved on up to ``threads`` threads
    (None: the library's setting, or two), without the GIL.

    Parameters
    ----------
    model
        A fitted :class:`MarkovModel` or :class:`LoopModel`.
    scenarios
        A dict name -> :class:`Scenario`, or a list of scenarios (named by
        their ``name``).
    simulate
        With a number of journeys (customers), every model is also simulated
        (``model.simulate(simulate, seed=seed)``) and each figure gets
        ``<figure>_simulated`` and ``<figure>_se`` (its standard error)
        beside it.
    seed
        The seed of the simulations (the same for every row).
    teams
        Channel -> team, for scenarios that remove a team (default: the
        model's ``teams_``).
    threads
        Threads to solve the scenarios on.

    Returns
    -------
    pandas.DataFrame
        ``scenario`` and the figures, one row per model.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
    ...                            nulls=[1, 2, 0], value=[10, 0, 30])
    >>> model = jl.MarkovModel().fit(j)
    >>> table = jl.compare(model, {"no c": jl.Scenario().remove("c")})
    >>> table["conversion_probability"].round(12).tolist()
    [0.5, 0.166666666667]
    """
    from ._loop import LoopModel
    from ._markov import MarkovModel
    from ._model_base import whole_number

    if not isinstance(model, (MarkovModel, LoopModel)):
        msg = f"compare expects a fitted MarkovModel or LoopModel, got {type(model).__name__}"
        raise InvalidInputError(msg)
    fitted: Any = model._fitted
    if isinstance(scenarios, Mapping):
        named = [(str(k), _check_scenario(v, f"scenarios[{k!r}]")) for k, v in scenarios.items()]
    elif isinstance(scenarios, (list, tuple)):
        named = [
            (s.name, s)
            for s in (_check_scenario(v, f"scenarios[{i}]") for i, v in enumerate(scenarios))
        ]
    else:
        kind = type(scenarios).__name__
        msg = f"scenarios must be a dict name -> Scenario or a list of Scenario, got {kind}"
        raise InvalidInputError(msg)
    n_sim = None if simulate is None else whole_number(simulate, "simulate", 1)
    seed = whole_number(seed, "seed", 0)
    cores = _core.apply_scenarios(
        fitted, [s._core() for _, s in named], _options(model, teams, threads)
    )
    loop = isinstance(model, LoopModel)
    figures = _loop_figures if loop else _funnel_figures
    rows = [("baseline", fitted)] + [(name, core) for (name, _), core in zip(named, cores)]
    table: dict[str, list[Any]] = {"scenario": [name for name, _ in rows]}
    exact = [figures(core) for _, core in rows]
    columns = list(exact[0])
    simulated: list[dict[str, tuple[float, float]]] = []
    if n_sim is not None:
        journeys_per = (
            float(fitted.counts.total_conversions + fitted.counts.total_nulls) if not loop else 0.0
        )
        for _, core in rows:
            report: dict[str, Any] = {}
            if loop:
                hist = simulate_histories(
                    core, None, n_sim, seed, threads, DEFAULT_MAX_TOUCHES, None, None, report
                )
                simulated.append(_simulated_loop(hist, report, n_sim))
            else:
                sim = simulate_journeys(
                    core, None, n_sim, seed, threads, DEFAULT_MAX_TOUCHES, None, None, report
                )
                simulated.append(_simulated_funnel(sim, report, n_sim, journeys_per))
    for c in columns:
        table[c] = [e[c] for e in exact]
        if simulated:
            table[c + "_simulated"] = [s[c][0] for s in simulated]
            table[c + "_se"] = [s[c][1] for s in simulated]
    return pd.DataFrame(table)
