# Type stub of the compiled extension journeyloop._core (python/bindings/*.cpp).
# Keep it in step with the bindings: tests/python/test_stub.py compares it with
# the live module. Classes without an __init__ here cannot be constructed from
# Python; they are returned by the functions below.

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, SupportsIndex, overload

import numpy as np
import numpy.typing as npt

__version__: str

# register_errors.cpp

class JourneyloopError(Exception): ...
class InvalidInputError(JourneyloopError, ValueError): ...
class UnknownChannelError(JourneyloopError, KeyError): ...
class NumericalError(JourneyloopError, ArithmeticError): ...

class MemoryLimitError(JourneyloopError, MemoryError):
    # The estimated bytes and the cap, set on every instance the core raises
    # (0 on the class).
    estimate: int
    cap: int

class StateSpaceTooLargeError(JourneyloopError, MemoryError):
    # The estimated number of states and the cap, set on every instance the core
    # raises (0 on the class).
    estimate: int
    cap: int

# register_journeys.cpp

default_max_states: int

class counting_options:
    def __init__(
        self,
        *,
        order: int = 1,
        collapse_repeats: bool = True,
        padded: bool = False,
        max_states: int = ...,
        threads: int = 0,
    ) -> None: ...
    order: int
    collapse_repeats: bool
    padded: bool
    max_states: int
    threads: int

class path_options:
    def __init__(
        self,
        *,
        separator: str = ">",
        path_column: str = "path",
        conversions_column: str = "conversions",
        nulls_column: str = "nulls",
        value_column: str = "value",
        threads: int = 0,
    ) -> None: ...
    separator: str
    path_column: str
    conversions_column: str
    nulls_column: str
    value_column: str
    threads: int

@overload
def analyze_teams(journeys: journey_set, team_of_channel: Sequence[str]) -> dict[str, Any]: ...
@overload
def analyze_teams(journeys: loop_histories, team_of_channel: Sequence[str]) -> dict[str, Any]: ...
@overload
def relabel_channels(journeys: journey_set, group_of_channel: Sequence[str]) -> journey_set: ...
@overload
def relabel_channels(
    journeys: loop_histories, group_of_channel: Sequence[str]
) -> loop_histories: ...
@overload
def stage_moves(journeys: journey_set, stage_of_channel: Sequence[str]) -> dict[str, Any]: ...
@overload
def stage_moves(journeys: loop_histories, stage_of_channel: Sequence[str]) -> dict[str, Any]: ...

class journey_set:
    def __init__(self) -> None: ...
    @staticmethod
    def from_paths(
        paths: Sequence[str],
        conversions: npt.ArrayLike,
        nulls: npt.ArrayLike | None,
        value: npt.ArrayLike | None,
        options: path_options,
    ) -> journey_set: ...
    @staticmethod
    def from_token_lists(
        paths: Sequence[Sequence[str]],
        conversions: npt.ArrayLike,
        nulls: npt.ArrayLike | None,
        value: npt.ArrayLike | None,
        options: path_options,
    ) -> journey_set: ...
    def append_arrow(
        self,
        offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        data: npt.NDArray[np.uint8],
        validity: npt.NDArray[np.uint8] | None,
        validity_offset: SupportsIndex,
        conversions: npt.ArrayLike,
        nulls: npt.ArrayLike | None,
        value: npt.ArrayLike | None,
        options: path_options,
        first_row: SupportsIndex,
    ) -> None: ...
    def reserve(self, rows: int, touches: int) -> None: ...
    def __len__(self) -> int: ...
    @property
    def channels(self) -> list[str]: ...
    @property
    def total_conversions(self) -> float: ...
    @property
    def total_nulls(self) -> float: ...
    @property
    def total_value(self) -> float: ...
    @property
    def total_touches(self) -> int: ...
    @property
    def form(self) -> str: ...
    @property
    def has_times(self) -> bool: ...
    @property
    def time_unit_seconds(self) -> float: ...
    @property
    def has_customers(self) -> bool: ...
    def customer_ids(self) -> npt.NDArray[np.int64]: ...
    def customer_names(self) -> list[str]: ...
    def touches(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint32]]: ...
    def times_before_end(self) -> npt.NDArray[np.float64]: ...
    def path_strings(self, separator: str = " > ") -> list[str]: ...
    # name is "conversions", "nulls" or "value"; anything else raises InvalidInputError.
    def column(self, name: str) -> npt.NDArray[np.float64]: ...
    # teams and stages: (channel, group) pairs stored beside the rows.
    def to_bytes(
        self,
        teams: list[tuple[str, str]] | None = None,
        stages: list[tuple[str, str]] | None = None,
    ) -> bytes: ...
    @staticmethod
    def from_bytes(
        data: bytes,
    ) -> tuple[journey_set, list[tuple[str, str]] | None, list[tuple[str, str]] | None]: ...

class loop_histories:
    @staticmethod
    def from_paths(
        paths: Sequence[str],
        customers: npt.ArrayLike,
        value: npt.ArrayLike | None,
        options: path_options,
        purchase: str,
    ) -> loop_histories: ...
    def __len__(self) -> int: ...
    @property
    def channels(self) -> list[str]: ...
    @property
    def purchase_name(self) -> str: ...
    @property
    def total_customers(self) -> float: ...
    @property
    def total_purchases(self) -> float: ...
    @property
    def unattributed_purchases(self) -> float: ...
    @property
    def unattributed_value(self) -> float: ...
    @property
    def total_value(self) -> float: ...
    @property
    def total_touches(self) -> int: ...
    @property
    def form(self) -> str: ...
    @property
    def has_times(self) -> bool: ...
    @property
    def time_unit_seconds(self) -> float: ...
    def times_before_end(self) -> npt.NDArray[np.float64]: ...
    @property
    def has_customers(self) -> bool: ...
    def customer_ids(self) -> npt.NDArray[np.int64]: ...
    def customer_names(self) -> list[str]: ...
    def touches(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint32]]: ...
    def path_strings(self, separator: str = " > ") -> list[str]: ...
    # name is "customers", "purchases" or "value"; anything else raises InvalidInputError.
    def column(self, name: str) -> npt.NDArray[np.float64]: ...
    # teams and stages: (channel, group) pairs stored beside the rows.
    def to_bytes(
        self,
        teams: list[tuple[str, str]] | None = None,
        stages: list[tuple[str, str]] | None = None,
    ) -> bytes: ...
    @staticmethod
    def from_bytes(
        data: bytes,
    ) -> tuple[loop_histories, list[tuple[str, str]] | None, list[tuple[str, str]] | None]: ...

# register_attribution.cpp

class attribution:
    @property
    def names(self) -> list[str]: ...
    @property
    def conversions(self) -> npt.NDArray[np.float64]: ...
    @property
    def value(self) -> npt.NDArray[np.float64]: ...
    # Share of the conversions credited to each name (0 if there are none).
    @property
    def shares(self) -> npt.NDArray[np.float64]: ...

max_order: int

def set_threads(n: int) -> None: ...
def get_threads() -> int: ...
def set_memory_limit(bytes: int) -> None: ...
def get_memory_limit() -> int: ...
def effective_memory_limit() -> int: ...
def heuristic_names() -> list[str]: ...

class heuristic_options:
    def __init__(
        self,
        *,
        half_life: float = 1.0,
        endpoint_share: float = 0.4,
        time_half_life: float | None = None,
        decay_by_steps: bool = False,
        first_share: float | None = None,
        last_share: float | None = None,
    ) -> None: ...
    half_life: float
    endpoint_share: float
    time_half_life: float | None
    decay_by_steps: bool
    first_share: float | None
    last_share: float | None

def heuristic_attribution(
    journeys: journey_set, method: str, options: heuristic_options = ...
) -> attribution: ...

# An Arrow string column: (offsets, characters, validity or None, bit offset).
_Strings = tuple[
    npt.NDArray[np.int32] | npt.NDArray[np.int64],
    npt.NDArray[np.uint8],
    npt.NDArray[np.uint8] | None,
    int,
]

def event_report_fields() -> list[tuple[str, str, str]]: ...

class event_options:
    def __init__(
        self,
        *,
        lookback: float | None = None,
        inactivity: float | None = None,
        conversion_is_touch: bool = True,
        duplicates: str = "keep",
        strict: bool = False,
        time_unit_seconds: float = 0.0,
        threads: int = 0,
        purchase: str = "purchase",
        customer_column: str = "customer",
        time_column: str = "time",
        channel_column: str = "channel",
        conversion_column: str = "conversion",
        value_column: str = "value",
    ) -> None: ...
    lookback: float | None
    inactivity: float | None
    conversion_is_touch: bool
    # "keep" or "drop"; anything else raises InvalidInputError.
    duplicates: str
    strict: bool
    time_unit_seconds: float
    threads: int
    purchase: str
    customer_column: str
    time_column: str
    channel_column: str
    conversion_column: str
    value_column: str

def build_events(
    *,
    customer_ids: npt.NDArray[np.int64] | None = None,
    customer_valid: npt.NDArray[np.uint8] | None = None,
    customer_names: _Strings | None = None,
    time: npt.NDArray[np.int64] | None = None,
    time_valid: npt.NDArray[np.uint8] | None = None,
    time_real: npt.NDArray[np.float64] | None = None,
    channel: _Strings | None = None,
    channel_codes: npt.NDArray[np.integer[Any]] | None = None,
    channel_dictionary: _Strings | None = None,
    conversion: npt.NDArray[Any] | None = None,
    value: npt.NDArray[Any] | None = None,
    options: event_options = ...,
    form: str = "funnel",
) -> tuple[journey_set | loop_histories, dict[str, Any]]: ...  # loop_histories for form="loop"

# extra_groups defaults to [] (an empty list).
def simplified_shapley(journeys: journey_set) -> attribution: ...
def ordered_simplified_shapley(journeys: journey_set) -> dict[str, Any]: ...
def group_attribution(
    attribution: attribution,
    group_of: Sequence[str],
    extra_groups: Sequence[str] = ...,
) -> attribution: ...

# register_markov.cpp

class transition_counts:
    @property
    def order(self) -> int: ...
    @property
    def collapse_repeats(self) -> bool: ...
    @property
    def padded(self) -> bool: ...
    @property
    def num_states(self) -> int: ...
    @property
    def num_transitions(self) -> int: ...
    @property
    def total_conversions(self) -> float: ...
    @property
    def total_nulls(self) -> float: ...
    @property
    def total_value(self) -> float: ...
    @property
    def channels(self) -> list[str]: ...
    def state_label(self, state: SupportsIndex) -> str: ...
    # Labels of every state, indexed by state id.
    def state_labels(self) -> list[str]: ...
    # (from, to, count) of every stored transition; from and to are state ids.
    def edges(
        self,
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.float64]]: ...
    # Comparing with any other type returns NotImplemented (so == gives False).
    def __eq__(self, other: object) -> bool: ...
    # Defining __eq__ makes pybind11 set __hash__ to None: counts are unhashable.
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> transition_counts: ...

def count_transitions(
    journeys: journey_set,
    options: counting_options,
    progress: Callable[[int, int], object] | None = None,
) -> transition_counts: ...
def merge(a: transition_counts, b: transition_counts) -> transition_counts: ...
def merge_all(parts: list[transition_counts]) -> transition_counts: ...

max_shapley_players: int
top_paths_max_expanded: int
top_paths_max_length: int
# The id of the first channel state (START, CONVERSION and NULL come first).
first_channel_state: int

class markov_options:
    def __init__(self, *, smoothing: float = 0.0) -> None: ...
    smoothing: float

# (group names in order of first appearance, then the extra groups not seen;
# the item indices of each group).
def group_members(
    group_of_item: Sequence[str], extra_groups: Sequence[str] = ...
) -> tuple[list[str], list[list[int]]]: ...

class markov_model:
    @property
    def counts(self) -> transition_counts: ...
    @property
    def smoothing(self) -> float: ...
    @property
    def options(self) -> markov_options: ...
    @property
    def conversion_rate(self) -> float: ...
    @property
    def value_per_journey(self) -> float: ...
    @property
    def expected_touches(self) -> float: ...
    @property
    def expected_touches_converting(self) -> float: ...
    # P(CONVERSION) from every state, indexed by state id.
    def conversion_probabilities(self) -> npt.NDArray[np.float64]: ...
    # Expected visits of a journey from START, indexed by state id.
    def expected_visits(self) -> npt.NDArray[np.float64]: ...
    # Aligned with counts.edges() (no smoothing).
    def probabilities(self) -> npt.NDArray[np.float64]: ...
    # (from, to, probability) of every nonzero transition probability; from and
    # to are state ids.
    def transitions(
        self,
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.float64]]: ...
    def to_bytes(
        self,
        teams: list[tuple[str, str]] | None = None,
        stages: list[tuple[str, str]] | None = None,
        max_states: int | None = None,
        holding: holding_times | None = None,
    ) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> markov_model: ...
    @staticmethod
    def from_bytes_with_metadata(data: bytes) -> tuple[markov_model, dict[str, Any]]: ...

def fit_markov(
    counts: transition_counts,
    options: markov_options = ...,
    progress: Callable[[int, int], object] | None = None,
) -> markov_model: ...
def fit_markov_taking(
    counts: transition_counts,
    options: markov_options = ...,
    progress: Callable[[int, int], object] | None = None,
) -> markov_model: ...
def refit_markov(
    fitted: markov_model,
    counts: transition_counts,
    progress: Callable[[int, int], object] | None = None,
) -> markov_model: ...

# (conversions, value) removal effects, one per channel.
def removal_effects(
    model: markov_model,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

# (conversions, value) removal effect of the channel ids in group removed at once.
def group_removal_effect(
    model: markov_model,
    group: Sequence[SupportsIndex],
) -> tuple[float, float]: ...

# (conversions, value) removal effects of several groups, each removed on its own
# (solved together).
def group_removal_effects(
    model: markov_model,
    groups: Sequence[Sequence[SupportsIndex]],
    progress: Callable[[int, int], object] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

# (conversions, value) removal effect of one channel state (a state id).
def state_removal_effect(
    model: markov_model,
    state: SupportsIndex,
) -> tuple[float, float]: ...
def state_removal_effects(
    model: markov_model,
    states: Sequence[SupportsIndex],
    progress: Callable[[int, int], object] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

# extra_groups defaults to [] (an empty list).
def markov_attribution(
    model: markov_model,
    group_of_channel: Sequence[str] | None = None,
    extra_groups: Sequence[str] = ...,
    progress: Callable[[int, int], object] | None = None,
) -> attribution: ...

# Attribution between the named, possibly overlapping groups of channel ids.
def group_markov_attribution(
    model: markov_model,
    names: Sequence[str],
    groups: Sequence[Sequence[SupportsIndex]],
    progress: Callable[[int, int], object] | None = None,
) -> attribution: ...

# Attribution between sequences (states), named by their labels.
def state_markov_attribution(
    model: markov_model,
    states: Sequence[SupportsIndex],
    progress: Callable[[int, int], object] | None = None,
) -> attribution: ...

# Each of these takes a funnel model or (second overload, from register_loop.cpp)
# a loop model.
@overload
def shapley_attribution(
    model: markov_model,
    names: Sequence[str],
    players: Sequence[Sequence[SupportsIndex]],
) -> attribution: ...
@overload
def shapley_attribution(
    model: loop_model,
    names: Sequence[str],
    players: Sequence[Sequence[SupportsIndex]],
) -> attribution: ...

# The journey graph as DOT / GraphML text.
@overload
def to_dot(model: markov_model) -> str: ...
@overload
def to_dot(model: loop_model) -> str: ...
@overload
def to_graphml(model: markov_model) -> str: ...
@overload
def to_graphml(model: loop_model) -> str: ...

# State ids of every cyclic component of the journey graph.
@overload
def journey_loops(model: markov_model) -> list[list[int]]: ...
@overload
def journey_loops(model: loop_model) -> list[list[int]]: ...

# The n most probable complete paths: (state ids, START first and CONVERSION
# (the loop model: the first PURCHASE) last, probability), and whether the
# search stopped at max_expanded walks.
@overload
def top_paths(
    model: markov_model,
    n: SupportsIndex,
    max_length: SupportsIndex = ...,
    max_expanded: SupportsIndex = ...,
) -> tuple[list, bool]: ...  # type: ignore[type-arg]  # [(state ids, probability)]
@overload
def top_paths(
    model: loop_model,
    n: SupportsIndex,
    max_length: SupportsIndex = ...,
    max_expanded: SupportsIndex = ...,
) -> tuple[list, bool]: ...  # type: ignore[type-arg]  # [(state ids, probability)]

# register_loop.cpp

class loop_counts:
    def __init__(
        self,
        first: transition_counts,
        repeat: transition_counts | None,
        customers: float,
        purchases: float,
        value: float,
        buyers: float,
        repeat_purchases: float,
    ) -> None: ...
    @property
    def first(self) -> transition_counts: ...
    @property
    def repeat(self) -> transition_counts | None: ...
    @property
    def customers(self) -> float: ...
    @property
    def purchases(self) -> float: ...
    @property
    def value(self) -> float: ...
    @property
    def buyers(self) -> float: ...
    @property
    def repeat_purchases(self) -> float: ...

def merge_loop_counts(a: loop_counts, b: loop_counts) -> loop_counts: ...
def count_loop_transitions(
    histories: loop_histories,
    options: counting_options,
    progress: Callable[[int, int], object] | None = None,
) -> loop_counts: ...

class loop_model:
    @property
    def first(self) -> markov_model: ...
    @property
    def repeat(self) -> markov_model | None: ...
    @property
    def options(self) -> markov_options: ...
    @property
    def smoothing(self) -> float: ...
    @property
    def order(self) -> int: ...
    @property
    def collapse_repeats(self) -> bool: ...
    @property
    def channels(self) -> list[str]: ...
    @property
    def num_states(self) -> int: ...
    @property
    def customers(self) -> float: ...
    @property
    def purchases(self) -> float: ...
    @property
    def value(self) -> float: ...
    @property
    def buyers(self) -> float: ...
    @property
    def repeat_purchases(self) -> float: ...
    # START, PURCHASE, END and the channel states, by id.
    def state_labels(self) -> list[str]: ...
    # (from, to, count, probability) of the loop chain's transitions.
    def transitions(
        self,
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
    ]: ...
    def purchase_probabilities(self) -> npt.NDArray[np.float64]: ...
    def expected_visits(self) -> npt.NDArray[np.float64]: ...
    def to_bytes(
        self,
        teams: list[tuple[str, str]] | None = None,
        stages: list[tuple[str, str]] | None = None,
        max_states: int | None = None,
        holding: loop_holding_times | None = None,
    ) -> bytes: ...
    @staticmethod
    def from_bytes_with_metadata(data: bytes) -> tuple[loop_model, dict[str, Any]]: ...

def fit_loop(
    counts: loop_counts,
    options: markov_options = ...,
    progress: Callable[[int, int], object] | None = None,
) -> loop_model: ...

class loop_attribution(attribution):
    @property
    def first_purchases(self) -> npt.NDArray[np.float64]: ...
    @property
    def repeat_purchases(self) -> npt.NDArray[np.float64]: ...

def loop_markov_attribution(
    model: loop_model, names: Sequence[str], groups: Sequence[Sequence[SupportsIndex]]
) -> loop_attribution: ...
def loop_summary(model: loop_model) -> dict[str, float]: ...
def loop_removal_effects(
    model: loop_model, groups: Sequence[Sequence[int]]
) -> dict[str, npt.NDArray[np.float64]]: ...
def loyalty_loop_rate(model: loop_model, avoided: Sequence[int]) -> float: ...

# --- scenarios (register_scenario.cpp) ---------------------------------------

class scenario:
    def __init__(self, name: str = "") -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def num_changes(self) -> int: ...
    def remove(self, names: Sequence[str]) -> None: ...
    def scale(self, from_: str, to: str, factor: float) -> None: ...
    def set(self, from_: str, to: str, probability: float) -> None: ...
    def redirect(self, from_: str, to: str, share: float) -> None: ...
    def add_channel(
        self,
        name: str,
        inbound: Sequence[tuple[str, float]],
        outbound: Sequence[tuple[str, float]],
        value: float,
    ) -> None: ...
    def scale_value(self, factor: float, channel: str) -> None: ...
    def set_value(self, value: float, channel: str) -> None: ...

class scenario_options:
    def __init__(self, *, teams: Sequence[tuple[str, str]] = [], threads: int = 0) -> None: ...
    teams: list[tuple[str, str]]
    threads: int

@overload
def apply_scenario(
    model: markov_model, scenario: scenario, options: scenario_options
) -> markov_model: ...
@overload
def apply_scenario(
    model: loop_model, scenario: scenario, options: scenario_options
) -> loop_model: ...
@overload
def apply_scenarios(
    model: markov_model, scenarios: Sequence[scenario], options: scenario_options
) -> list[markov_model]: ...
@overload
def apply_scenarios(
    model: loop_model, scenarios: Sequence[scenario], options: scenario_options
) -> list[loop_model]: ...

# (from, to, probability, sensitivity, elasticity) of every transition.
@overload
def sensitivities(
    model: markov_model,
) -> tuple[
    npt.NDArray[np.uint32],
    npt.NDArray[np.uint32],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]: ...
@overload
def sensitivities(
    model: loop_model,
) -> tuple[
    npt.NDArray[np.uint32],
    npt.NDArray[np.uint32],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]: ...

# register_score.cpp

class score_options:
    def __init__(
        self,
        *,
        unknown: str = "start",
        purchase: str = "purchase",
        threads: SupportsIndex = 0,
        best_only: bool = False,
    ) -> None: ...
    @property
    def unknown(self) -> str: ...
    @property
    def purchase(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @property
    def best_only(self) -> bool: ...

# Scores of open journeys: {probability, expected_value, status, matched, key:
# arrays; labels; exact, backed_off, unknown: counts; loop: repeat,
# expected_purchases, future_value}.
@overload
def score_journeys(
    model: markov_model, open: journey_set, options: score_options
) -> dict[str, Any]: ...
@overload
def score_journeys(
    model: loop_model, open: loop_histories, options: score_options
) -> dict[str, Any]: ...
@overload
def score_journeys(
    model: loop_model, open: journey_set, options: score_options
) -> dict[str, Any]: ...

# Every open journey after one more touch of each group's best channel:
# {journeys, groups, current (as score_journeys), channel, probability,
# expected_value, gain, value_gain, status (journeys x groups, row-major),
# best (per journey)}.
@overload
def next_touch(
    model: markov_model,
    open: journey_set,
    groups: Sequence[Sequence[SupportsIndex]],
    options: score_options,
) -> dict[str, Any]: ...
@overload
def next_touch(
    model: loop_model,
    open: loop_histories,
    groups: Sequence[Sequence[SupportsIndex]],
    options: score_options,
) -> dict[str, Any]: ...
@overload
def next_touch(
    model: loop_model,
    open: journey_set,
    groups: Sequence[Sequence[SupportsIndex]],
    options: score_options,
) -> dict[str, Any]: ...

# register_simulate.cpp

class holding_times:
    @property
    def num_states(self) -> int: ...
    @property
    def overall_mean(self) -> float: ...
    @property
    def own_means(self) -> int: ...
    @property
    def state_means(self) -> int: ...
    @property
    def overall_means(self) -> int: ...
    @property
    def skipped_journeys(self) -> int: ...
    @property
    def time_unit_seconds(self) -> float: ...
    def mean(self, from_state: int, to_state: int) -> float: ...
    def weight(self, from_state: int, to_state: int) -> float: ...

def fit_holding_times(
    journeys: journey_set, model: markov_model, *, min_weight: float = 10.0
) -> holding_times: ...
def expected_time_to_conversion(model: markov_model, holding: holding_times) -> float: ...

class loop_holding_times:
    @property
    def first(self) -> holding_times: ...
    @property
    def repeat(self) -> holding_times | None: ...
    @property
    def time_unit_seconds(self) -> float: ...

def fit_loop_holding_times(
    histories: loop_histories, model: loop_model, *, min_weight: float = 10.0
) -> loop_holding_times: ...
def expected_time_to_first_purchase(model: loop_model, holding: loop_holding_times) -> float: ...
def expected_time_to_next_purchase(model: loop_model, holding: loop_holding_times) -> float: ...
def simulate_journeys(
    model: markov_model,
    n: int,
    *,
    seed: int = 0,
    threads: int = 0,
    max_touches: int = 10000,
    holding: holding_times | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[journey_set, dict[str, Any]]: ...
def simulate_histories(
    model: loop_model,
    n: int,
    *,
    seed: int = 0,
    threads: int = 0,
    max_touches: int = 10000,
    holding: loop_holding_times | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[loop_histories, dict[str, Any]]: ...

# -- uncertainty --

class replicate_plan:
    @property
    def units(self) -> float: ...
    @property
    def by_customer(self) -> bool: ...

def make_replicate_plan(
    journeys: journey_set, options: counting_options = ...
) -> replicate_plan: ...
def markov_replicates(
    model: markov_model,
    plan: replicate_plan | None,
    kind: str,
    names: Sequence[str],
    groups: Sequence[Sequence[SupportsIndex]],
    method: str,
    replicates: SupportsIndex,
    seed: SupportsIndex,
    prior: float,
    threads: SupportsIndex = 0,
    progress: Callable[[int, int], object] | None = None,
    min_count: SupportsIndex = 0,
    rule: str = "null",
) -> npt.NDArray[np.float64]: ...

class loop_replicate_plan:
    @property
    def units(self) -> float: ...

def make_loop_replicate_plan(
    histories: loop_histories, options: counting_options = ...
) -> loop_replicate_plan: ...
def loop_replicates(
    model: loop_model,
    plan: loop_replicate_plan | None,
    kind: str,
    names: Sequence[str],
    groups: Sequence[Sequence[SupportsIndex]],
    method: str,
    replicates: SupportsIndex,
    seed: SupportsIndex,
    prior: float,
    threads: SupportsIndex = 0,
    progress: Callable[[int, int], object] | None = None,
    rule: str = "null",
) -> npt.NDArray[np.float64]: ...
def heuristic_replicates(
    plan: replicate_plan,
    journeys: journey_set,
    methods: Sequence[str],
    heuristics: heuristic_options,
    group_of: Sequence[str],
    extra_groups: Sequence[str],
    replicates: SupportsIndex,
    seed: SupportsIndex,
    threads: SupportsIndex = 0,
    progress: Callable[[int, int], object] | None = None,
) -> npt.NDArray[np.float64]: ...
def percentile_intervals(
    values: npt.ArrayLike, level: float
) -> tuple[list[float], list[float]]: ...

# The split of the journeys (or customers) into folds: {folds, units,
# by_customer, offsets, fold, conversions, nulls}.
def split_folds(
    journeys: journey_set, folds: SupportsIndex, seed: SupportsIndex
) -> dict[str, Any]: ...

# Cross-validated comparison of Markov orders: one array per figure and
# recommended, best, ca_suggested, units, by_customer, folds, rows_without_journeys.
def select_order(
    journeys: journey_set,
    orders: Sequence[SupportsIndex],
    folds: SupportsIndex,
    seed: SupportsIndex,
    prior: float,
    collapse_repeats: bool,
    roc_points: SupportsIndex,
    threads: SupportsIndex,
    progress: Callable[[int, int], object] | None = None,
) -> dict[str, Any]: ...

# The counts with every state seen fewer than min_count times merged into its
# suffix state, recursively.
def back_off(counts: transition_counts, min_count: SupportsIndex) -> transition_counts: ...

# register_credit.cpp
# Per-journey credit: (row, channel, conversions, value), one entry per row
# and distinct channel.

def heuristic_journey_credit(
    journeys: journey_set, method: str, options: heuristic_options = ..., threads: int = 0
) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint32], npt.NDArray[np.float64], npt.NDArray[np.float64]
]: ...
def simplified_shapley_journey_credit(
    journeys: journey_set, threads: int = 0
) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint32], npt.NDArray[np.float64], npt.NDArray[np.float64]
]: ...
def proportional_journey_credit(
    journeys: journey_set,
    conversion_weights: Sequence[float],
    value_weights: Sequence[float],
    threads: int = 0,
) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint32], npt.NDArray[np.float64], npt.NDArray[np.float64]
]: ...
def markov_journey_credit(
    journeys: journey_set,
    model: markov_model,
    progress: Callable[[int, int], object] | None = None,
    threads: int = 0,
) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint32], npt.NDArray[np.float64], npt.NDArray[np.float64]
]: ...
def shapley_journey_credit(
    journeys: journey_set, model: markov_model, threads: int = 0
) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint32], npt.NDArray[np.float64], npt.NDArray[np.float64]
]: ...
def calibrate(
    names: Sequence[str],
    conversions: Sequence[float] | npt.NDArray[np.float64],
    value: Sequence[float] | npt.NDArray[np.float64],
    tested: Sequence[str],
    measured: Sequence[float] | npt.NDArray[np.float64],
    lower: Sequence[float] | npt.NDArray[np.float64],
    upper: Sequence[float] | npt.NDArray[np.float64],
    attributed_lower: npt.NDArray[np.float64] | None = None,
    attributed_upper: npt.NDArray[np.float64] | None = None,
) -> dict[str, Any]: ...

# --- Shapley values and removal rules (register_shapley.cpp) ----------------

# The most players method "auto" enumerates exactly.
auto_exact_players: int

class shapley_options:
    def __init__(
        self,
        *,
        method: str = "auto",
        exact_limit: SupportsIndex = 13,
        permutations: SupportsIndex = 1000,
        seed: SupportsIndex = 0,
        threads: SupportsIndex = 0,
        dense_limit: SupportsIndex = 3000,
    ) -> None: ...
    @property
    def method(self) -> str: ...
    @property
    def exact_limit(self) -> int: ...
    @property
    def permutations(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def threads(self) -> int: ...
    @property
    def dense_limit(self) -> int: ...

# {names, conversions, value, share, first_purchases, repeat_purchases (loop; empty for
# the funnel), their *_se, sampled, permutations}.
@overload
def shapley_values(
    model: markov_model,
    names: Sequence[str],
    players: Sequence[Sequence[SupportsIndex]],
    options: shapley_options,
    progress: Callable[[int, int], object] | None = None,
) -> dict[str, Any]: ...
@overload
def shapley_values(
    model: loop_model,
    names: Sequence[str],
    players: Sequence[Sequence[SupportsIndex]],
    options: shapley_options,
    progress: Callable[[int, int], object] | None = None,
) -> dict[str, Any]: ...
def rule_group_removal_effects(
    model: markov_model,
    groups: Sequence[Sequence[SupportsIndex]],
    rule: str,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def rule_state_removal_effects(
    model: markov_model,
    states: Sequence[SupportsIndex],
    rule: str,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def rule_group_markov_attribution(
    model: markov_model,
    names: Sequence[str],
    groups: Sequence[Sequence[SupportsIndex]],
    rule: str,
    progress: Callable[[int, int], object] | None = None,
) -> attribution: ...
def rule_state_markov_attribution(
    model: markov_model,
    states: Sequence[SupportsIndex],
    rule: str,
    progress: Callable[[int, int], object] | None = None,
) -> attribution: ...
def rule_loop_markov_attribution(
    model: loop_model,
    names: Sequence[str],
    groups: Sequence[Sequence[SupportsIndex]],
    rule: str,
) -> loop_attribution: ...
def rule_loop_removal_effects(
    model: loop_model, groups: Sequence[Sequence[SupportsIndex]], rule: str
) -> dict[str, npt.NDArray[np.float64]]: ...
