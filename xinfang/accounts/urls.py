from django.urls import path

from xinfang.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("logout-all/", views.logout_all_view, name="logout_all"),
    path("password/", views.PasswordChange.as_view(), name="password_change"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
    path("otp/verify/", views.otp_verify_view, name="otp_verify"),
    path("otp/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("lockouts/", views.lockouts, name="lockouts"),
]
