"""The dataset graph: how a person's rows are found from their identities.

A collection with an ``identity`` field is a seed: its rows are found by
matching that field against the person's identifiers. A field that
``references`` another collection's field (and is followed) makes the
referencing rows the person's whenever the referenced rows are: a comment
whose ``author_id`` references ``users.id`` belongs to the user found there.
References are followed in that direction only, from the referenced row to
the rows pointing at it; following them backwards would pull in rows of
other people (the board a person merely commented on).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tutela.policy.model import Collection, Dataset, Policy
from tutela.policy.references import resolve_reference

__all__ = ["Edge", "Graph", "Node", "build_graph"]

Node = tuple[str, str]
"""(dataset, collection)."""


@dataclass(frozen=True, slots=True)
class Edge:
    """Rows of ``child`` whose ``child_field`` holds a ``parent_field`` value of the
    person's ``parent`` rows belong to the person."""

    parent: Node
    parent_field: str
    child: Node
    child_field: str


@dataclass(frozen=True)
class Graph:
    """Seeds (collection -> identity fields), followed edges, and what they reach."""

    collections: dict[Node, Collection]
    datasets: dict[str, Dataset]
    seeds: dict[Node, tuple[tuple[str, str], ...]]
    edges: tuple[Edge, ...]
    reachable: frozenset[Node]
    order: tuple[Node, ...]
    """Reachable collections, each after every collection its rows are found through."""

    def incoming(self, node: Node) -> tuple[Edge, ...]:
        """Edges through which ``node``'s rows are found (self-references excluded)."""
        return tuple(e for e in self.edges if e.child == node and e.parent in self.reachable)

    def unreachable_personal(self) -> list[Node]:
        """Collections holding personal data that no identity reaches."""
        return [n for n, c in self.collections.items() if c.personal and n not in self.reachable]


def build_graph(policy: Policy) -> Graph:
    """Build the graph of a policy's datasets."""
    collections: dict[Node, Collection] = {}
    seeds: dict[Node, tuple[tuple[str, str], ...]] = {}
    edges: list[Edge] = []
    for dataset in policy.datasets:
        for collection in dataset.collections:
            node = (dataset.name, collection.name)
            collections[node] = collection
            identities = tuple(
                (f.name, f.identity.value) for f in collection.fields if f.identity is not None
            )
            if identities:
                seeds[node] = identities
    for dataset in policy.datasets:
        for collection in dataset.collections:
            node = (dataset.name, collection.name)
            for fld in collection.fields:
                if fld.references is None or not fld.follow:
                    continue
                target = resolve_reference(dataset.name, fld.references)
                if target is None or target[:2] not in collections or target[:2] == node:
                    # Self-references (a user's inviter) link people, not ownership.
                    continue
                edges.append(Edge(target[:2], target[2], node, fld.name))

    # Breadth first from the seeds gives an order in which every collection comes
    # after at least one parent; a final pass orders by all reachable parents.
    reachable: set[Node] = set(seeds)
    queue = deque(seeds)
    while queue:
        here = queue.popleft()
        for edge in edges:
            if edge.parent == here and edge.child not in reachable:
                reachable.add(edge.child)
                queue.append(edge.child)
    order = _topological(reachable, [e for e in edges if e.child in reachable])
    return Graph(
        collections=collections,
        datasets={d.name: d for d in policy.datasets},
        seeds=seeds,
        edges=tuple(edges),
        reachable=frozenset(reachable),
        order=order,
    )


def _topological(nodes: set[Node], edges: list[Edge]) -> tuple[Node, ...]:
    """Kahn's order over the reachable nodes; on a cycle, the remaining nodes follow in
    name order (their rows are then found through the parents already placed)."""
    parents: dict[Node, set[Node]] = {n: set() for n in nodes}
    for e in edges:
        if e.parent in nodes:
            parents[e.child].add(e.parent)
    done: list[Node] = []
    placed: set[Node] = set()
    pending = sorted(nodes)
    while pending:
        ready = [n for n in pending if parents[n] <= placed]
        if not ready:  # a cycle: place the first by name and carry on
            ready = [pending[0]]
        for n in ready:
            done.append(n)
            placed.add(n)
        pending = [n for n in pending if n not in placed]
    return tuple(done)
