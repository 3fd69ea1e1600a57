"""No identity number in any log line: the records of this whole pytest session (scanned by ``tests.logscan``, this
module runs last) and the log files controller subprocesses wrote; plus the production log format's redaction."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from controller.logs import MASK, JsonFormatter, RedactFilter, setup, valid_ids
from tests.conftest import resident_id
from tests.logscan import SCANNER


def test_the_json_log_lines_mask_identity_numbers_in_messages_arguments_and_tracebacks() -> None:
    number = resident_id("19850612", sex="female")
    assert valid_ids(number) == [number]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    log = logging.getLogger("test.redaction")
    log.propagate = False  # this test writes a number on purpose: keep it out of the suite-wide scan
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("registered %s", number, extra={"stay_id": "stay-1"})
        log.warning(f"inline {number.lower()} and a short 12345 stays")
        try:
            raise ValueError(f"bad card {number}")
        except ValueError:
            log.exception("reader failed")
    finally:
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        json.loads(line)
        assert number not in line and number.lower() not in line and not valid_ids(line)
    first = json.loads(lines[0])
    assert first["msg"] == f"registered {MASK}" and first["stay_id"] == "stay-1" and first["level"] == "INFO"
    assert "12345" in lines[1] and MASK in json.loads(lines[2])["exc"]


def test_setup_writes_json_lines_to_the_given_stream() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        setup("INFO", stream)
        logging.getLogger("controller.test").info("hello %s", "world")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    assert json.loads(stream.getvalue().splitlines()[-1])["msg"] == "hello world"


def test_no_identity_number_was_logged_during_the_suite(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert SCANNER in logging.getLogger().handlers, "the log scan plugin is not installed"
    before = SCANNER.records
    logging.getLogger("controller.logscan").info("log scan reached the end of the suite")
    assert SCANNER.records == before + 1  # the scanner sees what the controller's loggers write
    assert SCANNER.offenders == [], "identity numbers in log records:\n" + "\n".join(SCANNER.offenders)
    base = Path(tmp_path_factory.getbasetemp())
    files = [p for p in base.rglob("*.log") if p.is_file()]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if valid_ids(text):
            found.append(str(path.relative_to(base)))
    assert found == [], f"identity numbers in subprocess log files: {found}"
