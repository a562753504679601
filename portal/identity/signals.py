"""What the ESIA login announces to the apps above it (docs/architecture.md, «Layers»).

``esia_person_received(patient_id, addresses)``: sent in the login's transaction with the
person's ESIA addresses (`services.esia_addresses`), which `home_visits` keeps to offer
on its form; identity itself stores none of them.
"""

from django.dispatch import Signal

esia_person_received = Signal()
