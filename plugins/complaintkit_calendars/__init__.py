"""complaintkit first-party plugin: business calendars (24x7, China, countries, custom)."""
