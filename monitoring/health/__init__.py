"""The portal's own health: checks, the application/health+json answer and the dashboard summary.

Thresholds for the background processes (beat and workers), from their last pulse:
  pass  while the pulse is at most half the allowed age old (beat pulses every 5 s,
        workers every 15 s, so half of the default 120 s is a dozen or four missed pulses);
  warn  between half the allowed age and the allowed age: late, but work still runs;
  fail  beyond HEALTH_BEAT_MAX_AGE / HEALTH_WORKER_MAX_AGE, or when none ever pulsed.
"""
