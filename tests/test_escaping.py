"""The HTML digest escapes everything that came from a ticket, checked in a real browser
engine (headless Chromium): a subject with a script does not run, `Error <null>` reads as
written. A credential in a dropped file's name is masked in the digest."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import mail, raw
from triage.reporting.build import build_digest
from triage.reporting.data import day_window, read_period
from triage.reporting.render import render_digest, write_digest

DAY = date(2026, 11, 2)
# What the script would do if it ran: mark the page. Escaped, it is only text.
SCRIPT = "<script>document.documentElement.setAttribute('data-ran','yes')</script>"
RANSOM = (
    "All files on the share are encrypted and renamed to .locked, there is a ransom note "
    "demanding bitcoin. Ransomware!"
)
NAME_SECRET = "Hunter2!xyz-InName"


def dom_of(page: Path, tmp_path: Path) -> str:
    """The page's DOM after Chromium has loaded it and run its scripts."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is needed: apt-get install -y --no-install-recommends chromium"
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=2000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.decode()


def _fill(pipeline) -> None:
    pipeline.handle(raw(mail(f"{SCRIPT} files encrypted", RANSOM), name="script.eml"))
    pipeline.handle(raw(mail("Error <null> on every share, ransomware", RANSOM), name="null.eml"))
    # unreadable, no subject: the digest names it by where it came from
    pipeline.handle(raw(b"{not json", name=f"password={NAME_SECRET}.json"))


@pytest.mark.slow
def test_a_script_in_a_subject_does_not_run_in_the_digest_and_markup_reads_as_written(
    pipeline, store, settings, tmp_path
):
    _fill(pipeline)
    _, written = write_digest(store, settings, DAY)
    page = next(path for path in written.paths if path.suffix == ".html")
    html = page.read_text()
    assert "files encrypted" in html and SCRIPT not in html  # it is there, escaped
    dom = dom_of(page, tmp_path)
    assert 'data-ran="yes"' not in dom  # the script did not run...
    assert "&lt;script&gt;document.documentElement" in dom  # ...it shows as text
    assert "Error &lt;null&gt; on every share" in dom  # shown literally, layout intact


@pytest.mark.slow
def test_the_browser_check_would_see_an_unescaped_script_run(pipeline, store, tmp_path):
    # The same digest through the same template with escaping off: the script runs.
    _fill(pipeline)
    digest = build_digest(read_period(store, day_window(DAY, "UTC"), True))
    from triage.reporting import render

    unsafe = render._templates.overlay(autoescape=False, cache_size=0)  # the control
    page = tmp_path / "unsafe.html"
    page.write_text(unsafe.get_template("digest.html.j2").render(d=digest))
    assert 'data-ran="yes"' in dom_of(page, tmp_path)


def test_a_credential_in_a_dropped_files_name_is_masked_in_the_digest(pipeline, store):
    _fill(pipeline)
    digest = build_digest(read_period(store, day_window(DAY, "UTC"), True))
    assert any(NAME_SECRET in t.source_ref for t in digest.quarantine)  # the contract keeps it
    for text in render_digest(digest).values():
        assert NAME_SECRET not in text
        assert "password=[CREDENTIAL:" in text


def test_every_html_template_is_autoescaped_and_the_markdown_ones_are_not():
    from triage.reporting import render

    names = render._templates.list_templates()
    html = [name for name in names if name.endswith(".html.j2")]
    assert sorted(html) == ["digest.html.j2", "report.html.j2"]
    assert all(render._templates.autoescape(name) for name in html)
    assert not any(render._templates.autoescape(name) for name in names if name.endswith(".md.j2"))
