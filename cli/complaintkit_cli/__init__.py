"""The complaintkit command line."""
