"""PostgreSQL: scheduler leadership through a session-level advisory lock, on top of the lease.

The lease row alone makes a successor wait until a dead leader's lease runs out (``ttl``,
a minute by default). On PostgreSQL every scheduler also tries ``pg_try_advisory_lock`` on a
dedicated connection. The server releases that lock the moment the holder's connection dies
(a killed process closes its socket), so a scheduler that *newly* gets the lock knows the
previous leader is gone and takes the lease over at once, without waiting for its expiry.
The takeover still raises the lease epoch, so the fencing of every send is unchanged: the dead
leader's claims are recovered by epoch and a former leader that was merely frozen cannot send.

A process that holds the lock but finds the lease led by someone else (it was frozen past its
lease and a standby took over the expired lease the ordinary way) gives the lock up and stands
by, so the lock and the lease never stay apart. SQLite has no such lock: it keeps the lease.
"""

from __future__ import annotations

import logging
import threading
from enum import Enum

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

#: the advisory lock key ("mmsched" as a number); advisory locks are per database
LOCK_KEY = 0x6D6D_7363_6865_64


class Lock(Enum):
    NONE = "none"    # another process holds it (or the database is unreachable)
    FRESH = "fresh"  # just acquired: whoever held it before is gone - take the lease over now
    HELD = "held"    # still held since an earlier poll


class AdvisoryLeadership:
    """The advisory lock of one scheduler process; thread-safe (jobs run in threads)."""

    def __init__(self, engine: Engine, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None
        self._mutex = threading.Lock()
        #: held by the caller around "poll, then take or renew the lease", so two jobs of this
        #: process starting at once never see the lock FRESH and HELD against a half-taken lease
        self.deciding = threading.Lock()

    @classmethod
    def for_engine(cls, engine: Engine) -> AdvisoryLeadership | None:
        return cls(engine) if engine.dialect.name == "postgresql" else None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def poll(self) -> Lock:
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.exec_driver_sql("SELECT 1")
                    return Lock.HELD
                except DBAPIError:
                    log.warning("scheduler leadership: the lock connection died")
                    self._discard()
            try:
                conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except DBAPIError:
                return Lock.NONE
            try:
                got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}))
            except DBAPIError:
                conn.invalidate()
                conn.close()
                return Lock.NONE
            if not got:
                conn.close()
                return Lock.NONE
            self._conn = conn
            return Lock.FRESH

    def release(self) -> None:
        """Give the lock up (clean shutdown, or the lease is led by someone else)."""
        with self._mutex:
            if self._conn is None:
                return
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.close()
            except DBAPIError:
                self._discard()
            self._conn = None

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never hand a connection holding the lock back to the pool
                conn.close()
            except Exception:  # noqa: BLE001 - it is gone either way
                pass


__all__ = ["LOCK_KEY", "AdvisoryLeadership", "Lock"]
