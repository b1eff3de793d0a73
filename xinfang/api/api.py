"""The JSON API: HTTP in front of the same services and selectors the workbench uses.

Nothing here decides a domain question. Every case is fetched through
``policy.cases_visible_to(user)`` (``access.py``: another unit's case is a 404, never a 403);
every write is one call of a service; their ``DomainError``s become JSON errors with the Chinese
message they carry (``errors.py``). The endpoints live by concept in routers:

- ``cases.py``: register, list, detail, petitioner lookup;
- ``actions.py``: one endpoint per lifecycle action;
- ``attachments.py``: files added to a case;
- ``people.py``: merging a person registered without an ID number into the identified record.

``serialize.py`` turns cases and events into the dicts ``schemas.py`` describes.
"""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from xinfang.api import actions, attachments, audit, cases, confidential, errors, people
from xinfang.api import corrections as corrections_api
from xinfang.api import desk as desk_api
from xinfang.api import directory as directory_api
from xinfang.api import documents as documents_api
from xinfang.api import followup as followup_api
from xinfang.api import handling as handling_api
from xinfang.api import hotspots as hotspot_api
from xinfang.api import instructions as instructions_api
from xinfang.api import intel_models as intel_models_api
from xinfang.api import lookup as lookup_api
from xinfang.api import notify as notify_api
from xinfang.api import portal_account as portal_account_api
from xinfang.api import portal_submit as portal_submit_api
from xinfang.api import portal_track as portal_track_api
from xinfang.api import prevention_alerts as prevention_alerts_api
from xinfang.api import prevention_disputes as prevention_disputes_api
from xinfang.api import prevention_informants as prevention_informants_api
from xinfang.api import prevention_keys as prevention_keys_api
from xinfang.api import prevention_screening as prevention_screening_api
from xinfang.api import reception as reception_api
from xinfang.api import replies as replies_api
from xinfang.api import similar as similar_api
from xinfang.api import stats_bulletins as stats_bulletins_api
from xinfang.api import stats_dashboard as stats_dashboard_api
from xinfang.api import stats_figures as stats_figures_api
from xinfang.api import stats_kpi as stats_kpi_api
from xinfang.api import suggest as suggest_api
from xinfang.api import supervision as supervision_api
from xinfang.api.auth import SessionAuth, TokenAuth
from xinfang.core import faults

DESCRIPTION = """\
信访工作平台的 JSON 接口，与工作台界面调用同一组业务函数。

**认证**：系统对接使用个人 API 令牌（`Authorization: Bearer xf_…`，由管理员用
`manage.py issue_api_token 用户名 --name 用途` 签发）；浏览器内调用使用登录会话，
写操作须带 `X-CSRFToken` 请求头。

**错误**：统一为 `{"detail": 中文说明, "field": 字段或 null, "code": 类别}`。
400 业务校验未通过；401 未认证；403 无权执行（仅限您能查看的事项）；
404 事项不存在或不在您的权限范围内；409 状态已变化（`transition_not_allowed`：当前状态不允许该操作；
`concurrent_change`：刚被他人处理）；422 请求格式有误（`errors` 列出各字段）。

**幂等登记**：`POST /api/cases` 可带 `Idempotency-Key` 请求头或 `idempotency_key` 字段。
首次登记返回 201；同一键再次提交不会重复登记，返回 200 与首次登记的同一事项。

**幂等写操作**：所有写操作（事项操作、备注、附件、信访人合并等）都可带 `Idempotency-Key`
请求头（1–100 个可见 ASCII 字符，建议 UUID）。同一用户对同一地址用同一键再次提交时不会再次执行，
直接返回首次成功的应答（首次 201 的重放为 200），并带 `Idempotent-Replayed: true` 响应头；
同一键用于不同内容返回 409 `idempotency_conflict`。失败的请求不占用该键。超时后重试请用同一键。

**故障**：数据库不可用或服务器存储空间不足时返回 503 与 `Retry-After`，
`{"detail": 中文说明, "code": …}`（`database_unavailable`、`database_locked`、`disk_full`、
`storage_read_only`），请稍后用同一幂等键重试。
"""

api = NinjaAPI(
    title="民声 · 信访工作平台 API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    # Swagger UI from the files bundled in the ninja package (offline); no validator badge,
    # which would otherwise call validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
)

errors.install(api)
faults.install_ninja(api)
api.add_router("", confidential.router)  # before cases: /cases/export.csv is not a case id
# before cases: /cases/bulk-route is not a case id (合并/转办/关联/调查/批量分流, cases.handling)
api.add_router("", handling_api.router)
api.add_router("", cases.router)
api.add_router("", actions.router)
api.add_router("", attachments.router)
api.add_router("", people.router)
api.add_router("", lookup_api.router)
api.add_router("", audit.router)
api.add_router("", hotspot_api.router)
api.add_router("", similar_api.router)
api.add_router("", suggest_api.router)
api.add_router("", intel_models_api.router)
api.add_router("", documents_api.router)
api.add_router("", notify_api.router)
api.add_router("", replies_api.router)
api.add_router("", instructions_api.router)
api.add_router("", followup_api.router)
api.add_router("", desk_api.router)
api.add_router("", supervision_api.router)
api.add_router("", reception_api.router)
api.add_router("", directory_api.router)
# the public portal (xinfang.portal): no staff auth; each endpoint checks its own proof
api.add_router("/portal", portal_submit_api.router)
api.add_router("/portal", portal_track_api.router)
api.add_router("/portal", portal_account_api.router)
api.add_router("/prevention", prevention_disputes_api.router)
api.add_router("/prevention", prevention_screening_api.router)
api.add_router("/prevention", prevention_informants_api.router)
api.add_router("/prevention", prevention_keys_api.router)
api.add_router("/prevention", prevention_alerts_api.router)
api.add_router("", corrections_api.router)
api.add_router("/stats", stats_figures_api.router)
api.add_router("/stats", stats_kpi_api.router)
api.add_router("/stats", stats_bulletins_api.router)
api.add_router("/stats", stats_dashboard_api.router)
