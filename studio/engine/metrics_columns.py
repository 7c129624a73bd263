"""metrics.jsonl read as typed columns: the fast way to take in a long run's history (no Qt).

A 5M-step run logged every 10 steps writes 500,000 lines (about 100 MB). One dict and one event per
line costs tens of microseconds and hundreds of bytes each; here the complete lines of a block are
parsed by one `json.loads` of a JSON array (the loop runs in C), scalar records that share their keys
are converted together into float64 columns, and only the few other records (evaluation metrics,
alerts) stay dicts. Blocks are small (64 KB, a couple of milliseconds of parsing) so that a reader on
another thread never holds the GIL for long: the window keeps running while a history loads.

The result equals `RunDirectory.iter_metrics` + `follow.record_to_event` on the same bytes (a test
checks it): a torn last line is left for later, bad lines are skipped, booleans and non-numeric text
are not values, and "nan"/"inf" written as text are NaN/Inf.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BLOCK_BYTES = 1 << 14  # ~80 lines of a typical run: each json.loads holds the GIL well under a millisecond
_NOT_VALUES = ("step", "time")  # a scalar record's step and training time, not curves
# A block with a true, false or null value needs the exact per-record reading: numpy would turn true
# into 1.0 and null into NaN, where the event reading leaves them out. (Text that merely looks like
# one, in a message, only costs the slower reading.)
_NON_NUMBER_VALUE = re.compile(rb":\s*[tfn]")


@dataclass
class MetricColumns:
    """A stretch of metrics.jsonl: each scalar's (steps, values), each scalar record's step and time,
    and the other records (metric, event) as dicts, all in file order."""

    scalars: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # int64 steps, float64 values
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # one per scalar record
    times: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    records: list[dict] = field(default_factory=list)  # "metric" and "event" records
    end: int = 0  # byte offset after the last complete line read

    @property
    def rows(self) -> int:
        """How many scalar records (each one a Scalars event in the per-line reading)."""
        return len(self.steps)


def read_columns(path: str | Path, offset: int = 0, block_bytes: int = BLOCK_BYTES) -> Iterator[MetricColumns]:
    """Blocks of complete lines from byte `offset` to the end of the file as it grows; each carries
    its `end` offset. Nothing before `offset` is read; a torn last line is left for the next call."""
    for data, end in complete_lines(path, offset, block_bytes):
        yield parse_lines(data, end)


@dataclass
class MetricsScan:
    """What `studio compare` needs of a run's log: its largest step and training time, and the
    records that are not scalars (evaluation metrics, alerts), in file order."""

    step: int = 0
    seconds: float = 0.0
    records: list[dict] = field(default_factory=list)


_STEP = re.compile(rb'"step": (-?\d+)[,}]')
_TIME = re.compile(rb'"time": (-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[,}]')


def scan_metrics(path: str | Path, block_bytes: int = 1 << 20) -> MetricsScan:
    """The largest step and time, and the metric and event records, without parsing every record:
    a cheap pre-filter picks the few lines that name a metric or an event for `json.loads`, and the
    steps and times of all others are found by a regular expression (three times faster than columns)."""
    scan = MetricsScan()
    for data, _ in complete_lines(path, 0, block_bytes):
        steps, times = _STEP.findall(data), _TIME.findall(data)
        if steps:
            scan.step = max(scan.step, max(map(int, steps)))
        if times:
            scan.seconds = max(scan.seconds, max(map(float, times)))
        if b'"metric"' in data or b'"event"' in data:
            for line in data.split(b"\n"):
                if b'"metric"' in line or b'"event"' in line:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict) and ("metric" in record or "event" in record):
                        scan.records.append(record)
    return scan


def complete_lines(path: str | Path, offset: int = 0, block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[bytes, int]]:
    """(bytes, offset after them): the file's complete lines from `offset`, about `block_bytes` at a time."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    with fh:
        fh.seek(offset)
        carry = b""
        while True:
            data = fh.read(block_bytes)
            if not data:
                return
            data = carry + data if carry else data
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # one line longer than a block: read on
                carry = data
                continue
            carry = data[cut:]
            offset += cut
            yield data[:cut], offset


def parse_lines(data: bytes, end: int = 0) -> MetricColumns:
    """Complete lines (ending in a newline) of metrics.jsonl as columns."""
    from .follow import scalar_values

    records = _load_records(data)
    exact = _NON_NUMBER_VALUE.search(data) is not None
    groups: dict[tuple, tuple[list[int], list[dict]]] = {}
    others: list[dict] = []
    shapes = list(map(tuple, records))
    if shapes and shapes.count(shapes[0]) == len(shapes) and not {"event", "metric"} & set(shapes[0]):
        groups[shapes[0]] = (list(range(len(records))), records)  # the usual block: one shape, no loop here
    else:
        for ordinal, (record, keys) in enumerate(zip(records, shapes, strict=True)):
            if "event" in record or "metric" in record:
                others.append(record)
                continue
            group = groups.get(keys)
            if group is None:
                group = groups[keys] = ([], [])
            group[0].append(ordinal)
            group[1].append(record)
    parts = []  # (ordinals, steps, times, {name: values})
    for keys, (ordinals, rows) in groups.items():
        names = [k for k in keys if k not in _NOT_VALUES]
        if not names:
            continue  # only a step and a time: no event in the per-line reading either
        table = None if exact else _as_table(rows)
        if table is None:
            parts.extend(_exact_rows(ordinals, rows, scalar_values))
            continue
        columns = dict(zip(keys, table.T, strict=True))
        steps = _as_steps(columns["step"]) if "step" in columns else np.zeros(len(rows), np.int64)
        times = columns["time"] if "time" in columns else np.zeros(len(rows))
        parts.append((np.asarray(ordinals), steps, times, {n: columns[n] for n in names}))
    return _assemble(parts, others, end)


def _load_records(data: bytes) -> list[dict]:
    # The whole block as one JSON array; a block with a bad line is read line by line instead.
    count = data.count(b"\n")
    try:
        loaded = json.loads(b"[" + data[:-1].replace(b"\n", b",") + b"]")
        if len(loaded) == count:
            return [r for r in loaded if isinstance(r, dict)]
    except ValueError:
        pass
    records = []
    for line in data.split(b"\n")[:count]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _as_table(rows: list[dict]) -> np.ndarray | None:
    """Rows sharing their keys as one float64 table (None when a value is no number: read them exactly)."""
    try:
        table = np.array(list(map(tuple, map(dict.values, rows))), dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return table if table.ndim == 2 else None


def _as_steps(column: np.ndarray) -> np.ndarray:
    # int() of the value, as the per-line reading does; a step that is no number counts as 0.
    return np.nan_to_num(column, nan=0.0, posinf=0.0, neginf=0.0).astype(np.int64)


def _exact_rows(ordinals: list[int], rows: list[dict], scalar_values) -> list[tuple]:
    from .follow import _as_float, _as_int

    parts = []
    for ordinal, record in zip(ordinals, rows, strict=True):
        values = scalar_values(record)
        if values:
            parts.append((np.array([ordinal]), np.array([_as_int(record.get("step"))], np.int64),
                          np.array([_as_float(record.get("time", 0.0))]),
                          {k: np.array([v]) for k, v in values.items()}))
    return parts


def _assemble(parts: list[tuple], others: list[dict], end: int) -> MetricColumns:
    if not parts:
        return MetricColumns(records=others, end=end)
    if len(parts) == 1:
        _, steps, times, values = parts[0]
        return MetricColumns({n: (steps, v) for n, v in values.items()}, steps, times, others, end)
    # Records of several shapes in one block: put each column back in file order.
    ordinals = np.concatenate([p[0] for p in parts])
    order = np.argsort(ordinals, kind="stable")
    steps = np.concatenate([p[1] for p in parts])[order]
    times = np.concatenate([p[2] for p in parts])[order]
    scalars = {}
    for name in dict.fromkeys(n for p in parts for n in p[3]):
        mine = [(p[0], p[1], p[3][name]) for p in parts if name in p[3]]
        at = np.argsort(np.concatenate([m[0] for m in mine]), kind="stable")
        scalars[name] = (np.concatenate([m[1] for m in mine])[at], np.concatenate([m[2] for m in mine])[at])
    return MetricColumns(scalars, steps, times, others, end)
