"""The Compare tab and how the window reaches it (the one place the window is wired to it).

`install_compare(window)` adds the tab and a Compare… button on the Monitor bound to the window's
"compare" action; `open_compare(window, runs)` shows the tab with the runs given, or the Monitor's run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .view import CompareView

__all__ = ["CompareView", "install_compare", "open_compare"]

TAB_TIP = "Runs side by side: curves overlaid chart by chart, sample grids at one step, a table of their figures"


def install_compare(window: Any) -> CompareView:
    """Add the Compare tab to `window` (after its Monitor) and the Compare… button to the Monitor."""
    view = CompareView()
    view.interactive = window.interactive
    view.run_list.interactive = window.interactive
    index = window.tabs.insertTab(window.tabs.indexOf(window.monitor_tab) + 1, view, "Compare")
    window.tabs.setTabToolTip(index, TAB_TIP)
    view.message.connect(lambda text: window.show_info(text))
    view.apply_theme(window.theme)
    window.monitor_tab.charts.curve_controls.add_action(window.menu_actions["compare"])
    return view


def open_compare(window: Any, runs: list[str | Path] | None = None) -> CompareView:
    """Show the Compare tab with `runs` added (none given: the run the Monitor shows, if any)."""
    view: CompareView = window.compare_view
    view.interactive = view.run_list.interactive = window.interactive
    if runs is None:
        run_dir = window.monitor_tab.run_dir
        runs = [run_dir] if run_dir is not None and (Path(run_dir) / "config.json").exists() else []
    if runs:
        view.add_runs(list(runs))
    window.tabs.setCurrentWidget(view)
    return view
