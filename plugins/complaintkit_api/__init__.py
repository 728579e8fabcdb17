"""The HTTP API (``complaintkit serve``) and its tokens (``complaintkit token``).

Installed with the ``api`` extra (``pip install 'complaintkit[api]'``: FastAPI and uvicorn);
nothing here imports them until the server is built. See docs/api.md.
"""
