-- A rotated secret keeps signing for 24 hours beside the new one, so that a receiver can
-- switch to the new secret at its own pace: each delivery in that time carries both
-- signatures (Standard Webhooks: space-separated), and either verifies it.
ALTER TABLE webhooks
    ADD COLUMN previous_secret bytea,
    ADD COLUMN rotated_at timestamptz,
    ADD CONSTRAINT webhooks_rotation CHECK ((previous_secret IS NULL) = (rotated_at IS NULL));
