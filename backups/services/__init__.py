"""Writes about backups: runs, the pipeline, retention, restore, verification and drills."""
