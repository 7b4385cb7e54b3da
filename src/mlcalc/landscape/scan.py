"""A resumable evaluation of a function over a 1-D or 2-D grid of points.

:func:`scan_grid` evaluates ``evaluate(*coords)`` at every point of the grid
``axes[0] × axes[1] × …`` (row-major order, the last axis fastest) and can keep its work in
an ``.npz`` file:

* the file is rewritten **atomically** every ``save_every`` evaluated points (written to a
  temporary file in the same folder, then ``os.replace``-d over the old one), and once more
  when the scan stops for any reason (an exception, ``KeyboardInterrupt``), so a scan that
  is interrupted loses nothing and a process killed outright loses at most the last
  ``save_every − 1`` points;
* a later call with the same inputs loads the file and evaluates only the points not yet
  done (nothing is recomputed);
* the file stores the axes, the field names, the caller's metadata arrays (e.g. the origin
  and the directions of a slice), a fingerprint (SHA-256) of all of them, the done-mask and
  the values; a resume against different inputs is refused with an error that names what
  differs.

File layout (``np.load(path)`` keys): ``axis0``, ``axis1``, …; ``fields`` (names);
``values`` of shape ``(*grid_shape, n_fields)`` (NaN where not done); ``done`` (bool,
``grid_shape``); ``fingerprint``; ``meta__<name>`` for each metadata array.

A progress bar (rich) is written to stderr with ``progress=True``; rich is imported only
then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GridScan", "scan_grid", "problem_fingerprint", "ScanMismatchError"]


class ScanMismatchError(ValueError):
    """An ``.npz`` scan file was written for other inputs than the ones given now."""


@dataclasses.dataclass(frozen=True)
class GridScan:
    """The values of a function on a grid.

    ``axes``: the coordinates along each grid axis; ``values``: shape
    ``(*grid_shape, n_fields)``, ``values[i, j, k]`` is field k at
    ``(axes[0][i], axes[1][j])``; ``fields``: the field names; ``done``: which points hold a
    value; ``n_evaluated``: points evaluated by this call; ``n_loaded``: points taken from
    the file; ``path``: the ``.npz`` file (``None`` when kept in memory only);
    ``fingerprint``: SHA-256 of the inputs.
    """

    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    fields: tuple[str, ...]
    done: np.ndarray
    n_evaluated: int
    n_loaded: int
    path: str | None
    fingerprint: str

    @property
    def complete(self) -> bool:
        return bool(self.done.all())

    def field(self, name: str) -> np.ndarray:
        """The grid of one field, shape ``grid_shape``."""
        if name not in self.fields:
            raise KeyError(f"no field {name!r}; this scan has {self.fields}")
        return self.values[..., self.fields.index(name)]


def _hash_update(h, name: str, a: np.ndarray) -> None:
    a = np.ascontiguousarray(a)
    h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
    h.update(a.tobytes())


def problem_fingerprint(problem: Any) -> str:
    """A SHA-256 digest of what the problem protocol exposes about a problem: its name,
    dimension, parameter layout and the bytes of its data (one pass over ``batches()``).
    The model and loss functions themselves cannot be hashed; the data and layout catch
    the usual mix-ups (another data set, another architecture)."""
    h = hashlib.sha256()
    h.update(f"{getattr(problem, 'name', '')}|{problem.dim}|".encode())
    for info in getattr(problem, "layout", ()) or ():
        h.update(f"{info.name}|{info.shape}|{info.kind}|{info.filter_axis}|".encode())
    try:
        for Xb, yb, wt in problem.batches():
            _hash_update(h, "X", np.asarray(Xb))
            _hash_update(h, "y", np.asarray(yb))
            h.update(repr(float(wt)).encode())
    except Exception:  # data not convertible to NumPy: fall back to the sizes
        h.update(f"n={getattr(problem, 'n_examples', '?')}".encode())
    return h.hexdigest()


def _fingerprint(axes, fields, meta) -> str:
    h = hashlib.sha256()
    for k, a in enumerate(axes):
        _hash_update(h, f"axis{k}", a)
    h.update(("fields|" + "|".join(fields)).encode())
    for name in sorted(meta):
        _hash_update(h, "meta__" + name, meta[name])
    return h.hexdigest()


def _write_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _out_path(out) -> Path | None:
    """``out`` as a Path whose folder exists (checked before any work is done)."""
    if out is None:
        return None
    path = Path(out)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"out={str(path)!r}: the folder {str(path.parent)!r} does not exist; create it "
            "first"
        )
    return path


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as exc:
        raise ValueError(
            f"out={str(path)!r} exists but is not a readable .npz file written by mlcalc "
            f"({exc}); move it away or choose another path"
        ) from exc


def _differences(stored, axes, fields, meta) -> list[str]:
    out = []
    n_axes = sum(1 for k in stored if k.startswith("axis"))
    if n_axes != len(axes):
        out.append(f"the grid has {len(axes)} axes, the file {n_axes}")
    for k, a in enumerate(axes):
        key = f"axis{k}"
        if key in stored and not (
            stored[key].shape == a.shape and np.array_equal(stored[key], a)
        ):
            out.append(f"axis {k} (grid coordinates, shape {a.shape} now, "
                       f"{stored[key].shape} in the file)")
    if "fields" in stored and tuple(str(s) for s in stored["fields"]) != tuple(fields):
        out.append(f"fields {tuple(fields)} now, {tuple(stored['fields'])} in the file")
    stored_meta = {k[6:] for k in stored if k.startswith("meta__")}
    for name in sorted(set(meta) | stored_meta):
        if name not in meta or name not in stored_meta:
            out.append(f"{name} (present only {'now' if name in meta else 'in the file'})")
            continue
        a, b = np.asarray(meta[name]), stored["meta__" + name]
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind or not np.array_equal(a, b):
            out.append(name)
    return out


def _progress_bar(total: int, completed: int, description: str):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    bar.start()
    task = bar.add_task(description, total=total, completed=completed)
    return bar, task


@contextlib.contextmanager
def _checkpointing(save: Callable[[], None], every: int, path, total: int, completed: int,
                   description: str, progress: bool):
    """The bookkeeping of a resumable loop: yields ``tick``, to call after each
    completed unit, which calls ``save()`` every ``every`` units and advances a progress
    bar (``progress``: shown on stderr, ``completed`` of ``total`` done at the start).
    On exit, also by an exception or an interrupt, what is unsaved is saved (and a
    missing file written), so a rerun resumes where this one stopped."""
    bar = task = None
    if progress:
        bar, task = _progress_bar(total, completed, description)
    unsaved = 0

    def tick() -> None:
        nonlocal unsaved
        unsaved += 1
        if unsaved >= every:
            save()
            unsaved = 0
        if bar is not None:
            bar.update(task, advance=1)

    try:
        yield tick
    finally:
        if unsaved or (path is not None and not path.exists()):
            save()
        if bar is not None:
            bar.stop()


def scan_grid(
    evaluate: Callable[..., Any],
    axes: Sequence[Sequence[float]],
    *,
    fields: Sequence[str] = ("loss",),
    out: str | os.PathLike | None = None,
    meta: Mapping[str, Any] | None = None,
    save_every: int = 10,
    progress: bool = False,
    description: str = "scan",
) -> GridScan:
    """Evaluate ``evaluate(*coords)`` at every point of the grid ``axes[0] × axes[1] × …``.

    ``evaluate`` returns one number per field (a scalar when there is one field). Points
    are visited in row-major order (the last axis fastest). With ``out`` (a path, used as
    given) the work is kept in an ``.npz`` file, rewritten atomically every
    ``save_every`` points and when the scan stops, and resumed from on the next call:
    finished points are never evaluated again. ``meta`` holds arrays that identify the
    inputs (origin, directions, a :func:`problem_fingerprint`...): they are stored, and
    a file whose axes, fields or metadata differ is refused (:class:`ScanMismatchError`).

    Cost: one call of ``evaluate`` per point not yet done, plus one file write (the whole
    grid and the metadata: for a slice, its directions, 2·dim floats) per ``save_every``
    points; raise ``save_every`` when evaluations are cheap next to that write.
    """
    axes = tuple(np.asarray(a, dtype=float).reshape(-1) for a in axes)
    if not 1 <= len(axes) <= 3 or any(a.size == 0 for a in axes):
        raise ValueError(
            f"axes: expected 1 to 3 non-empty coordinate arrays, got shapes "
            f"{[a.shape for a in axes]}"
        )
    fields = tuple(str(f) for f in fields)
    if not fields:
        raise ValueError("fields: give at least one field name, e.g. ('loss',)")
    if int(save_every) < 1:
        raise ValueError(f"save_every must be a positive integer, got {save_every!r}")
    save_every = int(save_every)
    meta = {str(k): np.asarray(v) for k, v in (meta or {}).items()}
    for name, a in meta.items():
        if a.dtype == object:
            raise TypeError(f"meta[{name!r}] must be a numeric or string array, got objects")
    shape = tuple(a.size for a in axes)
    fp = _fingerprint(axes, fields, meta)

    values = np.full(shape + (len(fields),), np.nan)
    done = np.zeros(shape, dtype=bool)
    path = _out_path(out)
    if path is not None and path.exists():
        stored = _load(path)
        if str(stored.get("fingerprint", "")) != fp:
            diff = _differences(stored, axes, fields, meta) or ["the inputs' fingerprint"]
            raise ScanMismatchError(
                f"out={str(path)!r} holds a scan of different inputs, so it cannot be "
                f"resumed: {', '.join(diff)} differ. Use the same inputs to resume, or "
                "another out= path (or delete the file) to start a new scan."
            )
        values = np.array(stored["values"], dtype=float)
        done = np.array(stored["done"], dtype=bool)
    n_loaded = int(done.sum())

    def save():
        if path is None:
            return
        arrays = {f"axis{k}": a for k, a in enumerate(axes)}
        arrays.update({"meta__" + k: v for k, v in meta.items()})
        arrays.update(fields=np.array(fields), values=values, done=done,
                      fingerprint=np.array(fp))
        _write_atomic(path, arrays)

    n_evaluated = 0
    with _checkpointing(save, save_every, path, int(np.prod(shape)), n_loaded, description,
                        progress) as tick:
        for index in np.ndindex(*shape):
            if done[index]:
                continue
            coords = tuple(float(a[i]) for a, i in zip(axes, index))
            result = np.asarray(evaluate(*coords), dtype=float).reshape(-1)
            if result.size != len(fields):
                raise ValueError(
                    f"evaluate returned {result.size} values at {coords}, expected one per "
                    f"field {fields}"
                )
            values[index] = result
            done[index] = True
            n_evaluated += 1
            tick()
    return GridScan(axes, values, fields, done, n_evaluated, n_loaded,
                    None if path is None else str(path), fp)
