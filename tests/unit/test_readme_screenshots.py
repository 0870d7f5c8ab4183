"""The README's pictures: committed in docs/screenshots, while the browser tests write theirs elsewhere."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_picture_the_readme_shows_is_a_committed_file_in_docs_screenshots() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"\]\((docs/screenshots/[^)\s]+)\)", readme)

    assert pictures
    assert [p for p in pictures if not (ROOT / p).is_file()] == []


def test_the_browser_tests_save_their_screenshots_in_a_folder_git_ignores() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    try:
        from browser_support import SCREENSHOTS
    finally:
        sys.path.remove(str(ROOT / "tests" / "browser"))
    assert SCREENSHOTS == ROOT / "build" / "screenshots"
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git clone")
    ignored = subprocess.run(
        [git, "check-ignore", "-q", str(SCREENSHOTS / "dashboard-overview.png")], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0
