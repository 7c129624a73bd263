"""File → Experiments…: the shipped experiments, and picking one fills the Train tab; the comparisons,
and picking one trains its runs and opens them side by side in the Compare view.

Self-contained so the main window only needs a menu action:

    recipe = choose_experiment(window)
    if recipe is not None:
        fill_train_tab(window.train_tab, recipe)
        # and, when the run starts: recipe.monitor_lines() -> {metric: {label: value}} for the Monitor
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)


def describe_html(recipe: Any) -> str:
    """A recipe as rich text: what it trains, the figure it reproduces, published and target figures."""
    d = recipe.describe()
    published = "".join(f"<li>{html.escape(p['metric'])}: {p['value']:g}</li>" for p in d["published"]) or "<li>none</li>"
    targets = "".join(f"<li>{html.escape(t['metric'])} {html.escape(t['text'])}</li>"
                      for t in d["targets"]) or "<li>reproduce the published figures</li>"
    settings = ", ".join(f"{k}={v}" for k, v in d["params"].items()) or "the preset's"
    budget = (f"; the paper trained {d['published_steps']:,}" if d["published_steps"] and d["published_steps"] != d["steps"]
              else "")
    limit = f"<p>Budget: {d['time_limit_minutes']:g} CPU minutes.</p>" if d["time_limit_minutes"] else ""
    return (f"<h3>{html.escape(d['title'])} <small>({html.escape(d['name'])} v{d['version']})</small></h3>"
            f"<p>{html.escape(d['description'])}</p>"
            f"<p><b>{html.escape(d['method'])}</b> on <b>{html.escape(d['dataset'])}</b>, preset "
            f"{html.escape(str(d['preset']))}, settings {html.escape(settings)}; {d['steps']:,} steps{budget}.</p>"
            f"<p>Evaluation: {html.escape(d['evaluation'])} on {d['samples']:,} samples.</p>"
            f"<p>Reproduces: {html.escape(d['figure'] or '—')}</p>"
            f"<p>Published:</p><ul>{published}</ul><p>Target:</p><ul>{targets}</ul>{limit}"
            f"<p><small>Trials and the report: <code>studio experiment run {html.escape(d['name'])} --trials 5</code></small></p>")


def describe_comparison_html(comparison: Any) -> str:
    """A comparison recipe as rich text: what it compares, on what, how it is judged, what was published."""
    d = comparison.describe()
    published = "".join(f"<li>{html.escape(m)}: {v:g}</li>" for m, v in d["published"].items())
    published = (f"<p>The write-up's {html.escape(d['published_metric'].upper())} ({html.escape(d['published_source'])}):"
                 f"</p><ul>{published}</ul>") if published else ""
    return (f"<h3>{html.escape(d['title'])} <small>(comparison {html.escape(d['name'])})</small></h3>"
            f"<p>{html.escape(d['description'])}</p>"
            f"<p>Trains {', '.join(f'<b>{html.escape(m)}</b>' for m in d['methods'])} on <b>"
            f"{html.escape(d['dataset'])}</b> one after another ({', '.join(f'{s:,}' for s in d['steps'])} steps; "
            f"about {d['time_limit_minutes']:g} CPU minutes in all), in a process of its own, then opens their runs "
            f"side by side in the Compare view with the table of their figures.</p>{published}"
            f"<p><small>From the command line: <code>studio experiment compare {html.escape(d['name'])}</code></small></p>")


COMPARISON_PREFIX = "compare: "


class ExperimentsDialog(QDialog):
    """A list of experiments and comparisons and the chosen one's description; OK means "fill the Train tab
    with it" for an experiment, "run it" for a comparison."""

    def __init__(self, parent: QWidget | None = None, recipes: dict[str, Any] | None = None,
                 comparisons: dict[str, Any] | None = None):
        super().__init__(parent)
        if recipes is None:
            from ..experiments import RECIPES

            recipes = RECIPES
        if comparisons is None:
            from ..experiments.comparisons import COMPARISONS

            comparisons = COMPARISONS
        self.recipes = dict(recipes)
        self.comparisons = dict(comparisons)
        self.setWindowTitle("Experiments")
        self.list = QListWidget()
        self.list.setToolTip("Experiments that reproduce a published figure, or reach a target on a CPU budget")
        for name, recipe in self.recipes.items():
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(recipe.title)
            self.list.addItem(item)
        for name, comparison in self.comparisons.items():
            item = QListWidgetItem(f"{COMPARISON_PREFIX}{comparison.title}")
            item.setData(Qt.ItemDataRole.UserRole, COMPARISON_PREFIX + name)
            item.setToolTip(f"Train {', '.join(comparison.recipes)} and compare their runs side by side")
            self.list.addItem(item)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setMinimumWidth(380)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Fill the Train tab")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.currentRowChanged.connect(self._on_row)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addWidget(self.details, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(self.buttons)
        self.resize(900, 520)
        if self.recipes:
            self.list.setCurrentRow(0)

    @property
    def chosen(self) -> Any:
        """The selected recipe (None when the list is empty)."""
        item = self.list.currentItem()
        if item is None:
            return None
        key = item.data(Qt.ItemDataRole.UserRole)
        if key.startswith(COMPARISON_PREFIX):
            return self.comparisons[key[len(COMPARISON_PREFIX):]]
        return self.recipes[key]

    def select(self, name: str) -> bool:
        """Select the experiment called `name`; False when there is none."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) in (name, COMPARISON_PREFIX + name):
                self.list.setCurrentRow(row)
                return True
        return False

    def _on_row(self, _row: int) -> None:
        chosen = self.chosen
        comparison = chosen is not None and chosen.name in self.comparisons and chosen is self.comparisons[chosen.name]
        self.details.setText("" if chosen is None else describe_comparison_html(chosen) if comparison
                             else describe_html(chosen))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            "Run the comparison" if comparison else "Fill the Train tab")


def choose_experiment(parent: QWidget | None = None) -> Any:
    """Show the dialog modally; the chosen recipe, or None when cancelled."""
    dialog = ExperimentsDialog(parent)
    return dialog.chosen if dialog.exec() == QDialog.DialogCode.Accepted else None


def fill_train_tab(train_tab: Any, recipe: Any) -> None:
    """Load the recipe's dataset (in the background, at its size and channels) into the Train tab, then
    set its method, preset, settings, steps and intervals once the data is there."""
    config = recipe.run_config()
    panel = train_tab.dataset_panel

    def apply(_dataset: Any) -> None:
        disconnect()
        train_tab.apply_config(config)
        train_tab.eval_every.setValue(int(config.eval_every))

    def disconnect(*_args: Any) -> None:
        for signal, slot in ((panel.datasetChanged, apply), (panel.loadFailed, disconnect)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass  # already disconnected

    panel.set_options(config.image_size, config.channels, config.dataset_count, config.split)
    panel.datasetChanged.connect(apply)
    panel.loadFailed.connect(disconnect)
    panel.load(recipe.dataset)


def open_experiments(window: Any) -> Any:
    """File → Experiments…: choose a recipe and fill the Train tab with it, or a comparison and run it (its
    runs open in the Compare view when it ends); the chosen one, or None."""
    if not window.interactive:
        return None
    recipe = choose_experiment(window)
    from ..experiments.comparisons import COMPARISONS

    if recipe is not None and COMPARISONS.get(recipe.name) is recipe:
        start_comparison(window, recipe)
        return recipe
    if recipe is not None:
        fill_train_tab(window.train_tab, recipe)
        window.tabs.setCurrentWidget(window.train_tab)
        window.statusBar().showMessage(f"Experiment {recipe.name}: loading {recipe.dataset}…", 8000)
    return recipe


def start_comparison(window: Any, comparison: Any, run_dir: Any = None, steps: int | None = None) -> Any:
    """Train `comparison` (its progress and Cancel on the Compare view, shown now); its runs are compared
    there when it finishes. The `ComparisonRun`, or None when another is still running."""
    from .compare import open_compare

    view = open_compare(window, [])
    try:
        return view.run_comparison(comparison, run_dir, steps)
    except RuntimeError as exc:
        window.show_error("Comparison not started", str(exc))
        return None
