"""Cut a PostgreSQL test database's connections at random moments while a command runs."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def cutting_connections(database_url: str, rng: random.Random, first: tuple[float, float],
                        then: tuple[float, float]) -> Iterator[None]:
    """While the block runs: after a pause drawn from `first` seconds, terminate every other backend
    of `database_url`'s database, again after each pause drawn from `then`, until the block ends."""
    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    stop = threading.Event()

    def cut() -> None:
        pause = rng.uniform(*first)
        with psycopg.connect(admin, autocommit=True) as conn:
            while not stop.wait(pause):
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
                pause = rng.uniform(*then)

    cutter = threading.Thread(target=cut)
    cutter.start()
    try:
        yield
    finally:
        stop.set()
        cutter.join()
