from django.contrib.admin.apps import AdminConfig


class XinfangAdminConfig(AdminConfig):
    """``django.contrib.admin`` with our site as the default ``admin.site``: access by role
    (not ``is_staff``/``is_superuser``) and a TOTP-verified session for admin roles."""

    default_site = "xinfang.accounts.admin_site.XinfangAdminSite"
