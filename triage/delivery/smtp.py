"""The relay's SMTP client: one connection kept open while there is mail to send. A delivery
counts as sent only on the server's 250 after DATA; 5xx is permanent, the rest transient."""

from __future__ import annotations

import smtplib
import ssl

import structlog

from triage.config.delivery import RelayConfig
from triage.errors import DeliveryError
from triage.records import Delivery
from triage.records import DeliveryKind as Kind

log = structlog.get_logger("triage.delivery.smtp")

# An enabled relay with no server: refused at start, said by `triage check`.
RELAY_HOST_EMPTY = "[relay] host is empty: set it to the SMTP server of the helpdesk"


class SmtpTransport:
    kind: Kind = "smtp"

    def __init__(
        self, config: RelayConfig, kind: Kind = "smtp", envelope_from: str | None = None
    ) -> None:
        """`kind`: the deliveries it sends ("ack": the acknowledgements, with their own
        sender and connection); `envelope_from`: MAIL FROM, [relay] from when None, ""
        for the null sender <> of an auto-reply (RFC 3834 3.3: nothing bounces back)."""
        self._config = config
        self.kind = kind
        self._envelope_from = config.sender if envelope_from is None else envelope_from
        self._smtp: smtplib.SMTP | None = None

    def limits(self, delivery: Delivery) -> tuple[float, float]:
        """(retry cap in seconds, give up after hours)."""
        return self._config.retry_cap_seconds, self._config.give_up_hours

    def destinations(self) -> tuple[str, ...]:
        """One sender for all routes: they share the one relay server and its connection."""
        return ()

    def send(self, delivery: Delivery) -> None:
        try:
            smtp = self._smtp or self._connect()
            self._smtp = smtp
            # RFC 6152: 8-bit content is declared where the server takes it (most mail is).
            smtp.ehlo_or_helo_if_needed()
            eight_bit = not delivery.payload.isascii() and smtp.has_extn("8bitmime")
            refused = smtp.sendmail(
                self._envelope_from,
                list(delivery.recipients),
                delivery.payload,
                mail_options=["BODY=8BITMIME"] if eight_bit else [],
            )
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"every recipient refused: {_replies(exc.recipients)}",
                permanent=all(500 <= code < 600 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            error = exc.smtp_error
            message = (error.decode("utf-8", "replace") if isinstance(error, bytes) else error)[
                :300
            ]
            raise DeliveryError(
                f"{exc.smtp_code} {message}", permanent=500 <= exc.smtp_code < 600
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300], permanent=False) from None
        if refused:  # some recipients took it: those are done, the rest is logged
            log.warning("relay.recipients_refused", key=delivery.key, refused=_replies(refused))

    def reach(self) -> None:
        """For `triage check`: connect, TLS, login and NOOP, then hang up. Raises what
        connecting raises (smtplib.SMTPException, ssl.SSLError, OSError)."""
        smtp = self._connect()
        try:
            smtp.noop()
        finally:
            smtp.close()

    def idle(self) -> None:
        """Nothing due: hang up rather than hold the server's connection."""
        self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        smtp: smtplib.SMTP
        if config.tls == "none":
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
            return self._login(smtp)
        context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
        if config.tls == "ssl":
            smtp = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        try:
            if config.tls == "starttls":
                smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return self._login(smtp)

    def _login(self, smtp: smtplib.SMTP) -> smtplib.SMTP:
        config = self._config
        try:
            if config.username and config.password is not None:
                smtp.login(config.username, config.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{rcpt}: {code} {reply.decode('utf-8', 'replace')[:120]}"
        for rcpt, (code, reply) in refused.items()
    )
