"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_WORKERS, ...), so one file
serves a laptop and a large host.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads keep a worker busy while another request waits on the database; processes use the
# cores. Two workers per core with four threads each suits this I/O-bound service.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# Without SO_REUSEPORT one worker can accept every keep-alive connection while the others
# idle; with it, the kernel spreads connections across workers.
reuse_port = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Recycle workers now and then so a slow leak can never grow without bound. Not often: a
# recycled worker drops its keep-alive connections and starts cold (about 1 s of CPU to
# import, then empty statement caches). At 10,000 the bench saw a worker recycled every
# minute or so, each time a dip in throughput and a spike in p99, while worker memory stayed
# flat (99-115 MB over 1.6 M requests).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 100_000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 10_000))
# The app writes one JSON line per request itself; gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's largest limit: the app itself refuses URLs over 4,096 characters with a problem
# (telehealth.guards), so gunicorn's HTML 414 only meets request lines over 8 KiB.
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


#: The cyclic garbage collector's young-generation threshold: a page of fifty records makes
#: thousands of objects, and at the default (700 allocations) a request ran several young
#: collections and now and then a full one through every object the app imported - the
#: long tail of the latency. Measured under the bench's load (wrk, 16 connections): check-in
#: list p99 155 -> 88 ms, session list 192 -> 108 ms, list throughput +15%.
GC_YOUNG_THRESHOLD = int(os.environ.get("GUNICORN_GC_YOUNG_THRESHOLD", 50_000))


def post_worker_init(worker: object) -> None:
    """Once the worker has imported the app: freeze what it imported (modules, models,
    schemas, routes: never garbage) out of the collector's reach, and collect young objects
    less often. Cycles are still collected; only less often and over less."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 100)
