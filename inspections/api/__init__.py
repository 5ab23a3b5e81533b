"""The inspections app's routers (one module each) and their schemas (api/schemas/); backend/api.py
mounts them by dotted path."""
