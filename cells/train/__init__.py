"""Training: tasks (the adding problem, recall, characters, series) and the trainer (exact BPTT,
Adam, clipping, chrono initialisation).

Rule: imports ``cells.core`` and ``cells.models``; never ``cells.io`` or ``cells.science``.
"""
