"""Plans for data subject requests, derived from the policy's datasets (pure).

``build_graph`` finds how each collection's rows are reached from a person's
identities; the plans say, collection by collection and in a safe order, what
an access or erasure request reads, deletes, masks or keeps.
"""

from tutela.plan.graph import Edge, Graph, Node, build_graph

__all__ = ["Edge", "Graph", "Node", "build_graph"]
