"""Login protection: django-axes locks an address and, across addresses, an account.

A feature folder of its own (not monitoring/common/) because it has the shape of one: a
service that records lockouts as security events, a selector for locked accounts, and an
admin. Axes loads the handler from settings (AXES_HANDLER), so nothing here needs a signal.
"""
