"""Raw files -> :class:`DynamicGraph` for the paper's four data sets, the synthetic one and a user's edge list.

One function per data set reads its files (formats in each ``PROVENANCE.md``), validates every line, maps the
original ids to ``0..N-1`` (kept in ``graph.node_ids``) and hands the event stream to
:func:`~hvgrae.data.snapshots.build_snapshots`. The settings of each data set are a frozen dataclass whose
defaults are the reading of the paper that comes closest to its Table I; ``load_dataset(name, dir, **kw)``
overrides them. Every input problem raises :class:`DataError` naming the file, the 1-based line and what was
expected; nothing is dropped without being counted in ``graph.info``.
"""

from __future__ import annotations

import gzip
import io
import pickle
import re
import time as _time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hvgrae.data.errors import DataError
from hvgrae.data.graph import DynamicGraph, EdgeStream
from hvgrae.data.snapshots import MODES, Period, XBuilder, build_snapshots, keep_nodes, parse_period
from hvgrae.data.sources import KNOWN_SHA256, file_sha256, resolve_data_dir
from hvgrae.data.synthetic import SyntheticConfig, make_synthetic

DATASETS = ("synthetic", "uci_message", "hep_th", "social_evolution", "github")
GITHUB_SUBSTITUTE = "LDG 284-user GH-Archive subset, not the paper's 1,049-node network"

# ---------------------------------------------------------------------------------------------- raw text


def _read_bytes(path: Path, expected: str) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    if not path.is_file():
        raise DataError(f"file not found (expected {expected})", path=path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise DataError(f"corrupt gzip file: {err}", path=path) from err
    return data


def _is_finite(field: str) -> bool:
    try:
        return bool(np.isfinite(float(field)))
    except ValueError:
        return False


def _is_date(field: str) -> bool:
    try:
        datetime.strptime(field, "%Y-%m-%d")
    except ValueError:
        return False
    return True


_COMMENT_LINE = re.compile(r"^[ \t]*[#%][^\n]*$", re.MULTILINE)
_DATA_LINE = re.compile(r"^[ \t]*[^\s#%][^\n]*$", re.MULTILINE)
_CHECKS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "id": ("an integer node id", lambda f: re.fullmatch(r"[+-]?\d{1,18}", f) is not None),
    "number": ("a finite number", _is_finite),
    "date": ("a date YYYY-MM-DD", _is_date),
    "text": ("a non-empty field", lambda f: f != ""),
}
"""Per column kind: what the message says is expected, and the check of one field (error path only)."""


def _data_rows(text: str, header: bool) -> Iterator[tuple[int, str]]:
    """``(1-based line number, line)`` of every data line: not blank, not a ``#``/``%`` comment, not the header."""
    skip = header
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#%":
            continue
        if skip:
            skip = False
            continue
        yield number, line


def _split(line: str, sep: str | None) -> list[str]:
    return [f.strip().strip('"') for f in line.split(sep)] if sep else line.split()


def read_columns(path: str | Path, kinds: Sequence[tuple[str, str]], *, header: bool = False) -> dict[str, np.ndarray]:
    """Read a delimited text file (whitespace or CSV, optionally gzipped) with exactly ``len(kinds)`` columns.

    ``kinds`` are ``(name, kind)`` pairs: kind ``"id"`` (integer), ``"number"`` (finite float), ``"date"``
    (``YYYY-MM-DD``, returned as Unix seconds) or ``"text"``. Lines starting with ``#`` or ``%`` and blank lines
    are skipped; the separator is a comma if the first data line has one, else whitespace. pandas parses the
    whole file at C speed; on any problem a line-by-line pass finds the first bad line and reports it.
    """
    path = Path(path)
    expected = "`" + " ".join(n for n, _ in kinds) + "`"
    text = _read_bytes(path, expected).decode("utf-8", errors="replace")
    first = _DATA_LINE.search(text)
    if first is None or (header and _DATA_LINE.search(text, first.end()) is None):
        raise DataError(f"no data lines (expected {expected} per line)", path=path)
    sep = "," if "," in first.group() else None
    body = _COMMENT_LINE.sub("", text[first.end() :] if header else text)
    k = len(kinds)
    try:
        frame = pd.read_csv(
            io.StringIO(body), sep=sep or r"\s+", header=None, names=range(k + 1), engine="c",
            dtype={j: str for j, (_, kind) in enumerate(kinds) if kind in ("text", "date")},
            keep_default_na=False, na_values=[""], skipinitialspace=True, skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError):
        frame = None
    out = None if frame is None else _columns(frame, kinds)
    if out is None:
        _raise_first_bad_line(path, text, header, sep, kinds, expected)
    return out  # type: ignore[return-value]


def _columns(frame: pd.DataFrame, kinds: Sequence[tuple[str, str]]) -> dict[str, np.ndarray] | None:
    """The typed columns of a parsed frame, or ``None`` if any value is missing, extra or of the wrong type."""
    k = len(kinds)
    if not frame[k].isna().all():
        return None
    out: dict[str, np.ndarray] = {}
    for j, (name, kind) in enumerate(kinds):
        col = frame[j]
        if col.isna().any():
            return None
        if kind == "id":
            if col.dtype.kind not in "iu":
                return None
            out[name] = col.to_numpy(dtype=np.int64)
        elif kind == "number":
            if col.dtype.kind not in "iuf" or not np.isfinite(col.to_numpy(dtype=np.float64)).all():
                return None
            out[name] = col.to_numpy(dtype=np.float64)
        elif kind == "date":
            stamps = pd.to_datetime(col.str.strip(), format="%Y-%m-%d", errors="coerce", utc=True)
            if stamps.isna().any():
                return None
            out[name] = ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)
        elif kind == "text":
            out[name] = col.str.strip().to_numpy(dtype=object)
        else:
            raise ValueError(f"unknown column kind {kind!r}")
    return out


def _raise_first_bad_line(
    path: Path, text: str, header: bool, sep: str | None, kinds: Sequence[tuple[str, str]], expected: str
) -> None:
    """Find the first line with a wrong column count or a value of the wrong type, and raise for it."""
    for row, (number, line) in enumerate(_data_rows(text, header)):
        fields = _split(line, sep)
        if len(fields) != len(kinds):
            raise DataError(
                f"expected {len(kinds)} columns ({expected}), found {len(fields)}: {line.strip()!r}", path, number
            )
        for field, (name, kind) in zip(fields, kinds, strict=True):
            what, check = _CHECKS[kind]
            if not check(field):
                hint = " (a header line? it needs header=True)" if row == 0 and not header else ""
                raise DataError(
                    f"column {name!r} must be {what} (line format {expected}), got {field!r}{hint}", path, number
                )
    raise DataError(f"could not parse the file as {len(kinds)} columns ({expected})", path=path)


def line_of_row(path: str | Path, row: int, *, header: bool = False) -> int | None:
    """The 1-based line number of data row ``row`` (0-based) of a file read by :func:`read_columns`."""
    text = _read_bytes(Path(path), "a text file").decode("utf-8", errors="replace")
    for i, (number, _) in enumerate(_data_rows(text, header)):
        if i == row:
            return number
    return None


def _remap(*columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Original ids (any sortable type) -> ``0..N-1``: ``(node_ids sorted, remapped columns)``."""
    ids, inverse = np.unique(np.concatenate(columns), return_inverse=True)
    out, at = [], 0
    for c in columns:
        out.append(inverse[at : at + len(c)].astype(np.int64))
        at += len(c)
    return ids, out


def _file_record(path: Path, key: str | None) -> dict[str, Any]:
    """Provenance of one input file: path, sha256 and whether it matches the checksum in PROVENANCE.md.

    ``key`` is ``<data set>/<path in its folder>`` (see :data:`KNOWN_SHA256`), ``None`` for a user's file.
    """
    digest = file_sha256(path)
    known = KNOWN_SHA256.get(key) if key else None
    return {"path": str(path), "sha256": digest, "matches_provenance": None if known is None else digest == known}


# ---------------------------------------------------------------------------------------------- edge lists


def load_edgelist(
    path: str | Path,
    period: Period = "1D",
    mode: str = "window",
    *,
    min_edges: int = 0,
    min_events: int = 1,
    start: str | float | None = None,
    max_snapshots: int | None = None,
    weight_column: bool = False,
    header: bool = False,
    features: str | Path | None = None,
    name: str | None = None,
) -> DynamicGraph:
    """A user's ``src dst timestamp`` file as a dynamic graph.

    Whitespace- or comma-separated (decided by the first data line), ``#``/``%`` comment lines, optionally
    gzipped. Ids must be integers; they are kept in ``graph.node_ids`` and remapped to ``0..N-1`` (the node
    set is every id in the file). Timestamps are numbers: Unix seconds for an offset ``period`` such as
    ``"1D"``, any unit for a numeric period.

    Args:
        path: the edge file.
        period: snapshot length (pandas offset string, or a number in the file's time unit).
        mode: ``"window"`` or ``"cumulative"``.
        min_edges: drop periods with fewer distinct edges.
        min_events: drop periods with fewer events; the default 1 drops empty periods.
        start: first period start (date or number); ``None`` = the first event's period.
        max_snapshots: keep at most this many snapshots.
        weight_column: accept a 4th column ``src dst weight timestamp`` (KONECT order); weights are validated
            and ignored (snapshots hold distinct edges).
        header: skip the first data line (column names).
        features: optional static node attributes, one line ``id f1 ... fD`` per node (every node of the
            edge file must have one); repeated in every snapshot.
        name: graph name (default: the file name).

    """
    path = Path(path)
    kinds = [("src", "id"), ("dst", "id")] + ([("weight", "number")] if weight_column else []) + [("time", "number")]
    cols = read_columns(path, kinds, header=header)
    if isinstance(parse_period(period), pd.offsets.BaseOffset):
        _check_unix_seconds(cols["time"], path, period)
    node_ids, (src, dst) = _remap(cols["src"], cols["dst"])
    x_builder = None if features is None else _repeated(_read_features(Path(features), node_ids))
    return build_snapshots(
        EdgeStream(src, dst, cols["time"]), len(node_ids), name=name or path.name, period=period, mode=mode,
        min_edges=min_edges, min_events=min_events, start=start, max_snapshots=max_snapshots,
        node_ids=node_ids, x_builder=x_builder, source=path,
        info={"dataset": "edgelist", "files": [_file_record(path, None)], "weights_ignored": weight_column},
    )


def _repeated(x: np.ndarray) -> XBuilder:
    """An attribute builder giving the same (static) matrix in every snapshot."""
    return lambda starts, ends: [x] * len(starts)


def _check_unix_seconds(time: np.ndarray, path: Path, period: Period) -> None:
    """Offset periods need Unix seconds; catch milliseconds (a common mistake) before binning by date."""
    if time.max() > 1e11:
        raise DataError(
            f"timestamps up to {time.max():.0f} look like milliseconds; calendar period {period!r} needs Unix "
            "seconds (divide by 1000, or give a numeric period in the file's unit)", path=path
        )


def _read_features(path: Path, node_ids: np.ndarray) -> np.ndarray:
    """Static attributes ``id f1 .. fD``: one row per node of the graph, in ``node_ids`` order, float32."""
    text = _read_bytes(path, "`id f1 ... fD`").decode("utf-8", errors="replace")
    number, line = next(_data_rows(text, header=False), (None, ""))
    width = len(line.replace(",", " ").split())
    if width < 2:
        raise DataError("expected `id f1 ... fD` (at least 2 columns)", path, number)
    cols = read_columns(path, [("id", "id")] + [(f"f{j}", "number") for j in range(1, width)])
    ids = cols["id"]
    pos = np.searchsorted(node_ids, ids)
    unknown = (pos >= len(node_ids)) | (node_ids[np.minimum(pos, len(node_ids) - 1)] != ids)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise DataError(f"node id {ids[i]} does not occur in the edge file", path, line_of_row(path, i))
    if len(np.unique(pos)) != len(pos):
        _, first = np.unique(pos, return_index=True)
        dup = int(np.setdiff1d(np.arange(len(pos)), first)[0])
        raise DataError(f"node id {ids[dup]} has a second attribute line", path, line_of_row(path, dup))
    if len(pos) != len(node_ids):
        missing = node_ids[np.setdiff1d(np.arange(len(node_ids)), pos)[0]]
        raise DataError(f"node {missing} of the edge file has no attribute line", path=path)
    x = np.zeros((len(node_ids), width - 1), dtype=np.float32)
    x[pos] = np.stack([cols[f"f{j}"] for j in range(1, width)], axis=1)
    return x


# ---------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SnapshotSettings:
    """Settings every real data set shares (passed to :func:`build_snapshots`)."""

    mode: str = "cumulative"
    period: Period = "1D"
    min_events: int = 0
    min_edges: int = 0
    start: str | None = None
    max_snapshots: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise DataError(f"mode must be one of {MODES}, got {self.mode!r}")
        parse_period(self.period)

    def snapshot_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`build_snapshots`."""
        return {k: getattr(self, k) for k in ("mode", "period", "min_events", "min_edges", "start", "max_snapshots")}


@dataclass(frozen=True)
class UciSettings(SnapshotSettings):
    """UCI message (SNAP CollegeMsg / KONECT opsahl-ucsocial): the defaults reproduce Table I's 56 days."""

    source: str = "snap"  # PROVENANCE: "snap" (CollegeMsg, default) or "konect" (same rows, timestamps -9 h)
    mode: str = "cumulative"  # design/protocol.md s.2: Table I's 688-13,838 edges are cumulative counts
    period: Period = "1D"  # paper V-A-1: "aggregate all the edges in a day to form a snapshot"
    min_events: int = 212  # "discard the snapshots with few edges": 212-222 messages/UTC day leave 56 days


@dataclass(frozen=True)
class HepThSettings(SnapshotSettings):
    """HEP-TH citations (SNAP cit-HepTh): cumulative monthly snapshots of the first 40 months from 1993-01."""

    dates: str = "file+id"  # node date: dates file, else the arXiv id's month ("file+id"); or only "id"/"file"
    mode: str = "cumulative"  # paper V-A-1: "using all the papers published up to that month"
    period: Period = "1MS"  # paper: monthly snapshots (calendar months)
    start: str | None = "1993-01-01"  # paper: "from January 1993"; closest to Table I's 769-34,941 edges
    max_snapshots: int | None = 40  # paper: "for the first 40 month"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dates not in ("file+id", "id", "file"):
            raise DataError(f"dates must be 'file+id', 'id' or 'file', got {self.dates!r}")


@dataclass(frozen=True)
class SocialSettings(SnapshotSettings):
    """MIT Social Evolution: survey relationships as edges, Calls and SMS counts as attributes (2N dims)."""

    relationship: str = "CloseFriend"  # paper V-A-1: "each edge is created by Close Friendship records"
    mode: str = "cumulative"  # paper: "use cumulative data"
    period: Period = "5D"  # paper: "5 days periods"
    start: str | None = "2008-09-10"  # paper: the survey of Sep 9-10, 2008 is the initial network
    max_snapshots: int | None = 54  # paper / Table I: 54 snapshots
    min_node_edges: int = 0  # paper: "remove nodes with few edges"; 0 keeps Table I's 84 nodes (see docs)
    log_counts: bool = True  # ours: attributes are log(1 + count); raw counts are heavy-tailed

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_node_edges < 0:
            raise DataError(f"min_node_edges must be >= 0, got {self.min_node_edges}")


@dataclass(frozen=True)
class GithubSettings(SnapshotSettings):
    """GitHub SUBSTITUTE (LDG's 284 users, 2013): Follow edges, Watch/Fork counts as attributes."""

    mode: str = "cumulative"  # ours: Table I's growing 4,396-14,238 edges suggest cumulative follow graphs
    period: Period = "15D"  # paper V-A-1: "aggregate 15 days of records"
    start: str | None = "2013-01-01"  # paper: "collected from Jan 2013"
    max_snapshots: int | None = 24  # paper / Table I: 24 snapshots (the 25th, Dec 27-Jan 1, is cut)
    initial_follows: bool = True  # LDG: 2012 follows among the 284 users are the initial network (history)
    attribute_events: tuple[str, ...] = ("WatchEvent", "ForkEvent")  # paper: "Star and Watch"; see loader
    log_counts: bool = True  # ours: attributes are log(1 + count)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "attribute_events", tuple(self.attribute_events))


def _settings(cls: type, name: str, overrides: Mapping[str, Any]) -> Any:
    """``cls()`` with ``overrides``; unknown names are an error that lists the valid ones."""
    valid = [f.name for f in fields(cls)]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise DataError(f"unknown setting(s) {', '.join(unknown)} for {name}; valid: {', '.join(valid)}")
    try:
        return replace(cls(), **overrides)
    except TypeError as err:
        raise DataError(f"invalid settings for {name}: {err}") from err


# ---------------------------------------------------------------------------------------------- UCI


def load_uci_message(folder: Path, s: UciSettings) -> DynamicGraph:
    """UCI message network: one event per message ``src -> dst``; node set = every user in the file (1,899).

    ``source="snap"`` reads ``CollegeMsg.txt.gz`` (``SRC DST UNIXTS``); ``source="konect"`` reads
    ``konect_opsahl-ucsocial/out.opsahl-ucsocial`` (``FROM TO WEIGHT TIMESTAMP``, timestamps 9 h earlier,
    which moves the UTC day boundaries).
    """
    if s.source == "snap":
        path = folder / "CollegeMsg.txt.gz"
        kinds = [("src", "id"), ("dst", "id"), ("time", "number")]
    elif s.source == "konect":
        path = folder / "konect_opsahl-ucsocial" / "out.opsahl-ucsocial"
        kinds = [("src", "id"), ("dst", "id"), ("weight", "number"), ("time", "number")]
    else:
        raise DataError(f"uci_message source must be 'snap' or 'konect', got {s.source!r}")
    cols = read_columns(path, kinds)
    node_ids, (src, dst) = _remap(cols["src"], cols["dst"])
    return build_snapshots(
        EdgeStream(src, dst, cols["time"]), len(node_ids), name="uci_message", node_ids=node_ids, source=path,
        info=_info("uci_message", s, [path]), **s.snapshot_kwargs(),
    )


# ---------------------------------------------------------------------------------------------- HEP-TH


def arxiv_month_seconds(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unix seconds of the first day of the month encoded in hep-th ids ``YYMMNNN``: ``(seconds, valid)``.

    ``YY >= 91`` is 19YY (hep-th started in 1991), else 20YY; ``valid`` is false where the month is not 1-12.
    """
    yy, mm = ids // 100_000, (ids // 1_000) % 100
    valid = (mm >= 1) & (mm <= 12) & (ids >= 0) & (ids < 10_000_000)
    year = np.where(yy >= 91, 1900 + yy, 2000 + yy)
    months = (year - 1970) * 12 + np.clip(mm, 1, 12) - 1
    days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return days.astype(np.float64) * 86400.0, valid


def load_hep_th(folder: Path, s: HepThSettings) -> DynamicGraph:
    """HEP-TH citation graph: edge ``i -> j`` = paper i cites paper j (paper V-A-1).

    A citation exists once both papers exist, so its time is the later of the two papers' dates. A paper's
    date is its submission date from the dates file (the earliest when listed twice; cross-listed ids carry
    an ``11`` prefix, stripped: see :func:`_strip_cross_list`), else the first day of the month encoded in
    its arXiv id ``YYMMNNN``
    (``dates="file+id"``, the default: the dates file covers only 41% of the papers). ``dates="id"`` uses
    the id month only; ``dates="file"`` drops undated papers' citations (counted in ``info``). The node set
    is the papers touched by an edge of the kept snapshots.
    """
    edge_path = folder / "cit-HepTh.txt.gz"
    cols = read_columns(edge_path, [("src", "id"), ("dst", "id")])
    paper_ids, (src, dst) = _remap(cols["src"], cols["dst"])
    id_time, valid = arxiv_month_seconds(paper_ids)
    files = [edge_path]
    info_extra: dict[str, Any] = {}

    def require_month(needed: np.ndarray) -> None:
        if not valid[needed].all():
            bad = paper_ids[needed & ~valid][0]
            row = int(np.flatnonzero((cols["src"] == bad) | (cols["dst"] == bad))[0])
            raise DataError(
                f"paper id {bad} has no date and does not encode a month (expected YYMMNNN)",
                edge_path, line_of_row(edge_path, row),
            )

    node_time = id_time
    if s.dates == "id":
        require_month(np.ones(len(paper_ids), dtype=bool))
    else:
        date_path = _first_existing(folder, ("cit-HepTh-dates.txt.gz", "cit-HepTh-dates.txt"))
        files.append(date_path)
        dcols = read_columns(date_path, [("id", "text"), ("date", "date")])
        ids = _strip_cross_list(dcols["id"], date_path)
        earliest = pd.Series(dcols["date"]).groupby(ids).min()
        dated = pd.Series(earliest).reindex(paper_ids).to_numpy(dtype=np.float64)
        has_date = ~np.isnan(dated)
        info_extra = {
            "papers": len(paper_ids),
            "papers_dated_by_file": int(has_date.sum()),
            "date_rows_repeated_id": int(len(ids) - len(earliest)),
        }
        if s.dates == "file+id":
            require_month(~has_date)
            node_time = np.where(has_date, dated, id_time)
        else:
            node_time = dated
            keep = has_date[src] & has_date[dst]
            info_extra["citations_without_date"] = int((~keep).sum())
            src, dst = src[keep], dst[keep]
    when = np.maximum(node_time[src], node_time[dst])
    graph = build_snapshots(
        EdgeStream(src, dst, when), len(paper_ids), name="hep_th", node_ids=paper_ids, source=edge_path,
        info={**_info("hep_th", s, files), **info_extra}, **s.snapshot_kwargs(),
    )
    active = np.zeros(graph.num_nodes, dtype=bool)
    for e in graph.edges:
        active[e.ravel()] = True
    return keep_nodes(graph, active)


def _strip_cross_list(raw: np.ndarray, path: Path) -> np.ndarray:
    """Dates-file ids -> paper ids: ``11`` + id (leading zeros of the id stripped) marks a cross-listed paper.

    Plain ids are zero-padded ``YYMMNNN`` and start with ``9`` or ``0`` (1991-2003), so an id starting with
    ``11`` is always a prefixed one: ``119201001`` -> 9201001, ``11101013`` -> 101013 (= 0101013).
    """
    text = pd.Series(raw, dtype=str)
    ok = text.str.fullmatch(r"\d{1,11}").to_numpy(dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise DataError(f"paper id must be digits (YYMMNNN, or 11 + id), got {raw[i]!r}", path, line_of_row(path, i))
    prefixed = text.str.startswith("11").to_numpy(dtype=bool)
    body = text.where(~prefixed, text.str.slice(2))
    empty = (body == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataError(f"paper id {raw[i]!r} is a bare '11' prefix", path, line_of_row(path, i))
    return body.astype(np.int64).to_numpy()


def _first_existing(folder: Path, names: Sequence[str]) -> Path:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"file not found (expected one of {', '.join(names)})", path=folder / names[0])


# ---------------------------------------------------------------------------------------------- Social evolution


def _read_csv(path: Path, columns: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Columns of a CSV with a header row: kind ``"id"``, ``"id?"`` (integer or empty -> -1), ``"flag"``
    (0/1), ``"date"`` (``YYYY-MM-DD``), ``"datetime"`` (``YYYY-MM-DD HH:MM:SS``, naive, taken as UTC) or
    ``"text"``. A bad value is reported with its line (header = line 1).
    """
    if not path.is_file():
        raise DataError(f"file not found (expected a CSV with columns {', '.join(columns)})", path=path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="replace")
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError(f"not a readable CSV: {err}", path=path) from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)} (expected header with {', '.join(columns)}; "
            f"found {', '.join(map(str, frame.columns))})", path=path, line=1,
        )
    out = {}
    for name, kind in columns.items():
        values = frame[name].str.strip()
        if kind == "text":
            out[name] = values.to_numpy(dtype=object)
            continue
        if kind in ("id", "id?", "flag"):
            empty = (values == "").to_numpy()
            result = pd.to_numeric(values.where(~empty, "-1"), errors="coerce").to_numpy(dtype=np.float64)
            ok = np.isfinite(result) & (result == np.floor(result))
            ok &= ~empty if kind == "id" else np.isin(result, (0, 1)) if kind == "flag" else (result >= 0) | empty
            what = {"id": "an integer id", "id?": "an integer id or empty", "flag": "0 or 1"}[kind]
        else:
            fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S"
            stamps = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
            ok = stamps.notna().to_numpy()
            what = f"a {'date YYYY-MM-DD' if kind == 'date' else 'time YYYY-MM-DD HH:MM:SS'}"
            result = ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise DataError(f"column {name!r} must be {what}, got {values.iloc[i]!r}", path, i + 2)
        out[name] = result.astype(np.int64) if kind in ("id", "id?", "flag") else result
    return out


def _count_builder(channels: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int, log: bool) -> XBuilder:
    """Attributes of a period ``[s, e)``: for each channel, node i's count of events to each node j (N dims).

    ``X(t) = [C_1 | C_2 | ...]``, shape ``(N, len(channels) * N)``, ``log(1 + count)`` when ``log``.
    """

    def build(starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray]:
        out = []
        for s, e in zip(starts, ends, strict=True):
            blocks = []
            for src, dst, when in channels:
                sel = (when >= s) & (when < e)
                counts = np.bincount(src[sel] * n + dst[sel], minlength=n * n).reshape(n, n)
                blocks.append(counts)
            x = np.concatenate(blocks, axis=1).astype(np.float32)
            out.append(np.log1p(x) if log else x)
        return out

    return build


def load_social_evolution(folder: Path, s: SocialSettings) -> DynamicGraph:
    """MIT Social Evolution (paper V-A-1): survey relationships as directed edges ``id.A -> id.B``.

    Nodes: the subjects of ``Subjects.csv`` (84), minus those with fewer than ``min_node_edges`` distinct
    relationship partners over the whole file (0 by default: Table I keeps all 84 nodes although the text says
    nodes with few edges were removed; only 2 subjects never name or are named as a close friend). An edge's
    time is its survey date. Attributes per period (Calls and SMS, paper): for node i, the number of calls
    from i to each subject j, then the number of SMS from i to each subject j, so D = 2N (168 for 84 nodes).
    A call's caller is ``user_id``; an SMS's sender is ``user.id``, or ``dest.user.id.if.known`` when
    ``incoming`` is 1. Phone-log times are naive local times and are binned as they are (periods are local
    calendar days). Records whose counterpart is not a subject, or whose caller is empty (5,403 calls), are not
    attributes (counted in ``info``). Identical (sender, receiver, second) records are merged, as LDG does
    (the same message logged twice, e.g. on both phones; counted in ``info``). The periods run to the end of
    the phone logs, so snapshots go on after the last survey (cumulative mode carries the last one forward).
    """
    subj_path, rel_path = folder / "Subjects.csv", folder / "RelationshipsFromSurveys.csv"
    calls_path, sms_path = folder / "Calls.csv", folder / "SMS.csv"
    subjects = np.unique(_read_csv(subj_path, {"user_id": "id"})["user_id"])
    rel = _read_csv(rel_path, {"id.A": "id", "id.B": "id", "relationship": "text", "survey.date": "date"})
    kinds = sorted(set(rel["relationship"]))
    if s.relationship not in kinds:
        raise DataError(f"no relationship {s.relationship!r}; the file has {', '.join(kinds)}", path=rel_path)
    pick = rel["relationship"] == s.relationship
    a, b, when = rel["id.A"][pick], rel["id.B"][pick], rel["survey.date"][pick]
    _require_known(subjects, np.concatenate([a, b]), rel_path, "id.A/id.B")

    partners = pd.DataFrame({"a": np.concatenate([a, b]), "b": np.concatenate([b, a])})
    partners = partners[partners.a != partners.b].drop_duplicates()
    degree = partners.groupby("a").size().reindex(subjects, fill_value=0).to_numpy()
    nodes = subjects[degree >= s.min_node_edges]
    if len(nodes) < 2:
        raise DataError(f"fewer than 2 nodes have >= {s.min_node_edges} relationship partners", path=rel_path)
    index = {int(v): i for i, v in enumerate(nodes)}
    keep = np.isin(a, nodes) & np.isin(b, nodes)
    src = np.array([index[int(v)] for v in a[keep]], dtype=np.int64)
    dst = np.array([index[int(v)] for v in b[keep]], dtype=np.int64)

    calls = _read_csv(calls_path, {"user_id": "id?", "dest_user_id_if_known": "id?", "time_stamp": "datetime"})
    sms = _read_csv(sms_path, {"user.id": "id", "dest.user.id.if.known": "id?", "incoming": "flag", "time": "datetime"})
    incoming = sms["incoming"] == 1
    sms_from = np.where(incoming, sms["dest.user.id.if.known"], sms["user.id"])
    sms_to = np.where(incoming, sms["user.id"], sms["dest.user.id.if.known"])
    channels, unused = [], {}
    for label, (u, v, t) in {
        "calls": (calls["user_id"], calls["dest_user_id_if_known"], calls["time_stamp"]),
        "sms": (sms_from, sms_to, sms["time"]),
    }.items():
        ok = np.isin(u, nodes) & np.isin(v, nodes) & (u != v)
        unused[f"{label}_records_not_between_nodes"] = int((~ok).sum())
        records = pd.DataFrame({"u": u[ok], "v": v[ok], "t": t[ok]})
        distinct = records.drop_duplicates()
        unused[f"{label}_duplicates_merged"] = int(len(records) - len(distinct))
        channels.append((np.searchsorted(nodes, distinct.u.to_numpy()), np.searchsorted(nodes, distinct.v.to_numpy()),
                         distinct.t.to_numpy()))
    info = {
        **_info("social_evolution", s, [subj_path, rel_path, calls_path, sms_path]),
        "relationship_rows_outside_node_set": int((~keep).sum()),
        "nodes_removed_few_edges": int(len(subjects) - len(nodes)),
        **unused,
        "attributes": f"[calls i->j | SMS i->j] per period, {'log(1 + count)' if s.log_counts else 'count'}",
    }
    return build_snapshots(
        EdgeStream(src, dst, when[keep]), len(nodes), name="social_evolution", node_ids=nodes, source=rel_path,
        end=max((float(t.max()) for t in (calls["time_stamp"], sms["time"]) if len(t)), default=None),
        x_builder=_count_builder(channels, len(nodes), s.log_counts), info=info, **s.snapshot_kwargs(),
    )


def _require_known(known: np.ndarray, ids: np.ndarray, path: Path, column: str) -> None:
    unknown = np.setdiff1d(ids, known)
    if len(unknown):
        raise DataError(f"{column} has id {unknown[0]}, which is not a subject of Subjects.csv", path=path)


# ---------------------------------------------------------------------------------------------- GitHub


class _PlainUnpickler(pickle.Unpickler):
    """An unpickler that builds only built-in containers and scalars: any class or function is refused."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 - see class docstring
        raise pickle.UnpicklingError(f"the file references {module}.{name}; only plain data is accepted")


def _load_plain_pickle(path: Path) -> Any:
    if not path.is_file():
        raise DataError("file not found (expected a pickle from LDG's Github folder)", path=path)
    try:
        with path.open("rb") as fh:
            return _PlainUnpickler(fh).load()
    except Exception as err:  # a corrupt pickle can fail in many ways; all mean "not the file we expect"
        raise DataError(f"not a plain-data pickle: {err}", path=path) from err


def _github_events(
    obj: Any, path: Path, time_kind: type | tuple[type, ...]
) -> tuple[list[str], list[str], list[Any], list[Any]]:
    """Flatten ``{actor: [{created_at, type, login}, ...]}`` into parallel lists, validating every event."""
    if not isinstance(obj, dict):
        raise DataError(f"expected a dict of user -> list of events, got {type(obj).__name__}", path=path)
    actors, targets, times, types = [], [], [], []
    for user, events in obj.items():
        if not isinstance(user, str) or not isinstance(events, list):
            raise DataError(f"entry {user!r}: expected a login -> list of events", path=path)
        for i, ev in enumerate(events):
            if (
                not isinstance(ev, dict)
                or not isinstance(ev.get("login"), str)
                or not isinstance(ev.get("created_at"), time_kind)
                or "type" not in ev
            ):
                raise DataError(
                    f"event {i} of user {user!r}: expected a dict with created_at, type and login, got {ev!r}",
                    path=path,
                )
            actors.append(user)
            targets.append(ev["login"])
            times.append(ev["created_at"])
            types.append(ev["type"])
    return actors, targets, times, types


def load_github(folder: Path, s: GithubSettings) -> DynamicGraph:
    """GitHub SUBSTITUTE: LDG's 284-user GH-Archive subset of 2013 (NOT the paper's 1,049-node network).

    Edges: FollowEvent ``actor -> followed user`` of 2013, plus (``initial_follows``) the 2012 follows among
    the 284 users from the follow file, which LDG uses as the initial network. Nodes: the 284 users.
    Attributes: the paper uses "Star and Watch" counts (2N dims). In the 2013 GitHub API a ``WatchEvent`` IS a
    star, so only one of the two exists here; by default the second channel is ``ForkEvent`` (the other
    "interest in a repository" event): X(t) = [watches by i of repositories of j | forks by i of repositories
    of j] per period, D = 2N = 568.
    """
    ev_path = folder / "github_284users_events_2013.pkl"
    fo_path = folder / "github_284users_follow_2011_2012.pkl"
    obj = _load_plain_pickle(ev_path)
    if not (isinstance(obj, tuple | list) and len(obj) == 2 and isinstance(obj[1], dict)):
        raise DataError("expected a pair (users_events, event_types)", path=ev_path)
    users_events, event_types = obj
    actors, targets, times, types = _github_events(users_events, ev_path, (int, float))
    for needed in ("FollowEvent", *s.attribute_events):
        if needed not in event_types:
            raise DataError(f"no event type {needed!r}; the file has {', '.join(sorted(event_types))}", path=ev_path)
    users = np.array(sorted(users_events), dtype=object)
    index = {u: i for i, u in enumerate(users)}
    known = np.array([t in index for t in targets], dtype=bool)
    actor_i = np.array([index[u] for u in actors], dtype=np.int64)
    target_i = np.array([index.get(t, -1) for t in targets], dtype=np.int64)
    when = np.asarray(times, dtype=np.float64)
    code = np.asarray(types)
    follow = known & (code == event_types["FollowEvent"])

    src, dst, at = [actor_i[follow]], [target_i[follow]], [when[follow]]
    files = [ev_path]
    info_extra: dict[str, Any] = {"events_with_unknown_target": int((~known).sum())}
    if s.initial_follows:
        f_actors, f_targets, f_times, _ = _github_events(_load_plain_pickle(fo_path), fo_path, str)
        stamps = pd.to_datetime(pd.Series(f_times), format="mixed", utc=True, errors="coerce")
        if stamps.isna().any():
            raise DataError(f"unparseable created_at {f_times[int(np.flatnonzero(stamps.isna())[0])]!r}", path=fo_path)
        inside = np.array([a in index and t in index for a, t in zip(f_actors, f_targets, strict=True)], dtype=bool)
        src.append(np.array([index[a] for a, ok in zip(f_actors, inside, strict=True) if ok], dtype=np.int64))
        dst.append(np.array([index[t] for t, ok in zip(f_targets, inside, strict=True) if ok], dtype=np.int64))
        at.append(((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(np.float64)[inside])
        files.append(fo_path)
        info_extra["initial_follows_outside_users"] = int((~inside).sum())
    channels = []
    for name in s.attribute_events:
        sel = known & (code == event_types[name])
        channels.append((actor_i[sel], target_i[sel], when[sel]))
    info = {
        **_info("github", s, files),
        **info_extra,
        "substitute": GITHUB_SUBSTITUTE,
        "attributes": (
            f"[{' | '.join(f'{e} i->j' for e in s.attribute_events)}] per period, "
            f"{'log(1 + count)' if s.log_counts else 'count'} (WatchEvent = star in the 2013 API)"
        ),
    }
    return build_snapshots(
        EdgeStream(np.concatenate(src), np.concatenate(dst), np.concatenate(at)), len(users), name="github",
        node_ids=users, source=ev_path, end=float(when.max()),
        x_builder=_count_builder(channels, len(users), s.log_counts), info=info, **s.snapshot_kwargs(),
    )


# ---------------------------------------------------------------------------------------------- entry point


def _info(dataset: str, settings: Any, files: Sequence[Path]) -> dict[str, Any]:
    """Provenance every loader records: data-set name, settings, input files with checksums."""
    records = []
    for f in files:
        inside = f.parts[f.parts.index(dataset) + 1 :] if dataset in f.parts else (f.name,)
        records.append(_file_record(f, "/".join((dataset, *inside))))
    return {"dataset": dataset, "settings": asdict(settings), "files": records}


_LOADERS: dict[str, tuple[type, Callable[[Path, Any], DynamicGraph]]] = {
    "uci_message": (UciSettings, load_uci_message),
    "hep_th": (HepThSettings, load_hep_th),
    "social_evolution": (SocialSettings, load_social_evolution),
    "github": (GithubSettings, load_github),
}


def default_settings(name: str) -> Any:
    """The default settings object of data set ``name`` (a frozen dataclass)."""
    if name == "synthetic":
        return SyntheticConfig()
    if name not in _LOADERS:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return _LOADERS[name][0]()


def load_dataset(name: str, data_dir: str | Path | None = None, **settings: Any) -> DynamicGraph:
    """Load data set ``name`` (one of :data:`DATASETS`) with its defaults overridden by ``settings``.

    ``synthetic`` needs no folder (settings are :class:`SyntheticConfig` fields). The real ones read
    ``data_dir/<name>/`` (``data_dir`` defaults to ``$HVGRAE_DATA``). ``graph.info["load_seconds"]`` is the
    wall time of the load.
    """
    tic = _time.perf_counter()
    if name == "synthetic":
        config = _settings(SyntheticConfig, name, settings)
        graph = make_synthetic(config)
        graph.info.update(dataset=name, settings=asdict(config))
    elif name in _LOADERS:
        cls, loader = _LOADERS[name]
        chosen = _settings(cls, name, settings)
        folder = resolve_data_dir(data_dir)
        if folder is None:
            raise DataError(
                f"{name} needs the real data: pass a data folder (--data-dir) or set HVGRAE_DATA to a folder "
                f"holding {name}/ (see `hvgrae fetch {name}`)"
            )
        graph = loader(folder / name, chosen)
    else:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    graph.info["load_seconds"] = round(_time.perf_counter() - tic, 3)
    return graph


def available(name: str, data_dir: str | Path | None = None) -> bool:
    """Whether ``load_dataset(name, data_dir)`` finds its files (always true for ``synthetic``)."""
    if name == "synthetic":
        return True
    folder = resolve_data_dir(data_dir)
    if folder is None or name not in _LOADERS:
        return False
    needed = {
        "uci_message": [("CollegeMsg.txt.gz",)],
        "hep_th": [("cit-HepTh.txt.gz",), ("cit-HepTh-dates.txt.gz", "cit-HepTh-dates.txt")],
        "social_evolution": [("Subjects.csv",), ("RelationshipsFromSurveys.csv",), ("Calls.csv",), ("SMS.csv",)],
        "github": [("github_284users_events_2013.pkl",), ("github_284users_follow_2011_2012.pkl",)],
    }[name]
    return all(any((folder / name / f).is_file() for f in group) for group in needed)


def load_or_synthetic(
    name: str, preferred: str, data_dir: str | Path | None = None, synthetic_options: dict[str, Any] | None = None
) -> DynamicGraph:
    """The data set a chapter studies: ``name`` when given, else ``preferred`` when its files are present, else
    the embedded synthetic network (``synthetic_options`` are :class:`SyntheticConfig` overrides, used only then).
    The chosen name is the returned graph's ``name``.
    """
    chosen = name or (preferred if available(preferred, data_dir) else "synthetic")
    return load_dataset(chosen, data_dir, **((synthetic_options or {}) if chosen == "synthetic" else {}))
