"""Integer core of the matching engine: OR-Tools min-cost flow on rounded pair values.

OR-Tools ``SimpleMinCostFlow`` (cost-scaling push-relabel, integer costs) runs on
source → demand → offer → sink plus a source → sink bypass (the waiting list).  Values are
floats, so they are scaled and rounded: ``cost = −round(value × S)`` with ``S`` as large as
OR-Tools' overflow guard allows (it multiplies costs by ``(nodes + 1)²``).  The result is
optimal for the *rounded* values, i.e. within ``n × 0.5 / S`` of the float optimum — not
exact: :mod:`guichet.matching.certificate` then makes it optimal in floats and proves it.

Only demands and offers that have at least one eligible pair become nodes, so the scale
depends on the active part of the problem, not on its size.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from guichet.matching.model import FloatArray, IntArray

# Head-room kept under OR-Tools' own overflow bound on top of its (nodes + 1)² factor.
_HEADROOM = 8.0
# When OR-Tools still reports BAD_COST_RANGE, divide the scale by this and retry.
_BACKOFF = 64.0
_MAX_ATTEMPTS = 8


def solve_flow(
    n: int,
    k: int,
    ei: IntArray,
    ej: IntArray,
    ev: FloatArray,
    cap: IntArray,
    scale: float | None,
) -> tuple[IntArray, float]:
    """Optimal assignment for values rounded to integers; returns (offer per demand, S).

    ``ei``/``ej``/``ev`` are the eligible pairs (demand index, offer index, value > 0),
    ``cap`` the capacity left per offer; ``scale`` forces ``S`` (tests use a coarse one to
    exercise the float repair).  Unassigned demands get offer −1.
    """
    assigned = np.full(n, -1, np.int64)
    if ei.size == 0:
        return assigned, 0.0
    act_d = np.flatnonzero(np.bincount(ei, minlength=n))
    act_o = np.flatnonzero(np.bincount(ej, minlength=k))
    nd, no = act_d.size, act_o.size
    dnode = np.full(n, -1, np.int64)
    dnode[act_d] = np.arange(nd)
    onode = np.full(k, -1, np.int64)
    onode[act_o] = nd + np.arange(no)
    src, snk = nd + no, nd + no + 1
    n_nodes = nd + no + 2
    vmax = float(ev.max())
    if scale is None:
        # OR-Tools multiplies costs by (nodes + 1) and checks the product against
        # int64 / (nodes + 1); keep a factor 8 of head-room on top.
        scale = float(2**62) / float(n_nodes + 1) ** 2 / _HEADROOM / vmax
    tails = np.concatenate((np.full(nd, src), dnode[ei], onode[act_o], [src])).astype(np.int32)
    heads = np.concatenate((dnode[act_d], onode[ej], np.full(no, snk), [snk])).astype(np.int32)
    caps = np.concatenate(
        (np.ones(nd, np.int64), np.ones(ei.size, np.int64), cap[act_o], [nd])
    ).astype(np.int64)
    zeros = np.zeros(nd, np.int64)
    for _attempt in range(_MAX_ATTEMPTS):
        costs = np.concatenate(
            (zeros, -np.rint(ev * scale).astype(np.int64), np.zeros(no + 1, np.int64))
        )
        mcf = min_cost_flow.SimpleMinCostFlow()
        mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        mcf.set_nodes_supplies(
            np.array([src, snk], dtype=np.int32), np.array([nd, -nd], dtype=np.int64)
        )
        status = mcf.solve()
        if status == mcf.OPTIMAL:
            flows = mcf.flows(np.arange(nd, nd + ei.size, dtype=np.int32))
            chosen = np.flatnonzero(np.asarray(flows) > 0)
            assigned[ei[chosen]] = ej[chosen]
            return assigned, scale
        if status != mcf.BAD_COST_RANGE:
            break
        scale /= _BACKOFF
    raise RuntimeError(f"min cost flow failed with status {status!r}")  # pragma: no cover
