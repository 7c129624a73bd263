"""The mode-collapse monitor: diversity score, label classifier and class histogram, collapse alerts."""

from __future__ import annotations

import pytest
import torch

from studio.data import open_dataset
from studio.engine.evaluation import CollapseWatch
from studio.metrics import class_histogram, classes_covered, diversity_score, label_classifier
from studio.metrics import diversity as diversity_mod
from studio.metrics.features import to_unit_rgb


@pytest.fixture(scope="module")
def shapes():
    return open_dataset("builtin:shapes", count=2000)


@pytest.fixture(scope="module")
def classifier(shapes, tmp_path_factory):
    return label_classifier(shapes, cache_dir=tmp_path_factory.mktemp("classifiers"))


def test_classifier_learns_the_shapes(classifier):
    assert classifier.classes == 4
    assert classifier.accuracy > 0.85


def test_collapsed_batch_scores_low_and_covers_one_class_diverse_batch_covers_all(shapes, classifier):
    real = to_unit_rgb(shapes.data[:200])
    diverse = to_unit_rgb(shapes.data[1000:1200])
    collapsed = to_unit_rgb(shapes.data[1000:1001].expand(200, -1, -1, -1))
    real_feats = classifier(real)
    assert diversity_score(classifier(diverse), real_feats) == pytest.approx(1.0, abs=0.2)
    assert diversity_score(classifier(collapsed), real_feats) < 1e-3

    hist_diverse = class_histogram(classifier.predict(diverse), 4)
    hist_collapsed = class_histogram(classifier.predict(collapsed), 4)
    assert sum(hist_diverse) == 200 and classes_covered(hist_diverse) == 4
    assert sorted(hist_collapsed) == [0, 0, 0, 200] and classes_covered(hist_collapsed) == 1
    assert hist_collapsed.index(200) == int(shapes.labels[1000])


def test_classes_covered_needs_a_fifth_of_a_fair_share():
    assert classes_covered([97, 1, 1, 1]) == 1  # stray misclassifications are not coverage
    assert classes_covered([40, 30, 26, 4]) == 3  # 4 < a fifth of 100/4 = 5
    assert classes_covered([40, 30, 25, 5]) == 4


def test_the_classifier_is_trained_once_and_loaded_from_its_cache(shapes, tmp_path, monkeypatch):
    trained = []
    real_train = diversity_mod.train_classifier

    def counting_train(*args, **kwargs):
        trained.append(1)
        return real_train(*args, steps=20, **{k: v for k, v in kwargs.items() if k != "steps"})

    monkeypatch.setattr(diversity_mod, "train_classifier", counting_train)
    first = label_classifier(shapes, cache_dir=tmp_path)
    second = label_classifier(shapes, cache_dir=tmp_path)
    assert len(trained) == 1 and first.identity == second.identity
    images = to_unit_rgb(shapes.data[:8])
    torch.testing.assert_close(first(images), second(images))
    (cached,) = tmp_path.glob("*.pt")
    torch.load(cached, weights_only=True)  # tensors only


def test_collapse_watch_alerts_once_on_a_sharp_fall_and_rearms():
    watch = CollapseWatch()
    assert watch.check(100, diversity=2.5, covered=1, of=4) is None  # early noise: varied, one class
    assert watch.check(200, diversity=0.9, covered=4, of=4) is None
    message = watch.check(300, diversity=0.3, covered=2, of=4)
    assert message.startswith("possible mode collapse") and "diversity 0.30" in message and "2 of 4" in message
    assert watch.check(400, diversity=0.2, covered=1, of=4) is None  # same collapse: said once
    assert watch.check(500, diversity=0.95, covered=4, of=4) is None
    assert watch.check(600, diversity=0.1, covered=4, of=4) is not None  # a new collapse


def test_one_classes_covered_rule_for_the_monitor_and_the_experiments():
    """A class is covered by a fifth of its fair share (and one sample): 2% of 1,000 among 10 digits."""
    from studio.experiments import protocols

    assert classes_covered([20, 19] + [120] * 8) == 9  # 20 of 1,000 is 2%: covered; 19 is not
    assert classes_covered([5, 4, 45, 46]) == 3  # 100 among 4: a fifth of 25 is 5
    assert classes_covered([1, 0, 0]) == 1  # a few samples: one is enough
    assert protocols.classes_covered is classes_covered  # the experiments' figure has no rule of its own
    assert not hasattr(protocols, "MIN_SHARE")


def test_both_collapse_detectors_word_a_collapse_alike():
    from studio.metrics.collapse import Collapse, collapse_message

    watch = CollapseWatch()
    assert watch.check(100, diversity=0.8) is None
    said = watch.check(200, diversity=0.1)
    assert said == collapse_message(200, ["diversity 0.10 is below half its best (0.80)"])
    live = Collapse(step=300, ratio=0.1, threshold=0.25, since=200, duplicates=[[0, 1, 2]], samples=64, cells=64)
    assert live.message == collapse_message(300, ["since step 200 the samples have been less varied than 0.25× real "
                                                  "images (now 0.10×)", "3 of 64 are near-duplicates"])
    assert said.startswith("possible mode collapse at step 200: ") and live.message.startswith(
        "possible mode collapse at step 300: ")
