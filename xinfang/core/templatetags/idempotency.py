"""``{% idempotency_field %}``: the hidden key that makes a form post count once
(``xinfang.core.idempotency``). A fresh key per rendering of the form: resending the same page
(double click, retry after a timeout, browser resubmit) reuses it, a new page gets a new one."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from xinfang.core.idempotency import FORM_FIELD

register = template.Library()


@register.simple_tag
def idempotency_field() -> SafeString:
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, uuid.uuid4().hex)
