"""The WSGI application, for every server (gunicorn.conf.py: make run, bench/, production).

After Django and the URL conf (the API, its routers and schemas) are loaded, the objects they made are
moved out of the garbage collector's reach with `gc.freeze()`: they live as long as the process, and a
full collection no longer walks them. Without it, every few dozen visit batches a worker paused for a
full collection of ~190 ms (bench/sync.py, 2 cores): the p95 of a batch was ~300 ms and the pauses
cost ~20% of the sync's Python CPU; with it a full collection takes 2-3 ms.
"""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)  # import the URL conf now, not at the first request
gc.collect()
gc.freeze()
