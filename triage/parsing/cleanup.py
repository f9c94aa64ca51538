"""Reduce a message body to the requester's own words: no quoted replies, no signature,
pasted logs lifted out for slicing."""

from __future__ import annotations

import bisect
import re

from triage.rules.sensitivity import keep_whole
from triage.rules.starts import lower_reads_as_ignorecase

# A line that starts the quoted original of a reply, in the languages helpdesks see most.
_REPLY_HEADER = re.compile(
    r"""^\s*(?:
        On\s.{4,240}\swrote:
      | Am\s.{4,240}\sschrieb.{0,80}:
      | Le\s.{4,240}\sa\s[ée]crit\s?:
      | El\s.{4,240}\sescribi[óo]:
      | -{2,}\s*(?:Original\s+Message|Urspr[üu]ngliche\s+Nachricht|Message\s+d'origine
                 |Mensaje\s+original)\s*-{2,}
      | _{20,}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Outlook puts "From: ... Sent: ..." (or its translation) above the original.
OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Da)\s?:\*?\s", re.IGNORECASE)
OUTLOOK_SENT = re.compile(
    r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoy[ée]|Enviado(?:\s+el)?|Fecha)\s?:", re.IGNORECASE
)
_SIGNATURE = re.compile(
    r"""^\s*(?:
        --\s?
      | (?:Sent|Envoy[ée]|Enviado)\s(?:from|de|desde)\s(?:my|mon|mi)\s.{0,40}
      | Von\smeinem\s.{0,40}\sgesendet
      | Get\sOutlook\sfor\s.{0,20}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_LOG_LINE = re.compile(
    r"""^\s*+(?:
        \[?\d{4}-\d{2}-\d{2}[T\s]\d{2}:\d{2}          # 2024-05-01 12:00 / ISO 8601
      | \[?\d{2}[/.-]\d{2}[/.-]\d{2,4}\s\d{2}:\d{2}   # 01/05/2024 12:00
      | [A-Z][a-z]{2}\s{1,2}\d{1,2}\s\d{2}:\d{2}:\d{2} # syslog: May  1 12:00:00
      | \d{2}:\d{2}:\d{2}[.,]\d+                       # 12:00:00.123
      | \d{10}(?:\.\d+)?\s                             # epoch seconds
      | (?:ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL|CRITICAL|TRACE)\b
      | \[(?:error|warn|warning|info|debug|notice|crit|alert|emerg)\]
      | (?<=\s)at\s[\w$.<>]++\(                        # Java stack frame
      | Traceback\s\(most\srecent\scall\slast\)
      | File\s"[^\n]+",\sline\s\d+
    )""",
    re.VERBOSE,
)
_MIN_LOG_RUN = 5
QUOTED_LINES = 200
QUOTED_CHARS = 8192
# How the lines that the patterns above look for can begin (lower-cased, after indentation):
# checking this first spares a regular expression on most lines.
_SPECIAL_STARTS = tuple(
    "on |am |le |el |--|__|sent|envoy|enviado|von |get |from|von:|de:|de :|da:|*|>".split("|")
)

_DISCLAIMER = re.compile(
    r"""(?isx)
        (confidential|vertraulich|confidentiel|confidencial|privileged)
        .{0,300}
        (intended|bestimmt|destinataire|destinatario|addressee|adressat|empfänger)
      | (received|erhalten|reçu|recibido)\s.{0,40}(in\serror|irrtümlich|par\serreur|por\serror)
      | (irrtümlich|fälschlicherweise|versehentlich)\s.{0,40}erhalten
    """
)
# One-line antivirus stamps ("scanned for viruses", Avast's "Virus-free"): words like "virus"
# and "malware" in them are no report of an infection.
_AV_FOOTER = re.compile(
    r"""(?imx)^[^\w\n]*+(?:
        (?=[^\n]*\b(?:scanned|checked|swept|geprüft|überprüft|gescannt|vérifié|analysé
                     |comprobado|analizado|revisado|escaneado)\b)
        (?:this|diese[rs]?|ce|cette|este|esta)\s+(?:e-?mail|message|mail|nachricht|courriel
           |correo(?:\s+electr[oó]nico)?|mensaje)\b[^\n]{0,120}?
        (?:virus|viruses|viren|malware|anti-?virus|avast|avg)
      | virus[- ]?free\b
      | no\svirus\sfound\b
    )[^\n]*\n?"""
)


_AV_WORDS = ("virus", "viren", "malware", "avast", "avg")
_DISCLAIMER_WORDS = (
    "confidential",
    "vertraulich",
    "confidentiel",
    "confidencial",
    "privileged",
    "error",
    "irrtümlich",
    "erreur",
)


# One of these is in every text _DISCLAIMER finds (the first word of each of its branches).
_DISCLAIMER_OPENERS = (
    "confidenti",
    "vertraulich",
    "confidencial",
    "privileged",
    "received",
    "erhalten",
    "reçu",
    "recibido",
    "irrtümlich",
    "fälschlicherweise",
    "versehentlich",
)


def strip_disclaimers(text: str) -> str:
    """Drop legal-disclaimer paragraphs and antivirus stamps: boilerplate whose words would
    trip the keyword rules."""
    lower = text.lower()
    if any(word in lower for word in _AV_WORDS):
        text = _AV_FOOTER.sub("", text)
        lower = text.lower()
    if not any(word in lower for word in _DISCLAIMER_WORDS):
        return text  # the common case: nothing to look for, no regular expression run
    paragraphs = re.split(r"\n\s*\n", text)
    kept = [p for p in paragraphs if len(p) < 40 or not _is_disclaimer(p)]
    return "\n\n".join(kept) if kept else text


def _is_disclaimer(paragraph: str) -> bool:
    lower = paragraph.lower()
    if not any(word in lower for word in _DISCLAIMER_WORDS):
        return False
    if lower_reads_as_ignorecase(paragraph, lower) and not any(
        word in lower for word in _DISCLAIMER_OPENERS
    ):
        return False  # none of the words a disclaimer's pattern begins with: spare the search
    return bool(_DISCLAIMER.search(paragraph))


def clean_body(text: str, max_chars: int) -> tuple[str, list[str]]:
    """The requester's words (quotes, signature, disclaimers and pasted logs removed), cut to
    max_chars."""
    body, logs, _ = clean_body_parts(text, max_chars)
    return body, logs


def clean_body_parts(text: str, max_chars: int) -> tuple[str, list[str], str]:
    """clean_body, and the quoted original and signature it took away (their header blocks
    and signatures hold addresses and numbers the sensitivity scan must see)."""
    own, quoted = split_quotes(keep_whole(text, max_chars * 4))
    body, logs = split_pasted_logs(strip_disclaimers(own))
    if len(body) > max_chars:
        cut = len(body) - max_chars
        body = keep_whole(body, max_chars).rsplit(" ", 1)[0] + f"\n[... {cut} more characters cut]"
    return body, logs, quoted


def strip_quotes(text: str) -> str:
    """Cut the quoted original and the signature; keep the text if nothing would remain."""
    return split_quotes(text)[0]


def split_quotes(text: str) -> tuple[str, str]:
    """The text without its quoted original and signature, and what was taken away; the text
    is kept whole if nothing would remain.

    A reply header followed by ">"-quoted lines only hides those lines (the answer may come
    below them); followed by unquoted text, it starts the original: the rest is cut."""
    lines = text.splitlines()
    special = _special_lines(lines)
    kept: list[str] = []
    removed: list[str] = []
    index = 0
    while index < len(lines):
        # the lines up to the next one that can start a quote or a signature are kept as they are
        after = bisect.bisect_left(special, index)
        following_special = special[after] if after < len(special) else len(lines)
        kept.extend(lines[index:following_special])
        index = following_special
        if index == len(lines):
            break
        line = lines[index]
        header_lines = _reply_header_lines(lines, index)
        if header_lines:
            following = next((line for line in lines[index + header_lines :] if line.strip()), "")
            if following.lstrip().startswith(">"):
                removed.extend(lines[index : index + header_lines])
                index += header_lines
                continue
            break
        if _SIGNATURE.match(line):
            break
        if OUTLOOK_FROM.match(line) and any(
            OUTLOOK_SENT.match(following) for following in lines[index + 1 : index + 5]
        ):
            break
        (removed if line.lstrip().startswith(">") else kept).append(line)
        index += 1
    stripped = _tidy("\n".join(kept))
    if not stripped:
        return _tidy(text), ""
    # what was taken, up to QUOTED_CHARS: header blocks and signatures come first
    removed.extend(lines[index : index + QUOTED_LINES])
    return stripped, keep_whole("\n".join(line for line in removed if line.strip()), QUOTED_CHARS)


def _special_lines(lines: list[str]) -> list[int]:
    """The numbers of the lines that begin (after blanks, lower-cased) like a line the
    patterns above look for, in order (one comprehension: the loop in split_quotes then
    looks at these lines only)."""
    return [
        number
        for number, line in enumerate(lines)
        if line.lstrip()[:7].lower().startswith(_SPECIAL_STARTS)
    ]


def _reply_header_lines(lines: list[str], index: int) -> int:
    """1 or 2 when a reply header ("On ... wrote:") starts at this line, else 0."""
    if _REPLY_HEADER.match(lines[index]):
        return 1
    joined = (
        lines[index].rstrip() + " " + lines[index + 1].strip() if index + 1 < len(lines) else ""
    )
    return 2 if len(lines[index]) < 240 and joined and _REPLY_HEADER.match(joined) else 0


def split_pasted_logs(text: str) -> tuple[str, list[str]]:
    """Lift runs of log-shaped lines out of a body; leave a marker where each was."""
    lines = text.splitlines()
    log_shaped = [_LOG_LINE.match(line) is not None for line in lines]  # each line once
    if not any(log_shaped):
        return "\n".join(lines), []
    body: list[str] = []
    logs: list[str] = []
    index = 0
    while index < len(lines):
        if not log_shaped[index]:
            body.append(lines[index])
            index += 1
            continue
        # A run: log-shaped lines, allowing single continuation lines between them.
        end, last_log = index, index
        while end < len(lines) and (
            log_shaped[end] or (end == last_log + 1 and lines[end].strip())
        ):
            if log_shaped[end]:
                last_log = end
            end += 1
        run = lines[index : last_log + 1]
        if sum(log_shaped[index : last_log + 1]) >= _MIN_LOG_RUN:
            logs.append("\n".join(run))
            body.append(f"[pasted log: {len(run)} lines, see the log slice]")
        else:
            body.extend(run)
        index = last_log + 1
    return "\n".join(body), logs


def _tidy(text: str) -> str:
    # Each substitution only where it has something to do: a substring test is far cheaper
    # than a pattern that opens with a look-behind.
    if " \n" in text or "\t\n" in text:
        text = re.sub(r"(?<![ \t])[ \t]++\n", "\n", text)
    if "\n\n\n" in text:
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
