"""Notifications for complaintkit: channels, rules, templates and delivery through the outbox."""
