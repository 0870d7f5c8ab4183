"""The link in an invitation email (a new office's welcome, or a teammate's invitation): the dashboard
page that accepts the invitation token and lets the person set a password."""

from __future__ import annotations

from urllib.parse import urlencode


def invitation_link(dashboard_url: str, token: str) -> str:
    return f"{dashboard_url.rstrip('/')}/register?{urlencode({'token': token})}"
