"""The cells' maths: :class:`~cells.core.cell.Cell` and its facts, one file per cell (``step``,
``forward``, ``backward`` in the papers' notation), stacks, the registry, the readout, and the
measurements on a trace (exact Jacobian norms, gate saturation).

Rule: imports NumPy and ``cells.core`` only.
"""
