"""Security incidents told by their symptoms, without the keyword, in EN/DE/FR/ES."""

from __future__ import annotations

import pytest

from triage.rules.risk import assess_risk
from triage.rules.sensitivity import scan
from triage.rules.symptoms import incidents
from triage.rules.text import TextIndex


def risk_of(text: str) -> tuple[str, tuple[str, ...]]:
    return assess_risk(TextIndex(text), scan({"body": text}), None, ())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "All documents in the Sales folder now end in .lockd and a readme_now.txt says to "
            "pay within 72 hours",
            "ransomware",
        ),
        (
            "Alle Dateien auf dem Laufwerk haben die Endung .crypt, im Ordner liegt eine "
            "Anleitung zum Entschlüsseln",
            "ransomware",
        ),
        (
            "Tous mes fichiers sont renommés avec une extension bizarre et un message demande "
            "une rançon",
            "ransomware",
        ),
        (
            "I clicked the link in the voicemail mail and typed my password on the page, then "
            "it showed nothing. Weird?",
            "credentials typed into a lure",
        ),
        (
            "Habe auf den Link geklickt und mein Passwort eingegeben, die Seite sah komisch aus",
            "credentials typed into a lure",
        ),
        (
            "Got a notice about a sign-in to my account from another country, Vietnam",
            "unusual place",
        ),
        ("Ungewöhnliche Anmeldung aus dem Ausland bei meinem Konto heute Nacht", "unusual place"),
        (
            "My phone shows MFA approval requests all evening but I was not trying to sign in",
            "second-factor",
        ),
        ("Je reçois des codes de vérification sans que je fasse quoi que ce soit", "second-factor"),
        (
            "Clients tell me they got mails from my account with a payment link; I never sent them",
            "never sent",
        ),
        ("Kunden bekommen Mails von mir, die ich nie verschickt habe", "never sent"),
        (
            "There is a forwarding rule to an outside address in my mailbox that I did not create",
            "mailbox rule",
        ),
        ("The cursor moved by itself and opened my online banking", "controlling the computer"),
        ("Meine Maus bewegt sich von selbst über den Bildschirm", "controlling the computer"),
        (
            "A man who said he was from Microsoft support called me and I let him connect with "
            "TeamViewer",
            "remote session",
        ),
        (
            "A pop-up says my computer is infected and to call the support number 0800 123 4567",
            "number to call",
        ),
        (
            "Picked up a memory stick I found in the parking lot and plugged it into my laptop",
            "USB stick",
        ),
        (
            "Ich habe einen USB-Stick auf dem Parkplatz gefunden und eingesteckt",
            "USB stick",
        ),
        (
            "Opened the zip file attached to an order mail from an unknown sender, nothing "
            "happened",
            "attachment",
        ),
        (
            "Our vendor emailed that their bank account has changed and asks us to pay the "
            "invoice to the new IBAN",
            "bank details changed",
        ),
        (
            "Le fournisseur nous informe d'un changement de coordonnées bancaires",
            "bank details changed",
        ),
        (
            "My director asked me to buy Google Play cards and send the codes, it's a surprise",
            "gift cards",
        ),
        (
            "El director pide una transferencia urgente y confidencial a un abogado hoy",
            "urgent confidential transfer",
        ),
        (
            "I emailed the payroll export to the wrong address by accident, to an outsider",
            "wrong person",
        ),
        ("Left my work laptop in a taxi last night", "public place"),
        ("J'ai oublié mon ordinateur portable dans le train", "public place"),
    ],
)
def test_incidents_told_by_their_symptoms_are_high_security_risk(text, reason):
    risk, reasons = risk_of(text)
    assert risk == "high"
    assert any(reason in r and r.startswith("security incident") for r in reasons), reasons


@pytest.mark.parametrize(
    "text",
    [
        "Please rename the file extension of our export to .csv",
        "Outlook keeps asking for my password every few minutes; I type it in and it returns",
        "New phone: the authenticator app asks me to approve but nothing arrives on the new phone",
        "I changed my bank, please update my new IBAN for my salary in the HR portal",
        "Can you buy a gift card for the team raffle? Budget approved by finance.",
        "I left my laptop at home today, can I borrow one?",
        "Please create an Outlook rule that moves newsletters to a folder",
        "My mouse stopped working, the cursor does not move",
        "Can you set up TeamViewer so I can support my colleague in Lyon?",
        "The attachment I opened in Excel is very slow to load",
        "Found my old USB headset, can you check if it works?",
        "I sent the wrong version of the file to my manager, can I recall it?",
    ],
)
def test_ordinary_tickets_with_the_same_words_are_no_incident(text):
    assert incidents(TextIndex(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "My account is sending spam to all my contacts",
        "Got a text message with a code I didn't ask for, twice tonight",
        "Someone called from 'IT' and I gave him my login details",
        "Our car was broken into and my work laptop taken",
        "I can't find my work phone since the conference yesterday",
        "Ich finde mein Diensthandy nicht mehr",
    ],
)
def test_more_wordings_of_the_same_classes_are_found(text):
    assert incidents(TextIndex(text)), text


@pytest.mark.parametrize(
    "text",
    [
        "I can't find my phone number in the directory",
        "Can't find my charger, can I borrow one?",
        "Please call me back, I can't find my password reset email",
    ],
)
def test_near_misses_of_those_classes_are_not(text):
    assert incidents(TextIndex(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "All the files on the share now have .locked at the end and a txt file wants bitcoin",
        "Mis archivos tienen una extensión rara y hay una nota pidiendo un rescate",
        "Microsoft emailed me about a sign-in from Nigeria, that wasn't me",
        "Ich bekomme ständig MFA-Anfragen im Authenticator, obwohl ich mich nicht anmelde",
        "A window popped up saying my PC is infected and I should call 0800 555 0199",
        "I let a guy from 'Microsoft' remote into my PC with AnyDesk",
        "I sent the customer list with all email addresses to the wrong recipient by mistake",
        "I opened an Excel attachment and enabled macros, from a sender I don't know",
    ],
)
def test_wordings_written_apart_from_the_detectors_are_found(text):
    assert risk_of(text)[0] == "high"


@pytest.mark.parametrize(
    "text",
    [
        "Someone from the vendor will connect via TeamViewer tomorrow to update the software",
        "A man from facilities will fix the window tomorrow",
        "Please send me the customer list export, the old one has wrong email addresses",
    ],
)
def test_their_near_misses_are_not_high(text):
    assert risk_of(text)[0] != "high"
