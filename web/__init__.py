"""The researcher web UI: server-rendered pages, a read-only JSON API, exports and feeds (Starlette)."""
