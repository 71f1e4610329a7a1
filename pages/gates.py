"""Gates (home): placeholder while the page is being built."""

from app import ui

with ui.page_guard():
    ui.sequence_input()
