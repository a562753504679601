"""Django's admin app with the portal's site (`admin_site.StaffAdminSite`): imported while
the app registry loads, so it names the site by path and imports no model."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "portal.staff.admin_site.StaffAdminSite"
