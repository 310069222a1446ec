"""The journey graph and the circular stage diagram (``journeyloop.plot.journey_graph``,
``journeyloop.plot.circular_journey``), drawn with matplotlib.

The journey graph is laid out by Graphviz's ``dot`` program when it is on PATH (its positions
and edge splines, read from ``dot -Tplain``, are drawn by matplotlib, so the plot stays
vector), otherwise by a layered left-to-right layout of its own. Which one was used is the
axes' ``journeyloop_engine`` attribute and is named in the title.
"""

from __future__ import annotations

import itertools
import math
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._errors import InvalidInputError
from ._model_base import whole_number

__all__ = ["circular_journey", "journey_graph"]

#: The canonical stages of the customer journey, in the order they are met.
STAGES = ("awareness", "consideration", "evaluation", "purchase", "experience", "loyalty")
_OUTCOMES = ("CONVERSION", "NULL", "END")
# Colours: channels, the start, the goal (conversion or purchase), leaving (null or end).
_FILL = {"channel": "#dbe9f6", "START": "#eeeeee", "goal": "#d4edda", "leave": "#f5d5d5"}
_EDGE = "#3b6ea5"
_LOOP = "#d9731a"
# Sizes in inches of the layout (dot's unit), scaled to the axes when drawn.
_FONT = 10.0
_BOX_HEIGHT = 0.36


@dataclass
class Graph:
    """Nodes and weighted edges of a drawn graph."""

    nodes: list[str]
    #: from, to, probability, flow (expected traversals per journey or customer).
    edges: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)


def _check_min_probability(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        msg = f"min_probability must be a number in [0, 1], got {value!r}"
        raise InvalidInputError(msg)


def _kind(label: str) -> str:
    if label == "START":
        return "START"
    if label in ("CONVERSION", "PURCHASE"):
        return "goal"
    if label in ("NULL", "END"):
        return "leave"
    return "channel"


def _tokens(label: str) -> list[str]:
    """The touches of a state label (``"a > b"``), without the padding of padded models."""
    return [t for t in label.split(" > ") if t and not (t.startswith("(") and t.endswith(")"))]


def _state_graph(model: Any) -> Graph:
    """The fitted chain's states and transitions, weighted by the expected traversals."""
    t = model.transition_matrix()
    states = model.states()
    visits = dict(zip(states["state"], states["expected_visits"], strict=True))
    edges = pd.DataFrame(
        {
            "from": t["from"],
            "to": t["to"],
            "probability": t["probability"].to_numpy(dtype=float),
            "flow": [visits[f] * p for f, p in zip(t["from"], t["probability"], strict=True)],
        }
    )
    return Graph(list(states["state"]), edges)


def _channel_graph(model: Any) -> Graph:
    """A higher-order chain drawn at the channel level: each transition between windows of
    the last touches is a move from the last channel of the one to the last of the other
    (the first window after START or PURCHASE is a chain of moves from it); counts summed,
    probabilities and flows from the summed counts."""
    t = model.transition_matrix()
    moves: dict[tuple[str, str], float] = {}
    for src, dst, count in zip(t["from"], t["to"], t["count"], strict=True):
        to = [dst] if dst in (*_OUTCOMES, "PURCHASE") else _tokens(dst)
        if src in ("START", "PURCHASE"):
            chain = [src, *to]
        else:
            chain = [(_tokens(src) or [src])[-1], to[-1]]
        for a, b in itertools.pairwise(chain):
            moves[(a, b)] = moves.get((a, b), 0.0) + float(count)
    frame = pd.DataFrame(
        [(a, b, c) for (a, b), c in moves.items()], columns=["from", "to", "count"]
    )
    out = frame.groupby("from")["count"].transform("sum")
    started = float(frame.loc[frame["from"] == "START", "count"].sum()) or 1.0
    edges = pd.DataFrame(
        {
            "from": frame["from"],
            "to": frame["to"],
            "probability": (frame["count"] / out.where(out > 0, 1.0)).to_numpy(dtype=float),
            "flow": (frame["count"] / started).to_numpy(dtype=float),
        }
    )
    labels = model._labels()
    # In the order of the model's states: START, the outcomes, then the channels.
    special = [s for s in labels if s in ("START", "PURCHASE", *_OUTCOMES)]
    nodes = [*special, *model.channels_]
    return Graph(nodes, edges)


def _select(graph: Graph, top: int | None, min_probability: float) -> Graph:
    edges = graph.edges[graph.edges["probability"] >= min_probability]
    edges = edges[edges["probability"] > 0]
    edges = edges.sort_values("flow", ascending=False, kind="stable")
    if top is not None:
        edges = edges.head(top)
    edges = edges.reset_index(drop=True)
    used = set(edges["from"]) | set(edges["to"])
    nodes = [n for n in graph.nodes if n in used or n == "START"]
    return Graph(nodes, edges, {n: _kind(n) for n in nodes})


# -- layout -------------------------------------------------------------------


def _box_width(label: str) -> float:
    return 0.3 + 0.085 * max(len(line) for line in label.split("\n"))


def _matplotlib_layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """Layers left to right by the shortest number of moves from START; the outcomes last,
    and each layer ordered by the mean height of the nodes leading into it."""
    succ: dict[str, list[str]] = {n: [] for n in graph.nodes}
    # Edges come largest flow first: the depth-first search keeps the main routes forward.
    for a, b in zip(graph.edges["from"], graph.edges["to"], strict=True):
        if a != b:
            succ[a].append(b)
    # A depth-first search from START leaves out the edges that close a loop; the rest
    # is acyclic, and each node's layer is its longest distance from START in it.
    forward: dict[str, list[str]] = {n: [] for n in graph.nodes}
    state: dict[str, int] = {}
    finished: list[str] = []
    for root in ["START", *graph.nodes]:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                finished.append(node)
                stack.pop()
            elif nxt not in state:
                forward[node].append(nxt)
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
            elif state[nxt] == 2:
                forward[node].append(nxt)
    layer = dict.fromkeys(graph.nodes, 0)
    for node in reversed(finished):
        for m in forward[node]:
            layer[m] = max(layer[m], layer[node] + 1)
    sinks = [n for n in graph.nodes if n in _OUTCOMES]
    last = max([layer[n] for n in graph.nodes if n not in sinks] + [0]) + 1
    for n in sinks:
        layer[n] = last
    layers: dict[int, list[str]] = {}
    for n in graph.nodes:
        layers.setdefault(layer[n], []).append(n)
    pred: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in zip(graph.edges["from"], graph.edges["to"], strict=True):
        pred[b].append(a)
    dx, dy = 1.6, 0.75
    pos: dict[str, tuple[float, float]] = {}
    x, previous = 0.0, 0.0
    for k in sorted(layers):
        members = layers[k]
        if k > 0:

            def height(n: str) -> float:
                ys = [pos[p][1] for p in pred[n] if p in pos]
                return -float(np.mean(ys)) if ys else 0.0

            members = sorted(members, key=height)
        widest = max(_box_width(n) for n in members)
        if pos:
            x += max(dx, (previous + widest) / 2 + 0.8)
        previous = widest
        for i, n in enumerate(members):
            pos[n] = (x, ((len(members) - 1) / 2 - i) * dy)
    return pos


def _bows(graph: Graph, boxes: Mapping[str, tuple[float, float, float, float]]) -> list[float]:
    """The ``arc3`` rad of each edge of the matplotlib layout.

    Edges between neighbouring layers bow a little (so that a -> b and b -> a part); edges
    that skip layers, stay in one or go back bow round the boxes between, by a height that
    grows slowly with their length, alternately above and below.
    """
    rads = []
    skipped = 0
    for a, b in zip(graph.edges["from"], graph.edges["to"], strict=True):
        (xa, ya), (xb, yb) = boxes[a][:2], boxes[b][:2]
        if a == b:
            rads.append(0.0)
            continue
        adjacent = xb > xa and all(not (xa < x < xb) for x, _, _, _ in boxes.values())
        if adjacent:
            rads.append(0.12)
            continue
        length = math.hypot(xb - xa, yb - ya)
        # The middle of an arc3 curve lies rad * length / 2 off the straight line.
        height = min(0.45 + 0.08 * length, 1.2)
        rad = min(2 * height / length, 0.6)
        skipped += 1
        rads.append(rad if skipped % 2 else -rad)
    return rads


def _label_spot(
    start: tuple[float, float],
    end: tuple[float, float],
    rad: float,
    boxes: Mapping[str, tuple[float, float, float, float]],
) -> tuple[float, float]:
    """Where an edge's label goes: the middle of its ``arc3`` curve, or the nearest point
    along it that is off every box."""
    (xa, ya), (xb, yb) = start, end
    cx = (xa + xb) / 2 + rad * (yb - ya)
    cy = (ya + yb) / 2 - rad * (xb - xa)
    spots = []
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
        x = (1 - t) ** 2 * xa + 2 * (1 - t) * t * cx + t**2 * xb
        y = (1 - t) ** 2 * ya + 2 * (1 - t) * t * cy + t**2 * yb
        spots.append((x, y))
        if all(abs(x - bx) > w / 2 + 0.15 or abs(y - by) > h / 2 + 0.08
               for bx, by, w, h in boxes.values()):  # fmt: skip
            return x, y
    return spots[0]


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_layout(
    graph: Graph, labelled: set[int], dot: str
) -> tuple[dict[str, tuple[float, float, float, float]], dict[int, Any], tuple[float, float]]:
    """Node boxes (x, y, width, height), edge splines (points, label position) and the
    drawing's width and height, by dot (in inches)."""
    ids = {n: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = [
        "digraph journey {",
        "  rankdir=LR; nodesep=0.25; ranksep=0.6;",
        f"  node [shape=box, fontsize={_FONT:g}, height={_BOX_HEIGHT}];",
        f"  edge [fontsize={_FONT - 2:g}];",
    ]
    for n in graph.nodes:
        lines.append(f"  {ids[n]} [label={_dot_quote(n)}];")
    sinks = [ids[n] for n in graph.nodes if n in _OUTCOMES]
    if sinks:
        lines.append("  {rank=sink; " + "; ".join(sinks) + ";}")
    lines.append("  {rank=source; " + ids["START"] + ";}")
    for i, (a, b, p) in enumerate(
        zip(graph.edges["from"], graph.edges["to"], graph.edges["probability"], strict=True)
    ):
        label = f', label="{p:.2f}"' if i in labelled else ""
        weight = max(1, round(100 * float(p)))
        lines.append(f"  {ids[a]} -> {ids[b]} [id=e{i}, weight={weight}{label}];")
    lines.append("}")
    result = subprocess.run(
        [dot, "-Tplain"], input="\n".join(lines), capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        msg = f"Graphviz's dot failed to lay out the journey graph: {result.stderr.strip()}"
        raise RuntimeError(msg)
    names = {v: k for k, v in ids.items()}
    boxes: dict[str, tuple[float, float, float, float]] = {}
    splines: dict[tuple[str, str], Any] = {}
    bounds = (0.0, 0.0)
    for line in result.stdout.splitlines():
        f = _plain_fields(line)
        if not f:
            continue
        if f[0] == "graph":
            bounds = (float(f[2]), float(f[3]))
        elif f[0] == "node":
            boxes[names[f[1]]] = (float(f[2]), float(f[3]), float(f[4]), float(f[5]))
        elif f[0] == "edge":
            count = int(f[3])
            pts = [(float(f[4 + 2 * j]), float(f[5 + 2 * j])) for j in range(count)]
            rest = f[4 + 2 * count :]
            label_at = None
            if len(rest) >= 5:  # label x y style color
                label_at = (float(rest[1]), float(rest[2]))
            splines[(names[f[1]], names[f[2]])] = (pts, label_at)
    # -Tplain lists the edges in an order of its own; there is one per pair of nodes.
    pairs = zip(graph.edges["from"], graph.edges["to"], strict=True)
    return boxes, {i: splines[pair] for i, pair in enumerate(pairs)}, bounds


def _plain_fields(line: str) -> list[str]:
    """The fields of a line of ``dot -Tplain`` (quoted strings kept whole)."""
    out: list[str] = []
    i = 0
    while i < len(line):
        if line[i] == " ":
            i += 1
        elif line[i] == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            out.append(line[i + 1 : j].replace('\\"', '"'))
            i = j + 1
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            out.append(line[i:j])
            i = j
    return out


# -- drawing ------------------------------------------------------------------


def _new_axes(ax: Any, size: tuple[float, float]) -> Any:
    """``ax``, or the axes of a new figure of ``size`` inches (ImportError without
    matplotlib, naming the extra)."""
    from .plot import _axes

    if ax is not None:
        return _axes(ax)
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        msg = "journeyloop.plot needs matplotlib: pip install journeyloop[plot]"
        raise ImportError(msg) from err
    _, new = plt.subplots(figsize=size, layout="constrained")
    return new


def _frame(ax: Any, x0: float, x1: float, y0: float, y1: float) -> float:
    """Sets the axes to the drawing's extent (equal aspect, no axis lines) and returns the
    font size, in points, that the drawing's scale gives its labels."""
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.axis("off")
    pt = _scale(ax, x1 - x0, y1 - y0)
    return float(np.clip(_FONT * pt / 72.0, 4.0, 11.0))


def _scale(ax: Any, width: float, height: float) -> float:
    """Points per layout inch once ``width`` x ``height`` inches fill the axes."""
    fig = ax.figure
    bbox = ax.get_position()
    w_in = bbox.width * fig.get_figwidth()
    h_in = bbox.height * fig.get_figheight()
    return 72.0 * float(min(w_in / max(width, 1e-9), h_in / max(height, 1e-9)))


def _node(ax: Any, label: str, kind: str, x: float, y: float, w: float, h: float,
          fontsize: float) -> Any:  # fmt: skip
    from matplotlib.patches import FancyBboxPatch

    box = FancyBboxPatch(
        (x - w / 2, y - h / 2), w, h,
        boxstyle="round,pad=0,rounding_size=0.08",
        facecolor=_FILL[kind], edgecolor="#555555", linewidth=0.8, zorder=3,
    )  # fmt: skip
    ax.add_patch(box)
    weight = "bold" if kind in ("goal", "START") else "normal"
    ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, zorder=4,
            fontweight=weight)  # fmt: skip
    return box


def _edge_style(p: float, flow: float, top_flow: float) -> dict[str, Any]:
    share = flow / top_flow if top_flow > 0 else 0.0
    return {
        "linewidth": 0.6 + 3.4 * float(p),
        "alpha": 0.35 + 0.65 * max(float(p), share),
        "color": _EDGE,
    }


def _label(ax: Any, x: float, y: float, text: str, fontsize: float, color: str = _EDGE) -> None:
    ax.text(
        x, y, text, ha="center", va="center", fontsize=fontsize, color=color, zorder=5,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
              "alpha": 0.85},
    )  # fmt: skip


def _arrow(ax: Any, style: dict[str, Any], fontsize: float, **kwargs: Any) -> Any:
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(
        arrowstyle="-|>",
        mutation_scale=max(6.0, fontsize * 1.1),
        shrinkA=0,
        shrinkB=0,
        zorder=2,
        **style,
        **kwargs,
    )
    ax.add_patch(arrow)
    return arrow


def _self_loop(x: float, y: float, w: float, h: float) -> Any:
    from matplotlib.path import Path

    a = (x - w / 4, y + h / 2)
    b = (x + w / 4, y + h / 2)
    return Path(
        [a, (a[0] - 0.1, a[1] + 0.45), (b[0] + 0.1, b[1] + 0.45), b],
        [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4],
    )


def journey_graph(
    model: Any,
    *,
    ax: Any = None,
    engine: str = "auto",
    top: int | None = None,
    min_probability: float = 0.01,
    labels: int = 12,
    level: str = "auto",
) -> Any:
    """The journey graph of a fitted :class:`MarkovModel` or :class:`LoopModel`.

    Nodes are START, the channels and the outcomes (CONVERSION and NULL, or PURCHASE and
    END for the loop model); edges are the transition probabilities, their width and
    opacity growing with the probability, the ``labels`` edges that carry the most journeys
    labelled with theirs.

    Parameters
    ----------
    model
        A fitted :class:`MarkovModel` (any order) or :class:`LoopModel`.
    ax
        The matplotlib axes to draw on (a new figure's when None).
    engine
        ``"auto"`` lays the graph out with Graphviz's ``dot`` when the program is on PATH
        and with matplotlib otherwise; ``"graphviz"`` requires dot (a RuntimeError says
        what to install without it); ``"matplotlib"`` uses the layered layout of its own.
        Either way matplotlib draws it (dot gives only the positions and edge curves).
    top
        Draw only the ``top`` edges that carry the most journeys (expected traversals per
        journey, or per customer for the loop model); all by default.
    min_probability
        Edges of a smaller probability are left out.
    labels
        How many edges, those that carry the most journeys, have their probability written.
    level
        For models of order > 1: ``"channel"`` (the default, ``"auto"``) draws moves between
        channels (each transition between windows of the last touches is a move from the
        last channel of the one to the last channel of the other; probabilities from the
        summed counts), ``"state"`` draws the states themselves.

    Returns
    -------
    The matplotlib axes drawn on, with the attributes ``journeyloop_engine`` (``"graphviz"``
    or ``"matplotlib"``, also named in the title) and ``journeyloop_graph`` (``nodes``, the
    labels drawn, and ``edges``, a frame of ``from``, ``to``, ``probability``, ``flow``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[30, 0, 20],
    ...                            nulls=[30, 20, 0])
    >>> ax = jl.plot.journey_graph(jl.MarkovModel().fit(j), engine="matplotlib")
    >>> ax.journeyloop_engine, ax.journeyloop_graph["nodes"]
    ('matplotlib', ['START', 'CONVERSION', 'NULL', 'a', 'b', 'c'])
    """
    if engine not in ("auto", "graphviz", "matplotlib"):
        msg = f'engine must be "auto", "graphviz" or "matplotlib", got {engine!r}'
        raise InvalidInputError(msg)
    if level not in ("auto", "channel", "state"):
        msg = f'level must be "auto", "channel" or "state", got {level!r}'
        raise InvalidInputError(msg)
    if top is not None:
        top = whole_number(top, "top", 1)
    labels = whole_number(labels, "labels", 0)
    _check_min_probability(min_probability)
    if not hasattr(model, "transition_matrix") or not hasattr(model, "_labels"):
        msg = f"journey_graph expects a fitted MarkovModel or LoopModel, got {type(model).__name__}"
        raise InvalidInputError(msg)
    dot = shutil.which("dot")
    if engine == "graphviz" and dot is None:
        msg = (
            'engine="graphviz" needs Graphviz\'s dot program on PATH (Debian: apt-get install'
            ' graphviz); engine="auto" falls back to the matplotlib layout'
        )
        raise RuntimeError(msg)
    use_dot = dot is not None and engine != "matplotlib"
    full = (
        _channel_graph(model)
        if model.order > 1 and level in ("auto", "channel")
        else _state_graph(model)
    )
    graph = _select(full, top, float(min_probability))
    ax = _new_axes(ax, (10, 5))
    edges = graph.edges
    labelled = set(range(min(labels, len(edges))))
    top_flow = float(edges["flow"].max()) if len(edges) else 0.0

    if use_dot:
        assert dot is not None
        boxes, splines, (width, height) = _dot_layout(graph, labelled, dot)
        x0, x1, y0, y1 = -0.1, width + 0.1, -0.1, height + 0.1
    else:
        centres = _matplotlib_layout(graph)
        boxes = {n: (x, y, _box_width(n), _BOX_HEIGHT) for n, (x, y) in centres.items()}
        xs = [b[0] for b in boxes.values()]
        ys = [b[1] for b in boxes.values()]
        margin = 0.3
        x0 = min(x - b[2] / 2 for x, b in zip(xs, boxes.values(), strict=True)) - margin
        x1 = max(x + b[2] / 2 for x, b in zip(xs, boxes.values(), strict=True)) + margin
        rads = _bows(graph, boxes)
        # Room for the edges that bow round the others (their curves' middles) and the
        # self-loops above their boxes.
        mids = [
            boxes[a][1] + (boxes[b][1] - boxes[a][1]) / 2 - 0.5 * r * (boxes[b][0] - boxes[a][0])
            for a, b, r in zip(graph.edges["from"], graph.edges["to"], rads, strict=True)
        ]
        y0 = min([*ys, *mids]) - 0.5
        y1 = max([*ys, *mids]) + 0.7
    fontsize = _frame(ax, x0, x1, y0, y1)
    patches = {n: _node(ax, n, graph.kinds[n], *boxes[n], fontsize=fontsize) for n in graph.nodes}
    small = max(5.5, fontsize * 0.8)
    for i, (a, b, p, flow) in enumerate(
        zip(edges["from"], edges["to"], edges["probability"], edges["flow"], strict=True)
    ):
        style = _edge_style(p, flow, top_flow)
        if use_dot:
            from matplotlib.path import Path

            pts, label_at = splines[i]
            tail = np.asarray(pts[-1]) - np.asarray(pts[-2])
            norm = float(np.hypot(*tail)) or 1.0
            tip = tuple(np.asarray(pts[-1]) + tail / norm * 0.1)
            verts = [*pts, tip]
            codes = [Path.MOVETO] + [Path.CURVE4] * (len(pts) - 1) + [Path.LINETO]
            _arrow(ax, style, fontsize, path=Path(verts, codes))
            if i in labelled and label_at is not None:
                _label(ax, label_at[0], label_at[1], f"{p:.2f}", small)
            continue
        if a == b:
            x, y, w, h = boxes[a]
            _arrow(ax, style, fontsize, path=_self_loop(x, y, w, h))
            if i in labelled:
                _label(ax, x, y + h / 2 + 0.38, f"{p:.2f}", small)
            continue
        (xa, ya), (xb, yb) = boxes[a][:2], boxes[b][:2]
        rad = rads[i]
        _arrow(ax, style, fontsize, posA=(xa, ya), posB=(xb, yb),
               patchA=patches[a], patchB=patches[b],
               connectionstyle=f"arc3,rad={rad}")  # fmt: skip
        if i in labelled:
            _label(ax, *_label_spot((xa, ya), (xb, yb), rad, boxes), f"{p:.2f}", small)
    name = "Graphviz dot" if use_dot else "matplotlib"
    what = "channels" if model.order > 1 and level != "state" else "states"
    order = f", order {model.order} by {what}" if model.order > 1 else ""
    ax.set_title(f"Journey graph{order} (layout: {name})", fontsize="medium")
    ax.journeyloop_engine = "graphviz" if use_dot else "matplotlib"
    ax.journeyloop_graph = {"nodes": list(graph.nodes), "edges": edges.copy()}
    return ax


# -- the circular journey -------------------------------------------------------


def _stage_order(present: Sequence[str]) -> list[str]:
    """Stages in the canonical order, unknown ones after in the order met."""
    known = [s for s in STAGES if s in present]
    return known + [s for s in present if s not in STAGES]


def _stage_input(data: Any, stages: Mapping[str, str] | None) -> tuple[Any, float | None, bool]:
    """The stage-level model of ``data``, the loyalty-loop rate (loop data) and whether
    it is loop-form."""
    from ._journeys import Histories, Journeys
    from ._loop import LoopModel
    from ._markov import MarkovModel

    if isinstance(data, (Journeys, Histories)):
        journeys = data
    elif hasattr(data, "_labels") and hasattr(data, "transition_matrix"):
        data._fitted  # noqa: B018 - NotFittedError for an unfitted model
        mapping = stages if stages is not None else data.stages_
        journeys = data.__dict__.get("_journeys")
        if mapping is None:
            # A model fitted on stage-relabelled journeys: its channels are the stages.
            rate = None
            if isinstance(data, LoopModel):
                rate = data.loyalty_loop_rate({s: s for s in data.channels_})
            return data, rate, isinstance(data, LoopModel)
        if journeys is None:
            msg = (
                "this model holds no journeys (it was loaded from a file or fitted on counts):"
                " give circular_journey the journeys or histories with stages=, or a model"
                " fitted on journeys.by_stage(stages)"
            )
            raise InvalidInputError(msg)
        stages = mapping
    else:
        msg = (
            "circular_journey expects Journeys or Histories (with stages= or stage metadata)"
            f" or a fitted MarkovModel or LoopModel, got {type(data).__name__}"
        )
        raise InvalidInputError(msg)
    mapping = stages if stages is not None else journeys.stages
    if mapping is None:
        msg = (
            "circular_journey needs the channels' stages: stages={channel: stage, ...} or"
            " journeys with stage metadata"
        )
        raise InvalidInputError(msg)
    mapping = dict(mapping)
    if isinstance(journeys, Histories):
        staged = journeys.by_stage(mapping)
        model = LoopModel().fit(staged)
        rate = LoopModel().fit(journeys).loyalty_loop_rate(mapping)
        return model, rate, True
    return MarkovModel().fit(journeys.by_stage(mapping)), None, False


def circular_journey(
    model_or_histories: Any,
    *,
    stages: Mapping[str, str] | None = None,
    ax: Any = None,
    min_probability: float = 0.02,
    labels: int = 12,
) -> Any:
    """The circular customer journey: the stage graph drawn as a loop.

    The stages sit on a circle clockwise in the canonical order (awareness, consideration,
    evaluation, purchase, experience, loyalty; stages of other names after them), the
    purchase in its place. Arrows are the moves between stages, their width growing with
    the moves per customer (expected traversals) and the ``labels`` largest labelled with
    their probability; under each stage, the share of customers whose first touch it is
    (``first``) and the probability of stopping after it (``stop``). The return from the
    purchase through the post-purchase stages (experience, loyalty) to another purchase is
    drawn in orange, and for loop histories the loyalty-loop rate
    (:meth:`LoopModel.loyalty_loop_rate`: purchasing again without touching an evaluation
    channel in between, from the channel-level model) is written under the circle.

    Parameters
    ----------
    model_or_histories
        :class:`Histories` (loop form, the common case) or :class:`Journeys` (funnel: the
        conversion takes the purchase's place and nothing returns), with ``stages`` or
        their stage metadata; they are relabelled by stage (``by_stage``) and fitted. Or a
        fitted model: with ``stages`` (or stage metadata) its journeys are used the same
        way; without, its channels are taken to be the stages (a model fitted on
        ``histories.by_stage(stages)``).
    stages
        Channel → stage.
    ax
        The matplotlib axes to draw on (a new figure's when None).
    min_probability
        Moves of a smaller probability are left out.
    labels
        How many arrows, the largest, have their probability written.

    Returns
    -------
    The matplotlib axes drawn on, with the attribute ``journeyloop_graph`` (``nodes``: the
    stages drawn in their order, ``edges``: ``from``, ``to``, ``probability``, ``flow``,
    ``loop`` (drawn in orange)) and ``journeyloop_loyalty_loop_rate`` (None for funnel
    journeys).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import journeyloop as jl
    >>> h = jl.Histories.from_paths(["a > b > purchase > c > purchase", "a"], count=[2, 5])
    >>> ax = jl.plot.circular_journey(
    ...     h, stages={"a": "awareness", "b": "evaluation", "c": "loyalty"})
    >>> ax.journeyloop_graph["nodes"], round(ax.journeyloop_loyalty_loop_rate, 4)
    (['awareness', 'evaluation', 'PURCHASE', 'loyalty'], 0.5)
    """
    labels = whole_number(labels, "labels", 0)
    _check_min_probability(min_probability)
    model, rate, is_loop = _stage_input(model_or_histories, stages)
    graph = _state_graph(model)
    goal = "PURCHASE" if is_loop else "CONVERSION"
    leave = "END" if is_loop else "NULL"
    present = [s for s in graph.nodes if s not in ("START", goal, leave)]
    ordered = _stage_order(present)
    # The purchase (or the conversion) goes before the first post-purchase stage, or after
    # the last canonical one.
    after = [s for s in ordered if s in STAGES and STAGES.index(s) > STAGES.index("purchase")]
    ring = list(ordered)
    insert = ring.index(after[0]) if after else len([s for s in ring if s in STAGES])
    ring.insert(insert, goal)
    edges = graph.edges
    first = dict(zip(edges.loc[edges["from"] == "START", "to"],
                     edges.loc[edges["from"] == "START", "probability"], strict=True))  # fmt: skip
    stop = dict(zip(edges.loc[edges["to"] == leave, "from"],
                    edges.loc[edges["to"] == leave, "probability"], strict=True))  # fmt: skip
    keep = (
        edges["from"].isin(ring)
        & edges["to"].isin(ring)
        & (edges["probability"] >= min_probability)
        & (edges["probability"] > 0)
    )
    drawn = edges[keep].sort_values("flow", ascending=False, kind="stable").reset_index(drop=True)
    post = {goal, *after}
    drawn["loop"] = [a in post and b in post and is_loop for a, b in
                     zip(drawn["from"], drawn["to"], strict=True)]  # fmt: skip

    ax = _new_axes(ax, (7, 7))
    n = len(ring)
    radius = 2.2
    angle = {s: math.radians(90 + 180 / n - 360 * i / n) for i, s in enumerate(ring)}
    pos = {s: (radius * math.cos(a), radius * math.sin(a)) for s, a in angle.items()}
    # Room round the boxes for the arrows that bow outwards, the notes and the loop rate.
    x0 = min(x - _box_width(s) / 2 for s, (x, _) in pos.items()) - 0.5
    x1 = max(x + _box_width(s) / 2 for s, (x, _) in pos.items()) + 0.5
    y0 = min(y for _, y in pos.values()) - 1.1
    y1 = max(y for _, y in pos.values()) + 0.7
    fontsize = _frame(ax, x0, x1, y0, y1)
    kinds = {s: ("goal" if s == goal else "channel") for s in ring}
    patches = {}
    for s in ring:
        x, y = pos[s]
        w = _box_width(s)
        patches[s] = _node(ax, s, kinds[s], x, y, w, _BOX_HEIGHT, fontsize)
        if s == goal:
            continue
        note = f"first {first.get(s, 0.0):.0%} · stop {stop.get(s, 0.0):.0%}"
        ax.text(x, y - _BOX_HEIGHT / 2 - 0.14, note,
                ha="center", va="center", fontsize=max(5.0, fontsize * 0.7), color="#555555",
                zorder=4, bbox={"boxstyle": "round,pad=0.1", "facecolor": "white",
                                "edgecolor": "none", "alpha": 0.8})  # fmt: skip
    top_flow = float(drawn["flow"].max()) if len(drawn) else 0.0
    index = {s: i for i, s in enumerate(ring)}
    for i, (a, b, p, flow, loop) in enumerate(
        zip(
            drawn["from"],
            drawn["to"],
            drawn["probability"],
            drawn["flow"],
            drawn["loop"],
            strict=True,
        )
    ):
        style = _edge_style(p, flow, top_flow)
        style["linewidth"] = 0.6 + 5.4 * (flow / top_flow if top_flow > 0 else 0.0)
        if loop:
            style["color"] = _LOOP
            style["alpha"] = max(style["alpha"], 0.8)
        xa, ya = pos[a]
        xb, yb = pos[b]
        if a == b:
            x, y = pos[a]
            _arrow(ax, style, fontsize, path=_self_loop(x, y, _box_width(a), _BOX_HEIGHT))
            continue
        forward = (index[b] - index[a]) % n
        # Moves to the next stage go round the outside, back to the previous one round the
        # inside; the others cross, bowing so that a -> b and b -> a part.
        bow = 0.25 if forward in (1, n - 1) else 0.12
        mx, my = (xa + xb) / 2, (ya + yb) / 2
        dx, dy = xb - xa, yb - ya
        outward = (mx + bow * dy) ** 2 + (my - bow * dx) ** 2 > mx**2 + my**2
        rad = bow if outward == (forward == 1) else -bow
        if forward not in (1, n - 1):
            rad = bow
        _arrow(ax, style, fontsize, posA=(xa, ya), posB=(xb, yb),
               patchA=patches[a], patchB=patches[b],
               connectionstyle=f"arc3,rad={rad}")  # fmt: skip
        if i < labels:
            _label(ax, mx + 0.5 * rad * dy, my - 0.5 * rad * dx, f"{p:.2f}", fontsize * 0.75,
                   color=_LOOP if loop else _EDGE)  # fmt: skip
    if is_loop and rate is not None:
        text = (
            f"loyalty loop: {rate:.1%} of purchases are followed by another\n"
            "with no evaluation touch in between"
        )
    else:
        text = "funnel journeys: nothing returns after the conversion"
    ax.text((x0 + x1) / 2, y0 + 0.3, text, ha="center", va="center", fontsize=fontsize * 0.85,
            color=_LOOP if is_loop else "#555555")  # fmt: skip
    ax.set_title("The circular journey by stage", fontsize="medium")
    ax.journeyloop_graph = {"nodes": ring, "edges": drawn}
    ax.journeyloop_loyalty_loop_rate = rate
    return ax
