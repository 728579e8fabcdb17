"""Fixtures: real SMTP and HTTP servers, a TLS certificate, a project with complaintkit.toml."""

from notify_support import certificate, http, project, smtp

__all__ = ["certificate", "http", "project", "smtp"]
