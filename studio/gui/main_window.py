"""The studio window: the composition of its tabs, actions, run controller, exports and status bar.

The window shows at most one run at a time through its `RunController` (`run_control.py`): trained in
this window's thread, in torchrun processes, or followed from a run directory anyone writes. The
controller's state drives the actions (`actions.py`), and its events are handed to the tabs.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .. import settings as user_settings
from ..engine.state import RunState, StatusNote
from .actions import Actions, bind_button
from .banner import Banner
from .collapse_banner import show_collapse
from .collector import collect_on_gui_thread, freeze_start_up
from .compare import install_compare
from .dialogs import about_text, confirm_close_while_training, method_descriptions, studio_version
from .exports import Exports
from .monitor_tab import MonitorTab
from .real_preview import load_real_preview, preview_for_run
from .run_control import RunController
from .run_lock_banner import lock_for_training
from .run_view import RunView
from .sample_view import SamplePlaceholder, SampleView, load_sample_tab
from .status_bar import RunStatusBar
from .tasks import BackgroundTask, live_tasks
from .theme import app_icon, apply_theme
from .train_tab import TrainTab
from .window_settings import add_recent_run, fill_recent_menu, reopenable, restore_window, save_window


class MainWindow(QMainWindow):
    """The GAN Studio window."""

    def __init__(self, parent: QWidget | None = None, *, populate: bool = True):
        super().__init__(parent)
        collect_on_gui_thread()  # garbage holding Qt objects must never be collected on a worker thread
        self.setWindowTitle("GAN Studio")
        self.setWindowIcon(app_icon())
        # Modal dialogs (errors, the close question) are skipped when False: tests and selfcheck.
        self.interactive = True
        self.ask_before_close = True
        self.last_error = ""
        self.theme = "dark"
        self.run_outputs: Any = None  # the outputs (TensorBoard) of the run training in this window
        self._real_task: BackgroundTask | None = None
        self._populated = False

        self.banner = Banner()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)  # Fusion draws the base as a white line across a dark window
        self.run_view = RunView()  # what the Monitor's header and the status bar say about the run shown
        self.train_tab = TrainTab()
        self.monitor_tab = MonitorTab(self.run_view)
        self.sample_tab: SampleView = SamplePlaceholder()  # the real tab replaces it in finish_setup()
        # In a scroll area, so a tab's minimum size never makes the window taller than a laptop screen.
        self.sample_page = QScrollArea()
        self.sample_page.setWidgetResizable(True)
        self.sample_page.setFrameShape(QFrame.Shape.NoFrame)
        self.sample_page.setWidget(self.sample_tab)
        for page, title, tip in (
                (self.train_tab, "Train", "Choose a dataset, a method and its settings; start, pause and stop "
                 "training"),
                (self.monitor_tab, "Monitor", "Live losses, metrics, sample grids and the timelapse of the current "
                 "run"),
                (self.sample_page, "Sample", "Explore the trained generator: sample, interpolate, morph")):
            self.tabs.setTabToolTip(self.tabs.addTab(page, title), tip)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.status = RunStatusBar(self.statusBar(), self.run_view)
        self.exports = Exports(self, self.status.progress)
        self.runs = RunController(self)
        self.runs.stateChanged.connect(self._on_run_state)
        self.runs.eventsArrived.connect(self._handle_events)
        self.runs.ended.connect(self._on_run_ended)
        self.menu_actions = Actions(self)
        self.menu_actions.build_menus()
        self.compare_view = install_compare(self)  # the Compare tab, and Compare… on the Monitor
        recent = self.menu_actions.recent_menu
        recent.aboutToShow.connect(lambda: fill_recent_menu(recent, self.open_run, self.menu_actions["compare"]))
        t = self.train_tab
        for button, action_id in ((t.start_button, "start"), (t.stop_button, "stop"),
                                  (t.continue_button, "continue")):
            bind_button(button, self.menu_actions[action_id])
        bind_button(t.pause_button, self.menu_actions["pause"], text=True)
        self.monitor_tab.export_button.clicked.connect(self.exports.timelapse)
        t.dataset_panel.loadFailed.connect(
            lambda msg: self.statusBar().showMessage(f"Dataset not loaded: {msg}", 8000))
        self.tabs.currentChanged.connect(self._on_tab_changed)

        restore_window(self)
        self._on_run_state(RunState.IDLE)
        if populate:
            self.finish_setup()

    @property
    def run_state(self) -> RunState:
        return self.runs.state

    def finish_setup(self, dataset: str | None = None, run: str | None = None) -> None:
        """The slower part of start-up (imports torch): method and source lists, saved form, then the arguments."""
        if not self._populated:
            self._populated = True
            from ..threads import limit_this_thread
            from .qtcheck import check_void_calls

            # The GUI thread's torch work is light; holding a CPU thread team here would slow the trainer's.
            limit_this_thread(1)
            if defect := check_void_calls():
                self.show_info(defect)
            self._install_sample_tab()
            self.train_tab.populate()
            saved = self.train_tab.restore(user_settings.get_setting("last_train", {}))
            if dataset is None and run is None and saved and reopenable(saved):
                self.train_tab.dataset_panel.load(saved)
            freeze_start_up()  # what start-up made lives as long as the window: no collection walks it again
        if dataset:
            self.train_tab.dataset_panel.load(dataset)
        if run:
            self.open_run(run)

    def _install_sample_tab(self) -> None:
        tab = load_sample_tab()
        old = self.sample_page.takeWidget()
        if old is not None:
            old.deleteLater()
        self.sample_tab = tab
        self.sample_page.setWidget(tab)
        self._on_tab_changed(self.tabs.currentIndex())

    @property
    def has_sample_tab(self) -> bool:
        return not isinstance(self.sample_tab, SamplePlaceholder)

    def _on_tab_changed(self, index: int) -> None:
        # The Sample tab has its own Ctrl+O, F5 and Ctrl+E (open a model, refresh, export the morph), ...
        self.menu_actions.lend_keys(self.sample_tab.shortcut_keys, self.tabs.widget(index) is self.sample_page)

    def set_theme(self, theme: str) -> None:
        """Switch between the dark and light looks (remembered)."""
        app = QApplication.instance()
        if app is not None:
            self.theme = apply_theme(app, theme)
        self.menu_actions.check_theme(self.theme)
        self.monitor_tab.apply_theme(self.theme)
        self.compare_view.apply_theme(self.theme)
        self.train_tab.dataset_panel.apply_theme(self.theme)

    def save_settings(self) -> None:
        save_window(self)

    # --- messages ----------------------------------------------------------------------------------
    def show_error(self, title: str, message: str, action: tuple[str, Any] | None = None) -> None:
        """An error the user must see: the banner (with an optional action) and, when interactive, a dialog."""
        self.last_error = message
        self.banner.show_message(f"<b>{_html(title)}:</b> {_html(message)}", "error", action)
        self.statusBar().showMessage(f"{title}: {message}", 15000)
        if self.interactive:
            box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
            button = box.addButton(action[0], QMessageBox.ButtonRole.AcceptRole) if action is not None else None
            box.exec()
            if button is not None and box.clickedButton() is button:
                self.banner.clear()
                action[1]()

    def show_info(self, message: str) -> None:
        self.banner.show_message(_html(message), "info")
        self.statusBar().showMessage(message, 8000)

    # --- starting runs -----------------------------------------------------------------------------
    def is_training(self) -> bool:
        """True while a run trains in this window's thread or in processes it started."""
        return self.runs.is_training()

    def start_training(self) -> bool:
        """Start a new run from the Train tab's settings; False (with a message) when it cannot start."""
        from ..engine.rundir import RunDirectory
        from ..methods.params import ConfigError

        if self.is_training():
            return False
        if self.train_tab.dataset_panel.is_loading():
            self.show_error("Cannot start yet", "the dataset is still loading; wait for it or cancel it")
            return False
        try:
            config = self.train_tab.build_config()
        except ConfigError as exc:
            self.show_error("Cannot start", str(exc))
            return False
        run_dir = self.train_tab.run_dir_for(config.method)
        if RunDirectory(run_dir).last_checkpoint.exists():
            self.show_error("Cannot start", f"{run_dir} already holds a run: use “Continue a previous run…” to resume "
                            "it, or clear the Run directory field for a new folder")
            return False
        lock = lock_for_training(self, run_dir, "Cannot start")
        if lock is None:
            return False
        dataset = self.train_tab.dataset_panel.dataset
        gpus = self.train_tab.gpu_count()
        if gpus > 1:
            lock.release()  # rank 0 of `studio train --gpus` takes it
            return self._train_in_processes(config, run_dir, dataset, gpus)
        self.train_in_window(config, run_dir, dataset, lock=lock)
        return True

    def continue_run(self, path: str | Path | None = None, lr_scale: float = 1.0) -> bool:
        """Resume a run directory from its last checkpoint (asks for it when `path` is None)."""
        from ..engine.resume import ResumeError, resumable_config

        if self.is_training():
            self.show_error("Cannot continue", "a run is training; stop it first")
            return False
        if path is None:
            path = self._ask_for_run("Continue which run?")
            if path is None:
                return False
        try:
            run, config, kind = resumable_config(path, min_steps=self.train_tab.steps.value())
        except ResumeError as exc:
            self.show_error(exc.title, str(exc))
            return False
        lock = lock_for_training(self, run.path, "Cannot continue")
        if lock is None:
            return False
        panel = self.train_tab.dataset_panel
        wanted = {"size": config.image_size, "channels": config.channels, "count": config.dataset_count,
                  "split": config.split}
        same_data = panel.dataset is not None and panel.source == config.dataset and panel.loaded_options == wanted
        self.train_tab.apply_config(config)
        self.train_tab.run_dir.setText(str(run.path))
        self.train_in_window(config, run.path, panel.dataset if same_data else None, resume=True, lr_scale=lr_scale,
                             kind=kind, lock=lock)
        return True

    def train_in_window(self, config: Any, run_dir: Path, dataset: Any, resume: bool = False, lr_scale: float = 1.0,
                        kind: str | None = None, extra_subscribers: tuple = (), lock: Any = None) -> None:
        """Train `config` into `run_dir` on this window's thread, shown live on the Monitor and Sample tabs.

        `lock` is the run directory's writer lock, held by the session until its thread ends (none: unlocked).
        """
        from ..engine.outputs import run_outputs

        self._close_outputs()
        self.run_outputs = run_outputs(run_dir, tensorboard=self.train_tab.tensorboard_enabled())
        for problem in self.run_outputs.problems:
            self.show_info(f"{problem}; training goes on without them")
        extra_subscribers = (*extra_subscribers, *self.run_outputs.subscribers)
        kind = dataset.kind.value if dataset is not None else kind
        self._show_new_run(config, run_dir, kind, dataset)
        if resume:
            self._replay_history(run_dir)
            if dataset is None:
                self._real_task = load_real_preview(self.monitor_tab, config.to_dict(), kind, self)
        self.runs.train_here(config, run_dir, dataset, resume=resume, lr_scale=lr_scale,
                             extra_subscribers=extra_subscribers, lock=lock)
        self.sample_tab.set_live_source(self.runs.snapshot)
        self.setWindowTitle(f"GAN Studio — {Path(run_dir).name}")
        self.statusBar().showMessage(f"Training {config.method} on {config.dataset} into {run_dir}", 5000)

    def _train_in_processes(self, config: Any, run_dir: Path, dataset: Any, gpus: int) -> bool:
        """Start `studio train --gpus N` for the form's settings and follow its run directory."""
        from ..engine.launch import train_command
        from ..methods.params import ConfigError

        try:
            command = train_command(config, run_dir, gpus, self.train_tab.tensorboard_enabled())
        except (ConfigError, OSError) as exc:  # a device the GPUs cannot be, or the run's config.json not written
            self.show_error("Cannot start", str(exc))
            return False
        self._show_new_run(config, run_dir, dataset.kind.value if dataset is not None else None, dataset)
        self.runs.train_in_processes(command, run_dir, gpus, config.steps)
        self.sample_tab.set_live_source(None)  # the weights live in other processes: open the run instead
        self.setWindowTitle(f"GAN Studio — {Path(run_dir).name} ({gpus} GPUs)")
        self.statusBar().showMessage(f"Started {' '.join(command[1:4])} … on {gpus} GPUs into {run_dir}", 8000)
        return True

    def _show_new_run(self, config: Any, run_dir: Path, kind: str | None, dataset: Any) -> None:
        self.banner.clear()
        preview = preview_for_run(self.train_tab.dataset_panel.preview, dataset, config) if dataset is not None else {}
        self.monitor_tab.begin(method=config.method, kind=kind, total_steps=config.steps, run_dir=run_dir,
                               title=Path(run_dir).name, real_grid=preview.get("grid"),
                               real_points=preview.get("points"), modes=preview.get("modes"),
                               experiment=config.experiment)
        add_recent_run(run_dir)
        self.save_settings()

    def _replay_history(self, run_dir: Path) -> None:
        # A resumed run continues its curves: show what the run directory already holds, read in bulk
        # into bounded curves (here, before the session's own events start arriving).
        from ..engine.rundir import RunDirectory
        from .history import read_history

        self.monitor_tab.consume([read_history(RunDirectory(run_dir).metrics_path)])
        self.monitor_tab.refresh_timelapse()

    # --- controlling the run -----------------------------------------------------------------------
    def toggle_pause(self) -> None:
        """Pause a running run, or resume a paused one."""
        self.runs.toggle_pause()

    def stop_training(self) -> None:
        """Ask the run to stop; the trainer writes the last checkpoint and ends within about a second."""
        if self.is_training():
            self.runs.stop()
            self.statusBar().showMessage("Stopping: writing the last checkpoint…", 5000)

    def resume_lower_lr(self) -> bool:
        """After divergence or collapse: resume the same run from its last checkpoint with every learning rate halved."""
        run_dir = self.monitor_tab.run_dir
        if run_dir is None:
            return False
        self.runs.stop_and_wait()
        return self.continue_run(run_dir, lr_scale=0.5)

    def _on_run_state(self, state: RunState) -> None:
        control = self.runs.control_state  # a followed run's state is shown, but leaves the controls free
        self.menu_actions.apply(control, self.runs.can_pause)
        self.train_tab.set_locked(control.is_active)  # the run in progress owns its dataset and settings
        self.run_view.update(state=state, reason=self.runs.reason, device=self.runs.device_text())

    # --- events ------------------------------------------------------------------------------------
    def _handle_events(self, events: list) -> None:
        if not events:
            self.monitor_tab.redraw()  # values held back by the redraw limit are drawn on a later tick
        else:
            from ..engine.events import Images, Status

            self.monitor_tab.consume(events)
            for event in events:
                if isinstance(event, Status):
                    self._on_status(event)
                elif isinstance(event, Images) and event.name == "samples":
                    self.sample_tab.show_latest_grid(event.image)
        self.run_view.update(device=self.runs.device_text())  # known once the trainer has chosen its device

    def _on_status(self, event) -> None:
        if event.state is StatusNote.COLLAPSE:  # about the samples on screen: a followed run's too
            show_collapse(self, event)
            return
        if not self.runs.controls:
            return  # a run another process trains: this window follows it but does not control it
        if event.state is StatusNote.CHECKPOINT:
            self.statusBar().showMessage(event.message, 4000)
        elif event.state is StatusNote.ALERT:
            self.show_info(event.message)

    def _on_run_ended(self, state: RunState, message: str) -> None:
        """The run this window trained ended (the controller says so once): its last values, then its outcome."""
        self.monitor_tab.redraw(force=True)
        self._close_outputs()
        if state is RunState.DIVERGED:
            from ..engine.rundir import RunDirectory

            run_dir = self.monitor_tab.run_dir
            action = None
            if run_dir is not None and RunDirectory(run_dir).last_checkpoint.exists():
                action = ("Resume from last checkpoint with a lower learning rate", self.resume_lower_lr)
            self.show_error("Training diverged", message, action)
        elif state is RunState.ERROR:
            self.show_error("Training failed", message)
        else:
            self.statusBar().showMessage(f"Training {message}", 10000)

    def _close_outputs(self) -> None:
        if self.run_outputs is not None:
            for problem in self.run_outputs.close():
                self.statusBar().showMessage(problem, 8000)
            self.run_outputs = None

    # --- following a run directory -----------------------------------------------------------------
    def open_run(self, path: str | Path | None = None) -> bool:
        """Open a run directory on the Monitor tab and follow it live; False (with a message) if it can't."""
        from ..engine.follow import RunFollower
        from ..engine.rundir import RunDirError
        from ..engine.runinfo import read_run_info

        if self.is_training():
            self.show_error("Cannot open a run", "a run is training in this window; stop it first, or open the run "
                            "in a second window (studio --run DIR)")
            return False
        if path is None:
            path = self._ask_for_run("Open run directory")
            if path is None:
                return False
        follower = RunFollower(path)
        try:
            follower.check()
        except RunDirError as exc:
            self.show_error("Cannot open the run", str(exc))
            return False
        self.banner.clear()
        info = read_run_info(follower.run)
        self.monitor_tab.begin(method=info.method, kind=info.kind, total_steps=info.steps, run_dir=follower.path,
                               title=follower.path.name, experiment=info.settings.get("experiment"))
        if info.problem:
            self.show_info(f"{info.problem}: the run's curves and samples are shown, but its method and length are "
                           "unknown, so it cannot be continued from this window")
        self.runs.follow(follower, info.steps, info.device)
        self.runs.poll()
        self.monitor_tab.refresh_timelapse()
        self._real_task = load_real_preview(self.monitor_tab, info.settings, info.kind, self)
        try:
            self.sample_tab.load_run(follower.path)
        except Exception as exc:  # noqa: BLE001 - the Sample tab's trouble must not stop following the run
            self.statusBar().showMessage(f"Sample tab: {exc}", 8000)
        add_recent_run(follower.path)
        self.setWindowTitle(f"GAN Studio — {follower.path.name} (following)")
        self.tabs.setCurrentWidget(self.monitor_tab)
        return True

    def stop_following(self) -> None:
        if not self.is_training():
            self.runs.detach()

    def _ask_for_run(self, title: str) -> str | None:
        if not self.interactive:
            return None
        return QFileDialog.getExistingDirectory(self, title, str(Path.cwd() / "runs")) or None

    # --- help ----------------------------------------------------------------------------------------
    def show_about(self) -> None:
        """Name, version and what the studio is for."""
        if self.interactive:
            QMessageBox.about(self, "About GAN Studio", about_text())
        else:
            self.show_info(f"GAN Studio {studio_version()}")

    def show_method_descriptions(self):
        """A window describing every method: what it does, its source, data kinds and presets."""
        dialog = method_descriptions(self)
        if self.interactive:
            dialog.show()
        return dialog

    # --- closing -----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop training (keeping the checkpoint), cancel loads and wait for every background thread."""
        if self.is_training():
            self.statusBar().showMessage("Stopping training and writing the checkpoint…")
            QApplication.processEvents()
        self.runs.stop_and_wait(60_000 if self.runs.session is not None else 15_000)
        self.runs.timer.stop()  # the run stays inspectable: its final state, its checkpoint
        self._close_outputs()
        self.train_tab.dataset_panel.cancel()
        for task in live_tasks():
            task.cancel()
            task.wait(60_000)
        self.sample_tab.shutdown()
        self.compare_view.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.is_training() and self.ask_before_close and not confirm_close_while_training(
                self, in_processes=self.runs.process is not None):
            event.ignore()
            return
        self.shutdown()
        self.save_settings()
        event.accept()


def _html(text: str) -> str:
    """Plain text for the banner's rich-text label: escaped, line breaks kept."""
    return html.escape(text, quote=False).replace("\n", "<br>")
