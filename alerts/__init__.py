"""Alerts: events, routes and at-least-once delivery through apprise (arrives with the alerts issue)."""
