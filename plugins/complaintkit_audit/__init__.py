"""The tamper-evident history: ``complaintkit audit verify|seal|head`` over the hash chains the
core computes (:mod:`complaintkit.audit`)."""
