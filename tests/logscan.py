"""A pytest plugin: every log record written during the suite is scanned for resident identity numbers.

A handler on the root logger (installed at configure time, root level lowered to INFO if it was higher, as in
production) checks each formatted record, traceback included, for GB 11643-valid numbers and keeps the offenders
(redacted). ``tests/test_no_id_numbers_in_logs.py`` runs last and asserts there were none, and also scans the log
files that controller subprocesses wrote under the run's temporary directory.
"""

from __future__ import annotations

import logging

import pytest

from controller.logs import redact, valid_ids

SCAN_MODULE = "tests/test_no_id_numbers_in_logs.py"


class IdScanHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records = 0
        self.offenders: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            text = f"{record.msg!r} {record.args!r}"
        self.records += 1
        if valid_ids(text) and len(self.offenders) < 50:
            self.offenders.append(redact(text)[:300])


SCANNER = IdScanHandler()


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    if SCANNER not in root.handlers:
        root.addHandler(SCANNER)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_unconfigure(config: pytest.Config) -> None:
    logging.getLogger().removeHandler(SCANNER)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The scan runs after every other test of the session."""
    last = [i for i in items if i.nodeid.startswith(SCAN_MODULE)]
    if last:
        items[:] = [i for i in items if not i.nodeid.startswith(SCAN_MODULE)] + last
