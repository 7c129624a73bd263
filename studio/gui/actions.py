"""The window's actions and menus as data: one row per action, one list per menu.

Each row names the action, its text, shortcuts and tip, the window command it runs, and when it is
enabled (a rule on the run's `RunState`). `Actions` builds them once, lays out the menus, applies the
rules whenever the run's state changes, and binds the Train tab's buttons to the same actions, so the
rules exist in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QMainWindow, QMenu

from ..engine.state import RunState

Rule = Callable[[RunState, bool], bool]  # (state, this kind of run can pause) -> enabled


def idle(state: RunState, pausable: bool) -> bool:
    """Not while a run trains: its dataset and settings belong to it."""
    return not state.is_active


def can_start(state: RunState, pausable: bool) -> bool:
    return state.can_start


def can_pause(state: RunState, pausable: bool) -> bool:
    return pausable and (state.can_pause or state.can_resume)


def can_stop(state: RunState, pausable: bool) -> bool:
    return state.can_stop


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    command: Callable  # called with the window
    shortcuts: tuple[str, ...] = ()
    tip: str = ""
    enabled: Rule | None = None  # None: always


ACTIONS = (
    ActionSpec("open_dataset", "Open dataset…", lambda w: w.train_tab.dataset_panel.drop_zone.open_files(),
               ("Ctrl+O",), "Open dataset files (zip, npy/npz, IDX, CIFAR batch, images)", idle),
    ActionSpec("open_folder", "Open dataset folder…", lambda w: w.train_tab.dataset_panel.drop_zone.open_folder(),
               ("Ctrl+Shift+O",), "Open a folder of images, IDX, CIFAR-10 or CelebA", idle),
    ActionSpec("open_run", "Open run…", lambda w: w.open_run(), ("Ctrl+Alt+O",),
               "Open a run directory and follow it live, even while another process writes it", idle),
    ActionSpec("compare", "Compare runs…", lambda w: _open_compare(w), ("Ctrl+Shift+C",),
               "Compare runs side by side: curves overlaid, grids at one step, a table of figures (adds the run "
               "the Monitor shows)"),
    ActionSpec("experiments", "Experiments…", lambda w: _open_experiments(w), (),
               "Published experiments (PacGAN's 2-D benchmarks, digits): fill the Train tab with one", idle),
    ActionSpec("export_timelapse", "Export timelapse…", lambda w: w.exports.timelapse(), ("Ctrl+E",),
               "Write the run's saved sample grids as a looping GIF or an MP4, a frame at a time"),
    ActionSpec("export_model", "Export model…", lambda w: w.exports.model(), ("Ctrl+Shift+E",),
               "Export the run's generator (and encoder) as ONNX or TorchScript, as `studio export` does"),
    ActionSpec("quit", "Quit", lambda w: w.close(), ("Ctrl+Q",), "Close GAN Studio (asks first while training)"),
    ActionSpec("undo", "Undo form change", lambda w: w.train_tab.params_form.undo(), ("Ctrl+Z",),
               "Undo the last change to the hyperparameter form", idle),
    ActionSpec("reset", "Reset hyperparameters", lambda w: w.train_tab.params_form.reset(), (),
               "Put every hyperparameter back to the method's default", idle),
    ActionSpec("start", "Start", lambda w: w.start_training(), ("Ctrl+R", "F5"), "Start training", can_start),
    ActionSpec("pause", "Pause", lambda w: w.toggle_pause(), ("Ctrl+P",), "Pause or resume training", can_pause),
    ActionSpec("stop", "Stop", lambda w: w.stop_training(), ("Ctrl+.", "Shift+F5"),
               "Stop training and write the last checkpoint", can_stop),
    ActionSpec("continue", "Continue a previous run…", lambda w: w.continue_run(), (),
               "Resume a run directory from its last checkpoint", can_start),
    ActionSpec("theme_dark", "Dark theme", lambda w: w.set_theme("dark"), (), "Switch to the dark look"),
    ActionSpec("theme_light", "Light theme", lambda w: w.set_theme("light"), (), "Switch to the light look"),
    ActionSpec("methods", "Method descriptions", lambda w: w.show_method_descriptions(), ("F1",),
               "What each method does and the paper it comes from"),
    ActionSpec("about", "About GAN Studio", lambda w: w.show_about()),
)

def _open_compare(window) -> None:
    from .compare import open_compare

    open_compare(window)


def _open_experiments(window) -> None:
    from .experiments_dialog import open_experiments  # loads the recipes (and torch) when first asked

    open_experiments(window)


SEPARATOR, RECENT = "-", "recent"
MENUS = {
    "&File": ("open_dataset", "open_folder", "open_run", RECENT, "compare", "experiments", SEPARATOR,
              "export_timelapse", "export_model", SEPARATOR, "quit"),
    "&Edit": ("undo", "reset"),
    "&Run": ("start", "pause", "stop", SEPARATOR, "continue"),
    "&View": ("theme_dark", "theme_light"),
    "&Help": ("methods", "about"),
}
THEMES = {"theme_dark": "dark", "theme_light": "light"}


class Actions:
    """The window's QActions, built from ACTIONS, laid out as MENUS."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.by_id: dict[str, QAction] = {}
        self.keys: dict[QAction, tuple[str, ...]] = {}
        for spec in ACTIONS:
            self.by_id[spec.id] = self._build(spec)
        self.themes = QActionGroup(window)
        for action_id in THEMES:
            self.by_id[action_id].setCheckable(True)
            self.themes.addAction(self.by_id[action_id])
        self.recent_menu: QMenu | None = None
        self._rules = {spec.id: spec.enabled for spec in ACTIONS if spec.enabled is not None}

    def __getitem__(self, action_id: str) -> QAction:
        return self.by_id[action_id]

    def _build(self, spec: ActionSpec) -> QAction:
        action = QAction(spec.text, self.window)
        if spec.shortcuts:
            action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
            self.keys[action] = spec.shortcuts
        tip = spec.tip or spec.text.replace("…", "")
        keys = ", ".join(spec.shortcuts)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda checked=False, run=spec.command: run(self.window))
        self.window.addAction(action)  # shortcuts work whichever tab has focus
        return action

    def build_menus(self) -> None:
        bar = self.window.menuBar()
        for title, items in MENUS.items():
            menu = bar.addMenu(title)
            menu.setToolTipsVisible(True)
            for item in items:
                if item == SEPARATOR:
                    menu.addSeparator()
                elif item == RECENT:
                    self.recent_menu = menu.addMenu("Recent runs")
                    self.recent_menu.setToolTipsVisible(True)
                else:
                    menu.addAction(self.by_id[item])

    def apply(self, state: RunState, pausable: bool) -> None:
        """Enable each action by its rule for `state`."""
        for action_id, rule in self._rules.items():
            self.by_id[action_id].setEnabled(rule(state, pausable))
        self.by_id["pause"].setText("Resume" if state is RunState.PAUSED else "Pause")

    def check_theme(self, theme: str) -> None:
        for action_id, name in THEMES.items():
            self.by_id[action_id].setChecked(name == theme)

    def lend_keys(self, keys: tuple[str, ...], lent: bool) -> None:
        """Take `keys` off the window's actions while `lent` (a tab uses them), give them back otherwise.

        Two shortcuts on one key cancel each other out in Qt, so only one may hold it at a time.
        """
        for action, own in self.keys.items():
            kept = [k for k in own if not (lent and k in keys)]
            if len(kept) != len(action.shortcuts()):
                action.setShortcuts([QKeySequence(k) for k in kept])


def bind_button(button: QAbstractButton, action: QAction, *, text: bool = False) -> None:
    """Make `button` trigger `action` and follow its enabled state (and its text when `text`)."""
    button.clicked.connect(action.trigger)

    def follow() -> None:
        button.setEnabled(action.isEnabled())
        if text:
            button.setText(action.text())

    action.changed.connect(follow)
    follow()
