"""gunicorn settings for Guichet (systemd unit and container): `gunicorn -c deploy/gunicorn.conf.py wsgi:app`."""

import os

bind = os.environ.get("GUICHET_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUICHET_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUICHET_THREADS", "4"))
# a page never takes this long; a stuck worker is replaced
timeout = 60
graceful_timeout = 30
# gunicorn's access log stays off: the application writes one masked JSON line per request
accesslog = None


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    # Prometheus multiprocess mode (PROMETHEUS_MULTIPROC_DIR): forget a dead worker's live gauges
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
