"""The studio window: Train, Monitor and Sample tabs, menus, status bar, and the live training session.

The window owns at most one TrainingSession (training on a QThread) or one RunFollower (a run
directory written by anyone); a QTimer pulls their events at a steady rate and hands them to the tabs.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QProcess, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import settings as user_settings
from .banner import Banner
from .collector import collect_on_gui_thread
from .imageview import ImageView
from .monitor_tab import MonitorTab
from .perf import format_duration
from .run_lock_banner import lock_for_training
from .tasks import BackgroundTask, live_tasks
from .theme import app_icon, apply_theme
from .train_tab import TrainTab

if TYPE_CHECKING:  # torch-heavy modules load after the window is up
    from ..engine.events import Event, Status
    from .worker import TrainingSession

PULL_MS = 250  # 4 Hz: the newest state, steadily; every wake-up of the GUI thread takes a core from training
FOLLOW_MS = 500  # ~2 Hz: a followed run is read from disk
MAX_RECENT = 10
SAMPLE_TAB_KEYS = ("Ctrl+O", "F5", "Ctrl+E")  # the Sample tab's own meaning wins while it is shown
REAL_PREVIEW = 64


class SamplePlaceholder(QWidget):
    """Stands in for the Sample tab when studio.gui.sample is not installed: the newest sample grid."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        note = QLabel("The newest samples of the current run.")
        note.setObjectName("hint")
        note.setWordWrap(True)
        self.note = note
        self.view = ImageView("Samples appear here once a run is training or opened")
        self.view.setToolTip("The newest sample grid of the current run")
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.view, 1)
        self._live_source = None

    def set_live_source(self, fn) -> None:
        self._live_source = fn

    def load_run(self, path: str | Path) -> None:
        from ..engine.follow import read_grid
        from ..engine.rundir import RunDirectory

        frames = RunDirectory(path).sample_images()
        self.view.set_image(read_grid(frames[-1][1]) if frames else None)

    def show_grid(self, image) -> None:
        self.view.set_image(image)


def _load_sample_tab() -> QWidget | None:
    try:
        from .sample import SampleTab  # built separately (and imports torch); the studio runs without it
    except ImportError:
        return None
    return SampleTab()


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
        self.session: TrainingSession | None = None
        self.follower: Any = None
        self.run_state = "idle"
        self.last_error = ""
        self.theme = "dark"
        self.device_text = ""
        self._real_task: BackgroundTask | None = None
        self._model_export_task: BackgroundTask | None = None
        self.last_export: Any = None  # the newest ExportResult of File → Export model
        self._error_shown_for: Any = None
        # A multi-GPU run: `studio train --gpus N` in its own processes, followed through its run directory.
        self.process: QProcess | None = None
        self.process_command: list[str] = []
        self.process_output = ""  # the newest output of the processes, for the error message
        self._process_stopping = False
        self.tensorboard_subscriber: Any = None  # the TensorBoard writer of the run training in this window
        self._populated = False

        self.banner = Banner()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)  # Fusion draws the base as a white line across a dark window
        self.train_tab = TrainTab()
        self.monitor_tab = MonitorTab()
        self.sample_tab: QWidget = SamplePlaceholder()  # the real tab replaces it in finish_setup()
        self.has_sample_tab = False
        # In a scroll area, so a tab's minimum size never makes the window taller than a laptop screen.
        self.sample_page = QScrollArea()
        self.sample_page.setWidgetResizable(True)
        self.sample_page.setFrameShape(QFrame.Shape.NoFrame)
        self.sample_page.setWidget(self.sample_tab)
        self.tabs.addTab(self.train_tab, "Train")
        self.tabs.addTab(self.monitor_tab, "Monitor")
        self.tabs.addTab(self.sample_page, "Sample")
        self.tabs.setTabToolTip(0, "Choose a dataset, a method and its settings; start, pause and stop training")
        self.tabs.setTabToolTip(1, "Live losses, metrics, sample grids and the timelapse of the current run")
        self.tabs.setTabToolTip(2, "Explore the trained generator: sample, interpolate, morph")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self._action_keys: dict[QAction, tuple[str, ...]] = {}
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        t = self.train_tab
        t.start_button.clicked.connect(self.start_training)
        t.pause_button.clicked.connect(self.toggle_pause)
        t.stop_button.clicked.connect(self.stop_training)
        t.continue_button.clicked.connect(lambda: self.continue_run())
        self.monitor_tab.export_button.clicked.connect(self.export_timelapse)
        self.monitor_tab.exportFinished.connect(self._on_export_finished)
        t.dataset_panel.loadFailed.connect(lambda msg: self.statusBar().showMessage(f"Dataset not loaded: {msg}", 8000))
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.pull_timer = QTimer(self)
        self.pull_timer.setInterval(PULL_MS)
        self.pull_timer.timeout.connect(self.pull_events)
        self.follow_timer = QTimer(self)
        self.follow_timer.setInterval(FOLLOW_MS)
        self.follow_timer.timeout.connect(self.poll_follower)

        self._restore_window()
        self._set_run_state("idle")
        if populate:
            self.finish_setup()

    # --- set-up ----------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcuts: tuple[str, ...] = (), tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            self._action_keys[action] = shortcuts
        tip = tip or text.replace("…", "")
        keys = ", ".join(shortcuts)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work whichever tab has focus
        return action

    def _build_actions(self) -> None:
        drop_zone = self.train_tab.dataset_panel.drop_zone
        self.open_dataset_action = self._action("Open dataset…", drop_zone.open_files, ("Ctrl+O",),
                                                "Open dataset files (zip, npy/npz, IDX, CIFAR batch, images)")
        self.open_folder_action = self._action("Open dataset folder…", drop_zone.open_folder,
                                               ("Ctrl+Shift+O",), "Open a folder of images, IDX, CIFAR-10 or CelebA")
        self.open_run_action = self._action("Open run…", lambda: self.open_run(), ("Ctrl+Alt+O",),
                                            "Open a run directory and follow it live, even while another process "
                                            "writes it")
        self.export_action = self._action("Export timelapse GIF…", self.export_timelapse, ("Ctrl+E",),
                                          "Write the run's saved sample grids as a looping GIF")
        self.export_model_action = self._action("Export model…", lambda: self.export_model(), ("Ctrl+Shift+E",),
                                                "Export the run's generator (and encoder) as ONNX or TorchScript, "
                                                "as `studio export` does")
        self.quit_action = self._action("Quit", self.close, ("Ctrl+Q",), "Close GAN Studio (asks first while training)")
        self.start_action = self._action("Start", self.start_training, ("Ctrl+R", "F5"), "Start training")
        self.pause_action = self._action("Pause / Resume", self.toggle_pause, ("Ctrl+P",), "Pause or resume training")
        self.stop_action = self._action("Stop", self.stop_training, ("Ctrl+.", "Shift+F5"),
                                        "Stop training and write the last checkpoint")
        self.continue_action = self._action("Continue a previous run…", lambda: self.continue_run(), (),
                                            "Resume a run directory from its last checkpoint")
        self.undo_action = self._action("Undo form change", self.train_tab.params_form.undo, ("Ctrl+Z",),
                                        "Undo the last change to the hyperparameter form")
        self.reset_action = self._action("Reset hyperparameters", self.train_tab.params_form.reset, (),
                                         "Put every hyperparameter back to the method's default")
        self.theme_group = QActionGroup(self)
        self.theme_actions = {}
        for theme, label in (("dark", "Dark theme"), ("light", "Light theme")):
            action = self._action(label, lambda checked=False, t=theme: self.set_theme(t), (),
                                  f"Switch to the {theme} look")
            action.setCheckable(True)
            self.theme_group.addAction(action)
            self.theme_actions[theme] = action
        self.about_action = self._action("About GAN Studio", self.show_about)
        self.methods_action = self._action("Method descriptions", self.show_method_descriptions, ("F1",),
                                           "What each method does and the paper it comes from")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_dataset_action)
        file_menu.addAction(self.open_folder_action)
        file_menu.addAction(self.open_run_action)
        self.recent_menu = file_menu.addMenu("Recent runs")
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.export_model_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.reset_action)
        run_menu = bar.addMenu("&Run")
        for action in (self.start_action, self.pause_action, self.stop_action):
            run_menu.addAction(action)
        run_menu.addSeparator()
        run_menu.addAction(self.continue_action)
        view_menu = bar.addMenu("&View")
        for action in self.theme_actions.values():
            view_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.methods_action)
        help_menu.addAction(self.about_action)
        for menu in (file_menu, edit_menu, run_menu, view_menu, help_menu):
            menu.setToolTipsVisible(True)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.device_label = QLabel("device: –")
        self.device_label.setToolTip("The device the run trains on")
        self.step_label = QLabel("step –")
        self.step_label.setToolTip("Training step / total steps")
        self.speed_label = QLabel("– images/s")
        self.speed_label.setToolTip("Training images per second (averaged over the last log interval)")
        self.eta_label = QLabel("ETA –")
        self.eta_label.setToolTip("Estimated time to the last step at the current speed")
        self.export_progress = QProgressBar()
        self.export_progress.setMaximumWidth(160)
        self.export_progress.setToolTip("Writing the timelapse GIF")
        self.export_progress.hide()
        # Widths fixed for the longest expected text: a label that grows with its number would
        # re-lay-out the window (and repaint every chart) on each update.
        metrics = self.fontMetrics()
        for label, longest in ((self.step_label, "step 1,000,000/1,000,000"), (self.speed_label, "100,000 images/s"),
                               (self.eta_label, "ETA 999h 59m"), (self.device_label, "device: CUDA: NVIDIA H100")):
            label.setMinimumWidth(metrics.horizontalAdvance(longest) + 16)
        for w in (self.export_progress, self.device_label, self.step_label, self.speed_label, self.eta_label):
            bar.addPermanentWidget(w)

    def finish_setup(self, dataset: str | None = None, run: str | None = None) -> None:
        """The slower part of start-up (imports torch): method and source lists, saved form, then the arguments."""
        if not self._populated:
            self._populated = True
            from ..threads import limit_this_thread

            # The GUI thread's torch work is light; holding a CPU thread team here would slow the trainer's.
            limit_this_thread(1)
            self._install_sample_tab()
            self.train_tab.populate()
            saved = self.train_tab.restore(user_settings.get_setting("last_train", {}))
            if dataset is None and run is None and saved and _reopenable(saved):
                self.train_tab.dataset_panel.load(saved)
        if dataset:
            self.train_tab.dataset_panel.load(dataset)
        if run:
            self.open_run(run)

    def _install_sample_tab(self) -> None:
        tab = _load_sample_tab()
        if tab is None:
            self.sample_tab.note.setText("The latent explorer (Sample tab) is not part of this build; "
                                         "the newest samples are shown.")
            return
        old = self.sample_page.takeWidget()
        if old is not None:
            old.deleteLater()
        self.sample_tab, self.has_sample_tab = tab, True
        self.sample_page.setWidget(tab)
        self._on_tab_changed(self.tabs.currentIndex())

    def _on_tab_changed(self, index: int) -> None:
        # The Sample tab has its own Ctrl+O, F5 and Ctrl+E (open a model, refresh, export the morph). Two
        # shortcuts on one key cancel each other out in Qt, so the window lends it those keys while it shows.
        on_sample = self.has_sample_tab and self.tabs.widget(index) is self.sample_page
        for action, keys in self._action_keys.items():
            kept = [k for k in keys if not (on_sample and k in SAMPLE_TAB_KEYS)]
            if len(kept) != len(action.shortcuts()):
                action.setShortcuts([QKeySequence(k) for k in kept])

    # --- theme and settings ------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        """Switch between the dark and light looks (remembered)."""
        app = QApplication.instance()
        if app is not None:
            self.theme = apply_theme(app, theme)
        self.theme_actions[self.theme].setChecked(True)
        self.monitor_tab.apply_theme(self.theme)
        self.train_tab.dataset_panel.apply_theme(self.theme)

    def _restore_window(self) -> None:
        saved = user_settings.load_settings()
        window = saved.get("window") if isinstance(saved.get("window"), dict) else {}
        try:
            if window.get("geometry"):
                self.restoreGeometry(QByteArray.fromBase64(window["geometry"].encode("ascii")))
            if window.get("state"):
                self.restoreState(QByteArray.fromBase64(window["state"].encode("ascii")))
        except (AttributeError, TypeError, ValueError):
            pass
        if not window.get("geometry"):
            self.resize(1280, 800)
        if isinstance(window.get("tab"), int):
            self.tabs.setCurrentIndex(window["tab"])
        self.set_theme(saved.get("theme", "dark"))

    def save_settings(self) -> None:
        """Remember window geometry, theme and the Train tab's form for the next launch."""
        try:
            user_settings.update_settings(
                window={"geometry": bytes(self.saveGeometry().toBase64()).decode("ascii"),
                        "state": bytes(self.saveState().toBase64()).decode("ascii"),
                        "tab": self.tabs.currentIndex()},
                theme=self.theme, last_train=self.train_tab.state())
        except OSError as exc:
            self.statusBar().showMessage(f"Settings not saved ({user_settings.settings_path()}: {exc})", 8000)

    def _add_recent(self, path: Path) -> None:
        path = str(Path(path).resolve())
        recent = [p for p in user_settings.get_setting("recent_runs", []) if isinstance(p, str) and p != path]
        try:
            user_settings.update_settings(recent_runs=[path] + recent[: MAX_RECENT - 1])
        except OSError:
            pass

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in user_settings.get_setting("recent_runs", []) if isinstance(p, str)]
        if not recent:
            none = self.recent_menu.addAction("(no runs yet)")
            none.setEnabled(False)
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setEnabled(Path(path).is_dir())
            action.triggered.connect(lambda checked=False, p=path: self.open_run(p))

    # --- messages ----------------------------------------------------------------------------------
    def show_error(self, title: str, message: str, action: tuple[str, Any] | None = None) -> None:
        """An error the user must see: the banner (with an optional action) and, when interactive, a dialog."""
        self.last_error = message
        self.banner.show_message(f"<b>{_html(title)}:</b> {_html(message)}", "error", action)
        self.statusBar().showMessage(f"{title}: {message}", 15000)
        if self.interactive:
            box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
            if action is not None:
                button = box.addButton(action[0], QMessageBox.ButtonRole.AcceptRole)
                box.exec()
                if box.clickedButton() is button:
                    self.banner.clear()
                    action[1]()
                return
            box.exec()

    def show_info(self, message: str) -> None:
        self.banner.show_message(_html(message), "info")
        self.statusBar().showMessage(message, 8000)

    # --- training ----------------------------------------------------------------------------------
    def is_training(self) -> bool:
        """True while a run trains in this window's thread or in processes it started."""
        return (self.session is not None and self.session.is_running()) or self.process_running()

    def process_running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start_training(self) -> bool:
        """Start a new run from the Train tab's settings; False (with a message) when it cannot start."""
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
        if (run_dir / "checkpoints" / "last.pt").exists():
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
            return self._start_process(config, run_dir, dataset, gpus)
        self._start_session(config, run_dir, dataset, resume=False, lock=lock)
        return True

    def continue_run(self, path: str | Path | None = None, lr_scale: float = 1.0) -> bool:
        """Resume a run directory from its last checkpoint (asks for it when `path` is None)."""
        from ..engine.checkpoint import resolve_checkpoint
        from ..engine.config import RunConfig
        from ..engine.rundir import RunDirectory, RunDirError
        from ..methods.params import ConfigError

        if self.is_training():
            self.show_error("Cannot continue", "a run is training; stop it first")
            return False
        if path is None:
            if not self.interactive:
                return False
            path = QFileDialog.getExistingDirectory(self, "Continue which run?", str(Path.cwd() / "runs"))
            if not path:
                return False
        run = RunDirectory(path)
        try:
            resolve_checkpoint(run.path)
            data = run.read_config()
            config = RunConfig.from_dict(data.get("run", data))
            config.validate()
        except (RunDirError, ConfigError) as exc:
            where = "" if str(run.path) in str(exc) else f"{run.config_path}: "  # say which run the problem is in
            self.show_error("Cannot continue", f"{where}{exc}")
            return False
        except (TypeError, ValueError, AttributeError) as exc:  # a config.json edited or damaged by hand
            self.show_error("Cannot continue", f"{run.config_path}: not a run configuration this studio can read "
                            f"({type(exc).__name__}: {exc})")
            return False
        reached = _as_int(run.read_status().get("step"))
        config.steps = max(config.steps, self.train_tab.steps.value())
        if reached >= config.steps:
            self.show_error("Nothing to continue", f"{run.path} already reached step {reached} of {config.steps}; "
                            f"set Steps on the Train tab above {reached} and continue again")
            return False
        lock = lock_for_training(self, run.path, "Cannot continue")
        if lock is None:
            return False
        panel = self.train_tab.dataset_panel
        same_data = (panel.dataset is not None and panel.source == config.dataset and panel.loaded_options ==
                     {"size": config.image_size, "channels": config.channels, "count": config.dataset_count})
        self.train_tab.apply_config(config)
        self.train_tab.run_dir.setText(str(run.path))
        self._start_session(config, run.path, panel.dataset if same_data else None, resume=True, lr_scale=lr_scale,
                            kind=data.get("spec", {}).get("kind"), lock=lock)
        return True

    def _start_session(self, config: Any, run_dir: Path, dataset: Any, resume: bool, lr_scale: float = 1.0,
                       kind: str | None = None, extra_subscribers: tuple = (), lock: Any = None) -> None:
        self.stop_following()
        self.banner.clear()
        self._error_shown_for = None
        from .worker import TrainingSession

        self._close_tensorboard()
        if self.train_tab.tensorboard_enabled():
            from ..engine.tensorboard import TensorBoardMissing, TensorBoardSubscriber

            try:
                self.tensorboard_subscriber = TensorBoardSubscriber(run_dir)
                extra_subscribers = (*extra_subscribers, self.tensorboard_subscriber)
            except (TensorBoardMissing, OSError) as exc:
                self.show_info(f"Training without TensorBoard logs: {exc}")
        session = TrainingSession(config, run_dir, dataset=dataset, resume=resume, lr_scale=lr_scale, parent=self,
                                  extra_subscribers=extra_subscribers, lock=lock)
        session.ended.connect(self._on_session_ended)
        self.session = session
        kind = dataset.kind.value if dataset is not None else kind
        preview = self.train_tab.dataset_panel.preview if dataset is not None else {}
        self.monitor_tab.begin(method=config.method, kind=kind, total_steps=config.steps, run_dir=run_dir,
                               title=Path(run_dir).name, real_grid=preview.get("grid"),
                               real_points=preview.get("points"), modes=preview.get("modes"))
        if resume:
            self._replay_history(run_dir)
            if dataset is None:
                self._load_real_data(config.to_dict(), kind)
        if hasattr(self.sample_tab, "set_live_source"):
            self.sample_tab.set_live_source(session.snapshot)
        self.device_text = ""
        self._set_run_state("starting")
        self.setWindowTitle(f"GAN Studio — {Path(run_dir).name}")
        self._add_recent(run_dir)
        self.save_settings()
        session.start()
        self.pull_timer.start()
        self.statusBar().showMessage(f"Training {config.method} on {config.dataset} into {run_dir}", 5000)

    def _replay_history(self, run_dir: Path) -> None:
        # A resumed run continues its curves: show what the run directory already holds.
        from ..engine.events import Status
        from ..engine.follow import RunFollower

        follower = RunFollower(run_dir)
        events = [e for e in follower.poll() if not isinstance(e, Status)]
        self.monitor_tab.consume(events)
        self.monitor_tab.refresh_timelapse()

    # --- multi-GPU runs: studio train --gpus N, followed like any run directory ----------------------
    def _start_process(self, config: Any, run_dir: Path, dataset: Any, gpus: int) -> bool:
        """Start `studio train --gpus N` for the form's settings and follow its run directory."""
        from ..engine.follow import RunFollower
        from ..methods.params import ConfigError
        from .train_tab import train_command

        try:
            command = train_command(config, run_dir, gpus, self.train_tab.tensorboard_enabled())
        except ConfigError as exc:
            self.show_error("Cannot start", str(exc))
            return False
        self.stop_following()
        self.banner.clear()
        self._error_shown_for = None
        self.session = None
        process = QProcess(self)
        process.setProgram(command[0])
        process.setArguments(command[1:])
        process.setWorkingDirectory(str(Path.cwd()))
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._on_process_output)
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error)
        self.process, self.process_command, self.process_output = process, command, ""
        self._process_stopping = False
        preview = self.train_tab.dataset_panel.preview if dataset is not None else {}
        self.monitor_tab.begin(method=config.method, kind=dataset.kind.value if dataset is not None else None,
                               total_steps=config.steps, run_dir=run_dir, title=Path(run_dir).name,
                               real_grid=preview.get("grid"), real_points=preview.get("points"),
                               modes=preview.get("modes"))
        if hasattr(self.sample_tab, "set_live_source"):
            self.sample_tab.set_live_source(None)  # the weights live in other processes: open the run instead
        self.follower = RunFollower(run_dir)  # not checked: the processes create the folder in a moment
        self.device_text = f"{gpus} GPUs (torchrun)"
        self._set_run_state("starting")
        self.setWindowTitle(f"GAN Studio — {Path(run_dir).name} ({gpus} GPUs)")
        self._add_recent(run_dir)
        self.save_settings()
        process.start()
        self.follow_timer.start()
        self.statusBar().showMessage(f"Started {' '.join(command[1:4])} … on {gpus} GPUs into {run_dir}", 8000)
        return True

    def _on_process_output(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        self.process_output = (self.process_output + text)[-8000:]

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.show_error("Training did not start", f"could not run {' '.join(self.process_command[:4])} …: "
                            f"{self.process.errorString() if self.process else error}")
            self.follow_timer.stop()
            self._set_run_state("idle")

    def _on_process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._on_process_output()
        self.poll_follower()  # the last records and the final status
        self.follow_timer.stop()
        self.monitor_tab.redraw(force=True)
        stopped = self._process_stopping
        self._set_run_state("idle")
        if stopped:
            self.statusBar().showMessage("Training processes stopped; the run keeps its last checkpoint", 10000)
        elif self.follower is not None and self.follower.state in ("error", "diverged"):
            pass  # the trainer's own message is on the banner already
        elif exit_code != 0 or exit_status != QProcess.ExitStatus.NormalExit:
            lines = [ln for ln in self.process_output.strip().splitlines() if ln.strip()]
            detail = "\n".join(lines[-6:]) or f"exit code {exit_code}"
            self.show_error("Training failed", f"studio train --gpus ended with exit code {exit_code}:\n{detail}")

    def _stop_process(self, wait_ms: int = 0) -> None:
        """End the training processes (torchrun passes the signal on to every rank)."""
        process = self.process
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            return
        self._process_stopping = True
        process.terminate()
        if wait_ms:
            if not process.waitForFinished(wait_ms):
                process.kill()
                process.waitForFinished(5000)
        else:
            QTimer.singleShot(15_000, lambda p=process: p.kill() if p.state() != QProcess.ProcessState.NotRunning
                              else None)

    def toggle_pause(self) -> None:
        """Pause a running run, or resume a paused one."""
        if self.session is None or not self.session.is_running():
            return
        if self.session.worker.paused:
            self.session.resume()
            self.train_tab.pause_button.setText("Pause")
        else:
            self.session.pause()
            self.train_tab.pause_button.setText("Resume")

    def stop_training(self) -> None:
        """Ask the trainer to stop; it writes the last checkpoint and the thread ends within about a second."""
        if self.process_running():
            self._stop_process()
            self.statusBar().showMessage("Stopping the training processes…", 5000)
        elif self.is_training():
            self.session.stop()
            self.statusBar().showMessage("Stopping: writing the last checkpoint…", 5000)

    def pull_events(self) -> None:
        """Timer slot: drain the training buffer and draw the newest state."""
        if self.session is None:
            return
        self._handle_events(self.session.buffer.drain())
        trainer = self.session.worker.trainer
        if not self.device_text and trainer.device is not None:
            from ..engine.device import describe_device

            self.device_text = describe_device(trainer.device)
        self._update_status_bar(self.session.config.steps)

    def _handle_events(self, events: list[Event]) -> None:
        if not events:
            self.monitor_tab.redraw()  # values held back by the redraw limit are drawn on a later tick
            return
        from ..engine.events import Images, Status

        self.monitor_tab.consume(events)
        for event in events:
            if isinstance(event, Status):
                self._on_status(event)
            elif (isinstance(event, Images) and event.name == "samples"
                  and isinstance(self.sample_tab, SamplePlaceholder)):
                self.sample_tab.show_grid(event.image)

    def _on_status(self, event: Status) -> None:
        from ..engine.events import FINAL_STATES

        state = event.state
        if self.session is None and self.process is None:
            return  # a run another process trains: this window follows it but does not control it
        if state in ("started", "resumed"):
            self._set_run_state("running")
        elif state == "paused":
            self._set_run_state("paused")
        elif state == "checkpoint":
            self.statusBar().showMessage(event.message, 4000)
        elif state == "alert":
            self.show_info(event.message)
        elif state in FINAL_STATES:
            self._on_final(state, event.message, event.step)

    def _on_final(self, state: str, message: str, step: int) -> None:
        key = (state, step, message)
        if self._error_shown_for == key:
            return
        self._error_shown_for = key
        if state == "diverged":
            run_dir = self.session.run_dir if self.session is not None else None
            action = None
            if run_dir is not None and (run_dir / "checkpoints" / "last.pt").exists():
                action = ("Resume from last checkpoint with a lower learning rate", self.resume_lower_lr)
            self.show_error("Training diverged", message, action)
        elif state == "error":
            self.show_error("Training failed", message)
        else:
            self.statusBar().showMessage(f"Training {message}", 10000)

    def resume_lower_lr(self) -> bool:
        """After divergence: resume the same run from its last checkpoint with every learning rate halved."""
        run_dir = self.monitor_tab.run_dir
        if run_dir is None:
            return False
        if self.session is not None and self.session.is_running():
            self.session.stop_and_wait()
        return self.continue_run(run_dir, lr_scale=0.5)

    def _on_session_ended(self, state: str, message: str) -> None:
        from ..engine.events import FINAL_STATES

        if self.session is None:
            return
        self._handle_events(self.session.buffer.drain())
        self.monitor_tab.redraw(force=True)
        self._update_status_bar(self.session.config.steps)
        self.pull_timer.stop()
        self._close_tensorboard()
        if state in FINAL_STATES:
            self._on_final(state, message, self.session.worker.step)
        self._set_run_state("idle")

    def _close_tensorboard(self) -> None:
        if self.tensorboard_subscriber is not None:
            try:
                self.tensorboard_subscriber.close()
            except Exception as exc:  # noqa: BLE001 - losing the last TensorBoard events must not stop the window
                self.statusBar().showMessage(f"TensorBoard logs not closed cleanly: {exc}", 8000)
            self.tensorboard_subscriber = None

    def _set_run_state(self, state: str) -> None:
        self.run_state = state
        pausable = self.process is None or state == "idle"  # processes can be stopped, not paused
        self.train_tab.set_run_state(state, pausable=pausable)
        running = state in ("running", "paused", "starting")
        self.start_action.setEnabled(not running)
        self.continue_action.setEnabled(not running)
        self.pause_action.setEnabled(pausable and state in ("running", "paused"))
        self.stop_action.setEnabled(running)
        self.pause_action.setText("Resume" if state == "paused" else "Pause")
        # The run in progress owns its dataset and settings (the Train tab locks them too).
        for action in (self.open_dataset_action, self.open_folder_action, self.undo_action, self.reset_action,
                       self.open_run_action):
            action.setEnabled(not running)

    def _update_status_bar(self, total: int) -> None:
        from ..engine.events import FINAL_STATES

        m = self.monitor_tab
        self.device_label.setText(f"device: {self.device_text or '–'}")
        self.step_label.setText(f"step {m.step}/{total}" if total else f"step {m.step}")
        ips = m.last_values.get("images_per_sec")
        self.speed_label.setText(f"{ips:,.0f} images/s" if ips is not None else "– images/s")
        eta = m.rate.eta(m.step, total) if m.state not in FINAL_STATES and m.state != "paused" else None
        self.eta_label.setText(f"ETA {format_duration(eta)}" if eta is not None else "ETA –")

    # --- following a run directory -----------------------------------------------------------------
    def open_run(self, path: str | Path | None = None) -> bool:
        """Open a run directory on the Monitor tab and follow it live; False (with a message) if it can't."""
        from ..engine.follow import RunFollower
        from ..engine.rundir import RunDirError

        if self.is_training():
            self.show_error("Cannot open a run", "a run is training in this window; stop it first, or open the run "
                            "in a second window (studio --run DIR)")
            return False
        if path is None:
            if not self.interactive:
                return False
            path = QFileDialog.getExistingDirectory(self, "Open run directory", str(Path.cwd() / "runs"))
            if not path:
                return False
        follower = RunFollower(path)
        try:
            follower.check()
        except RunDirError as exc:
            self.show_error("Cannot open the run", str(exc))
            return False
        self.stop_following()
        self.banner.clear()
        self.session = None
        self.process = None
        self.follower = follower
        config, problem = {}, ""
        if follower.run.config_path.exists():
            try:
                config = follower.run.read_config()
            except RunDirError as exc:
                problem = str(exc)
        run_cfg = _run_settings(config)
        if config and not problem:
            from ..engine.config import RunConfig
            from ..methods.params import ConfigError

            try:
                RunConfig.from_dict(run_cfg).validate()
            except (ConfigError, TypeError, ValueError, AttributeError) as exc:
                problem = f"{follower.run.config_path}: not a run configuration this studio can read ({exc})"
                problem = problem.replace("; repair or remove that entry of config.json", "")
        kind = config.get("spec", {}).get("kind") if isinstance(config.get("spec"), dict) else None
        method = run_cfg.get("method") if isinstance(run_cfg.get("method"), str) else None
        self.monitor_tab.begin(method=method, kind=kind if isinstance(kind, str) else None,
                               total_steps=_as_int(run_cfg.get("steps")), run_dir=follower.path,
                               title=follower.path.name)
        self.device_text = f"{run_cfg.get('device', '?')} (as configured)"
        if problem:
            self.show_info(f"{problem}: the run's curves and samples are shown, but its method and length are "
                           "unknown, so it cannot be continued from this window")
        self.poll_follower()
        self.monitor_tab.refresh_timelapse()
        self._load_real_data(run_cfg, kind)
        if hasattr(self.sample_tab, "load_run"):
            try:
                self.sample_tab.load_run(follower.path)
            except Exception as exc:  # noqa: BLE001 - the Sample tab's trouble must not stop following the run
                self.statusBar().showMessage(f"Sample tab: {exc}", 8000)
        self._add_recent(follower.path)
        self.setWindowTitle(f"GAN Studio — {follower.path.name} (following)")
        self.tabs.setCurrentWidget(self.monitor_tab)
        self.follow_timer.start()
        return True

    def poll_follower(self) -> None:
        """Timer slot: read what the followed run wrote since the last poll."""
        if self.follower is None:
            return
        events = self.follower.poll()
        self._handle_events(events)
        self._update_status_bar(_as_int(_run_settings(self.follower.config()).get("steps")))

    def stop_following(self) -> None:
        self.follow_timer.stop()
        self.follower = None

    def _load_real_data(self, run_cfg: dict, kind: str | None) -> None:
        # Real images for comparison: the run's dataset, a few items, opened in the background.
        source = run_cfg.get("dataset")
        if not isinstance(source, str) or source.split(":", 1)[0] in ("torchvision", "quickdraw"):
            return  # never start a download just to decorate the Monitor tab
        size, channels = run_cfg.get("image_size"), run_cfg.get("channels")
        count = 2000 if kind == "points" else REAL_PREVIEW
        run_dir = self.monitor_tab.run_dir

        def work(report):
            from ..data import open_dataset
            from .dataset_panel import make_preview

            return make_preview(open_dataset(source, size=size, channels=channels, count=count))

        task = BackgroundTask(work, self, name="real-preview")
        task.done.connect(lambda preview: self._on_real_data(preview, run_dir))
        self._real_task = task
        task.start()

    def _on_real_data(self, preview: dict, run_dir: Path | None) -> None:
        if run_dir is None or self.monitor_tab.run_dir != run_dir:
            return  # another run is shown by now
        if "grid" in preview:
            self.monitor_tab.set_real_grid(preview["grid"])
        else:
            self.monitor_tab.set_real_points(preview.get("points"), preview.get("modes"))

    # --- timelapse export --------------------------------------------------------------------------
    def export_timelapse(self) -> BackgroundTask | None:
        """Write the current run's sample grids as a GIF (asks where when interactive)."""
        run_dir = self.monitor_tab.run_dir
        if run_dir is None:
            self.show_error("Nothing to export", "no run is open: start training or open a run first")
            return None
        target = run_dir / "exports" / "timelapse.gif"
        if self.interactive:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export timelapse GIF", str(target), "GIF images (*.gif)")
            if not chosen:
                return None
            target = Path(chosen)
        task = self.monitor_tab.export_gif(target)
        if task is not None:
            self.export_progress.setRange(0, 0)
            self.export_progress.show()
            task.progress.connect(self._on_export_progress)
        return task

    def _on_export_progress(self, done: int, total: int) -> None:
        self.export_progress.setRange(0, total)
        self.export_progress.setValue(done)

    def _on_export_finished(self, result: str) -> None:
        self.export_progress.hide()
        if result.startswith("⚠"):
            self.show_error("Timelapse not exported", result.lstrip("⚠ "))
        else:
            self.show_info(f"Timelapse written to {result}")

    # --- model export (studio export) ---------------------------------------------------------------
    def export_model(self, run: str | Path | None = None, out: str | Path | None = None,
                     fmt: str | None = None) -> BackgroundTask | None:
        """Export a run's generator (and encoder) as ONNX or TorchScript in the background, as `studio export` does.

        Asks for the run (when none is open) and the file; the format follows the file's suffix
        (.onnx or .pt) unless `fmt` says otherwise. The result, or a readable error, appears on the banner.
        """
        from ..export import FORMATS

        if self._model_export_task is not None:
            self.show_error("Export model", "an export is already running; wait for it to finish")
            return None
        if run is None:
            run = self.monitor_tab.run_dir
        if run is None:
            if not self.interactive:
                self.show_error("Nothing to export", "no run is open: train one, or open a run directory first "
                                "(File → Open run…)")
                return None
            chosen = QFileDialog.getExistingDirectory(self, "Export the model of which run?", str(Path.cwd() / "runs"))
            if not chosen:
                return None
            run = chosen
        run = Path(run)
        if out is None:
            default = (run if run.is_dir() else run.parent) / "exports" / "generator.onnx"
            if not self.interactive:
                out = default
            else:
                filters = {"ONNX (*.onnx)": "onnx", "TorchScript (*.pt)": "torchscript"}
                chosen, chosen_filter = QFileDialog.getSaveFileName(self, "Export model", str(default),
                                                                    ";;".join(filters))
                if not chosen:
                    return None
                out = Path(chosen)
                if out.suffix.lower() not in (".onnx", ".pt", ".ts", ".torchscript"):
                    fmt = fmt or filters.get(chosen_filter, "onnx")
                    out = out.with_name(out.name + FORMATS[fmt])
        out = Path(out)

        def work(report):
            from ..export import export_run

            return export_run(run, out, fmt)

        def describe(exc: BaseException) -> str:
            from ..export import ExportError

            if isinstance(exc, ExportError):
                return str(exc)
            if isinstance(exc, OSError):
                from ..engine.rundir import os_error_message

                return os_error_message(exc)
            return f"{run}: the export failed ({type(exc).__name__}: {exc})"

        task = BackgroundTask(work, self, describe_error=describe, name="model-export")
        task.done.connect(self._on_model_exported)
        task.failed.connect(lambda message: self.show_error("Model not exported", message))
        task.finished.connect(self._on_model_export_ended)
        self._model_export_task = task
        self.export_progress.setRange(0, 0)
        self.export_progress.setToolTip(f"Exporting the model of {run.name}")
        self.export_progress.show()
        self.statusBar().showMessage(f"Exporting the model of {run} to {out}…", 5000)
        task.start()
        return task

    def _on_model_exported(self, result: Any) -> None:
        from ..export import TOLERANCE

        files = ", ".join(str(p) for p in [*result.files, result.sidecar])
        if result.max_error is None:
            check = "; " + " ".join(result.notes) if result.notes else ""
        elif result.max_error > TOLERANCE:
            self.show_error("Exported model differs from PyTorch",
                            f"wrote {files}, but it differs from PyTorch by {result.max_error:.3g} (more than "
                            f"{TOLERANCE:g}); please report this with the run's method and settings")
            return
        else:
            check = f"; checked with {result.checked_with}: matches PyTorch (largest difference {result.max_error:.2g})"
        self.last_export = result
        self.show_info(f"Model exported: {files}{check}")

    def _on_model_export_ended(self) -> None:
        self._model_export_task = None
        self.export_progress.hide()
        self.export_progress.setToolTip("Writing the timelapse GIF")

    # --- help ----------------------------------------------------------------------------------------
    def show_about(self) -> None:
        """Name, version and what the studio is for."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version("gan-studio")
        except PackageNotFoundError:
            ver = "development"
        text = (f"<h3>GAN Studio {ver}</h3><p>Train, watch and explore generative image models: GANs, "
                "WGANs, BEGAN, VAEs and image-to-image translation, on your own images or built-in sets.</p>"
                "<p>Qt (PySide6), PyTorch and pyqtgraph. MIT licence.</p>")
        if self.interactive:
            QMessageBox.about(self, "About GAN Studio", text)
        else:
            self.show_info(f"GAN Studio {ver}")

    def show_method_descriptions(self) -> QDialog:
        """A window describing every method: what it does, its source, data kinds and presets."""
        from ..commands.methods import describe_methods

        parts = []
        for m in describe_methods():
            presets = ", ".join(m["presets"]) or "none"
            parts.append(f"<h3>{html.escape(m['title'])} <small>({m['name']})</small></h3>"
                         f"<p>{html.escape(m['description'])}</p><p><i>{html.escape(m['source'])}</i></p>"
                         f"<p>Trains on: {', '.join(m['datasets'])} · presets: {presets}</p>")
        dialog = QDialog(self)
        dialog.setWindowTitle("Method descriptions")
        browser = QTextBrowser()
        browser.setHtml("".join(parts))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(browser)
        layout.addWidget(buttons)
        dialog.resize(720, 640)
        if self.interactive:
            dialog.show()
        return dialog

    # --- closing -----------------------------------------------------------------------------------
    def _confirm_close(self) -> bool:
        kept = ("The run keeps its last periodic checkpoint." if self.process_running() else
                "The last checkpoint is written first, so you can continue the run later.")
        answer = QMessageBox.question(
            self, "Training is running",
            f"A run is still training. Stop it and quit? {kept}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        """Stop training (keeping the checkpoint), cancel loads and wait for every background thread."""
        self.pull_timer.stop()
        self.follow_timer.stop()
        if self.session is not None and self.session.is_running():
            self.statusBar().showMessage("Stopping training and writing the checkpoint…")
            QApplication.processEvents()
            self.session.stop_and_wait()
            self._handle_events(self.session.buffer.drain())
        self._close_tensorboard()
        if self.process_running():
            self._stop_process(wait_ms=15_000)
        self.train_tab.dataset_panel.cancel()
        for task in live_tasks():
            task.cancel()
            task.wait(60_000)
        sample_shutdown = getattr(self.sample_tab, "shutdown", None)
        if callable(sample_shutdown):
            sample_shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.is_training() and self.ask_before_close and not self._confirm_close():
            event.ignore()
            return
        self.shutdown()
        self.save_settings()
        event.accept()


def _html(text: str) -> str:
    """Plain text for the banner's rich-text label: escaped, line breaks kept."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def _as_int(value: Any) -> int:
    """A step count from a file that may hold anything: 0 unless it is a whole number."""
    try:
        return max(0, int(value))
    except (TypeError, ValueError, OverflowError):
        return 0


def _run_settings(config: Any) -> dict:
    """The "run" part of a config.json, {} when the file holds something else."""
    run = config.get("run") if isinstance(config, dict) else None
    return run if isinstance(run, dict) else {}


def _reopenable(source: str) -> bool:
    """Whether the saved dataset can be loaded at start-up without asking: a built-in set or an existing path."""
    if source.startswith("builtin:"):
        return True
    if ":" in source.split("/")[0] and not Path(source).exists():
        return False  # quickdraw:/torchvision: would download
    return Path(source).exists()
