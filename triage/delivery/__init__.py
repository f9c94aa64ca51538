"""Delivery of results beyond the outbox: the mail relay to a helpdesk system, webhooks.

`plan.plan_deliveries` decides (pure) what goes where; `queue` keeps each delivery as a row
in the store, made in the transaction that commits the result; `sender.Sender` works the rows
off through a `Transport` (`smtp.SmtpTransport`, `webhook.WebhookTransport`)."""
