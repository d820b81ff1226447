"""Helpers for tests that look inside TaskFlow flows."""


def atoms(flow):
    """Every atom of ``flow``, depth first, in the order they were added."""
    for node, _ in flow.iter_nodes():
        if hasattr(node, 'iter_nodes'):
            yield from atoms(node)
        else:
            yield node


# Task kinds that only read; a failure injected before one of them undoes
# exactly what a failure before the task after it undoes.
READ_ONLY_PREFIXES = ('Wait', 'Check')


def reads_only(atom):
    """Whether ``atom`` only reads (a Wait* or Check* task without a
    revert of its own)."""
    cls = type(atom)
    return (cls.__name__.startswith(READ_ONLY_PREFIXES) and
            not hasattr(cls.revert, '__wrapped__'))


def injection_points(flow):
    """Names of the atoms of ``flow`` before which a failure-injection
    test fails it, then ``@end`` (after the whole flow): every atom but
    those that only read, whose failure points add nothing."""
    return [atom.name for atom in atoms(flow)
            if not reads_only(atom)] + ['@end']


def part(names, index, parts):
    """Every ``parts``-th of ``names`` from ``index``: the share of one of
    the ``parts`` tests that go through a long list of failure-injection
    points side by side (each point is in exactly one share)."""
    if not 0 <= index < parts:
        raise ValueError('part %d of %d' % (index, parts))
    return names[index::parts]
