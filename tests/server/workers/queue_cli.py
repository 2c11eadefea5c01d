"""A command line to the queue for the live worker tests, run in the environment of the worker under test.

``python -m tests.server.workers.queue_cli enqueue '<json list of [job, kwargs]>'`` and ``... status``.
"""

from __future__ import annotations

import json
import sys

import msgspec

from yapdns.server.setup import setup_django


def main(argv: list[str]) -> None:
    setup_django()
    from django_tasks_db.models import DBTaskResult

    from tests.server.workers import sample_jobs
    from yapdns.server.workers import services

    if argv[0] == "enqueue":
        for name, kwargs in json.loads(argv[1]):
            getattr(sample_jobs, name).enqueue(**kwargs)
        return
    rows = [
        {"task": r.task_path.rsplit(".", 1)[1], "status": r.status, "workers": r.worker_ids,
         "kwargs": r.args_kwargs["kwargs"], "error": r.exception_class_path}
        for r in DBTaskResult.objects.order_by("enqueued_at")
    ]
    status = msgspec.to_builtins(services.queue_status())
    print(json.dumps({"rows": rows, "status": status}))


if __name__ == "__main__":
    main(sys.argv[1:])
