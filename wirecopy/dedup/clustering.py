"""Deterministic cluster assignment: each text links to a verified earlier representative, or leads.

Texts are visited in keep-rule order (earliest first). A text joins the best-scoring representative
among its verified neighbours that come earlier; otherwise it becomes a representative itself. A text
never joins through a non-representative, so weak edges cannot chain unrelated paragraphs together.
The result depends only on the set of texts, their order keys and their edges, never on batching.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wirecopy.dedup.verify import Edge


@dataclass(frozen=True)
class Assignment:
    representative: int
    edge: Edge | None  # None when the text is its own representative


def assign_representatives(ordered_nodes: Sequence[int], edges: Iterable[Edge]) -> dict[int, Assignment]:
    """Map each node to its representative. `ordered_nodes` must be sorted by the keep rule."""
    rank = {node: i for i, node in enumerate(ordered_nodes)}
    neighbours: dict[int, list[Edge]] = defaultdict(list)
    for edge in edges:
        neighbours[edge.a].append(edge)
        neighbours[edge.b].append(edge)
    result: dict[int, Assignment] = {}
    for node in ordered_nodes:
        best: tuple[float, int] | None = None
        best_edge: Edge | None = None
        for edge in neighbours.get(node, ()):
            other = edge.b if edge.a == node else edge.a
            if rank[other] >= rank[node] or result[other].representative != other:
                continue
            score = (edge.similarity, -rank[other])
            if best is None or score > best:
                best, best_edge = score, edge
        if best_edge is None:
            result[node] = Assignment(node, None)
        else:
            other = best_edge.b if best_edge.a == node else best_edge.a
            result[node] = Assignment(other, best_edge)
    return result
