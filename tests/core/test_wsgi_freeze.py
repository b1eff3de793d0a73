"""The WSGI entry point leaves the start-up heap frozen (outside the garbage collector's
generations) with the views already imported — checked in a fresh interpreter, as a server
process starts."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import gc, sys\n"
    "import xinfang.wsgi\n"
    "print(gc.get_freeze_count(), 'xinfang.stats.dashboard_views' in sys.modules)\n"
)


def test_the_wsgi_module_freezes_the_start_up_heap() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "xinfang.settings"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    frozen, views = out.stdout.split()
    assert int(frozen) > 100_000 and views == "True"
