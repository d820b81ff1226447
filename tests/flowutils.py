"""Helpers for tests that look inside TaskFlow flows."""


def atoms(flow):
    """Every atom of ``flow``, depth first, in the order they were added."""
    for node, _ in flow.iter_nodes():
        if hasattr(node, 'iter_nodes'):
            yield from atoms(node)
        else:
            yield node
