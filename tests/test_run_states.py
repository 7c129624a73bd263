"""A run's state travels as `RunState` (and its notes as `StatusNote`) from the trainer to every view:
events, status.json's writer and reader, the follower, the command line and the window's signals.
Only the files hold the states as text, and status.json written by older versions still reads."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from studio.engine.config import RunConfig
from studio.engine.events import Status
from studio.engine.follow import RunFollower
from studio.engine.rundir import RunDirectory
from studio.engine.state import FINAL_STATES, RunState, StatusNote, status_from_text
from studio.engine.trainer import Trainer

GUI = Path(__file__).resolve().parents[1] / "studio" / "gui"


def state_signals(source: str) -> list[tuple[int, str, list[str]]]:
    """(line, name, argument names) of each Qt signal in `source` that carries a run state: its name or
    its comment speaks of a state, or it declares a RunState."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "Signal"):
            continue
        name = node.targets[0].id if isinstance(node.targets[0], ast.Name) else "?"
        args = [ast.unparse(a) for a in node.value.args]
        comment = lines[node.lineno - 1].partition("#")[2].lower()
        if "state" in name.lower() or "state" in comment or "RunState" in args:
            found.append((node.lineno, name, args))
    return found


def wrongly_typed(root: Path = GUI) -> list[str]:
    """Signals carrying a run state whose state is not declared as RunState (first argument)."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        for line, name, args in state_signals(path.read_text(encoding="utf-8")):
            if not args or args[0] != "RunState" or "str" in args[:1]:
                wrong.append(f"{path.name}:{line} {name} = Signal({', '.join(args)})")
    return wrong


def test_every_qt_signal_that_carries_a_run_state_declares_runstate():
    carriers = [(p.name, name) for p in GUI.rglob("*.py")
                for _, name, _ in state_signals(p.read_text(encoding="utf-8"))]
    assert ("run_control.py", "stateChanged") in carriers and ("run_control.py", "ended") in carriers
    assert wrongly_typed() == []


def test_the_signal_check_catches_a_state_sent_as_text(tmp_path):
    (tmp_path / "sneaky.py").write_text("class W(QObject):\n    ended = Signal(str, str)  # final state, message\n"
                                        "    stateChanged = Signal(object)\n", encoding="utf-8")
    assert wrongly_typed(tmp_path) == ["sneaky.py:2 ended = Signal(str, str)",
                                       "sneaky.py:3 stateChanged = Signal(object)"]


def test_a_status_event_takes_enums_only():
    assert Status(3, RunState.PAUSED).state is RunState.PAUSED
    assert Status(3, StatusNote.ALERT, "D is winning").state is StatusNote.ALERT
    with pytest.raises(TypeError, match="not str 'paused'"):
        Status(3, "paused")
    with pytest.raises(TypeError):
        RunState.after("finished")
    assert RunState.after(StatusNote.STARTED) is RunState.RUNNING and RunState.after(StatusNote.ALERT) is None
    assert all(isinstance(s, RunState) and s.is_final for s in FINAL_STATES)


def test_text_from_files_of_any_version_reads_back_as_the_enum():
    assert status_from_text("finished") is RunState.FINISHED and status_from_text("collapse") is StatusNote.COLLAPSE
    assert status_from_text("exploded") is None and status_from_text(None) is None and status_from_text([1]) is None


@pytest.mark.parametrize("written, read", [("finished", RunState.FINISHED), ("paused", RunState.PAUSED),
                                           ("started", RunState.RUNNING), ("resumed", RunState.RUNNING),
                                           ("alert", RunState.RUNNING), ("exploded", None)])
def test_status_json_of_older_versions_reads_as_the_state_it_means(tmp_path, written, read):
    (tmp_path / "status.json").write_text(json.dumps({"state": written, "step": 7, "message": "m", "time": 1.0,
                                                      "pid": 1}), encoding="utf-8")
    status = RunDirectory(tmp_path).read_status()
    assert status["state"] is read and status["step"] == 7 and status["message"] == "m"
    follower = RunFollower(tmp_path)
    events = follower.poll()
    if read is None:  # a state no version of this studio wrote: the last known one stays
        assert events == [] and follower.state is RunState.IDLE
    else:
        assert [(e.state, e.step) for e in events] == [(read, 7)] and follower.state is read


def test_status_json_is_written_from_the_enum_only(tmp_path):
    run = RunDirectory(tmp_path)
    with pytest.raises(TypeError):
        run.write_status("finished", 3)
    run.write_status(RunState.FINISHED, 3, "finished (time limit) at step 3", reason="time limit")
    raw = json.loads(run.status_path.read_text(encoding="utf-8"))
    assert raw["state"] == "finished" and raw["reason"] == "time limit"
    follower = RunFollower(tmp_path)
    [event] = follower.poll()
    assert event.state is RunState.FINISHED and follower.reason == "time limit"


def test_a_run_speaks_in_enums_from_the_trainer_to_its_files_and_back(tmp_path):
    seen = []
    config = RunConfig(method="dcgan", dataset="builtin:shapes", preset="tiny", steps=4, image_size=16,
                       dataset_count=64, log_every=2, sample_every=2, checkpoint_every=2, device="cpu")
    trainer = Trainer(config, run_dir=tmp_path / "run", subscribers=(seen.append,))
    state = trainer.run()
    assert type(state) is RunState and state is RunState.FINISHED and type(trainer.state) is RunState
    statuses = [e.state for e in seen if isinstance(e, Status)]
    assert all(type(s) in (RunState, StatusNote) for s in statuses)
    assert statuses[0] is StatusNote.STARTED and statuses[-1] is RunState.FINISHED
    assert StatusNote.CHECKPOINT in statuses
    assert RunDirectory(tmp_path / "run").read_status()["state"] is RunState.FINISHED
    followed = [e.state for e in RunFollower(tmp_path / "run").poll() if isinstance(e, Status)]
    assert followed == [RunState.FINISHED]
