"""The structure of a lure: who it claims to be and who sent it, where its links really go,
which letters it is written in, what it attaches. Each sign is said in words for the reasons.
"""

from __future__ import annotations

import email.utils
import functools
import re
import unicodedata
from collections.abc import Sequence

from triage.rules.lure.records import Suspect
from triage.ticket import Link

# The weakest structural sign: people's mail programs show nicknames too.
UNRELATED_NAME = "a display name unrelated to the sender's address"
# Signs that the letters were chosen to dodge filters: spam on their own.
EVASIVE = ("styled unicode letters", "words spelt out", "a word mixing")

# Brands lures most often claim (sender display names): the claim is checked against the
# sender's own domain, so naming a brand is not itself evidence.
_BRANDS = (
    "microsoft", "office 365", "office365", "outlook", "onedrive", "sharepoint", "azure",
    "windows", "apple", "icloud", "google", "gmail", "amazon", "prime", "paypal", "netflix",
    "spotify", "facebook", "meta", "instagram", "whatsapp", "linkedin", "dropbox", "docusign",
    "adobe", "zoom", "dhl", "ups", "fedex", "usps", "dpd", "gls", "hermes", "royal mail",
    "la poste", "colissimo", "correos", "chase", "wells fargo", "bank of america", "citibank",
    "hsbc", "barclays", "santander", "sparkasse", "volksbank", "commerzbank", "deutsche bank",
    "bbva", "caixabank", "american express", "amex", "visa", "mastercard", "coinbase",
    "binance", "metamask", "trezor", "ledger", "electrum", "kraken", "norton", "mcafee",
    "avast", "geek squad", "walmart", "costco", "ebay", "t-mobile", "verizon", "at&t",
    "vodafone", "telekom", "orange", "movistar", "irs", "hmrc", "webmail", "helpdesk",
    "help desk", "it support", "it-support", "administrator", "mail admin", "postmaster",
)  # fmt: skip
_BRAND = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(b) for b in _BRANDS) + r")(?![\w-])", re.IGNORECASE
)
# Hosting where anyone can put up a page or a sender in a minute, and link shorteners.
_THROWAWAY_HOSTS = (
    "ddns.net", "duckdns.org", "no-ip.org", "firebaseapp.com", "web.app", "appspot.com",
    "herokuapp.com", "ngrok.io", "ngrok-free.app", "workers.dev", "pages.dev", "netlify.app",
    "vercel.app", "glitch.me", "repl.co", "weebly.com", "wixsite.com", "godaddysites.com",
    "000webhostapp.com", "blogspot.com", "r2.dev", "ipfs.io", "azurewebsites.net",
    "web.core.windows.net", "blob.core.windows.net", "storage.googleapis.com",
    "s3.amazonaws.com", "bit.ly", "tinyurl.com", "is.gd", "rebrand.ly", "cutt.ly",
    "shorturl.at", "t.ly", "rb.gy", "biz.id", "run.app", "onrender.com", "fly.dev",
    "surge.sh", "translate.goog",
)  # fmt: skip
_CHEAP_TLDS = frozenset(
    "xyz top best click icu buzz cyou rest bar monster cfd sbs quest autos beauty hair lol"
    " mom skin boats tk ml ga cf gq su zip mov".split()
)
_RISKY_ATTACHMENT = re.compile(
    r"\.(html?|shtml|svg|iso|img|vhd|zip|rar|7z|gz|cab|exe|scr|com|pif|bat|cmd|js|jse|vbs"
    r"|vbe|wsf|hta|lnk|msi|jar|ps1|one|docm|xlsm|pptm)$",
    re.IGNORECASE,
)
_URL = re.compile(r"\bhttps?://([^\s/<>\"'?#)\]]+)", re.IGNORECASE)
# Link text written as a web address ("https://...", "www...."): a site's bare name ("News.com")
# above a newsletter's tracking redirect is no claim.
_DOMAINISH = re.compile(
    r"^(?:https?://(?:www\.)?|www\.)((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/:?#].*)?$", re.IGNORECASE
)
# "text <https://target>" as plain-text renderings of HTML links write them.
_PLAIN_LINK = re.compile(
    r"((?:https?://|www\.)[^\s<>]{3,200})\s*<(https?://[^>\s]{3,2000})>", re.IGNORECASE
)
_ADDRESS = re.compile(r"[\w.+!#$&'*/=?^`{|}~-]{1,200}@(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}", re.I)
_FREEMAIL = frozenset(
    "gmail googlemail yahoo ymail hotmail outlook live msn aol proton protonmail gmx web mail"
    " yandex icloud me zoho".split()
)
_HEADER_LINE = re.compile(r"^\s*\*?(?:From|To|Cc|Von|An|De|À|A|Para|Da|Reply-To)\s?:", re.I)
_ANY_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SPACED_LETTERS = re.compile(r"(?:(?<!\S)[A-Za-z](?:\s+|\s*[.-]\s*)){5,}")
_LOOKALIKE_LETTER = re.compile("[\u0370-\u03ff\u0400-\u04ff]")
_MATH_LETTERS = re.compile("[\U0001d400-\U0001d7ff]")
# Words with a non-ASCII letter among ASCII ones (the rest is told by the letters' names).
_MIXED_CANDIDATE = re.compile(r"\b(?=\w*[a-zA-Z])(?=\w*[\u0370-\u03ff\u0400-\u04ff])\w{3,}\b")
_LEET = str.maketrans("0134579", "oleastg")
_SECOND_LEVEL = frozenset("co com org net ac gov edu ne or go gob".split())


def structural_signals(suspect: Suspect, own: frozenset[str] = frozenset()) -> list[str]:
    """The signs of a lure in a mail's structure, in words for the reasons."""
    found: list[str] = []
    domain = domain_of(suspect.sender)
    claim = (
        None
        if domain and org_name(domain) in own
        else brand_claim(suspect.sender_name, suspect.sender)
    )
    if claim:
        found.append(claim)
    malformed = _malformed_sender(suspect.from_header, suspect.sender)
    if malformed:
        found.append(malformed)
    if domain and org_name(domain) not in own:
        odd_sender = _odd_host(domain) or _obfuscated_domain(domain)
        if odd_sender:
            found.append(f"sent from {odd_sender} ({domain[-60:]})")
        elif (
            not claim
            and _brand_like(suspect.sender_name)
            and unrelated_name(suspect.sender_name, suspect.sender)
        ):
            found.append(UNRELATED_NAME)
    elsewhere = reply_elsewhere(suspect.text, domain)
    if elsewhere:
        found.append(elsewhere)
    disguised = disguised_text(suspect.text)
    if disguised:
        found.append(disguised)
    mismatch = link_mismatch(suspect.links, suspect.text, org_name(domain) if domain else "")
    if mismatch:
        found.append(mismatch)
    hosts = [host for host in link_hosts(suspect.links, suspect.text) if org_name(host) not in own]
    odd = next((host for host in hosts if _odd_host(host)), None)
    if odd:
        found.append(f"a link to {_odd_host(odd)} ({odd})")
    risky = next(
        (
            a.filename
            for a in suspect.attachments
            if a.filename and _RISKY_ATTACHMENT.search(a.filename)
        ),
        None,
    )
    if risky:
        found.append(f"an attachment that runs or renders code ({risky[-40:]})")
    return found


def _malformed_sender(header: str | None, address: str | None) -> str | None:
    """A From that no honest mail program writes: no address, several, two @, odd
    characters."""
    if header is not None and len(_ANY_ADDRESS.findall(header)) > 1:
        return "a sender line with several addresses"
    if not address:
        return "a sender without an address" if header is not None else None
    if address.count("@") > 1:
        return "a sender address with two @"
    if not _ADDRESS.fullmatch(address):
        return f"a malformed sender address ({address[-60:]})"
    return None


def _obfuscated_domain(domain: str) -> str | None:
    labels = domain.split(".")
    if sum(len(label) == 1 for label in labels) >= 3 or len(labels) >= 7:
        return "a domain of many throw-away labels"
    return None


_GENERIC_NAME_WORDS = frozenset(
    "team support service services info news newsletter noreply no reply customer customers"
    " notification notifications alert alerts the at from via and der die das le la el los"
    " les of for mail admin office department dept center centre club online group update"
    " updates account accounts billing security sales marketing contact hello mr mrs ms dr"
    " de du des von und et y".split()
)  # fmt: skip


# Words that make a display name an organisation's, not a person's.
_ORG_WORD = re.compile(
    r"\b(team|support|service|services|customer|care|notifications?|notifica\w*|alerts?"
    r"|security|billing|accounts?|bank|banco|banque|department|center|centre|desk|admin"
    r"|system|partners?|rewards?|loyalty|delivery|shipping|post|verification|payout|wallet"
    r"|official|club|shop|store|treatment|pharmacy|kundenservice|kundendienst|équipe"
    r"|equipo|soporte)\b",
    re.IGNORECASE,
)


def _brand_like(name: str | None) -> bool:
    """A display name that reads as an organisation's (one word, or organisation words), not
    a person's first and last name."""
    if not name:
        return False
    return _ORG_WORD.search(name) is not None or len(re.findall(r"\w+", name)) == 1


def unrelated_name(name: str | None, address: str | None) -> bool:
    """A display name of which no word occurs in the address (person names do: jane.doe@,
    jdoe@; brands do: Acme <news@acme.com>)."""
    if not name or not address or "@" in name:
        return False
    plain = re.sub(r"[^a-z0-9]", "", _fold(address))
    words = [w for w in re.findall(r"[a-z]{3,}", _fold(name)) if w not in _GENERIC_NAME_WORDS]
    if not words:
        return False
    if any(word in plain or word[:4] in plain for word in words):
        return False
    initials = "".join(w[0] for w in words)
    return not (len(initials) >= 2 and initials in plain)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


def reply_elsewhere(text: str, sender_domain: str | None) -> str | None:
    """The mail asks to be answered at a free-mail address that is not its sender's (an
    address in a header line of a forwarded block does not count)."""
    head = text[:20_000]
    if "@" not in head:
        return None
    for match in _ANY_ADDRESS.finditer(head):
        domain = match.group(0).rsplit("@", 1)[1].lower()
        if org_name(domain) not in _FREEMAIL or domain == sender_domain:
            continue
        line_start = head.rfind("\n", 0, match.start()) + 1
        if not _HEADER_LINE.match(head, line_start):
            return f"asks for answers at another, free-mail address ({domain})"
    return None


def disguised_text(text: str) -> str | None:
    """Letters chosen to slip past filters: a word mixing Latin with Cyrillic or Greek
    lookalikes, or 'mathematical' styled letters."""
    head = text[:20_000]
    if _SPACED_LETTERS.search(head[:2000]):
        return "words spelt out in spaced letters"
    if head.isascii():
        return None
    if _MATH_LETTERS.search(head):
        return "styled unicode letters that dodge filters"
    if not _LOOKALIKE_LETTER.search(head):
        return None
    for word in _MIXED_CANDIDATE.findall(head):
        scripts = {_script(ch) for ch in word if ch.isalpha()}
        if "latin" in scripts and scripts & {"cyrillic", "greek"}:
            return f"a word mixing Latin and lookalike letters ({word[:30]})"
    return None


def _script(ch: str) -> str:
    if ch.isascii():
        return "latin"
    name = unicodedata.name(ch, "")
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("GREEK"):
        return "greek"
    return "other"


def brand_claim(name: str | None, address: str | None) -> str | None:
    """A display name that claims a brand or another address than the sender's own."""
    domain = domain_of(address)
    if not name or not domain:
        return None
    shown = email.utils.parseaddr(name)[1] if "@" in name else ""
    if shown and "@" in shown and org_name(domain_of(shown) or "") != org_name(domain):
        return f"a display name showing another address ({shown[-60:]})"
    match = _BRAND.search(name.replace("®", "").replace("™", ""))
    if match is None:
        return None
    brand = re.sub(r"[\s&-]", "", match.group(1).lower())
    if brand in re.sub(r"[.-]", "", domain.lower()):
        return None
    if org_name(domain) in re.sub(r"[\s.&-]", "", name.lower()):
        return None  # "Acme Apple Digest <news@acme.com>": the sender names itself too
    return f"a display name claiming {match.group(1)} sent from {domain}"


def link_mismatch(links: Sequence[Link], text: str = "", sender_org: str = "") -> str | None:
    """Link text that names a web address other than where the link goes (a redirect
    through the sender's own domain, as newsletters count clicks, is no lie)."""
    pairs = [(link.text, link.href) for link in links]
    pairs += [(m.group(1), m.group(2)) for m in _PLAIN_LINK.finditer(text[:100_000])]
    for shown, href in pairs:
        named = _DOMAINISH.match(shown.strip())
        target = host_of(href)
        if named is None or target is None:
            continue
        if org_name(target) == sender_org:
            continue
        if org_name(named.group(1)) != org_name(target):
            return f"link text naming {named.group(1)[:60]} that leads to {target[:60]}"
    return None


def link_hosts(links: Sequence[Link], text: str = "") -> list[str]:
    hosts = [host for link in links if (host := host_of(link.href))]
    hosts += [m.group(1).lower() for m in _URL.finditer(text[:100_000])]
    return list(dict.fromkeys(hosts))[:100]


def host_of(href: str) -> str | None:
    match = _URL.match(href.strip())
    if match is None:
        return None
    return match.group(1).rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".") or None


def domain_of(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip(" .>").lower() or None


@functools.lru_cache(maxsize=4096)
def org_name(domain: str) -> str:
    """The name a domain's owner registered: `kestrel-logistics` for mail.kestrel-logistics.de
    and for kestrel-logistics.co.uk (the organisation, whatever its country domain)."""
    labels = [label for label in domain.lower().strip(".").split(".") if label]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        labels = labels[:-1]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


def _throwaway(host: str) -> bool:
    return any(host == h or host.endswith("." + h) for h in _THROWAWAY_HOSTS)


def _odd_host(host: str) -> str | None:
    """Why a link target is odd: an address, punycode, throw-away hosting, a cheap TLD, or a
    brand's name inside someone else's domain."""
    if re.fullmatch(r"[\d.]+", host):
        return "a bare IP address"
    if "xn--" in host:
        return "a punycode (lookalike) domain"
    if _throwaway(host):
        return "throw-away hosting"
    if host.rsplit(".", 1)[-1] in _CHEAP_TLDS:
        return "a throw-away top-level domain"
    name = org_name(host)
    plain = name.translate(_LEET)
    for brand in ("paypal", "microsoft", "office365", "outlook", "apple", "icloud", "amazon",
                  "netflix", "docusign", "dropbox", "google", "linkedin", "facebook", "dhl",
                  "fedex", "coinbase", "binance", "metamask", "wellsfargo", "chase"):  # fmt: skip
        if brand in plain and name != brand:
            return "a lookalike of a brand's domain"
    return None
