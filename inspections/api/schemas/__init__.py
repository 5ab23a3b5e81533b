"""The inspections API's request and response schemas, one module per router.

Service inputs that are not only an API body (the visit sync payload, amendment changes) live with
the services (inspections/services/inputs.py); the API basics (errors, paginator, StrictIn, ISO types)
in backend/api_basics.py."""
