from __future__ import annotations

import io
import json

import structlog

from triage.logs import SecretMasker, configure_logging, crash_site


def test_configured_secrets_are_masked_in_every_log_line():
    stream = io.StringIO()
    configure_logging("info", "json", secrets=["s3cret-imap-pw"], stream=stream)
    structlog.get_logger("t").warning("imap.login", detail="server said s3cret-imap-pw is wrong")
    line = json.loads(stream.getvalue())
    assert line["detail"] == "server said *** is wrong"
    assert "s3cret" not in stream.getvalue()


def test_json_lines_when_asked_and_levels_filter():
    stream = io.StringIO()
    configure_logging("warning", "json", stream=stream)
    structlog.get_logger("t").info("quiet")
    structlog.get_logger("t").error("loud", n=1)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["event"], line["level"], line["n"]) == ("loud", "error", 1)
    assert "timestamp" in line


def test_short_values_are_never_treated_as_secrets():
    masker = SecretMasker(["ab"])
    assert masker(None, "info", {"event": "tab"}) == {"event": "tab"}


def test_a_crash_is_described_by_type_and_place_never_by_its_message():
    try:
        int("the ticket body says hunter2")
    except ValueError as exc:
        site = crash_site(exc)
    assert site["error_type"] == "ValueError" and "test_logs.py" in site["where"]
    assert "hunter2" not in repr(site)


def test_library_errors_are_logged_but_watchdogs_stop_noise_is_not():
    import logging

    stream = io.StringIO()
    configure_logging("info", "json", stream=stream)
    inotify = logging.getLogger("watchdog.observers.inotify")
    inotify.error("InotifyEmitter.queue_events() called when the thread is inactive")
    inotify.error("inotify watch limit reached")
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["event"] == "inotify watch limit reached" and line["level"] == "error"
