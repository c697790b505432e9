"""Walks over adjacency lists: multi-source BFS parents, and the path from a source they lead back along."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable


def bfs(adj: dict[str, list[str]], sources: Iterable[str],
        blocked: set[str] | frozenset = frozenset()) -> dict[str, str | None]:
    """Multi-source BFS over adjacency lists; returns {reached node: parent} (sources map to None)."""
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for s in sources:
        if s not in parent and s not in blocked:
            parent[s] = None
            queue.append(s)
    while queue:
        node = queue.popleft()
        for nxt in adj[node]:
            if nxt not in parent and nxt not in blocked:
                parent[nxt] = node
                queue.append(nxt)
    return parent


def path_to(parent: dict[str, str | None], end: str) -> list[str]:
    """The path from a source of the walk to ``end``, following the parents back."""
    path = [end]
    step = parent[end]
    while step is not None:
        path.append(step)
        step = parent[step]
    return path[::-1]
