-- An endpoint that keeps failing is disabled, and its owner can see why. failing_since is
-- when the current run of failed attempts began (null while the last attempt succeeded);
-- the worker's record of each attempt keeps it (WebhookDeliveryRecord) and disables the
-- webhook once it is older than WEBHOOK_DISABLE_AFTER, saying when (disabled_at) and why
-- (disabled_reason). Enabling the webhook again clears the three.
ALTER TABLE webhooks
    ADD COLUMN failing_since   timestamptz,
    ADD COLUMN disabled_at     timestamptz,
    ADD COLUMN disabled_reason text,
    ADD CONSTRAINT webhooks_disabled CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL));
