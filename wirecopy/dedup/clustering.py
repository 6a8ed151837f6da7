"""Deterministic cluster assignment: each text links to a verified earlier representative, or leads.

Texts are visited in keep-rule order (earliest first). A text joins the best-scoring representative
among its verified neighbours that come earlier, unless that cluster already holds a text it conflicts with
(the same formula reporting another fact: a template); otherwise it becomes a representative itself. A text
never joins through a non-representative, so weak edges cannot chain unrelated paragraphs together, and two
templates that both copy a third text still land in different clusters.
The result depends only on the set of texts, their order keys and their edges, never on batching.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from wirecopy.dedup.verify import Edge


@dataclass(frozen=True)
class Assignment:
    representative: int
    edge: Edge | None  # None when the text is its own representative


def assign_representatives(
    ordered_nodes: Sequence[int], edges: Iterable[Edge], conflicts: Collection[tuple[int, int]] = ()
) -> dict[int, Assignment]:
    """Map each node to its representative. `ordered_nodes` must be sorted by the keep rule; `conflicts` holds
    (a, b) pairs, a < b, that must not share a cluster."""
    rank = {node: i for i, node in enumerate(ordered_nodes)}
    neighbours: dict[int, list[Edge]] = defaultdict(list)
    for edge in edges:
        neighbours[edge.a].append(edge)
        neighbours[edge.b].append(edge)
    opponents: dict[int, set[int]] = defaultdict(set)
    for a, b in conflicts:
        opponents[a].add(b)
        opponents[b].add(a)
    members: dict[int, set[int]] = defaultdict(set)  # representative → the nodes of its cluster so far
    result: dict[int, Assignment] = {}
    for node in ordered_nodes:
        options = []
        for edge in neighbours.get(node, ()):
            other = edge.b if edge.a == node else edge.a
            if rank[other] < rank[node] and result[other].representative == other:
                options.append(((edge.similarity, -rank[other]), other, edge))
        chosen = next(
            (
                (other, edge)
                for _, other, edge in sorted(options, key=lambda o: o[0], reverse=True)
                if not opponents.get(node) or opponents[node].isdisjoint(members[other])
            ),
            None,
        )
        representative, edge = chosen if chosen else (node, None)
        result[node] = Assignment(representative, edge)
        members[representative].add(node)
    return result
