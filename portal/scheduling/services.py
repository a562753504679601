"""The booking service: the only writer of Slot.status and Appointment.status besides slot
generation (docs/concurrency.md lists every writer; read it first).

This module is its public face; the work is split along the service's own seams:

- `booking`: a free slot becomes an appointment (`appointment_book`, the draw's booking);
- `cancellation`: an appointment ends or moves (`appointment_cancel`,
  `appointment_cancel_by_clinic`, `appointment_reschedule`) or is marked attended;
- `clinic_wide`: a doctor's absence and a new weekly schedule (`absence_record`,
  `schedule_publish`), each cancelling what the doctor no longer works;
- `arrival`: the patient checked in at the registry window on the day;
- `holds`: a free slot kept for one patient's offer or for a fair-release draw.

Entry points open the one durable transaction themselves and turn lock timeouts and
constraint violations into `BookingRefused`, so a caller never sees a database exception.
They announce what happened (`scheduling.events`); the notifications and the waitlist
listen, so this service imports neither.
"""

from portal.scheduling.arrival import appointment_mark_arrived
from portal.scheduling.booking import (
    BookingNote,
    BookingResult,
    SlotGlance,
    appointment_book,
    slot_glance,
)
from portal.scheduling.cancellation import (
    appointment_cancel,
    appointment_cancel_by_clinic,
    appointment_mark_attendance,
    appointment_reschedule,
)
from portal.scheduling.clinic_wide import (
    AbsenceResult,
    RuleDraft,
    SchedulePublished,
    absence_record,
    schedule_draft_problems,
    schedule_preview,
    schedule_publish,
    schedule_rules_after,
)
from portal.scheduling.holds import (
    slot_hold,
    slot_hold_release,
    slots_release_from_draw,
    slots_reserve_for_draw,
)

__all__ = [
    "AbsenceResult",
    "BookingNote",
    "BookingResult",
    "RuleDraft",
    "SchedulePublished",
    "SlotGlance",
    "absence_record",
    "appointment_book",
    "appointment_cancel",
    "appointment_cancel_by_clinic",
    "appointment_mark_arrived",
    "appointment_mark_attendance",
    "appointment_reschedule",
    "schedule_draft_problems",
    "schedule_preview",
    "schedule_publish",
    "schedule_rules_after",
    "slot_glance",
    "slot_hold",
    "slot_hold_release",
    "slots_release_from_draw",
    "slots_reserve_for_draw",
]
