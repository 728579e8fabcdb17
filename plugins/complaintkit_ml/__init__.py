"""complaintkit_ml: trainable model schemes (the ``ml`` extra)."""
