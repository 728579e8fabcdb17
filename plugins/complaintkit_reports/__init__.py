"""complaintkit first-party plugin."""
