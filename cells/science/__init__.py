"""What gatescope measures with the models: gradients through time, what units track
(interpretation), forecasts against naive baselines, the literature's claims and the baselines
a model must beat.

Rule: the top room; imports any room below, nothing imports it but the facade.
"""
