"""The simulation kernel: three passes over a compiled design's fixed order (hard failures, load,
success with overload) give every node's load, utilisation and served share; then the latency pass.

Hot code: the drills run it once per node. It works on plain lists, reads the compiled lists into
locals and has fast paths for calls that carry the full load; keep it that way.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from simulator.simulation.compiler import Compiled
from simulator.simulation.constants import AUTOSCALE_TARGET, EPS, MAX_RHO, P50_SHARE, P99_SHARE


@dataclass
class State:
    """What the passes found, per node by index, and the served share of the whole design."""

    load: list[float]
    util: list[float]
    sat: list[float]
    eff: list[int]
    delta: list[float]
    active: list[int]
    ok: list[float]
    served: float
    miss: list[float]            # per caller: the share of its requests its look-aside caches miss
    hit: list[float]             # the hit rates in force (0 after a cache flush)


def _success(m: Compiled, v: int, ok: list[float], fa: float, dep_of_primary: Callable[[int, float], float],
             miss: float) -> float:
    """The share of v's requests whose blocking calls all complete (before v's own hit rate and overload).

    ``dep_of_primary(w)`` is what a primary w contributes given the active fallback's success ``fa``;
    a call reaching only part of the load (traffic_share t) fails only that part: 1 - t + t x dep.
    """
    share = m.share
    p = 1.0
    for w in m.plain_n[v]:
        t = share[w]
        p *= ok[w] if t == 1.0 else 1.0 - t + t * ok[w]
    for w in m.prim_n[v]:
        t = share[w]
        d = dep_of_primary(w, fa)
        p *= d if t == 1.0 else 1.0 - t + t * d
    if m.la[v]:
        q = 1.0
        for w in m.plain_c[v]:
            t = share[w]
            q *= ok[w] if t == 1.0 else 1.0 - t + t * ok[w]
        for w in m.prim_c[v]:
            t = share[w]
            d = dep_of_primary(w, fa)
            q *= d if t == 1.0 else 1.0 - t + t * d
        p *= (1.0 - miss) + miss * q          # a hit needs none of the spared calls
    return p


def solve(m: Compiled, rates: list[float], failed: list[bool], hit: list[float], reps: list[int]) -> State:
    """Three passes over the fixed order: hard failures (reverse), load (forward), success (reverse).

    ``rates``: the req/s entering at each of ``m.entries``."""
    n = m.n
    order, rorder = m.order, m.rorder
    prim, fb, fb_pred, fwd, fwd_cov = m.prim, m.fb, m.fb_pred, m.fwd, m.fwd_cov
    cap, auto, maxrep, is_entry, share, cov = m.cap, m.auto, m.maxrep, m.is_entry, m.share, m.cov

    # the fallback each caller uses: its first fallback target that is not failed
    active = [-1] * n
    for u in m.fb_nodes:
        for f in fb[u]:
            if not failed[f]:
                active[u] = f
                break
    # the share of a caller's requests that miss all its live look-aside caches
    miss = [1.0] * n
    for u in m.la_nodes:
        x = 1.0
        for cache in m.la[u]:
            if not failed[cache]:
                x *= 1.0 - hit[cache]
        miss[u] = x

    # 1. hard success: the share of requests at a node that completes given the failures alone
    okf = [0.0] * n
    hard = lambda w, fa: okf[w] + (1.0 - okf[w]) * fa  # noqa: E731
    plain, full_dep = m.plain, m.full_dep
    for v in rorder:
        if failed[v]:
            continue
        a = active[v]
        if full_dep[v]:
            p = 1.0
            for w in plain[v]:
                p *= okf[w]
            pr = prim[v]
            if pr:
                fa = okf[a] if a >= 0 else 0.0
                for w in pr:
                    q = okf[w]
                    p *= q + (1.0 - q) * fa
        else:
            p = _success(m, v, okf, okf[a] if a >= 0 else 0.0, hard, miss[v])
        h = hit[v]
        okf[v] = h + (1.0 - h) * p if h else p

    # 2. load, in topological order
    inflow = [0.0] * n
    for e, rate in zip(m.entries, rates, strict=True):
        inflow[e] += rate
    load = [0.0] * n
    out = [0.0] * n
    util = [0.0] * n
    sat = [1.0] * n
    eff = list(reps)
    delta = [1.0 - x for x in okf]      # refined below once the node's utilisation is known
    target = AUTOSCALE_TARGET
    full_fwd = m.full_fwd
    for v in order:
        x = inflow[v]
        for u in fb_pred[v]:
            if active[u] == v and out[u]:
                s = 0.0
                if full_fwd[u]:
                    for w in prim[u]:
                        s += delta[w]
                else:
                    for w in prim[u]:
                        s += delta[w] * share[w] * (miss[u] if w in cov[u] else 1.0)
                x += out[u] * s
        load[v] = x
        if failed[v]:
            sat[v] = 0.0
            eff[v] = 0
            continue
        c = cap[v]
        if c is not None and not is_entry[v]:
            r = reps[v]
            if auto[v] and x > target * c * r:
                need = math.ceil(x / (target * c) - 1e-9)
                r = min(need, maxrep[v]) if need > r else r
                if r < reps[v]:
                    r = reps[v]
                eff[v] = r
            rho = x / (c * r)
            util[v] = rho
            if rho > 1.0:
                sat[v] = 1.0 / rho
                delta[v] = 1.0 - okf[v] / rho
        h = hit[v]
        o = x * (1.0 - h) if h else x
        out[v] = o
        if o:
            if full_fwd[v]:
                for w in fwd[v]:
                    inflow[w] += o
            else:
                mv = miss[v]
                for w, spared in zip(fwd[v], fwd_cov[v], strict=True):
                    inflow[w] += o * share[w] * (mv if spared else 1.0)

    # 3. success with overload: the share of requests at a node that completes
    ok = [0.0] * n
    soft = lambda w, fa: ok[w] + delta[w] * fa  # noqa: E731
    for v in rorder:
        if failed[v]:
            continue
        a = active[v]
        if full_dep[v]:
            p = 1.0
            for w in plain[v]:
                p *= ok[w]
            pr = prim[v]
            if pr:
                fa = ok[a] if a >= 0 else 0.0
                for w in pr:
                    p *= ok[w] + delta[w] * fa
        else:
            p = _success(m, v, ok, ok[a] if a >= 0 else 0.0, soft, miss[v])
        h = hit[v]
        ok[v] = sat[v] * (h + (1.0 - h) * p if h else p)

    return State(load, util, sat, eff, delta, active, ok, _served(m.entries, rates, ok), miss, hit)


def _served(entries: list[int], rates: list[float], ok: list[float]) -> float:
    """The share of the offered requests served: each entry weighted by its rate (a plain mean when
    the rates are equal, as with the even split of the peak)."""
    if not entries:
        return 0.0
    total = sum(rates)
    if total <= 0 or all(r == rates[0] for r in rates):
        return sum(ok[e] for e in entries) / len(entries)
    return sum(ok[e] * r for e, r in zip(entries, rates, strict=True)) / total


ERLANG_MAX_SERVERS = 1000   # beyond this many replicas the queueing delay is computed as for this many


def response_time(service_ms: float, rho: float, servers: int) -> float:
    """Mean time in a tier of ``servers`` replicas sharing its load (M/M/c) at utilisation ``rho``:
    the service time plus the Erlang C wait. One replica gives service / (1 - rho); many replicas at
    the same utilisation wait far less, as a pool of servers does."""
    if service_ms <= 0 or rho <= 0:
        return service_ms
    c = max(1, min(servers, ERLANG_MAX_SERVERS))
    offered = c * rho                       # in servers
    blocking = 1.0                          # Erlang B by its stable recursion
    for k in range(1, c + 1):
        blocking = offered * blocking / (k + offered * blocking)
        if blocking < 1e-12 and k > offered:   # it only shrinks from here: nobody waits
            return service_ms
    waiting = blocking / (1.0 - rho * (1.0 - blocking))   # Erlang C: the chance a request queues
    return service_ms + waiting * service_ms / (c * (1.0 - rho))


def latency(m: Compiled, st: State, failed: list[bool]) -> tuple[float, float, list[int], list[float]]:
    """p50 and the p99 path sum: the slowest chain of blocking sync calls (and fallbacks in use) from an
    entry, counting a call toward p50 when >= 50 % of the caller's requests make it, toward p99 when >= 1 %."""
    n = m.n
    own = [0.0] * n
    t50 = [0.0] * n
    t99 = [0.0] * n
    nxt = [-1] * n
    share, cov = m.share, m.cov
    for v in m.rorder:
        if failed[v]:
            continue
        own[v] = response_time(m.lat[v], min(st.util[v], MAX_RHO), st.eff[v])
        pass_on = 1.0 - st.hit[v]
        best, arg, best99, any99 = 0.0, -1, 0.0, False
        for w in m.block[v]:
            if failed[w]:
                continue
            frac = pass_on * share[w] * (st.miss[v] if w in cov[v] else 1.0)
            if frac >= P50_SHARE - EPS and (arg < 0 or t50[w] > best):
                best, arg = t50[w], w
            if frac >= P99_SHARE - EPS and (not any99 or t99[w] > best99):
                best99, any99 = t99[w], True
        a = st.active[v]
        if a >= 0 and any(st.delta[w] > EPS for w in m.prim[v]):
            if arg < 0 or t50[a] > best:
                best, arg = t50[a], a
            if not any99 or t99[a] > best99:
                best99 = t99[a]
        t50[v] = own[v] + best
        t99[v] = own[v] + best99
        nxt[v] = arg
    start, p50, p99 = -1, 0.0, 0.0
    for e in m.entries:
        if not failed[e]:
            if start < 0 or t50[e] > p50:
                start, p50 = e, t50[e]
            p99 = max(p99, t99[e])
    path = []
    v = start
    while v >= 0:
        path.append(v)
        v = nxt[v]
    return p50, p99, path, own
