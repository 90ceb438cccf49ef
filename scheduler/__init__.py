"""Scheduling: the daemon's jobs on one APScheduler loop (arrives with the daemon issue)."""
