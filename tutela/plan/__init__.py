"""Plans for data subject requests, derived from the policy's datasets (pure).

``build_graph`` finds how each collection's rows are reached from a person's
identities; the plans say, collection by collection and in a safe order, what
an access or erasure request reads, deletes, masks or keeps.
"""

from tutela.plan.graph import Edge, Graph, Node, build_graph
from tutela.plan.steps import (
    AccessPlan,
    ErasurePlan,
    ErasureStep,
    FieldAction,
    Hold,
    ReadStep,
    plan_access,
    plan_erasure,
)

__all__ = [
    "AccessPlan",
    "Edge",
    "ErasurePlan",
    "ErasureStep",
    "FieldAction",
    "Graph",
    "Hold",
    "Node",
    "ReadStep",
    "build_graph",
    "plan_access",
    "plan_erasure",
]
