"""Helpers for tests that look inside TaskFlow flows."""


def atoms(flow):
    """Every atom of ``flow``, depth first, in the order they were added."""
    for node, _ in flow.iter_nodes():
        if hasattr(node, 'iter_nodes'):
            yield from atoms(node)
        else:
            yield node


def part(names, index, parts):
    """Every ``parts``-th of ``names`` from ``index``: the share of one of
    the ``parts`` tests that go through a long list of failure-injection
    points side by side (each point is in exactly one share)."""
    if not 0 <= index < parts:
        raise ValueError('part %d of %d' % (index, parts))
    return names[index::parts]
