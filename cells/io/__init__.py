"""Files: model files by content (``.npz``, ``.safetensors``, Keras 3 ``.keras``; pickles refused),
vocabularies, ``read_model`` (any file -> a ``Reader``), the shipped models, and series from CSV.
Everything is checked before anything large is allocated, and nothing is read from outside the
bytes given.

Rule: imports ``cells.core``, ``cells.models`` and ``cells.music``; never ``cells.train`` or
``cells.science``.
"""
