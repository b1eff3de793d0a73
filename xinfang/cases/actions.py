"""The UI's action panel: for each lifecycle action, the form that collects its input and the
service it calls. (The API has its own typed bodies; both end in the same service functions.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from xinfang.cases import forms as F
from xinfang.cases import handling as H
from xinfang.cases import services as S
from xinfang.replies import forms as RF
from xinfang.replies import services as RS


@dataclass(frozen=True)
class ActionUI:
    form: type[forms.Form]
    service: Callable[..., Any]
    button: str
    danger: bool = False


ACTION_UI: dict[str, ActionUI] = {
    "assign": ActionUI(F.RouteForm, S.case_assign, "交办"),
    "forward": ActionUI(F.RouteForm, S.case_forward, "转送"),
    "inform": ActionUI(F.ReasonForm, S.case_inform, "告知不予受理", danger=True),
    "sign_in": ActionUI(F.EmptyForm, S.case_sign_in, "签收"),
    "accept": ActionUI(F.NoticeForm, S.case_accept, "受理"),
    "refuse": ActionUI(F.NoticeForm, S.case_refuse, "不予受理", danger=True),
    "return": ActionUI(F.ReasonForm, S.case_return, "退回信访机构", danger=True),
    "request_extension": ActionUI(F.ExtensionForm, S.case_request_extension, "申请延期"),
    "decide_extension": ActionUI(F.ExtensionDecisionForm, S.case_decide_extension, "提交审批"),
    # 答复: the 答复意见书 panel (xinfang.replies, side hook) drafts, approves, checks, serves.
    "evaluate": ActionUI(F.EvaluationForm, S.case_evaluate, "记录评价"),
    "close": ActionUI(F.NoteForm, S.case_close, "办结"),
    "request_review": ActionUI(F.ReasonForm, S.case_request_review, "登记复查申请"),
    "decide_review": ActionUI(RF.ReviewDecisionForm, RS.review_decide, "出具复查意见"),
    "request_rereview": ActionUI(F.ReasonForm, S.case_request_rereview, "登记复核申请"),
    "decide_rereview": ActionUI(RF.ReviewDecisionForm, RS.rereview_decide, "出具复核意见（终结）"),
    "merge": ActionUI(F.MergeForm, H.case_merge_by_number, "合并为重复事项", danger=True),
    "transfer": ActionUI(F.TransferForm, H.case_transfer, "转办"),
}


def make_form(code: str, case: Any, data: Any = None) -> forms.Form:
    ui = ACTION_UI[code]
    prefix = f"a_{code}"
    if ui.form in (F.RouteForm, F.TransferForm):
        return ui.form(data, case=case, prefix=prefix)  # type: ignore[call-arg]
    return ui.form(data, prefix=prefix)


def run(code: str, form: forms.Form, case: Any, user: Any) -> Any:
    return ACTION_UI[code].service(case=case, by=user, **form.cleaned_data)
