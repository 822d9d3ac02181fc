"""Sign-in events, sent by the identity layer and journalled by `audit` (which sits above
`accounts`: accounts does not import the journal, the journal listens)."""

from django.dispatch import Signal

# Sent with `user` (a User or None), `action` ("auth.oidc_login", ...), `target_type`,
# `target_id` and `after` (a dict without any token); receivers write in the caller's
# transaction.
sign_in_event = Signal()
