"""A credential in a dropped file's name: the result keeps the path (the contract's
`source_ref`), but the `.error` note and the logs mask what the scan finds."""

from __future__ import annotations

import io
import json
import threading

import structlog

from connectors.dropfolder import DropFolder
from tests.test_dropfolder import STARTED, _stop_started_folders, drop, wait_for  # noqa: F401
from triage.compose.app import dropfolder_options
from triage.logs import configure_logging
from triage.quarantine import find_input, note_of

SECRET = "Hunter2!xyz-InName"
NAME = f"report password={SECRET}.json"


def test_the_error_note_of_a_quarantined_file_masks_a_credential_in_its_name(
    settings, pipeline, store
):
    folder = DropFolder(dropfolder_options(settings), pipeline, threading.Event())
    folder.prepare()
    thread = threading.Thread(target=folder.run, daemon=True)
    thread.start()
    STARTED.append((folder._stop, thread))
    drop(folder.options.inbox, NAME, b"{not json")
    moved = folder.options.failed / NAME
    wait_for(lambda: note_of(moved).exists())
    note = note_of(moved).read_text()
    assert SECRET not in note and "password=[CREDENTIAL:" in note
    [ticket_id] = [line.split()[1] for line in note.splitlines() if line.startswith("id: ")]
    assert find_input(folder.options.failed, ticket_id) == moved  # replay still finds it
    result = store.get_result(ticket_id)
    assert result is not None and result.source_ref.endswith(NAME)  # the contract keeps it


def test_log_lines_mask_credentials_card_numbers_and_ibans_in_any_field():
    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    log = structlog.get_logger("t")
    log.warning("dropfolder.retry_later", file=f"/srv/in/{NAME}", why="busy")
    log.info(
        "x.y",
        detail="card 4111 1111 1111 1111 and DE89 3704 0044 0532 0130 00",
        files=[f"/srv/in/{NAME}"],
    )
    try:
        raise OSError(f"cannot move /srv/in/{NAME}")
    except OSError:
        log.exception("dropfolder.move_failed")
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    assert SECRET not in text and "4111 1111" not in text and "DE89 3704" not in text
    assert lines[0]["file"].startswith("/srv/in/report password=[CREDENTIAL:")
    assert "[CARD]" in lines[1]["detail"] and "[IBAN]" in lines[1]["detail"]
    assert lines[1]["files"][0].startswith("/srv/in/report password=[CREDENTIAL:")


def test_a_library_message_through_the_standard_logging_is_masked_too():
    import logging

    stream = io.StringIO()
    configure_logging("info", "json", stream=stream)
    logging.getLogger("some.library").error("opened /srv/in/%s", NAME)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert SECRET not in line["event"] and "password=[CREDENTIAL:" in line["event"]
