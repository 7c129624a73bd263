"""TimelinePanel: the morph's keyframes, its settings, and a preview that plays and can be scrubbed.

The panel holds the keyframes and asks for frames through `frameWanted(index)`; the Sample tab
renders them and hands the pixels back with `show_frame`. It never touches the model itself.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...latent.interpolate import EASINGS, MODES
from ...latent.timeline import Keyframe, Timeline
from ...methods.base import DataSpec
from ..imageview import ImageView, qimage_from_array

THUMB = 44
EMPTY_KEYS = "No keyframes yet: select a sample above and press + Seed (S), or + Selection (K) to keep its moves"


class KeyframeList(QListWidget):
    """The keyframe strip; while it is empty it says how to fill it."""

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect().adjusted(8, 0, -8, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_KEYS)
            painter.end()


class TimelinePanel(QWidget):
    """Keyframes (add, remove, reorder), frames per segment, lerp/slerp, easing, loop, and a player."""

    changed = Signal()  # the timeline's frames are no longer what they were
    frameWanted = Signal(int)  # noqa: N815 - Qt signal naming
    addSeedRequested = Signal()  # noqa: N815
    addSelectionRequested = Signal()  # noqa: N815
    addImageRequested = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.keyframes: list[Keyframe] = []
        self.spec: DataSpec | None = None
        self.current_frame = 0

        self.key_list = KeyframeList()
        self.key_list.setObjectName("keyframeList")
        self.key_list.setViewMode(QListView.ViewMode.IconMode)
        self.key_list.setFlow(QListView.Flow.LeftToRight)
        self.key_list.setWrapping(False)
        self.key_list.setMovement(QListView.Movement.Static)
        self.key_list.setIconSize(QSize(THUMB, THUMB))
        self.key_list.setGridSize(QSize(THUMB + 64, THUMB + 22))
        self.key_list.setFixedHeight(THUMB + 32)
        self.key_list.setToolTip("The morph's keyframes, in order; select one to remove or move it (Delete removes)")
        self.key_list.currentRowChanged.connect(self._on_row_selected)

        self.add_seed_button = _button("+ Seed", "Add the selected seed as a keyframe, with the current labels (S)")
        self.add_selection_button = _button("+ Selection", "Add exactly what the selection shows, direction "
                                            "moves included (K)")
        self.add_image_button = _button("+ Image…", "Encode an image into a keyframe (models with an encoder)")
        self.remove_button = _button("Remove", "Remove the chosen keyframe (Delete)")
        self.left_button = _button("◀", "Move the chosen keyframe earlier")
        self.right_button = _button("▶", "Move the chosen keyframe later")
        for b in (self.left_button, self.right_button):
            b.setMaximumWidth(44)
        self.add_seed_button.clicked.connect(self.addSeedRequested)
        self.add_selection_button.clicked.connect(self.addSelectionRequested)
        self.add_image_button.clicked.connect(self.addImageRequested)
        self.remove_button.clicked.connect(self.remove_current)
        self.left_button.clicked.connect(lambda: self.move_current(-1))
        self.right_button.clicked.connect(lambda: self.move_current(1))

        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(1, 480)
        self.frames_spin.setValue(24)
        self.frames_spin.setToolTip("Frames from one keyframe to the next")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(list(reversed(MODES)))  # slerp first: the better default for Gaussian latents
        self.mode_combo.setToolTip("slerp follows the sphere (keeps the latent's norm); lerp goes straight")
        self.easing_combo = QComboBox()
        self.easing_combo.addItems(list(EASINGS))
        self.easing_combo.setToolTip("ease-in-out lingers on each keyframe; linear keeps a constant speed")
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setToolTip("Walk back from the last keyframe to the first")
        for w in (self.frames_spin,):
            w.valueChanged.connect(self._on_settings)
        for w in (self.mode_combo, self.easing_combo):
            w.currentIndexChanged.connect(self._on_settings)
        self.loop_check.toggled.connect(self._on_settings)

        self.preview = ImageView("Add two keyframes to morph")
        self.preview.setMinimumSize(QSize(120, 120))
        self.preview.setToolTip("The morph's current frame")
        self.play_button = _button("Play", "Play or pause the preview (P)")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setObjectName("scrubSlider")
        self.scrub.setRange(0, 0)
        self.scrub.setToolTip("Scrub through the morph ([ and ] step one frame)")
        self.scrub.valueChanged.connect(self._on_scrub)
        self.frame_label = QLabel("frame 0 / 0")
        self.frame_label.setMinimumWidth(100)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.step_forward)
        self.fps = 12.0

        keys_row = QHBoxLayout()
        for b in (self.add_seed_button, self.add_selection_button, self.add_image_button, self.remove_button,
                  self.left_button, self.right_button):
            keys_row.addWidget(b)
        keys_row.addStretch(1)
        keys_row.addWidget(QLabel("Frames per segment"))
        keys_row.addWidget(self.frames_spin)
        player = QHBoxLayout()
        player.addWidget(self.play_button)
        player.addWidget(self.scrub, 1)
        player.addWidget(self.frame_label)
        for label, w in (("Path", self.mode_combo), ("Easing", self.easing_combo)):
            player.addWidget(QLabel(label))
            player.addWidget(w)
        player.addWidget(self.loop_check)
        left = QVBoxLayout()
        left.addWidget(self.key_list)
        left.addLayout(keys_row)
        left.addLayout(player)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 1)
        layout.addWidget(self.preview)
        self._update_buttons()

    # --- the timeline ---------------------------------------------------------------------------
    def timeline(self) -> Timeline:
        """The morph as the panel shows it."""
        return Timeline(list(self.keyframes), self.frames_spin.value(), self.mode_combo.currentText(),
                        self.easing_combo.currentText(), self.loop_check.isChecked())

    def set_spec(self, spec: DataSpec | None) -> None:
        """Captions name labels with this spec's names."""
        self.spec = spec
        for i, key in enumerate(self.keyframes):
            self.key_list.item(i).setText(key.describe(spec))

    def add_keyframe(self, key: Keyframe) -> int:
        """Append a keyframe; returns its row (its thumbnail comes later through `set_thumbnail`)."""
        self.keyframes.append(key)
        item = QListWidgetItem(key.describe(self.spec))
        item.setToolTip(key.describe(self.spec))
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.key_list.addItem(item)
        self._structure_changed()
        self.key_list.setCurrentRow(len(self.keyframes) - 1)  # after the scrub range grew: it jumps there
        return len(self.keyframes) - 1

    def set_thumbnail(self, key: Keyframe, image: np.ndarray) -> None:
        """Show `image` (H×W×C uint8) as the icon of `key`, wherever it is now."""
        for i, k in enumerate(self.keyframes):
            if k is key:
                pix = QPixmap.fromImage(qimage_from_array(image)).scaled(
                    THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
                self.key_list.item(i).setIcon(QIcon(pix))

    def clear(self) -> None:
        """Remove every keyframe."""
        self.keyframes.clear()
        self.key_list.clear()
        self._structure_changed()

    def remove_current(self) -> None:
        row = self.key_list.currentRow()
        if 0 <= row < len(self.keyframes):
            del self.keyframes[row]
            self.key_list.takeItem(row)
            self._structure_changed()

    def move_current(self, delta: int) -> None:
        row = self.key_list.currentRow()
        new = row + delta
        if not (0 <= row < len(self.keyframes) and 0 <= new < len(self.keyframes)):
            return
        self.keyframes.insert(new, self.keyframes.pop(row))
        self.key_list.insertItem(new, self.key_list.takeItem(row))
        self._structure_changed()
        self.key_list.setCurrentRow(new)

    # --- preview ----------------------------------------------------------------------------------
    def show_frame(self, index: int, image: np.ndarray) -> None:
        """Show a rendered frame if it is the one the slider points at."""
        if index == self.current_frame:
            self.preview.set_image(image)

    def frame_count(self) -> int:
        return self.timeline().frame_count

    def set_fps(self, fps: float) -> None:
        """Playback speed (the export's frames per second)."""
        self.fps = max(0.1, fps)
        if self.timer.isActive():
            self.timer.start(int(1000 / self.fps))

    def step_forward(self) -> None:
        """Next frame (wrapping), as the player does."""
        n = self.frame_count()
        if n:
            self.scrub.setValue((self.scrub.value() + 1) % n)

    def step_back(self) -> None:
        n = self.frame_count()
        if n:
            self.scrub.setValue((self.scrub.value() - 1) % n)

    def toggle_play(self) -> None:
        self.play_button.toggle()

    def stop(self) -> None:
        """Stop playing."""
        self.play_button.setChecked(False)

    def _on_play(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing and self.frame_count() > 1:
            self.timer.start(int(1000 / self.fps))
        else:
            self.timer.stop()
            if playing:
                self.play_button.setChecked(False)

    def _on_scrub(self, value: int) -> None:
        self.current_frame = value
        self.frame_label.setText(f"frame {value + 1} / {self.frame_count()}")
        self.frameWanted.emit(value)

    def _on_settings(self, *_args) -> None:
        self._structure_changed()

    def _on_row_selected(self, row: int) -> None:
        self._update_buttons()
        # Jump the preview to the chosen keyframe.
        if 0 <= row < len(self.keyframes):
            t = self.timeline()
            self.scrub.setValue(min(row * t.frames_per_segment, max(0, t.frame_count - 1)))

    def _structure_changed(self) -> None:
        n = self.frame_count()
        self.scrub.blockSignals(True)
        self.scrub.setRange(0, max(0, n - 1))
        self.scrub.blockSignals(False)
        self.current_frame = min(self.scrub.value(), max(0, n - 1))
        self.frame_label.setText(f"frame {self.current_frame + 1 if n else 0} / {n}")
        self._update_buttons()
        if not n:
            self.preview.set_image(None)
        self.changed.emit()
        if n:
            self.frameWanted.emit(self.current_frame)

    def _update_buttons(self) -> None:
        row = self.key_list.currentRow()
        has = 0 <= row < len(self.keyframes)
        self.remove_button.setEnabled(has)
        self.left_button.setEnabled(has and row > 0)
        self.right_button.setEnabled(has and row < len(self.keyframes) - 1)
        self.play_button.setEnabled(len(self.keyframes) > 1)


def _button(text: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    return b
