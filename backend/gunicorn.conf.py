"""gunicorn settings for every way Jawla serves the API: `make run`, bench/load.py and production
(`gunicorn -c backend/gunicorn.conf.py backend.wsgi:application`). Each value can be overridden by
the environment variable named beside it, or by a command-line flag.

Threads: a request spends much of its time waiting for PostgreSQL, Redis or Pillow's C code (which
releases the GIL), so a few threads per process keep a quick request (the phone's delta sync) from
queueing behind a photo upload or a visit batch in the same process. Measured with bench/load.py on
2 cores (50 phones): me/rounds p99 85-99 ms with 4 single-threaded workers, 65-72 ms with 3-4
processes of 2-3 threads (docs/reliability.md).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("WEB_THREADS", "3"))
worker_class = "gthread"
# No keep-alive by default: behind a load balancer or a proxy the connection reuse happens there, and
# a server that closes idle connections races with clients that reuse them (a phone would see a reset).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "300"))  # exports stream for longer than the default 30 s
graceful_timeout = 10
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
