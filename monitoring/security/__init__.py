"""Application security events: what an application (or the portal itself, for its own login
lockouts) records about attacks on it, kept one row per event so rules can count them by
kind and address. Browser security reports (CSP, Expect-CT) are not here: they are grouped
into error issues of category "security" (monitoring.errors.security) and routed by the
error rules' categories."""
