"""The Experiments dialog: every recipe listed and described; picking one fills a real Train tab."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from studio.experiments import RECIPES, get_recipe  # noqa: E402
from studio.gui.experiments_dialog import ExperimentsDialog, fill_train_tab  # noqa: E402
from studio.gui.train_tab import TrainTab  # noqa: E402

pytestmark = pytest.mark.gui


def test_dialog_lists_and_describes_every_experiment(qtbot):
    dialog = ExperimentsDialog()
    qtbot.addWidget(dialog)
    from studio.experiments.comparisons import COMPARISONS

    assert dialog.list.count() == len(RECIPES) + len(COMPARISONS)  # the seeds' comparisons listed after them
    assert dialog.select("grid-pacgan2") and dialog.chosen is get_recipe("grid-pacgan2")
    text = dialog.details.text()
    assert "PacGAN" in text and "23.8" in text and "400,000" in text
    assert not dialog.select("no-such")


def test_monitor_lines_are_in_the_evaluators_units():
    lines = get_recipe("ring-pacgan2").monitor_lines()
    assert lines == {"modes_covered": {"published 7.9": 7.9}, "high_quality": {"published 95.6% = 0.956": pytest.approx(0.956)}}
    assert get_recipe("digits-cgan").monitor_lines() == {}


def test_choosing_an_experiment_fills_the_train_tab(qtbot):
    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.populate()
    recipe = get_recipe("ring-fast")
    with qtbot.waitSignal(tab.dataset_panel.datasetChanged, timeout=30_000):
        fill_train_tab(tab, recipe)
    qtbot.waitUntil(lambda: tab.method_picker.current == recipe.method, timeout=5_000)
    assert tab.steps.value() == recipe.steps and tab.dataset_panel.source == recipe.dataset
    values = tab.params_form.values(strict=False)
    assert all(values[k] == v for k, v in recipe.params.items())
    config = tab.build_config()
    assert (config.method, config.dataset, config.preset) == (recipe.method, recipe.dataset, recipe.preset)


def test_a_trial_shows_the_published_figures_on_its_charts(qtbot):
    """A run made from a recipe records the experiment (config.json) and the Monitor draws what the paper
    published as dashed lines on the chart of the same figure; a plain run gets none."""
    from studio.engine.config import RunConfig
    from studio.engine.events import Metric
    from studio.gui.monitor_tab import COVERAGE, EVALUATION, MonitorTab

    config = get_recipe("ring-pacgan2").run_config()
    assert config.experiment == "ring-pacgan2"
    assert RunConfig.from_dict(config.to_dict()).experiment == "ring-pacgan2"  # kept in config.json
    tab = MonitorTab()
    qtbot.addWidget(tab)
    for experiment, expected in (("ring-pacgan2", True), (None, False)):
        tab.begin(method="gan", kind="points", total_steps=100, experiment=experiment)
        tab.consume([Metric(step=50, name="modes_covered", value=6.0, n=2500),
                     Metric(step=50, name="high_quality", value=0.5, n=2500)])
        coverage, quality = tab.panels[COVERAGE], tab.panels[EVALUATION]
        lines = [(line.label.format, line.value()) for line in coverage.reference_lines + quality.reference_lines]
        if expected:
            assert lines == [("published 7.9", 7.9), ("published 95.6% = 0.956", pytest.approx(0.956))]
        else:
            assert lines == []
