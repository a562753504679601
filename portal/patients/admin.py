from django.contrib import admin

from portal.patients.models import Guardianship, InsuranceCompany, InsuredPerson, Patient


@admin.register(InsuranceCompany)
class InsuranceCompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "code")


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "middle_name", "birth_date", "clinic")
    search_fields = ("last_name",)
    list_select_related = ("clinic",)


@admin.register(Guardianship)
class GuardianshipAdmin(admin.ModelAdmin):
    list_display = ("guardian", "child", "relation", "source", "created_at", "ended_at")
    list_select_related = ("guardian", "child")


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "birth_date", "policy_kind", "insurer", "clinic")
    search_fields = ("policy_number", "last_name")
    list_select_related = ("insurer", "clinic")
