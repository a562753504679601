from django.urls import path
from oauth2_provider import views as oauth2_views

from portal.api import oauth_views

app_name = "oauth"

urlpatterns = [
    path("authorize/", oauth_views.PatientAuthorizationView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth_views.IntrospectView.as_view(), name="introspect"),
    path("consents/", oauth_views.consent_list, name="consents"),
    path(
        "consents/<int:application_id>/withdraw/",
        oauth_views.consent_withdraw,
        name="consent_withdraw",
    ),
]
