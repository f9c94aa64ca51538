"""Business impact in business words, and someone else's data visible to a user
(triage.rules.impact): tables of examples written for this file, EN/DE/FR/ES."""

from __future__ import annotations

import pytest

from triage.rules.impact import business_impact, exposed_data
from triage.rules.risk import assess_risk
from triage.rules.sensitivity import scan
from triage.rules.text import TextIndex


@pytest.mark.parametrize(
    "text",
    [
        "Since the update nobody in dispatch can print labels, shipping has stopped.",
        "Our warehouse is at a standstill, the scanners don't talk to the WMS.",
        "The Leeds plant cannot book production orders since 7:00.",
        "This outage will affect 300 users in the call centre.",
        "This hits 100's of field sales staff who cannot sync.",
        "The fire alarm panel lost its network link, no alerting right now.",
        "All invoicing jobs in the ERP have been failing for hours.",
        "Die Auftragsbearbeitung ist seit heute früh nicht mehr möglich.",
        "Im Werk Süd steht die Fertigung still.",
        "Les expéditions sont bloquées depuis ce matin à l'entrepôt.",
        "La facturación está paralizada desde las ocho.",
        "No podemos enviar pedidos: el almacén está parado.",
    ],
)
def test_a_stopped_business_process_is_business_impact(text):
    assert business_impact(TextIndex(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "I can't log in to the sales dashboard.",  # one person
        "I ordered a new mouse, can you tell me when it arrives?",
        "Ich kann keine Aufträge drucken, der Drucker zeigt Papierstau.",  # ich kann
        "Impossible de me connecter au portail des ventes.",  # de me: one person
        "Our company has 400 employees in three offices.",  # a number, nothing affected
        "Please add the plant manager to the distribution list.",
        "The monthly sales report attached, as discussed.",
    ],
)
def test_one_persons_trouble_or_business_words_alone_are_not_business_impact(text):
    assert business_impact(TextIndex(text)) is None


@pytest.mark.parametrize(
    "text",
    [
        "Since this morning I can see another user's mailbox in my Outlook.",
        "A confidential payroll folder shows up in my OneDrive, it is not mine.",
        "Ich sehe das Postfach einer anderen Kollegin aus der Personalabteilung.",
        "Je vois les fichiers d'un autre service dans mon dossier partagé.",
        "Puedo ver el buzón de otro usuario en mi Outlook.",
    ],
)
def test_someone_elses_mailbox_or_files_visible_is_a_security_incident(text):
    assert exposed_data(TextIndex(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Please give me access to the shared mailbox of the sales team.",
        "I can see my own files again, thanks!",
        "The other printer is visible in the list but does not print.",
    ],
)
def test_asking_for_access_or_seeing_ones_own_files_is_no_exposure(text):
    assert exposed_data(TextIndex(text)) is None


def test_business_impact_makes_the_risk_high():
    index = TextIndex("Die Auftragsbearbeitung ist seit heute früh nicht mehr möglich.")
    risk, reasons = assess_risk(index, scan({"body": index.text}), None, ())
    assert risk == "high" and "business impact: a business process stops" in reasons
