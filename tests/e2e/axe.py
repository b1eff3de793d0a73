"""axe-core in Playwright: ``axe_check(page, name)`` runs the vendored axe-core (tests/e2e/vendor,
never served to the public) on the page as it is and returns the serious/critical violations,
printing a table of every violation found.

The portal's Content-Security-Policy forbids inline scripts, and Playwright's
``add_script_tag(content=…)`` is an inline script: it is refused unless the browser context
bypasses the CSP. So axe runs in its own context, the ``a11y_page`` fixture below
(``bypass_csp=True``); the normal ``page`` fixture keeps the CSP for the tests that check it.
Import the fixture into a test module with ``from tests.e2e.axe import a11y_page``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
# WCAG 2.1 A and AA plus axe's best practices (landmarks, one h1, heading order…).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = frozenset({"serious", "critical"})
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}

_RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact || "",
    help: v.help,
    url: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      html: n.html.slice(0, 160),
      summary: (n.failureSummary || "").slice(0, 300),
    })),
  }));
}"""


@cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every violation of the TAGS rules on the current page (axe injected once per document)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=_source())
    return list(page.evaluate(_RUN, TAGS))


def violations_table(name: str, violations: list[dict[str, Any]]) -> str:
    if not violations:
        return f"axe {name}: no violations"
    lines = [
        f"axe {name}: {len(violations)} violation(s)",
        "| impact | rule | nodes | help | first target |",
        "|---|---|---|---|---|",
    ]
    for v in sorted(violations, key=lambda v: (v["impact"] not in FAILING, v["id"])):
        first = v["nodes"][0] if v["nodes"] else {"target": "", "html": ""}
        lines.append(
            f"| {v['impact']} | {v['id']} | {len(v['nodes'])} | {v['help']} | {first['target']} |"
        )
    for v in violations:
        if v["impact"] in FAILING:
            for node in v["nodes"][:5]:
                lines.append(f"  - {v['id']} @ {node['target']}: {node['html']}")
                if node["summary"]:
                    lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def axe_check(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe on ``page``; print the table; return the serious/critical violations (the test
    asserts the list is empty)."""
    found = axe_violations(page)
    print(violations_table(name, found))
    return [v for v in found if v["impact"] in FAILING]


@pytest.fixture
def a11y_page(browser: Any) -> Iterator[Any]:
    """A page in a context that bypasses the CSP (so axe can be injected); axe runs only."""
    context = browser.new_context(
        viewport=DESKTOP, locale="zh-CN", bypass_csp=True, reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
