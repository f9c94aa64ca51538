"""The content classes of lures and spam, by multilingual words (EN, DE, FR, ES, PT): each
a Concept, found wherever in the lead of a mail its words stand."""

from __future__ import annotations

from triage.rules.concepts import concept

REQUEST = concept(
    "asks for credentials, payment or gift cards",
    [
        # en
        "password", "passcode", "verify your", "verify account", "confirm your", "validate your",
        "update your", "sign in", "log in", "login", "credentials", "bank details",
        "card details", "payment details", "billing information", "credit card", "gift card*",
        "wire transfer", "bank transfer", "seed phrase", "recovery phrase", "wallet",
        "social security", "reactivate", "unlock your", "restore access",
        # de
        "passwort", "kennwort", "zugangsdaten", "bestätigen sie", "verifizieren",
        "aktualisieren sie", "anmelden", "bankdaten", "kreditkarte", "gutschein*", "überweisung",
        # fr
        "mot de passe", "identifiants", "confirmez", "vérifiez", "valider votre",
        "mettre à jour", "connectez vous", "coordonnées bancaires", "carte bancaire",
        "carte cadeau", "virement",
        # es / pt
        "contraseña", "verifique", "confirme", "actualice", "iniciar sesión", "datos bancarios",
        "tarjeta de crédito", "tarjeta regalo", "transferencia", "senha", "atualize",
        "confirme seus", "cartão", "dados bancários",
    ],
)  # fmt: skip
PRETEXT = concept(
    "an account, delivery, invoice or renewal pretext",
    [
        # account
        "suspended", "suspension", "deactivated", "disabled", "locked", "restricted",
        "unusual activity", "unusual sign in", "mailbox is full", "storage is full",
        "storage full", "quota", "account will be", "verification required", "expired",
        "expires", "expiring", "expiration", "renewal", "renew", "subscription",
        "protection has expired", "security alert", "security notice",
        # delivery
        "parcel", "package", "shipment", "delivery", "tracking", "customs", "courier",
        # invoice, documents
        "invoice", "payment", "overdue", "outstanding", "refund", "receipt", "transaction",
        "document", "documents", "docusign", "e-signature", "shared a file", "shared with you",
        "voicemail", "fax",
        # de
        "gesperrt", "deaktiviert", "eingeschränkt", "abgelaufen", "läuft ab", "verlängerung",
        "abonnement", "paket", "sendung", "zustellung", "lieferung", "zoll", "rechnung",
        "zahlung", "mahnung", "rückerstattung", "dokument",
        # fr
        "suspendu", "suspendue", "bloqué", "bloquée", "expiré", "expire", "renouvellement",
        "abonnement", "colis", "livraison", "douane", "facture", "paiement", "remboursement",
        # es / pt
        "suspendida", "bloqueada", "caducado", "vencido", "renovación", "suscripción", "paquete",
        "envío", "entrega", "aduana", "factura", "pago", "reembolso", "documento", "encomenda",
        "fatura", "pagamento", "assinatura", "conta", "bloqueio",
    ],
)  # fmt: skip
PRIZE = concept(
    "a prize, a reward or a windfall",
    [
        "winner", "you won", "you have won", "you've won", "prize", "reward", "rewards",
        "congratulations", "claim your", "gift card", "giveaway", "cash prize", "lottery",
        "sweepstake*", "inheritance", "beneficiary", "next of kin", "donat*",
        "compensation", "unclaimed", "gewinner", "gewonnen", "gewinnen sie", "gratulieren",
        "herzlichen glückwunsch", "belohnung", "gutschein", "erbschaft", "gagnant",
        "vous avez gagné", "félicitations", "récompense", "carte cadeau", "héritage", "ganador",
        "ha ganado", "premio", "felicidades", "recompensa", "herencia", "ganhou", "prêmio",
        "parabéns", "recompensa", "cadeaukaart", "gefeliciteerd",
    ],
)  # fmt: skip
BAIT = concept(
    "bait: a bonus, crypto, cheap money or pills",
    [
        "free spins", "bonus", "casino", "jackpot", "bitcoin", "crypto*", "btc", "usdt", "nft",
        "airdrop", "investment", "investimento", "investimentos", "million", "millions", "loan",
        "mortgage", "credit score", "dating", "singles", "viagra", "weight loss", "pills",
        "exclusive offer", "limited offer", "porn*", "sex", "sexy", "erotik", "erotic",
        "érotique", "nudes", "hot singles", "make love",
    ],
)  # fmt: skip
PRESSURE = concept(
    "pressure to act now",
    [
        "urgent", "urgently", "immediately", "immediate action", "action required",
        "within 24 hours", "within 48 hours", "24 hours", "48 hours", "final notice",
        "last chance", "last reminder", "act now", "today only", "expires today",
        "limited time", "don't miss", "before it's too late", "dringend", "sofort",
        "umgehend", "letzte chance", "letzte mahnung", "innerhalb von 24", "dernier rappel",
        "immédiatement", "dernière chance", "urgente", "inmediatamente", "última oportunidad",
        "imediatamente", "última chance",
    ],
)  # fmt: skip
ADVERT = concept(
    "an advert",
    [
        "unsubscribe", "opt out", "opt-out", "manage preferences", "email preferences",
        "special offer", "exclusive offer", "limited offer", "discount", "% off", "free shipping",
        "order now", "buy now", "shop now", "best price", "lowest price", "deal", "deals",
        "abmelden", "abbestellen", "newsletter abbestellen", "angebot", "rabatt", "gratis",
        "désabonner", "désinscrire", "se désinscrire", "désinscription", "offre", "promo",
        "promotion", "darse de baja", "cancelar suscripción", "oferta", "descuento",
        "descadastrar", "promoção",
    ],
    pattern=r"\d\s?%\s?(?:off|rabatt|de descuento|de réduction)",
)  # fmt: skip
