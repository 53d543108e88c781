"""Float optimality certificate of an assignment, with repair, and its LP dual bound.

The integer core (:mod:`guichet.matching.flow`) is optimal for rounded values only; this
module makes the assignment optimal in floats and proves it.

Exchange graph
--------------
The assignment is turned into the "exchange graph" over the offers plus a node Z (the
waiting list).  An arc k → j of weight ``v_ij − v_ik`` says "move i from j to k"; Z → j
(``v_ij``) "unassign i"; k → Z (``−v_ik``) "give k to waiting i"; zero arcs stand for free
places (Z → j when j has one) and for leaving a place empty (j → Z).  The assignment is
optimal iff this graph has no negative cycle.

Repair
------
A vectorised Bellman-Ford finds either potentials — the offer *prices* p_j, i.e. LP
duals — or negative cycles, which are cancelled (all vertex-disjoint ones at once) before
trying again.  Relaxations need to gain more than ``tol = 1e-10 × max value``, far above
float noise, so the loop ends.

Dual bound
----------
With the prices, ``u_i = max(0, max_k v_ik − p_k)`` and ``Σ u_i + Σ cap_j p_j`` is an LP
upper bound on every solution; bound − objective (``stats["optimality_gap"]``) proves how
far from optimal the answer can be (0 up to float rounding).

Tolerance
---------
Relaxations below ``tol`` are ignored, so an exchange worth less than 1e-10 of the
largest value may be left unmade.  Two consequences are handled here and in ``solve``:

* a waiting demand whose every value is below ``tol`` may sit next to a free place it
  could take; :func:`fill_free_places` gives it the place (an exact gain, no float
  comparison of exchanges involved), so ``capacity_taken`` is always true;
* unmade exchanges add up in the gap: ``solve`` refuses a result whose certified gap
  exceeds :data:`GAP_REL_TOL` of the bound (the weight-span rule of
  :mod:`guichet.matching.model` keeps inputs far from that).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from guichet.matching.model import FloatArray, IntArray

#: relative gain a float exchange must bring to count as an improvement
REL_TOL = 1e-10
#: the certified optimality gap a result may have, relative to the LP bound
GAP_REL_TOL = 1e-9
# Above this many exchange-graph cells the dense aggregation would cost too much memory.
DENSE_CELLS = 6_000_000


@dataclass(eq=False)
class Certificate:
    """A float-optimal assignment and the offer prices that prove it."""

    assigned: IntArray  # offer index per demand, −1 if none
    price: FloatArray  # per offer (0 for offers outside the flow)
    iterations: int  # Bellman-Ford rounds, all repairs included
    cycles: int  # negative cycles cancelled


def certify(
    n: int,
    k: int,
    ei: IntArray,
    ej: IntArray,
    ev: FloatArray,
    cap: IntArray,
    assigned: IntArray,
) -> Certificate:
    """Make ``assigned`` optimal in floats (cancel negative cycles) and return prices.

    ``assigned`` (offer index per demand, −1 if none) is updated in place; it must use only
    the eligible pairs ``(ei, ej)`` of values ``ev`` and respect the capacities ``cap``.
    """
    price = np.zeros(k, np.float64)
    if ei.size == 0:
        return Certificate(assigned, price, 0, 0)
    # Relative to the largest value only (all values are > 0): an absolute floor would
    # make every exchange of a problem whose values are all tiny look like noise.
    tol = REL_TOL * float(ev.max())
    act_o = np.flatnonzero(np.bincount(ej, minlength=k))
    no = act_o.size
    onode = np.full(k, -1, np.int64)
    onode[act_o] = np.arange(no)
    z = no  # the waiting-list node
    v_nodes = no + 1
    pe = onode[ej]
    cap_a = cap[act_o]
    # Value of each demand's current pair, looked up from the pair arrays.
    a_val = np.zeros(n, np.float64)
    hit = np.flatnonzero(assigned[ei] == ej)
    a_val[ei[hit]] = ev[hit]
    total_iter = 0
    cycles = 0
    while True:
        a_node = np.where(assigned >= 0, onode[np.maximum(assigned, 0)], -1)
        load = np.bincount(a_node[a_node >= 0], minlength=no)
        an = a_node[ei]
        free = an < 0
        same = an == pe
        move = ~free & ~same
        tail = np.concatenate((pe[move], np.full(int(same.sum()), z), pe[free]))
        head = np.concatenate((an[move], pe[same], np.full(int(free.sum()), z)))
        w = np.concatenate((a_val[ei[move]] - ev[move], ev[same], -ev[free]))
        src_pair = np.concatenate(
            (np.flatnonzero(move), np.flatnonzero(same), np.flatnonzero(free))
        )
        # Zero arcs: any offer may leave a place empty (j → Z); one with a free place
        # may give it (Z → j).
        open_o = np.flatnonzero(load < cap_a)
        tail = np.concatenate((tail, np.arange(no), np.full(open_o.size, z)))
        head = np.concatenate((head, np.full(no, z), open_o))
        w = np.concatenate((w, np.zeros(no), np.zeros(open_o.size)))
        src_pair = np.concatenate((src_pair, np.full(no + open_o.size, -1, np.int64)))

        a_tail, a_head, a_w = _aggregate(tail, head, w, v_nodes)
        dist, pred, iters, cycle_nodes = _bellman_ford(a_tail, a_head, a_w, v_nodes, tol)
        total_iter += iters
        if not cycle_nodes:
            p = dist[:no] - dist[z]
            price[act_o] = np.maximum(p, 0.0)
            return Certificate(assigned, price, total_iter, cycles)
        # Cancel every cycle found (they are vertex-disjoint, hence demand-disjoint).
        key_all = head * v_nodes + tail
        for cyc in cycle_nodes:
            cycles += 1
            for h in cyc:
                t = int(pred[h])
                cand = np.flatnonzero(key_all == h * v_nodes + t)
                q = int(src_pair[cand[np.argmin(w[cand])]])  # first minimum: deterministic
                if q < 0:
                    continue  # a free place given or left empty: nothing to move
                i = int(ei[q])
                if t == z:  # Z → h: demand i leaves offer h for the waiting list
                    assigned[i] = -1
                    a_val[i] = 0.0
                else:  # t → h or t → Z: demand i now takes offer t
                    assigned[i] = int(ej[q])
                    a_val[i] = float(ev[q])


def fill_free_places(ei: IntArray, ej: IntArray, ev: FloatArray, cap: IntArray, assigned: IntArray) -> int:
    """Give each free place to a waiting demand with an eligible pair there, best value first.

    The repair ignores gains below its tolerance, so it may leave a demand whose values
    are all that small waiting next to a free place; placing it only adds a positive
    value.  ``assigned`` is updated in place; returns how many demands were placed.
    """
    load = np.bincount(assigned[assigned >= 0], minlength=cap.size)
    cand = np.flatnonzero((assigned[ei] < 0) & (load[ej] < cap[ej]))
    if cand.size == 0:
        return 0
    left = (cap - load).tolist()
    placed = 0
    # Stable sort: equal values in (demand, offer) input order, as everywhere else.
    for q in cand[np.argsort(-ev[cand], kind="stable")].tolist():
        i, j = int(ei[q]), int(ej[q])
        if assigned[i] < 0 and left[j] > 0:
            assigned[i] = j
            left[j] -= 1
            placed += 1
    return placed


def dual_bound(ei: IntArray, ej: IntArray, ev: FloatArray, cap: IntArray, price: FloatArray) -> float:
    """LP upper bound from offer prices: ``Σ_i max(0, max_k v_ik − p_k) + Σ_j cap_j p_j``.

    Valid for any prices ≥ 0 (they and the ``u_i`` are a feasible dual); ``ei`` must be
    sorted, as the pair arrays are.
    """
    if ei.size == 0:
        return 0.0
    reduced = ev - price[ej]
    starts = np.flatnonzero(np.r_[True, ei[1:] != ei[:-1]])
    u = np.maximum(np.maximum.reduceat(reduced, starts), 0.0)
    return math.fsum(u.tolist()) + math.fsum((cap * price).tolist())


def _aggregate(
    tail: IntArray, head: IntArray, w: FloatArray, v_nodes: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """Cheapest parallel arc per (tail, head), sorted by head."""
    key = head * v_nodes + tail
    if v_nodes * v_nodes <= DENSE_CELLS:
        cells = np.full(v_nodes * v_nodes, np.inf)
        np.minimum.at(cells, key, w)
        keys = np.flatnonzero(np.isfinite(cells))
        best = cells[keys]
    else:
        order = np.argsort(key, kind="stable")
        ks = key[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        keys = ks[starts]
        best = np.minimum.reduceat(w[order], starts)
    return keys % v_nodes, keys // v_nodes, best


def _bellman_ford(
    tail: IntArray, head: IntArray, w: FloatArray, v_nodes: int, tol: float
) -> tuple[FloatArray, IntArray, int, list[list[int]]]:
    """Vectorised Bellman-Ford from a virtual source; returns negative cycles if any.

    Any cycle of the predecessor graph is a negative cycle (each relaxation gains more
    than ``tol``), so it is searched for every few rounds instead of after |V| rounds.
    """
    dist = np.zeros(v_nodes, np.float64)
    pred = np.full(v_nodes, -1, np.int64)
    starts = np.flatnonzero(np.r_[True, head[1:] != head[:-1]])
    heads_u = head[starts]
    seg_len = np.diff(np.r_[starts, head.size])
    positions = np.arange(head.size, dtype=np.int64)
    iters = 0
    while True:
        iters += 1
        cand = dist[tail] + w
        best = np.minimum.reduceat(cand, starts)
        better = best < dist[heads_u] - tol
        if not better.any():
            return dist, pred, iters, []
        is_min = cand == np.repeat(best, seg_len)
        arg = np.minimum.reduceat(np.where(is_min, positions, head.size), starts)
        upd = heads_u[better]
        dist[upd] = best[better]
        pred[upd] = tail[arg[better]]
        if iters % 8 == 0 or iters > v_nodes:
            cycles = _pred_cycles(pred)
            if cycles:
                return dist, pred, iters, cycles
        if iters > 50 * v_nodes + 100:  # pragma: no cover - would be a bug
            raise RuntimeError("Bellman-Ford did not converge")


def _pred_cycles(pred: IntArray) -> list[list[int]]:
    """Cycles of a functional graph (each node → its predecessor), as lists of nodes."""
    state = np.zeros(pred.size, np.int8)  # 0 new, 1 on current walk, 2 done
    cycles: list[list[int]] = []
    plist = pred.tolist()
    st = state.tolist()
    for start in range(len(plist)):
        if st[start]:
            continue
        walk: list[int] = []
        v = start
        while v >= 0 and st[v] == 0:
            st[v] = 1
            walk.append(v)
            v = plist[v]
        if v >= 0 and st[v] == 1:
            cycles.append(walk[walk.index(v) :])
        for x in walk:
            st[x] = 2
    return cycles
