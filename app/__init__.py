"""gatescope's Streamlit shell: navigation, shared state and widgets, cached models, chart builders.

Imports go one way: ``pages -> app -> cells``. Chart builders (``app.charts.base``) are pure functions,
arrays in and Plotly figures out, with no Streamlit calls.
"""
