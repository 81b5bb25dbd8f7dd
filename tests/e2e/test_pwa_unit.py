"""Runs the PWA's own unit tests (vitest: shared sync vectors, outbox, sync client against a
fake transport, i18n parity) as part of the Python suite, so CI runs them too."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import IN_CI
from tests.live import ROOT

PWA = ROOT / "pwa"


def test_vitest_suite_passes() -> None:
    npm = shutil.which("npm")
    if npm is None or not (PWA / "node_modules" / ".bin" / "vitest").exists():
        if IN_CI:
            pytest.fail("node/npm or pwa/node_modules missing (make pwa installs them)")
        pytest.skip("pwa/node_modules missing: run make pwa")
    run = subprocess.run(
        [npm, "test", "--silent", "--", "--reporter=dot"],
        cwd=PWA,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
