"""Fixtures for escalation tests: loopback receivers and an SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from escalation.receivers import HttpReceiver, SmtpSink, self_signed_cert
from escalation.samples import SMTP_PASSWORD, SMTP_USER


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp(tls_files: tuple[Path, Path]) -> Iterator[SmtpSink]:
    sink = SmtpSink(*tls_files, user=SMTP_USER, password=SMTP_PASSWORD).start()
    try:
        yield sink
    finally:
        sink.stop()

