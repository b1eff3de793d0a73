"""Request and response shapes of the JSON API.

Inputs mirror the domain's own dataclasses (``Registration``, ``PetitionerInput``, ``CaseFilter``)
and are checked only for shape here (types, lengths the database imposes); the domain rules and
their Chinese messages stay in the services. Outputs never carry a full ID number or phone number:
people are shown masked (``xinfang.core.masking``).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Literal

from ninja import Field, Schema

from xinfang.cases.models import (
    Channel,
    Evaluation,
    EvaluationChannel,
    Purpose,
    ServeMethod,
    Status,
)
from xinfang.cases.selectors import CaseFilter
from xinfang.people.models import IdType

# A row id in a request body: a positive 64-bit integer (a larger number is a 422, never a
# database overflow).
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# The bound of an id in a path or query parameter (``Path(..., ge=1, le=ID_MAX)``): past it a
# 422, never an overflow in the database driver (SQLite raised on a foreign-key filter).
ID_MAX = 2**62


def _choices_doc(choices: type[Enum]) -> str:
    return "；".join(f"{c.value}={c.label}" for c in choices)  # type: ignore[attr-defined]


# --- shared pieces -------------------------------------------------------------------------


class CodeLabel(Schema):
    code: str = Field(description="机器可读代码")
    label: str = Field(description="中文名称")


class UnitRef(Schema):
    id: int
    name: str


class ErrorOut(Schema):
    detail: str = Field(description="中文说明，可直接展示给用户")
    field: str | None = Field(None, description="出错的字段（请求体中的路径），无则为 null")
    code: str = Field(
        description=(
            "invalid=业务校验未通过；permission_denied=无权执行；"
            "transition_not_allowed=当前状态不允许；concurrent_change=已被他人处理；"
            "idempotency_conflict=幂等键已被他人使用；not_found=不存在或无权查看；"
            "unauthenticated=未认证；csrf=CSRF 校验失败；validation=请求格式有误；"
            "bad_request=请求体无法解析"
        )
    )


class ValidationItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: str
    code: Literal["validation"] = "validation"
    errors: list[ValidationItem]


# --- registration --------------------------------------------------------------------------


class PetitionerIn(Schema):
    name: str = Field(max_length=60, description="姓名")
    id_type: IdType = Field(IdType.RESIDENT, description=_choices_doc(IdType))
    id_number: str = Field("", max_length=40, description="证件号码（居民身份证校验校验码）")
    phone: str = Field("", max_length=40, description="联系电话（手机或带区号的固定电话）")
    address: str = Field("", max_length=200)
    sex: Literal["", "M", "F"] = Field("", description="M=男；F=女；空=未知（有身份证号时自动取）")
    age_band: Literal["", "u18", "18-35", "36-60", "60+"] = ""
    education: str = Field("", max_length=20)
    occupation: str = Field("", max_length=40)
    ethnic_group: str = Field("", max_length=20)


class RegistrationIn(Schema):
    office_unit_id: int = Field(description="登记单位（信访工作机构）ID")
    channel: Channel = Field(description=_choices_doc(Channel))
    purpose: Purpose = Field(description=_choices_doc(Purpose))
    summary: str = Field(description="诉求摘要（最多300字）")
    content: str = Field("", max_length=20000, description="详细内容")
    petitioners: list[PetitionerIn] = Field(default_factory=list, description="信访人")
    representatives: list[PetitionerIn] = Field(
        default_factory=list, description="集体访代表（最多5名）"
    )
    received_at: dt.datetime = Field(
        description="收到时间，ISO 8601；不带时区时按北京时间理解；不得晚于当前时间"
    )
    category_id: int | None = Field(None, description="内容分类 ID")
    place_code: str = Field("", max_length=12, description="问题属地行政区划代码")
    place_name: str = Field("", max_length=100, description="问题属地")
    headcount: int = Field(1, le=100000, description="人数（不少于登记的人数）")
    group_name: str = Field("", max_length=100, description="信访群体名称（集体访）")
    related_to_id: int | None = Field(None, description="关联前案 ID")
    skip_level: bool = Field(False, description="越级（不填时按问题属地自动判断）")
    accused_unit_ids: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="被检举控告单位 ID（仅检举控告件）：该单位及其下级单位的人员看不到本件",
    )
    accused_person_ids: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="被检举控告人（本系统用户）ID（仅检举控告件）",
    )
    accused_text: str = Field(
        "", max_length=2000, description="其他被检举控告对象（不在本系统中的单位或人员，保密）"
    )
    # The desk (xinfang.cases.desk).
    known_petitioner_ids: list[DbId] = Field(
        default_factory=list,
        max_length=50,
        description="已在档的信访人 ID（不重新录入；须是您能查看的事项中的信访人）",
    )
    known_representative_ids: list[DbId] = Field(
        default_factory=list, max_length=50, description="已在档的集体访代表 ID（代表最多5名）"
    )
    participants: list[PetitionerIn] = Field(
        default_factory=list, max_length=500, description="集体访在场人员（非代表，计入人数）"
    )
    known_participant_ids: list[DbId] = Field(
        default_factory=list, max_length=500, description="已在档的集体访在场人员 ID"
    )
    desk_purpose: str = Field(
        "",
        max_length=20,
        description="来访目的（分类接待）：hardship/suggestion/accuse_official/vent/"
        "agitated_mind/not_ours",
    )
    visitor_type: str = Field(
        "",
        max_length=20,
        description="来访人类型：first/probing/agitated/collective/repeat/skip_level",
    )
    final_inform: bool | None = Field(
        None,
        description="同一事项已终结（复核）时：true=登记并告知（不予受理），"
        "false=按新事项登记（记录判断），不填=仅标记重复",
    )
    psych_note: str = Field(
        "", max_length=1000, description="转介心理疏导的情况说明（填写即记录转介）"
    )
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="幂等键（也可用 Idempotency-Key 请求头）：同一键重复提交只登记一次",
    )


# --- case list -----------------------------------------------------------------------------


class CaseListQuery(Schema):
    q: str = Field("", max_length=100, description="编号、查询码、关键词、证件号、电话或姓名")
    status: Status | None = Field(None, description=_choices_doc(Status))
    channel: Channel | None = Field(None, description=_choices_doc(Channel))
    purpose: Purpose | None = Field(None, description=_choices_doc(Purpose))
    unit: int | None = Field(None, description="承办单位 ID（含下级单位）")
    category: int | None = Field(None, description="内容分类 ID（含下级分类）")
    place: str = Field("", max_length=100, description="问题属地：区划代码前缀或名称")
    date_from: dt.date | None = Field(None, description="收到日期起（含）")
    date_to: dt.date | None = Field(None, description="收到日期止（含）")
    deadline: Literal["normal", "due_soon", "overdue", "none"] | None = Field(
        None, description="期限状态：normal=正常；due_soon=临期；overdue=超期；none=无在办期限"
    )
    flag: Literal["repeat", "skip_level", "collective", "joint"] | None = Field(
        None, description="repeat=重复信访；skip_level=越级；collective=集体访；joint=联名"
    )
    page: int = Field(1, ge=1, le=1_000_000, description="页码，从1开始")
    page_size: int = Field(20, ge=1, le=100, description="每页条数（1–100）")

    def to_filter(self) -> CaseFilter:
        """The list's ``CaseFilter``, as ``CaseFilterForm.to_filter`` gives it to the UI."""
        return CaseFilter(
            q=self.q,
            status=self.status.value if self.status else "",
            channel=self.channel.value if self.channel else "",
            purpose=self.purpose.value if self.purpose else "",
            unit=self.unit,
            category=self.category,
            place=self.place,
            date_from=self.date_from,
            date_to=self.date_to,
            deadline=self.deadline or "",
            flag=self.flag or "",
        )


class PersonBrief(Schema):
    name: str
    id_masked: str = Field(description="脱敏证件号")
    phone_masked: str = Field(description="脱敏电话")


class CaseRow(Schema):
    id: int
    number: str
    status: CodeLabel
    channel: CodeLabel
    purpose: CodeLabel
    summary: str = Field(description="诉求摘要；检举控告件为“【检举控告件，内容保密】”")
    is_confidential: bool = Field(False, description="检举控告件：摘要与信访人身份已隐去")
    received_at: dt.datetime
    handling_unit: UnitRef | None
    deadline_state: CodeLabel = Field(description="正常/临期/超期/—（按最早的在办期限）")
    next_due: dt.date | None
    first_petitioner: PersonBrief | None


class CasePage(Schema):
    count: int = Field(description="符合条件的总数")
    page: int
    page_size: int
    items: list[CaseRow]


# --- case detail ---------------------------------------------------------------------------


class PartyOut(Schema):
    petitioner_id: int
    name: str
    role: CodeLabel
    id_type: CodeLabel
    id_masked: str
    phone_masked: str
    sex: str
    age_band: str


class EventOut(Schema):
    id: int
    kind: str
    label: str
    actor: str | None = Field(description="操作人姓名")
    unit: UnitRef | None = Field(description="操作单位")
    at: dt.datetime
    from_status: CodeLabel | None
    to_status: CodeLabel | None
    text: str
    data: dict[str, object]


class DeadlineOut(Schema):
    kind: CodeLabel
    started_on: dt.date
    due_on: dt.date
    state: CodeLabel
    obligation: bool = Field(description="true=机关的办理期限；false=信访人的申请期限")
    paused: bool


class ActionOut(Schema):
    code: str
    label: str
    path: str = Field(description="执行该操作的 POST 地址")


class ExtensionOut(Schema):
    days: int
    reason: str
    requested_at: dt.datetime


class AttachmentOut(Schema):
    id: int
    name: str = Field(description="上传时的文件名")
    size: int = Field(description="大小（字节）")
    content_type: str
    sha256: str = Field(description="内容的 SHA-256 摘要（十六进制）")
    uploaded_at: dt.datetime


class CaseDetail(Schema):
    id: int
    number: str
    query_code: str
    status: CodeLabel
    channel: CodeLabel
    purpose: CodeLabel
    category: str | None
    category_id: int | None
    place_code: str
    place_name: str
    summary: str = Field(description="诉求摘要；检举控告件须经 POST /cases/{id}/reveal 查看")
    content: str = Field(description="详细内容；检举控告件为空，须经查看接口（留痕）获取")
    is_confidential: bool = Field(False, description="检举控告件：内容与信访人身份保密")
    received_at: dt.datetime
    registered_at: dt.datetime
    registered_by: str
    headcount: int
    group: str | None
    is_repeat: bool
    is_skip_level: bool
    is_collective: bool
    is_joint: bool
    desk_purpose: CodeLabel | None = Field(None, description="来访目的（分类接待）")
    visitor_type: CodeLabel | None = Field(None, description="来访人类型（接待人员判断）")
    desk_owner: str | None = Field(None, description="当前接待责任人（首问负责，移交后变更）")
    related_to: str | None = Field(description="关联前案编号（仅当您能查看该前案时给出）")
    office_unit: UnitRef
    handling_unit: UnitRef | None
    evaluation: CodeLabel | None
    served_at: dt.date | None
    closed_at: dt.datetime | None
    updated_at: dt.datetime
    deadline_state: CodeLabel
    petitioners: list[PartyOut]
    events: list[EventOut]
    deadlines: list[DeadlineOut] = Field(description="未完成、未撤销的期限")
    pending_extension: ExtensionOut | None
    attachments: list[AttachmentOut] = Field(description="附件（仅元数据），按上传时间")
    allowed_actions: list[ActionOut] = Field(description="当前用户此刻可执行的操作")


class ActionResult(Schema):
    event: EventOut = Field(description="本次操作新增的事项动态")
    case: CaseDetail | None = Field(
        description="操作后的事项详情；操作使事项离开您的权限范围（如退回）时为 null"
    )


# --- petitioner lookup ---------------------------------------------------------------------


class VisibleCase(Schema):
    id: int
    number: str
    status: CodeLabel
    received_at: dt.datetime


class PersonOut(Schema):
    id: int
    name: str
    id_masked: str
    phone_masked: str
    cases: list[VisibleCase] = Field(description="该人员的事项中您有权查看的部分")


class LookupOut(Schema):
    items: list[PersonOut]
    truncated: bool = Field(description="匹配人数超过上限，仅返回前若干名")


# --- action bodies -------------------------------------------------------------------------


class RouteIn(Schema):
    unit_id: int = Field(description="承办单位 ID")
    note: str = Field("", max_length=2000, description="交办/转送意见")


class ReasonIn(Schema):
    reason: str = Field(max_length=4000)


class NoticeIn(Schema):
    notice_text: str = Field(max_length=8000, description="告知书内容")


class ExtensionRequestIn(Schema):
    days: int = Field(description="延长天数（不超过规则上限，默认30日）")
    reason: str = Field(max_length=4000)


class ExtensionDecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=2000, description="审批意见（不批准时必填）")


class ReplyIn(Schema):
    text: str = Field(
        "",
        max_length=20000,
        description="不再使用：答复内容取自经单位负责人审批、信访机构审核的答复意见书",
    )
    served_on: dt.date = Field(description="送达日期")
    method: ServeMethod = Field(description=_choices_doc(ServeMethod))


class EvaluateIn(Schema):
    evaluation: Evaluation = Field(description=_choices_doc(Evaluation))
    comment: str = Field("", max_length=2000)
    channel: EvaluationChannel = Field(
        EvaluationChannel.IN_PERSON, description=_choices_doc(EvaluationChannel)
    )


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class TextIn(Schema):
    text: str = Field(max_length=20000)
