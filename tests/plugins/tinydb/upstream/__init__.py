"""TinyDB's own test suite, run against complaintkit's storage (see SOURCE.md)."""
