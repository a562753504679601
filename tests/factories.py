"""factory_boy factories shared by every test package."""

import datetime

import factory
from django.utils import timezone

from portal.demo import dates
from portal.directory.models import Clinic, District, Doctor, Specialty
from portal.identity.models import User
from portal.patients.models import Guardianship, InsuranceCompany, Patient


def born(years: int, days: int = 0) -> datetime.date:
    """A birth date ``years`` and ``days`` before today in the region: ages never go stale."""
    return dates.born(years, days, anchor=timezone.localdate())


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Тестовый район {n}")
    kind = District.Kind.DISTRICT


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    district = factory.SubFactory(DistrictFactory)
    short_name = factory.Sequence(lambda n: f"Поликлиника № {n}")
    full_name = factory.LazyAttribute(lambda o: f"ОГБУЗ «{o.short_name}»")
    address = "Иркутская обл., г. Иркутск, ул. Ленина, д. 1"
    phone = "+7 (3952) 00-00-00"
    kind = Clinic.Kind.MIXED


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialty
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"spec-{n}")
    name = factory.Sequence(lambda n: f"Специальность {n}")
    access = Specialty.Access.DIRECT
    age_group = Specialty.AgeGroup.ALL


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Doctor

    clinic = factory.SubFactory(ClinicFactory)
    specialty = factory.SubFactory(SpecialtyFactory)
    last_name = "Смирнов"
    first_name = "Олег"
    middle_name = "Петрович"
    room = "101"


class InsuranceCompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsuranceCompany
        django_get_or_create = ("code",)

    code = "38001"
    name = "АО «Страховая компания «СОГАЗ-Мед»"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"esia-{1000400000 + n}")
    esia_oid = factory.Sequence(lambda n: str(1000400000 + n))


class PatientFactory(factory.django.DjangoModelFactory):
    """An ESIA account holder (adult by default) with a patient record."""

    class Meta:
        model = Patient

    user = factory.SubFactory(
        UserFactory,
        last_name=factory.SelfAttribute("..last_name"),
        first_name=factory.SelfAttribute("..first_name"),
    )
    esia_oid = factory.SelfAttribute("user.esia_oid")
    last_name = "Иванова"
    first_name = "Анна"
    middle_name = "Петровна"
    birth_date = factory.LazyFunction(lambda: born(38, 262))
    sex = "F"
    policy_kind = "3"
    policy_number = factory.Sequence(lambda n: f"{n:016d}")
    insurer = factory.SubFactory(InsuranceCompanyFactory)
    clinic = factory.SubFactory(ClinicFactory)
    area = "5"


class ChildFactory(PatientFactory):
    """A child under 14: no account of its own."""

    user = None
    esia_oid = None
    last_name = "Иванова"
    first_name = "Мария"
    middle_name = "Ивановна"
    birth_date = factory.LazyFunction(lambda: born(11, 30))


class GuardianshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardianship

    guardian = factory.SubFactory(PatientFactory)
    child = factory.SubFactory(ChildFactory)
    relation = Guardianship.Relation.DAUGHTER
    source = Guardianship.Source.MANUAL
    # The `guardian` persona is a verified parent; tests of unverified ones say so.
    verified_at = factory.LazyFunction(timezone.now)
    verified_how = Guardianship.Verification.CLINIC


# --- scheduling (issue 5) ----------------------------------------------------------


class SlotFactory(factory.django.DjangoModelFactory):
    """A free slot that is open for booking: tomorrow-ish, opened yesterday."""

    class Meta:
        model = "scheduling.Slot"

    doctor = factory.SubFactory(DoctorFactory)
    starts_at = factory.Sequence(
        lambda n: (
            datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
            + datetime.timedelta(days=1, minutes=20 * n)
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=20))
    # Opened yesterday, however far the sequence has pushed starts_at: a fixed offset from
    # the start made the hundred-and-somethingth slot of a test run "not open yet".
    opens_at = factory.LazyFunction(
        lambda: datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    )
    status = "free"


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "scheduling.Appointment"

    slot = factory.SubFactory(SlotFactory, status="booked")
    patient = factory.SubFactory(PatientFactory)
    booked_by = factory.LazyAttribute(lambda o: o.patient.user)
    specialty = factory.LazyAttribute(lambda o: o.slot.doctor.specialty)
    starts_at = factory.LazyAttribute(lambda o: o.slot.starts_at)
    ends_at = factory.LazyAttribute(lambda o: o.slot.ends_at)
    ticket_number = factory.Sequence(lambda n: f"T{n:09d}")
    idempotency_key = factory.Faker("uuid4", cast_to=None)


# --- referrals (issue 21) ------------------------------------------------------------


class ReferralFactory(factory.django.DjangoModelFactory):
    """An active referral, issued today by the patient's own clinic, valid 30 days."""

    class Meta:
        model = "referrals.Referral"

    number = factory.Sequence(lambda n: f"0001-TEST-{n:06d}")
    patient = factory.SubFactory(PatientFactory)
    specialty = factory.SubFactory(
        SpecialtyFactory, access=Specialty.Access.REFERRAL, code="neuro-ref", name="Невролог"
    )
    issuer_clinic = factory.LazyAttribute(lambda o: o.patient.clinic)
    issued_on = factory.LazyFunction(lambda: timezone.localdate())
    valid_until = factory.LazyAttribute(lambda o: o.issued_on + datetime.timedelta(days=30))
    reason = "Головные боли"
