"""Build the whole book at smoke size and check every chapter's page and its figures.

The notebooks read the profile from HVGRAE_PROFILE when their `profile` parameter is empty, so the same sources
build the full book (`make book`) and this small one. No data directory: the embedded synthetic data only.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT


def _chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


@pytest.mark.slow
def test_book_builds_with_every_chapter_and_its_figures(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HVGRAE_DATA"}
    env.update(HVGRAE_PROFILE="smoke", HVGRAE_RESULTS=str(tmp_path / "results"), TQDM_DISABLE="1",
               HVGRAE_CACHE=str(tmp_path / "cache"))
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(tmp_path), "-W", "-n", "--keep-going"],
                          env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    assert (html / "index.html").is_file()
    for chapter in _chapters():
        page = html / f"{chapter}.html"
        assert page.is_file(), f"missing page {page}"
        source = ROOT / f"{chapter}.py"
        if source.is_file() and "plt.show()" in source.read_text():
            images = re.findall(r"<img[^>]+src=\"([^\"]+)\"", page.read_text())
            assert images, f"{chapter}: no figure in the page"
            for src in images:
                assert (page.parent / src).resolve().is_file(), f"{chapter}: broken image {src}"
