import datetime as dt

from django.utils import timezone

from tests.conftest import checked_draft
from xinfang.cases import services as S
from xinfang.cases.models import CaseEvent, Deadline, Status


def test_full_lifecycle(world, register):
    case = register()
    assert case.number.startswith("XF-110105-")
    assert case.status == Status.REGISTERED
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    S.case_reply(
        case=case,
        draft=checked_draft(case),
        by=world.uma,
        text="经调查核实，物业费调整程序不合规，已责令整改。",
        served_on=timezone.localdate(),
        method="in_person",
    )
    S.case_evaluate(case=case, by=world.rita, evaluation="satisfied")
    S.case_close(case=case, by=world.alice)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == [
        "register",
        "assign",
        "sign_in",
        "accept",
        "reply",
        "evaluate",
        "close",
        "followup_plan",  # 回访 planned on closing (xinfang.followup)
    ]
    assert Deadline.objects.filter(case=case, kind="review_request", met_at__isnull=True).exists()
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查")
    S.case_decide_review(case=case, by=world.alice, text="经复查，维持原答复意见，理由如下。")
    S.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服")
    S.case_decide_rereview(case=case, by=world.alice, text="经复核，维持复查意见，本事项终结。")
    case.refresh_from_db()
    assert case.status == Status.FINAL
    assert dt.date.today()
