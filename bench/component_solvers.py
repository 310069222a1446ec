"""Gauss-Seidel against a coarse level by last channel and Krylov solvers, on a removal's component.

Usage (needs scipy, which journeyloop itself does not use; ``make`` installs it in ``.venv``)::

    python bench/component_solvers.py --preset criteo --order 3 --channels ch001 ch300
    python bench/component_solvers.py --preset criteo --order 3 --stopping --channels ch000 ch665

The batched removal effects spend nearly all their time in Gauss-Seidel sweeps over the largest
strongly connected component of the chain. This measures, outside the library, whether an
aggregation of that component's states by their last channel (the channel a removal takes out:
removing channel c is, for the walks from START, the same as cutting the states whose last
channel is c), or a Krylov solver preconditioned by the Gauss-Seidel sweep, would make each pass
over the component worth more.

For each channel it solves the component with that channel's states cut, the values of the states
outside the component held at the fitted chain's (so only the component's own convergence is
measured), in the order the library sweeps (``--layout greedy``, the default: the greedy order
of build.ipp, ``greedy_order`` here) or in the depth-first finishing order (heavier successors
first) that it swept before (``--layout finishing``), with the share of the transitions' weight
that a sweep reads stale (the transitions to later rows). It prints the mean error over the
component, relative to the mean change the removal makes, after each pass over it:

- ``gauss-seidel``: plain sweeps (one pass each);
- ``two-level <restriction>``: cycles of two sweeps, then the residual (one more pass), restricted
  to one unknown per last channel and solved exactly, the correction added to every state of the
  channel. ``sum`` restricts by sums of the residual, ``visits`` by sums weighted by the expected
  visits from START (the left vector of the chain);
- ``gmres``: GMRES preconditioned by one sweep (the lower triangle of the matrix, as Gauss-Seidel
  solves it), without restarts: two passes an iteration (the product and the sweep), the
  orthogonalisation against the earlier vectors not counted;
- ``bicgstab``: BiCGSTAB with the same preconditioner: four passes an iteration.

The reference solution is 60 sweeps. A method wins if its error after the same number of passes
is smaller.

With ``--stopping`` it measures instead when plain Gauss-Seidel may stop, for the same channels:

- after how many sweeps the library's rule holds (no state's solution changed by more than 1e-14
  of the largest solution), against a rule on the error at START that a sweep bounds exactly:
  after a sweep, the residual of a state is the change of the states it read before they were
  updated, so the error at START is at most the sum over states of their expected visits from
  START times their change. That bound is asked to be within ``--bound`` (1e-11) of START's
  change, which leaves a margin of a hundred under the 1e-9 that ``check_exact.py`` allows;
  the error at START when it holds is printed too;
- partial sweeps: after a few full sweeps, only the states with the most expected visits (the
  top 30 % or 50 %) are swept, the others held. It prints the error at START after
  ``--passes`` passes and the work done, in full sweeps (rows and transitions read), against
  plain sweeps' error after as many passes.

The sweeps here have no extrapolation, which the library adds, so the library takes fewer sweeps
than either rule; what compares is one rule against the other.
"""

from __future__ import annotations

import argparse
import heapq
import time
from typing import Any, NamedTuple

import numpy as np
from generate_paths import load
from revision import git

import journeyloop as jl
from journeyloop import _core

try:
    import scipy.sparse as sp
    import scipy.sparse.csgraph as csgraph
    import scipy.sparse.linalg as sla
except ImportError as e:  # pragma: no cover - a bench script's optional dependency
    raise ImportError("bench/component_solvers.py needs scipy: pip install scipy") from e


def chain(preset: str, order: int) -> dict[str, Any]:
    """The fitted chain's Q, P(-> CONVERSION), solutions and last channels, by state id."""
    df = load(preset)
    journeys = jl.Journeys.from_paths(
        df, conversions="total_conversions", nulls="total_null", value="total_conversion_value"
    )
    counts = _core.count_transitions(journeys._set, _core.counting_options(order=order))
    model = _core.fit_markov(counts)
    n = int(counts.num_states)
    labels = [counts.state_label(s) for s in range(n)]
    conv, null = labels.index("CONVERSION"), labels.index("NULL")
    last = np.array([label.split(" > ")[-1] for label in labels])
    src, dst, weight = (np.asarray(a) for a in counts.edges())
    p = sp.csr_matrix((weight, (src, dst)), shape=(n, n))
    out_weight = np.asarray(p.sum(axis=1)).ravel()
    out_weight[out_weight == 0] = 1
    p = sp.csr_matrix(sp.diags(1 / out_weight) @ p)
    b = np.asarray(p[:, conv].todense()).ravel()
    transient = np.ones(n, bool)
    transient[[conv, null]] = False
    q = sp.csr_matrix(p.multiply(transient[None, :]))
    return dict(
        q=q,
        b=b,
        x=np.asarray(model.conversion_probabilities()),
        visits=np.asarray(model.expected_visits()),
        last=last,
    )


def finishing_order(q: sp.csr_matrix) -> np.ndarray:
    """Depth-first finishing order, heavier successors first (the greedy order starts from it)."""
    n = q.shape[0]
    ptr, idx, val = q.indptr, q.indices, q.data
    heavy = [
        idx[ptr[u] : ptr[u + 1]][np.argsort(-val[ptr[u] : ptr[u + 1]], kind="stable")]
        for u in range(n)
    ]
    seen = np.zeros(n, bool)
    out: list[int] = []
    for root in range(n):
        if seen[root]:
            continue
        seen[root] = True
        stack = [(root, 0)]
        while stack:
            u, i = stack[-1]
            if i < len(heavy[u]):
                stack[-1] = (u, i + 1)
                v = heavy[u][i]
                if not seen[v]:
                    seen[v] = True
                    stack.append((v, 0))
            else:
                out.append(u)
                stack.pop()
    return np.array(out)


class Removal(NamedTuple):
    """One channel's removal on the component: the system and its solution."""

    keep: np.ndarray  # 1 on the states kept, 0 on those cut
    a: sp.csr_matrix  # I - Q without the cut states' transitions
    r: np.ndarray  # the right-hand side, 0 on the cut states
    lower: sp.csr_matrix  # the triangle a sweep solves
    upper: sp.csr_matrix
    ref: np.ndarray  # 60 sweeps from the fitted solution

    def sweep(self, y: np.ndarray) -> Any:
        """One Gauss-Seidel sweep in the rows' order."""
        return sla.spsolve_triangular(self.lower, self.r - self.upper @ y, lower=True)


def removal(cut: np.ndarray, qc: sp.csr_matrix, rhs: np.ndarray, xc: np.ndarray) -> Removal:
    """The system of the removal that cuts the states `cut`, and its solution."""
    keep = (~cut).astype(float)
    a = sp.csr_matrix(sp.identity(len(xc)) - sp.diags(keep) @ qc @ sp.diags(keep))
    lower, upper = sp.csr_matrix(sp.tril(a, 0)), sp.csr_matrix(sp.triu(a, 1))
    solved = Removal(keep, a, rhs * keep, lower, upper, xc * keep)
    ref = solved.ref
    for _ in range(60):
        ref = solved.sweep(ref)
    return solved._replace(ref=ref)


def stopping(
    name: str,
    cut: np.ndarray,
    qc: sp.csr_matrix,
    rhs: np.ndarray,
    xc: np.ndarray,
    visits: np.ndarray,
    entry: np.ndarray,
    args: argparse.Namespace,
) -> None:
    """The stopping rules and the partial sweeps for one channel (see the module's docstring)."""
    system = removal(cut, qc, rhs, xc)
    keep, a, r, lower, ref = system.keep, system.a, system.r, system.lower, system.ref
    g = entry * keep
    change = abs(g @ (xc * keep - ref))  # START's change from this component
    print(f"\n{name}: {int(cut.sum()):,} states cut; START's change {change:.2e}")
    y, library, bound, plain = xc * keep, None, None, 0.0
    for k in range(1, 61):
        new = system.sweep(y)
        moved = np.abs(new - y)
        y = new
        error = abs(g @ (y - ref)) / change
        if k == args.passes:
            plain = error
        if library is None and moved.max() <= 1e-14 * xc.max():
            library = (k, error)
        if bound is None and float(visits @ moved) <= args.bound * change:
            bound = (k, error)
        if library and bound and k >= args.passes:
            break
    for rule, hit in (("largest change", library), (f"bound {args.bound:.0e}", bound)):
        text = f"{hit[0]} sweeps, error at START {hit[1]:.0e}" if hit else "not within 60 sweeps"
        print(f"  {rule:<20}{text}")
    print(f"  plain sweeps: error at START {plain:.0e} after {args.passes} passes")
    work_row = np.diff(qc.indptr) + 1.0  # transitions and the row itself
    share = visits / visits.sum()
    for full, top in ((6, 0.3), (6, 0.5), (8, 0.5)):
        rows = share >= np.quantile(share, 1 - top)
        part = np.flatnonzero(rows)
        sub = sp.csr_matrix(lower[part][:, part])
        y, work = xc * keep, 0.0
        for k in range(1, args.passes + 1):
            if k <= full:
                y = system.sweep(y)
                work += work_row.sum()
            else:
                rest = r[part] - (a[part] @ y - sub @ y[part])
                y[part] = sla.spsolve_triangular(sub, rest, lower=True)
                work += work_row[rows].sum()
        error = abs(g @ (y - ref)) / change
        print(
            f"  {full} full, then the top {top:.0%} by visits: error at START {error:.0e} after "
            f"{args.passes} passes, work {work / work_row.sum():.1f} full sweeps"
        )


def greedy_order(qc: sp.csr_matrix) -> np.ndarray:
    """The library's greedy order of a component's states (``greedy_sequence`` in build.ipp).

    Eades, Lin and Smyth's heuristic for a small feedback arc set, weighted by the transition
    probabilities: states are placed from both ends, next at the front a state whose successors
    are all placed, next at the back one that no unplaced state moves to, otherwise at the front
    the state that the unplaced states move to most, less what it moves to of them.
    """
    out = sp.csr_matrix(qc - sp.diags(qc.diagonal()))
    out.eliminate_zeros()
    inn = sp.csr_matrix(out.T)
    n = out.shape[0]
    reads = np.asarray(out.sum(axis=1)).ravel()
    read_by = np.asarray(inn.sum(axis=1)).ravel()
    outd, ind = np.diff(out.indptr), np.diff(inn.indptr)
    placed = np.zeros(n, bool)
    front: list[int] = []
    back: list[int] = []
    sinks = [int(u) for u in np.flatnonzero(outd == 0)]
    sources = [int(u) for u in np.flatnonzero(ind == 0)]
    best = [(-(read_by[u] - reads[u]), u) for u in range(n)]
    heapq.heapify(best)

    def place(u: int) -> None:
        placed[u] = True
        # The states u reads are read less (keys fall: renewed when they come up); the states
        # that read u read less (keys rise: pushed).
        for edges, weight, degree, ends, rises in (
            (out, read_by, ind, sources, False),
            (inn, reads, outd, sinks, True),
        ):
            for e in range(edges.indptr[u], edges.indptr[u + 1]):
                v = int(edges.indices[e])
                if placed[v]:
                    continue
                weight[v] -= edges.data[e]
                degree[v] -= 1
                if degree[v] == 0:
                    ends.append(v)
                if rises:
                    heapq.heappush(best, (-(read_by[v] - reads[v]), v))

    left = n
    while left:
        ends = 0
        for todo, to in ((sinks, front), (sources, back)):
            while todo:
                u = todo.pop()
                if not placed[u]:
                    place(u)
                    to.append(u)
                    ends += 1
        left -= ends
        if ends or not left:
            continue
        while best:
            key, u = heapq.heappop(best)
            if placed[u]:
                continue
            if -key != read_by[u] - reads[u]:
                heapq.heappush(best, (-(read_by[u] - reads[u]), u))
                continue
            place(u)
            front.append(u)
            left -= 1
            break
    return np.array(front + back[::-1])


def stale_share(qc: sp.csr_matrix) -> float:
    """The share of the transitions' weight that Gauss-Seidel reads stale (to a later row)."""
    coo = sp.coo_matrix(qc)
    return float(coo.data[coo.col > coo.row].sum() / coo.data[coo.col != coo.row].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="criteo")
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("--channels", nargs="+", default=["ch001", "ch300"], help="channel names")
    ap.add_argument("--passes", type=int, default=18)
    ap.add_argument("--stopping", action="store_true", help="the stopping rules and partial sweeps")
    ap.add_argument("--bound", type=float, default=1e-11)
    ap.add_argument(
        "--layout",
        choices=["greedy", "finishing"],
        default="greedy",
        help="the library's greedy order, or the finishing order it used before",
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    c = chain(args.preset, args.order)
    q, x = c["q"], c["x"]
    _, label = csgraph.connected_components(q, directed=True, connection="strong")
    big = np.flatnonzero(label == np.bincount(label).argmax())
    inside = np.zeros(q.shape[0], bool)
    inside[big] = True
    qc = sp.csr_matrix(q[big][:, big])
    rhs = c["b"][big] + q[big][:, ~inside] @ x[~inside]
    # The library's greedy order numbers the states as the counts do (here: by state id).
    order = greedy_order(qc) if args.layout == "greedy" else finishing_order(qc)
    qc = sp.csr_matrix(qc[order][:, order])
    rhs, xc, visits = rhs[order], x[big][order], c["visits"][big][order]
    # The expected entries into each state of the component from outside it: START's change is
    # their product with the component's change (the states outside it, upstream, are exact).
    entry = np.asarray((sp.diags(c["visits"] * ~inside) @ q)[:, big].sum(axis=0)).ravel()[order]
    names, agg = np.unique(c["last"][big][order], return_inverse=True)
    to_agg = sp.csr_matrix((np.ones(len(big)), (np.arange(len(big)), agg)))
    print(
        f"{args.preset} order {args.order}: component of {len(big):,} states, "
        f"{qc.nnz:,} transitions, {len(names)} last channels; {args.layout} order, "
        f"{stale_share(qc):.1%} of the weight read stale "
        f"(built in {time.perf_counter() - t0:.0f} s) at {git('rev-parse', '--short', 'HEAD')}"
    )
    if args.stopping:
        for name in args.channels:
            stopping(name, c["last"][big][order] == name, qc, rhs, xc, visits, entry, args)
        return
    width = len(str(args.passes))
    for name in args.channels:
        cut = c["last"][big][order] == name
        system = removal(cut, qc, rhs, xc)
        keep, a, r, lower, ref, sweep = (
            system.keep, system.a, system.r, system.lower, system.ref, system.sweep
        )  # fmt: skip
        scale = float(np.abs(xc - ref).mean())
        print(f"\n{name}: {int(cut.sum()):,} states cut; errors after each pass (relative)")
        y = xc * keep
        errors = []
        for _ in range(args.passes):
            y = sweep(y)
            errors.append(float(np.abs(y - ref).mean()) / scale)
        print(f"  {'gauss-seidel':<20}" + " ".join(f"{e:.0e}" for e in errors))
        for kind, weights in (("sum", np.ones(len(big))), ("visits", visits + 1e-300)):
            restrict = sp.csr_matrix(to_agg.T @ sp.diags(weights))
            coarse = np.linalg.inv((restrict @ a @ to_agg).toarray())
            y, passes, cells = xc * keep, 0, []
            while passes + 3 <= args.passes:
                y = sweep(sweep(y))
                y = y + to_agg @ (coarse @ (restrict @ (r - a @ y)))
                passes += 3
                err = float(np.abs(y - ref).mean()) / scale
                cells.append(f"{passes:>{width}}:{err:.0e}")
            print(f"  {'two-level ' + kind:<20}" + " ".join(cells))
        sweep_op = sla.LinearOperator(
            a.shape, matvec=lambda v, lower=lower: sla.spsolve_triangular(lower, v, lower=True)
        )
        cells = []
        for k in range(1, args.passes // 2 + 1):
            y, _ = sla.gmres(
                a, r, x0=xc * keep, restart=k, maxiter=1, M=sweep_op, rtol=0.0, atol=0.0
            )
            err = float(np.abs(y - ref).mean()) / scale
            cells.append(f"{2 * k:>{width}}:{err:.0e}")
        print(f"  {'gmres':<20}" + " ".join(cells))
        cells = []

        def record(
            y: np.ndarray, cells: list[str] = cells, ref: np.ndarray = ref, scale: float = scale
        ) -> None:
            err = float(np.abs(y - ref).mean()) / scale
            cells.append(f"{4 * (len(cells) + 1):>{width}}:{err:.0e}")

        sla.bicgstab(
            a, r, x0=xc * keep, maxiter=args.passes // 4, M=sweep_op, rtol=0.0, atol=0.0,
            callback=record,
        )  # fmt: skip
        print(f"  {'bicgstab':<20}" + " ".join(cells))


if __name__ == "__main__":
    main()
