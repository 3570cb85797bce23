"""The queue: procrastinate on the service's own PostgreSQL database.

Why procrastinate: MinSeal needs PostgreSQL anyway at county scale; a queue in the same database adds no broker to
run, back up or secure, and an item can be enqueued in the same database as the batch that holds it. Jobs are rows
taken with ``FOR UPDATE SKIP LOCKED``; workers send heartbeats, and a job whose worker stopped sending them (killed,
machine gone) is put back on the queue by any live worker (:func:`requeue_stalled`), where the item's own
idempotency makes the re-run safe.

One job per batch item; a worker process runs one item at a time (rendering and signing are CPU-bound: run one
worker process per core), with fonts, templates, stylesheets and keys loaded once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy

from api.services.batches import MAX_ATTEMPTS, BatchService
from api.services.container import Services
from api.storage.engine import is_postgres
from signer.errors import ConflictError

QUEUE = "minseal-batches"
TASK = "minseal.batch_item"
log = logging.getLogger("minseal.jobs")


def _run_item(context: JobContext, batch_id: str, number: int) -> None:
    runner: BatchService = context.additional_context["runner"]
    runner.run_item(batch_id, number)


def conninfo(database_url: str) -> str:
    """SQLAlchemy's URL → libpq's (procrastinate talks to psycopg directly)."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url.removeprefix(prefix)
    return database_url


def require_postgres(database_url: str) -> None:
    if not is_postgres(database_url):
        raise ConflictError("后台批量任务需要 PostgreSQL 数据库（设置 MINSEAL_DATABASE_URL）；"
                            "嵌入式 SQLite 下请用 minseal batch … 在本进程中直接运行", code="QUEUE_NEEDS_POSTGRESQL")


def build_app(database_url: str) -> App:
    """A procrastinate App bound to the database (built by composition roots, never at import time)."""
    require_postgres(database_url)
    app = App(connector=PsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=4))
    app.task(name=TASK, queue=QUEUE, pass_context=True,
             retry=RetryStrategy(max_attempts=MAX_ATTEMPTS, wait=2))(_run_item)
    return app


def enqueue(database_url: str, batch_id: str, numbers: list[int]) -> int:
    """Put items on the queue (sync: the CLI and the HTTP worker threads call it); returns how many."""
    if not numbers:
        return 0
    app = build_app(database_url)
    with app.open():
        task = app.tasks[TASK]
        for start in range(0, len(numbers), 1000):
            chunk: list[dict[str, Any]] = [{"batch_id": batch_id, "number": n} for n in numbers[start:start + 1000]]
            task.batch_defer(*chunk)
    return len(numbers)


async def requeue_stalled(app: App, *, stalled_after_s: float) -> int:
    """Jobs left 'doing' by a worker that stopped sending heartbeats go back to 'todo'."""
    stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after_s)
    count = 0
    for job in stalled:
        with contextlib.suppress(Exception):  # another worker re-queued it first
            await app.job_manager.retry_job(job)
            count += 1
            log.warning("re-queued job %s (batch item %s) from a stalled worker", job.id, job.task_kwargs)
    await app.job_manager.prune_stalled_workers(stalled_after_s)
    return count


def run_worker(services: Services, *, concurrency: int = 1, until_empty: bool = False,
               on_start: Callable[[Services], None] | None = None) -> None:
    """A worker process: the process's services (fonts, templates, keys loaded once), then items until stopped
    (SIGINT/SIGTERM finish the running item first) or, with ``until_empty``, until the queue is empty."""
    settings = services.settings
    services.prepare()
    if on_start is not None:
        on_start(services)
    runner = services.batches
    app = build_app(services.db.url)

    async def main() -> None:
        async with app.open_async():
            worker = asyncio.create_task(app.run_worker_async(
                queues=[QUEUE], concurrency=concurrency, wait=not until_empty, delete_jobs="never",
                additional_context={"runner": runner}, update_heartbeat_interval=settings.worker_heartbeat_s,
                stalled_worker_timeout=settings.worker_stalled_after_s, listen_notify=True,
                fetch_job_polling_interval=min(5.0, settings.worker_heartbeat_s)))
            while not worker.done():
                with contextlib.suppress(Exception):
                    await requeue_stalled(app, stalled_after_s=settings.worker_stalled_after_s)
                await asyncio.wait({worker}, timeout=settings.worker_heartbeat_s)
            await worker

    try:
        asyncio.run(main())
    finally:
        services.close()

