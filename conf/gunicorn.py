"""gunicorn's configuration for TracPro: `gunicorn -c conf/gunicorn.py`.

Everything can be moved from the environment (the systemd unit reads it from
the environment file), so the same file serves production behind nginx and a
load test on loopback:

    GUNICORN_BIND             address to listen on (default 127.0.0.1:8000; nginx proxies to it)
    WEB_CONCURRENCY           worker processes (default 2 per core + 1)
    GUNICORN_TIMEOUT          seconds a request may take before its worker is replaced (default 120)
    GUNICORN_MAX_REQUESTS     requests before a worker is recycled (default 1000; 0 never)
    GUNICORN_ACCESS_LOG       where the access log goes (default "-", standard output)
    GUNICORN_FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted
                              (default 127.0.0.1,::1)
"""

import multiprocessing
import os
from pathlib import Path

wsgi_app = "tracpro.wsgi:application"
# The checkout this file belongs to, wherever gunicorn is started from.
chdir = str(Path(__file__).resolve().parent.parent)

bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
# Synchronous workers: each page is a few database queries, nginx buffers slow
# clients, and the CPU is the limit, so 2 per core plus one waiting on I/O.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# CSV exports of a large org stream for a while; anything longer is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
keepalive = 5
# Recycling workers bounds the memory a leak or a huge page can hold on to.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 1000)
max_requests_jitter = max_requests // 10
# Heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"
proxy_allow_ips = forwarded_allow_ips

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
# Combined log format, with the client address nginx saw, the host (the org)
# and the time taken in milliseconds.
access_log_format = (
    '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
    "host=%({host}i)s ms=%(M)s"
)
proc_name = "tracpro-web"
