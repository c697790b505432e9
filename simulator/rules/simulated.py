"""The `simulate` rule operator: a rubric check that runs the traffic simulation at the scenario's peak."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from simulator.errors import SimulatorError
from simulator.rules.arguments import Arguments, Kinds
from simulator.rules.context import Context, Outcome
from simulator.simulation.compiler import Compiled
from simulator.simulation.constants import DEFAULT_PEAK_RPS, ENTRY_KINDS, EPS
from simulator.simulation.formatting import id_list, num, pct
from simulator.simulation.inputs import finite_number
from simulator.simulation.run import request_path_spofs, simulate, single_failures


class Simulated(Arguments):
    op: ClassVar[str] = "simulate"
    summary: ClassVar[str] = ("at the scenario's peak load (x load) the design serves at least min_served_share "
                              "of requests, keeps utilisation at or below max_utilization, and keeps serving "
                              "when any one node of the given kinds is lost; with no_spof, no single point of failure on the request path")
    max_utilization: float | None = Field(None, gt=0, description="e.g. 0.8: no node above 80 % at this load")
    load: float = Field(1.0, gt=0, le=1000, description="multiplier on the scenario's peak_rps")
    survives_single_failure_of: Kinds | None = None
    min_served_share: float = Field(0.99, ge=0, le=1)
    no_spof: bool = Field(False, description="no single point of failure on the request path, by the "
                                             "definition the Simulate tab uses (simulation.spof)")
    scope: Literal["request_path", "all"] = Field(
        "request_path", description="which nodes max_utilization covers: those a request waits on "
                                    "(default) or every node, async consumers and telemetry included")

    def evaluate(self, ctx: Context) -> Outcome:
        given = finite_number(getattr(ctx, "peak_rps", None))
        assumed = given is None or given <= 0
        peak = DEFAULT_PEAK_RPS if given is None or assumed else given
        rates = getattr(ctx, "entry_rates", None) or None    # the scenario's traffic profile, if any
        try:
            compiled = _compiled(ctx)
            result = simulate(ctx.design, peak, load=self.load, drills=False, entry_rates=rates,
                              compiled=compiled)
        except SimulatorError as exc:
            return Outcome(False, f"cannot simulate: {exc}")
        at = f"{num(result.offered_rps)} req/s" + (
            f" (no scenario peak given: assumed {num(DEFAULT_PEAK_RPS)} req/s"
            + (f" x {num(self.load)}" if self.load != 1 else "") + ")" if assumed else "")
        if not result.entries:
            return Outcome(False, f"no traffic enters the design at {at}: add a client (or sensor) node")
        problems: list[str] = []
        bad: list[str] = []
        only_spofs = self.no_spof and self.model_fields_set <= {"no_spof", "load"}   # capacity not asked
        if not only_spofs and result.served_share < self.min_served_share - EPS:
            lost = [nid for nid, n in result.nodes.items() if n.served_ratio < 1.0 and n.on_request_path]
            problems.append(f"at {at} only {pct(result.served_share, 1)} of requests are served (need "
                            f"{pct(self.min_served_share, 1)}); overloaded: "
                            + id_list([f"{nid} {pct(result.nodes[nid].utilization)}" for nid in lost]))
            bad += lost
        scoped = {nid: n for nid, n in result.nodes.items()
                  if not n.failed and (self.scope == "all" or n.on_request_path)}
        where = " on the request path" if self.scope == "request_path" else ""
        peak_util = max((n.utilization for n in scoped.values()), default=0.0)
        if self.max_utilization is not None and peak_util > self.max_utilization + EPS:
            hot = sorted((nid for nid, n in scoped.items() if n.utilization > self.max_utilization + EPS),
                         key=lambda nid: -scoped[nid].utilization)
            problems.append(f"above {pct(self.max_utilization)} utilisation{where} at {at}: "
                            + id_list([f"{nid} {pct(scoped[nid].utilization)}" for nid in hot]))
            bad += [nid for nid in hot if nid not in bad]
        if self.no_spof:
            spofs = request_path_spofs(ctx.design, peak, load=self.load, entry_rates=rates,
                                       compiled=compiled)
            if spofs:
                problems.append(f"single point(s) of failure on the request path (as Simulate lists them): "
                                f"{id_list(spofs)}: one replica, no autoscaling, and losing it loses at least "
                                "half the requests")
                bad += [nid for nid in spofs if nid not in bad]
        survived = ""
        if self.survives_single_failure_of:
            targets = [nid for nid in ctx.of(self.survives_single_failure_of)]
            kinds = " or ".join(self.survives_single_failure_of)
            if not targets:
                problems.append(f"no {kinds} node to fail")
            else:
                shares = single_failures(ctx.design, peak, load=self.load, nodes=targets, compiled=compiled,
                                         entry_rates=rates)
                breaks = [nid for nid in targets if shares[nid] < self.min_served_share - EPS]
                if breaks:
                    problems.append("losing " + id_list([f"{_loss(ctx, nid)} leaves {pct(shares[nid], 1)} served"
                                                      for nid in breaks], 4)
                                    + f" (need {pct(self.min_served_share, 1)}; add replicas or a fallback)")
                    bad += [nid for nid in breaks if nid not in bad]
                else:
                    worst = min(targets, key=lambda nid: (shares[nid], targets.index(nid)))
                    survived = (f"; losing any one of {id_list(targets)} keeps >= {pct(self.min_served_share, 1)} "
                                f"served (worst: {worst}, {pct(shares[worst], 1)})")
        if problems:
            return Outcome(False, "; ".join(problems), bad, result.critical_path or None)
        top = max(scoped, key=lambda nid: scoped[nid].utilization, default=None) if peak_util > 0 else None
        util = f"max utilisation{where} {pct(peak_util)}" + (f" ({top})" if top else "")
        return Outcome(True, f"serves {pct(result.served_share, 1)} of {at} with {util}{survived}",
                       [top] if top else [], result.critical_path or None)


def _loss(ctx: Context, nid: str) -> str:
    r = ctx.replicas[nid]
    return f"one of {nid}'s {r} replicas" if r >= 2 else nid


def _compiled(ctx: Context) -> Compiled:
    """The design compiled for the simulation once per evaluation: several checks simulate it."""
    key = "simulation.compiled"
    if key not in ctx.memo:
        ctx.memo[key] = Compiled(ctx.design, ENTRY_KINDS)
    return ctx.memo[key]
