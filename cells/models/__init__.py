"""Models that read sequences: encoders (a sequence -> a cell's inputs), the ``Reader`` (cell +
encoder + readout), the one sampling loop, and the character and melody models.

Rule: imports ``cells.core`` and ``cells.music``, nothing above them.
"""
