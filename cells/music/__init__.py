"""Music without models: the melody notation (notes as tokens), rhythm signals, sound, and the
shipped tunes.

Rule: imports NumPy and ``cells.music`` only.
"""
