"""SelectionPanel: the selected sample, its principal-direction sliders, and the image input."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from ...latent.directions import Directions
from ...latent.explorer import Explorer
from ...latent.timeline import describe_labels, has_latent
from ...methods.base import Method
from ..imageview import ImageView

N_DIRECTIONS = 5
STEPS_PER_STD = 100  # slider units per standard deviation of a direction
MAX_STD = 3


class SelectionPanel(QGroupBox):
    """Shows the selection; emits `amountsChanged(list)`, `directionsRequested()`, `imageRequested()`."""

    amountsChanged = Signal(list)  # noqa: N815 - Qt signal naming
    directionsRequested = Signal()  # noqa: N815
    imageRequested = Signal()  # noqa: N815

    def __init__(self, samples: int, parent: QWidget | None = None):
        super().__init__("Selected", parent)
        self.view = ImageView("Click a sample")
        self.view.setObjectName("selectionView")
        self.view.setMinimumSize(QSize(120, 120))
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.directions_button = QPushButton("Find directions")
        self.directions_button.setToolTip(f"Compute {N_DIRECTIONS} principal latent directions in the background "
                                          f"(PCA of {samples} samples, GANSpace style) (D)")
        self.directions_button.clicked.connect(self.directionsRequested)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Put every direction slider back to 0")
        self.reset_button.clicked.connect(self.reset)
        self.sliders: list[QSlider] = []
        self.labels: list[QLabel] = []
        sliders = QGridLayout()
        sliders.setVerticalSpacing(2)
        for i in range(N_DIRECTIONS):
            label = QLabel(f"PC{i + 1}")
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"direction_{i}")
            slider.setRange(-MAX_STD * STEPS_PER_STD, MAX_STD * STEPS_PER_STD)
            slider.setToolTip(f"Move the selected sample along this direction (±{MAX_STD} standard deviations)")
            slider.valueChanged.connect(self._emit_amounts)
            sliders.addWidget(label, i, 0)
            sliders.addWidget(slider, i, 1)
            self.labels.append(label)
            self.sliders.append(slider)
        buttons = QHBoxLayout()
        buttons.addWidget(self.directions_button)
        buttons.addWidget(self.reset_button)
        self.image_button = QPushButton("Open image…")
        self.image_button.clicked.connect(self.imageRequested)
        self.image_view = ImageView("")
        self.image_view.setMinimumSize(QSize(40, 40))
        self.image_view.setMaximumSize(QSize(40, 40))
        self.image_view.hide()  # shown once there is an image
        self.image_hint = QLabel("")
        self.image_hint.setWordWrap(True)
        self.image_hint.setObjectName("hint")
        image_row = QHBoxLayout()
        image_row.addWidget(self.image_view)
        image_col = QVBoxLayout()
        image_col.addWidget(self.image_button)
        image_col.addWidget(self.image_hint)
        image_row.addLayout(image_col, 1)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        layout.addLayout(buttons)
        layout.addLayout(sliders)
        layout.addLayout(image_row)
        self.show_directions(None)

    def show_image(self, image) -> None:
        """The dropped image (H×W×C uint8) beside the image button."""
        self.image_view.set_image(image)
        self.image_view.setVisible(image is not None)

    def amounts(self) -> list[float]:
        """Each slider's position in standard deviations."""
        return [s.value() / STEPS_PER_STD for s in self.sliders]

    def reset(self) -> None:
        """All sliders back to 0 (one `amountsChanged`)."""
        for s in self.sliders:
            s.blockSignals(True)
            s.setValue(0)
            s.blockSignals(False)
        self._emit_amounts()
        self.show_directions(None)  # sliders wait for "Find directions"

    def show_directions(self, directions: Directions | None) -> None:
        """Enable one slider per direction, labelled with the share of variation it explains."""
        for i, (label, slider) in enumerate(zip(self.labels, self.sliders, strict=True)):
            ok = directions is not None and i < len(directions)
            slider.setEnabled(ok)
            label.setText(f"PC{i + 1} {directions.explained[i]:.0%}" if ok else f"PC{i + 1}")
            label.setToolTip("Share of the output variation this direction explains" if ok else
                             "Press 'Find directions' first")

    def show_progress(self, percent: int | None) -> None:
        """'Finding… 40%' while directions are computed; None when done."""
        self.directions_button.setText("Find directions" if percent is None else f"Finding… {percent}%")

    def set_image_mode(self, method: Method | None) -> None:
        """What the image input does for this model: encode, reference/input, or nothing."""
        if method is not None and method.needs_reference:
            word = reference_word(method)
            self.image_button.setText(f"{word.capitalize()} image…")
            self.image_hint.setText(f"{method.name} works from a given image ({word}): drop or open one; "
                                    f"every view uses it.")
        elif method is not None and method.has_encoder:
            self.image_button.setText("Encode image…")
            self.image_hint.setText("Drop or open an image: it is encoded into the selection and a keyframe.")
        else:
            self.image_button.setText("Open image…")
            self.image_hint.setText("This model has no encoder: images cannot be keyframes." if method else "")
        self.image_button.setEnabled(method is not None and (method.has_encoder or method.needs_reference))
        self.image_button.setToolTip(self.image_hint.text() or "Open an image: models with an encoder turn it into "
                                     "a sample and a keyframe; translation models use it as their input")

    def _emit_amounts(self, *_args) -> None:
        self.amountsChanged.emit(self.amounts())


def reference_word(method: Method) -> str:
    """'reference' for models that vary an image (U-Net VAE-GAN), 'input' for translators."""
    return "reference" if method.has_encoder and method.needs_reference else "input"


def selection_caption(explorer: Explorer, method: Method | None) -> str:
    """'seed 5 · square · moved', 'image cat.png', or what a translation model shows."""
    if method is not None and not has_latent(method):
        return f"{method.name}'s translation of the {reference_word(method)} image"
    e = explorer
    text = f"image {Path(e.selected_image).name}" if e.selected_latent is not None else f"seed {e.selected_seed}"
    if method is not None and e.labels is not None:
        text += " · " + describe_labels(e.labels, method.spec)
    return text + (" · moved" if e.moved else "")
