"""What the referrals area announces (like `scheduling.events`): the notifications sit
above it and listen, so this app never calls them.

- `referral_cancelled(referral)`: sent in the cancelling transaction; the receiver's
  message commits or rolls back with the cancel.
"""

from django.dispatch import Signal

referral_cancelled = Signal()
