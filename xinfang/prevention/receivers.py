"""Signal receivers of 预防排查 (connected in ``apps.ready``).

- ``case_registered`` (after commit): the per-case early-warning rules (a repeat petition after
  closing; 3+ cases of one group within the window) — ``warning.on_case_registered``.
"""

from __future__ import annotations
