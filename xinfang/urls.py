from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from xinfang.accounts import views as accounts_views
from xinfang.api.api import api
from xinfang.core.views import healthz
from xinfang.portal import track_views as portal_track

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("login/", accounts_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("xinfang.accounts.urls")),
    path("intel/", include("xinfang.intel.urls")),
    path("documents/", include("xinfang.documents.urls")),
    path("notify/", include("xinfang.notify.urls")),
    path("supervision/", include("xinfang.supervision.urls")),
    path("replies/", include("xinfang.replies.urls")),
    path("instructions/", include("xinfang.instructions.urls")),
    path("followup/", include("xinfang.followup.urls")),
    path("directory/", include("xinfang.directory.urls")),
    path("reception/", include("xinfang.reception.urls")),
    path("portal/", include("xinfang.portal.urls")),
    path("prevention/", include("xinfang.prevention.urls")),
    path("stats/", include("xinfang.stats.urls")),
    path("track/", portal_track.short, name="portal_track_short"),  # printed receipts' QR code
    path("", include("xinfang.audit.urls")),
    path("", include("xinfang.people.urls")),
    path("", include("xinfang.cases.urls")),
]

# A database or disk fault outside a view answers 503 (xinfang.core.faults), others the 500 page.
handler500 = "xinfang.core.views.server_error"
