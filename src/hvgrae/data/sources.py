"""Where the real data sets live and where they come from: data-dir resolution, checksums, downloads.

The real files are never copied into the repository. A user points the study at a folder (``--data-dir``
or ``$HVGRAE_DATA``) laid out as ``DIR/<data set>/<file>``, or downloads it with :func:`fetch`, which checks
every file against the sha256 recorded in the data set's ``PROVENANCE.md``. Derived files (caches) go to
:func:`cache_dir`, never beside the raw data (the data folder may be read-only).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hvgrae.data.errors import DataError

DATA_ENV = "HVGRAE_DATA"
CACHE_ENV = "HVGRAE_CACHE"


@dataclass(frozen=True)
class SourceFile:
    """One raw file of a data set.

    Attributes:
        path: location relative to ``DIR/<data set>/``.
        url: the original publisher's URL serving exactly these bytes, or ``None`` where there is none.
        sha256: the file's checksum, from the data set's ``PROVENANCE.md``.
        mirrors: byte-identical copies at pinned git commits (tried after ``url``; the checksum decides).
        note: what to do by hand when no URL can serve the file, or a caveat about the URL.

    """

    path: str
    url: str | None
    sha256: str
    mirrors: tuple[str, ...] = ()
    note: str = ""


def _raw(repo: str, commit: str, path: str) -> str:
    """A file at a pinned commit of a public GitHub repository."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_NETWALK = ("chengw07/NetWalk", "2aef4f3712fabc36e5d57fdcc0ce57ed31797719")
_LDG = ("uoguelph-mlrg/LDG", "2a8e2b8b8db3e57f48031fc3168846fc4d27e78f")
_KONECT_NOTE = (
    "KONECT publishes opsahl-ucsocial only as a tar.bz2 archive (http://konect.cc/networks/opsahl-ucsocial/) "
    "whose checksum is not recorded; the extracted file is taken from the NetWalk authors' repository."
)
_SOCIAL_NOTE = (
    "MIT Reality Commons distributes the Social Evolution data under MIT COUHES conditions and no public URL "
    "serves these CSVs (the LDG authors removed their copy in 2021). Obtain the archive from "
    "http://realitycommons.media.mit.edu/socialevolution.html, accept its terms, and put the decompressed "
    "CSVs into DIR/social_evolution/."
)

SOURCES: dict[str, list[SourceFile]] = {
    "uci_message": [
        SourceFile(
            "CollegeMsg.txt.gz",
            "https://snap.stanford.edu/data/CollegeMsg.txt.gz",
            "50ae2d98ed3bad9ddb18dbd495a89e5e10cfb8f7e86932827db29fc41b41f9fa",
            mirrors=(
                _raw(
                    "USFDataVisualization/Persistent-Homology-On-Time-Varying-Graphs",
                    "fb38be6585af192e481bab4efbae227d5b71ed23",
                    "data/CollegeMsg.txt.gz",
                ),
            ),
            note="No independent SNAP checksum exists for the gzip wrapper; the mirror holds the checked bytes.",
        ),
        SourceFile(
            "konect_opsahl-ucsocial/out.opsahl-ucsocial",
            None,
            "72515c16504464736f35498047cf8e163df2e95f89ea3063d48aa367936bd951",
            mirrors=(_raw(*_NETWALK, "data/ucsocial/out.opsahl-ucsocial"),),
            note=_KONECT_NOTE,
        ),
    ],
    "hep_th": [
        SourceFile(
            "cit-HepTh.txt.gz",
            "https://snap.stanford.edu/data/cit-HepTh.txt.gz",
            "7df944b502bd7b687b0e7e94ba9b0a87f202693254558ae5f8ea45657697eb32",
            mirrors=(
                _raw(
                    "RakshithaKarnam24/wexa-cognodb-benchmark",
                    "9636ea019ce7f5e0837460e87dee4682a10d7b36",
                    "data/cit-HepTh.txt.gz",
                ),
            ),
        ),
        SourceFile(
            "cit-HepTh-dates.txt.gz",
            "https://snap.stanford.edu/data/cit-HepTh-dates.txt.gz",
            "4b5f2259b0feb848a2a93ab3345d344a4b1c3c9c773ddebcab95f2f6e0bf6225",
            note=(
                "SNAP's original dates file. If SNAP is unreachable, the loader also reads the uncompressed "
                "third-party copy cit-HepTh-dates.txt (sha256 e0b72d07...7289, "
                + _raw("knskito/materials_CitedTCR", "e11b4b8562c7a896adfc38ba78af639d225f6e7b", "cit-HepTh-dates.txt")
                + "); put it in DIR/hep_th/ by hand."
            ),
        ),
    ],
    "social_evolution": [
        SourceFile(name, None, sha, note=_SOCIAL_NOTE)
        for name, sha in (
            ("RelationshipsFromSurveys.csv", "9f33752b90d06d30f1c4b3fd7d64973b9dc5520305fe7f626a2d3008be775129"),
            ("Calls.csv", "876072f0a4b01edd27aa14b3652cd1fbddb4b0df63943eddce2a3e4ff71efc8c"),
            ("SMS.csv", "6c81ea64e2872d6e630aa821ceeed1a8661954395eeddf249b79bdce8024e106"),
            ("Subjects.csv", "0c92d345cef39929b97d39e788612f77cd0eea24c778fd2cca1bd0d095439182"),
        )
    ],
    "github": [
        SourceFile(
            name,
            _raw(*_LDG, f"Github/{name}"),
            sha,
            note="A SUBSTITUTE: LDG's 284-user GH-Archive subset, not the paper's 1,049-node network.",
        )
        for name, sha in (
            ("github_284users_events_2013.pkl",
             "e3825d8359391978225d62d150023949b5dd75575457bc6cc0b85ff3f2d12b03"),
            ("github_284users_follow_2011_2012.pkl",
             "bb39257dbc0b0354d0d654849605cc040c67fad80108f14d3a851f67f8936262"),
        )
    ],
}
"""Data-set name -> its raw files, with the checksums of ``/work/shared/data/*/PROVENANCE.md``."""

KNOWN_SHA256: dict[str, str] = {
    "uci_message/CollegeMsg.txt.gz": SOURCES["uci_message"][0].sha256,
    "uci_message/konect_opsahl-ucsocial/out.opsahl-ucsocial": SOURCES["uci_message"][1].sha256,
    "hep_th/cit-HepTh.txt.gz": SOURCES["hep_th"][0].sha256,
    "hep_th/cit-HepTh-dates.txt.gz": SOURCES["hep_th"][1].sha256,
    "hep_th/cit-HepTh-dates.txt": "e0b72d07c55f54d51f5be19d19e4c45fc7ff91166e8bddd3378572fcf5387289",
    **{f"social_evolution/{f.path}": f.sha256 for f in SOURCES["social_evolution"]},
    **{f"github/{f.path}": f.sha256 for f in SOURCES["github"]},
}
"""``<data set>/<file>`` -> sha256 of every raw file a loader may read (the loaders record whether it matches)."""


def resolve_data_dir(explicit: str | Path | None = None) -> Path | None:
    """The real-data folder: ``explicit``, else ``$HVGRAE_DATA``, else ``None`` (only synthetic data)."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_ENV, "")
    return Path(env).expanduser() if env else None


def cache_dir() -> Path:
    """The folder for derived files: ``$HVGRAE_CACHE``, else ``~/.cache/hvgrae`` (created on demand)."""
    env = os.environ.get(CACHE_ENV, "")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "hvgrae"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: str | Path, sha256: str) -> None:
    """Raise :class:`DataError` unless the file exists and its sha256 is ``sha256``."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    actual = file_sha256(path)
    if actual != sha256.lower():
        raise DataError(f"sha256 mismatch: expected {sha256}, got {actual} (corrupt or different file)", path=path)


def fetch(
    name: str,
    data_dir: str | Path,
    *,
    sources: Mapping[str, Sequence[SourceFile]] | None = None,
    progress: bool = True,
) -> list[Path]:
    """Download the raw files of data set ``name`` into ``data_dir/<name>/``, verified by sha256.

    Each file is fetched with ``pooch.retrieve`` from its publisher URL, then from its pinned mirrors, until
    one serves the recorded checksum; a file already present with the right checksum is kept. Files that no
    URL can serve (licence terms, archive-only publishers) are listed at the end with what to do by hand.

    Returns:
        The paths of the data set's files, all verified.

    """
    import pooch

    table = SOURCES if sources is None else sources
    if name not in table:
        hint = " (synthetic data are generated, not downloaded)" if name == "synthetic" else ""
        raise DataError(f"unknown data set {name!r}{hint}; fetchable: {', '.join(sorted(table))}")
    folder = Path(data_dir).expanduser() / name
    done: list[Path] = []
    manual: list[str] = []
    notes: list[str] = []
    for item in table[name]:
        target = folder / item.path
        if target.is_file():
            verify_checksum(target, item.sha256)  # never overwrite a different file silently
            done.append(target)
            continue
        urls = ([item.url] if item.url else []) + list(item.mirrors)
        failures = []
        for url in urls:
            try:
                pooch.retrieve(
                    url, known_hash=f"sha256:{item.sha256}", path=target.parent, fname=target.name,
                    progressbar=progress,
                )
            except Exception as err:  # network, HTTP and checksum errors alike: try the next URL
                failures.append(f"{url}: {err}")
                continue
            verify_checksum(target, item.sha256)
            done.append(target)
            break
        else:
            manual.append(f"{item.path}: " + ("; ".join(failures) if failures else "no URL serves this file"))
            if item.note and item.note not in notes:
                notes.append(item.note)
    if manual:
        raise DataError(
            f"could not fetch {len(manual)} file(s) of {name} into {folder}:\n  " + "\n  ".join(manual + notes)
        )
    return done
