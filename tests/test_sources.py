"""Data-dir resolution, checksums, and fetch against a local HTTP server (no internet needed)."""
import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from hvgrae.data.errors import DataError
from hvgrae.data.sources import (
    KNOWN_SHA256,
    SOURCES,
    SourceFile,
    cache_dir,
    fetch,
    file_sha256,
    resolve_data_dir,
    verify_checksum,
)

from .conftest import real_data_dir


def test_resolve_data_dir_prefers_the_argument_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HVGRAE_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("HVGRAE_DATA")
    assert resolve_data_dir(None) is None


def test_cache_dir_comes_from_the_environment_and_is_created(monkeypatch, tmp_path):
    monkeypatch.setenv("HVGRAE_CACHE", str(tmp_path / "c" / "d"))
    assert cache_dir() == tmp_path / "c" / "d" and (tmp_path / "c" / "d").is_dir()
    monkeypatch.delenv("HVGRAE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "hvgrae"


def test_verify_checksum(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"hello\n")
    good = hashlib.sha256(b"hello\n").hexdigest()
    assert file_sha256(f) == good
    verify_checksum(f, good)
    verify_checksum(f, good.upper())
    with pytest.raises(DataError, match=r"a\.txt: sha256 mismatch"):
        verify_checksum(f, "0" * 64)
    with pytest.raises(DataError, match=r"b\.txt: file not found"):
        verify_checksum(tmp_path / "b.txt", good)


def test_every_source_has_a_checksum_and_a_way_to_get_it():
    for name, files in SOURCES.items():
        assert files, name
        for item in files:
            assert len(item.sha256) == 64 and int(item.sha256, 16) >= 0
            assert item.url or item.mirrors or item.note, (name, item.path)
    assert SOURCES["hep_th"][0].url == "https://snap.stanford.edu/data/cit-HepTh.txt.gz"
    assert SOURCES["uci_message"][0].url == "https://snap.stanford.edu/data/CollegeMsg.txt.gz"
    assert all(f.url is None for f in SOURCES["social_evolution"])


@pytest.mark.skipif(real_data_dir() is None, reason="real data directory not available")
def test_recorded_checksums_match_the_shared_data():
    root = real_data_dir()
    checked = 0
    for key, sha in KNOWN_SHA256.items():
        path = root / key
        if path.is_file():
            assert file_sha256(path) == sha, key
            checked += 1
    assert checked >= 9


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/www; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _serve(www: Path, name: str, content: bytes) -> str:
    (www / name).write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_fetch_downloads_and_verifies(server, tmp_path):
    www, base = server
    sha = _serve(www, "edges.txt", b"1 2 3\n")
    table = {"toy": [SourceFile("sub/edges.txt", f"{base}/edges.txt", sha)]}
    paths = fetch("toy", tmp_path / "data", sources=table, progress=False)
    assert paths == [tmp_path / "data" / "toy" / "sub" / "edges.txt"]
    assert paths[0].read_bytes() == b"1 2 3\n"
    # a second call finds the verified file and downloads nothing
    (www / "edges.txt").unlink()
    assert fetch("toy", tmp_path / "data", sources=table, progress=False) == paths


def test_fetch_falls_back_to_a_mirror_when_the_publisher_fails(server, tmp_path):
    www, base = server
    sha = _serve(www, "good.txt", b"payload")
    _serve(www, "changed.txt", b"other bytes")
    table = {"toy": [SourceFile("f.txt", f"{base}/changed.txt", sha, mirrors=(f"{base}/missing", f"{base}/good.txt"))]}
    (path,) = fetch("toy", tmp_path, sources=table, progress=False)
    assert path.read_bytes() == b"payload"


def test_fetch_reports_checksum_mismatch_and_manual_files(server, tmp_path):
    www, base = server
    _serve(www, "bad.txt", b"tampered")
    table = {
        "toy": [
            SourceFile("bad.txt", f"{base}/bad.txt", "0" * 64),
            SourceFile("private.csv", None, "1" * 64, note="Ask the publisher."),
        ]
    }
    with pytest.raises(DataError, match="could not fetch 2 file") as err:
        fetch("toy", tmp_path, sources=table, progress=False)
    text = str(err.value)
    assert "bad.txt: http" in text and "private.csv: no URL serves this file\n  Ask the publisher." in text
    assert not (tmp_path / "toy" / "bad.txt").exists()  # pooch removes a download with the wrong hash


def test_fetch_never_overwrites_a_different_local_file(tmp_path):
    target = tmp_path / "toy" / "f.txt"
    target.parent.mkdir()
    target.write_text("mine")
    with pytest.raises(DataError, match="sha256 mismatch"):
        fetch("toy", tmp_path, sources={"toy": [SourceFile("f.txt", "http://127.0.0.1:9/f", "2" * 64)]})
    assert target.read_text() == "mine"


def test_fetch_unknown_names():
    with pytest.raises(DataError, match="synthetic data are generated"):
        fetch("synthetic", Path("."))
    with pytest.raises(DataError, match="unknown data set 'nope'"):
        fetch("nope", Path("."))
