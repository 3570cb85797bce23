"""Batch work on a real queue (issue 12): a county-wide round of certificates, every village's 公示, re-sealing.

``batches`` holds the use cases (create a batch, run one item idempotently, report progress); ``queue`` puts items
on procrastinate (PostgreSQL-backed, so the queue is the database we already run) and runs workers; ``inputs``
reads the item lists (CSV or JSON).
"""
