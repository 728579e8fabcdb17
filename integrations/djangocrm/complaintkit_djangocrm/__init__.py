"""Complaint handling for DjangoCRM (``django-crm-admin``), on complaintkit.

Add ``"complaintkit_djangocrm"`` to ``INSTALLED_APPS`` after the CRM's apps: the contact and
company pages of the CRM then have a *Register complaint* button and a list of their
complaints, and the CRM gets a *Complaints* page where its users handle them (status, labels,
deadlines, history and the next allowed actions). The complaints are kept by complaintkit's SQL
backend in the CRM's own database; the CRM's users are the actors of their history. See
docs/djangocrm.md.
"""

__version__ = "0.1.0"
