from django.contrib import admin

from portal.directory.models import Clinic, District, Doctor, Specialty


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin[District]):
    list_display = ("name", "kind", "position")


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin[Clinic]):
    list_display = ("short_name", "district", "kind", "phone")
    list_filter = ("kind", "district")
    search_fields = ("short_name", "full_name")


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin[Specialty]):
    list_display = ("name", "code", "access", "age_group")


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin[Doctor]):
    list_display = ("last_name", "first_name", "middle_name", "specialty", "clinic", "room", "area")
    list_filter = ("specialty",)
    search_fields = ("last_name",)
    list_select_related = ("specialty", "clinic")
