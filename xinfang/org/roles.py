"""Role codes the access policy keys on. The rows themselves are data (seeded by migration)."""

RECEPTIONIST = "receptionist"
CASE_OFFICER = "case_officer"
HANDLER = "handler"
UNIT_HEAD = "unit_head"
LEADER = "leader"
SUPERVISOR = "supervisor"
INFORMANT = "informant"
SYSADMIN = "sysadmin"
SECADMIN = "secadmin"
AUDITOR = "auditor"

SEED_ROLES: list[tuple[str, str, str]] = [
    (RECEPTIONIST, "接待员", "窗口登记来访、来信、来电，查询历史，打印回执和告知单"),
    (CASE_OFFICER, "办案员", "信访机构办信办案：分流、转送、交办、督促、审核"),
    (HANDLER, "承办人", "承办单位工作人员：签收、调查、答复"),
    (UNIT_HEAD, "单位负责人", "承办单位负责人：审批答复、申请延期"),
    (LEADER, "领导", "领导接待日、包案、批示；查看辖区全部事项"),
    (SUPERVISOR, "督查员", "督查督办：催办、督办、通报"),
    (INFORMANT, "信息员", "报送矛盾纠纷和集体访苗头信息"),
    (SYSADMIN, "系统管理员", "管理用户、单位和参数；不能查看信访事项"),
    (SECADMIN, "安全管理员", "管理角色与授权；不能查看信访事项"),
    (AUDITOR, "审计员", "只读审计日志"),
]

# Roles that may read cases in their units' subtrees. Admin roles are deliberately absent
# (separation of duties: who manages the system does not read petitions).
CASE_READERS = frozenset({RECEPTIONIST, CASE_OFFICER, HANDLER, UNIT_HEAD, LEADER, SUPERVISOR})
OFFICE_STAFF = frozenset({RECEPTIONIST, CASE_OFFICER})
UNIT_STAFF = frozenset({HANDLER, UNIT_HEAD})
