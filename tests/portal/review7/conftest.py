"""Fixtures of the review-7 regression tests (the submission fixtures reused)."""

from tests.portal.submit.conftest import _media_and_rates, submit_form  # noqa: F401
