"""Diagrams of a design: graphviz DOT text shaped and coloured by kind, and SVG where graphviz is installed."""
from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping

from simulator.model import catalog
from simulator.model.design import Design

EDGE_STYLE = {
    "sync": 'color="#455a64"',
    "async": 'style=dashed color="#7b1fa2"',
    "fallback": 'style=dotted color="#c62828" penwidth=2 fontcolor="#c62828"',
    "replication": 'style=bold color="#90a4ae" arrowhead=none',
}


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def node_caption(node) -> str:
    kind = catalog.display_name(node.kind)
    lines = [node.label or node.id]
    meta = kind if not node.label else f"{node.id} · {kind}"
    if node.replicas > 1:
        meta += f" ×{node.replicas}"
    if node.autoscale:
        meta += " ⟳"
    lines.append(meta)
    return "\n".join(lines)


def to_dot(design: Design, *, highlight: Iterable[str] = (), heat: Mapping[str, float] | None = None,
           missing: Iterable[str] = (), rankdir: str = "LR") -> str:
    """DOT for a design. ``highlight`` outlines nodes in red (failing checks); ``heat`` colours by
    utilisation 0..1+ (nodes without a figure turn neutral grey, so kind colours are not read as
    load); ``missing`` draws nodes dashed (used for reference diffs)."""
    hot = set(highlight)
    ghost = set(missing)
    lines = [
        "digraph design {",
        f'  graph [rankdir={rankdir} bgcolor="transparent" pad=0.2 nodesep=0.35 ranksep=0.5 fontname="Helvetica"];',
        '  node [fontname="Helvetica" fontsize=11 style="filled" penwidth=1.2 color="#546e7a"];',
        '  edge [fontname="Helvetica" fontsize=9 arrowsize=0.7];',
    ]
    for n in design.nodes:
        k = catalog.KINDS.get(n.kind)
        attrs = [f"label={_q(node_caption(n))}", f"shape={k.shape if k else 'box'}"]
        fill = k.color if k else "#eeeeee"
        if heat is not None:
            fill = _heat_colour(heat[n.id]) if n.id in heat else NEUTRAL
        attrs.append(f'fillcolor="{fill}"')
        styles = ["filled"]
        if n.replicas > 1:
            styles.append("bold")
        if n.id in ghost:
            styles.append("dashed")
        attrs.append(f'style="{",".join(styles)}"')
        if n.id in hot:
            attrs.append('color="#d32f2f" penwidth=3')
        lines.append(f"  {_q(n.id)} [{' '.join(attrs)}];")
    for e in design.edges:
        attrs = [EDGE_STYLE.get(e.kind, "")]
        label = e.label or ("" if e.kind == "sync" else e.kind)
        if label:
            attrs.append(f"label={_q(label)}")
        lines.append(f"  {_q(e.source)} -> {_q(e.target)} [{' '.join(a for a in attrs if a)}];")
    lines.append("}")
    return "\n".join(lines)


NEUTRAL = "#eceff1"     # not capacity-checked, in a heat map


def _heat_colour(u: float) -> str:
    if u >= 1.0:
        return "#ef9a9a"
    if u >= 0.8:
        return "#ffcc80"
    if u >= 0.5:
        return "#fff59d"
    return "#c8e6c9"


def svg_available() -> bool:
    return shutil.which("dot") is not None


def to_svg(dot: str) -> bytes | None:
    """SVG bytes, or None where the graphviz `dot` program is not installed."""
    if not svg_available():
        return None
    import graphviz

    return graphviz.Source(dot).pipe(format="svg")
