from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "xinfang.followup"
    verbose_name = "评价回访与听证"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.cases.signals import case_closed, case_evaluated
        from xinfang.followup import services

        case_evaluated.connect(services.on_case_evaluated, dispatch_uid="followup_task")
        case_closed.connect(services.on_case_closed, dispatch_uid="followup_plan")
