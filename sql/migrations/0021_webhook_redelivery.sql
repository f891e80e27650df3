-- A delivery can be sent again (POST .../deliveries/{id}/redeliver): a new delivery of the
-- same event to the same webhook. At most one delivery of an event to a webhook is pending at
-- a time, so that concurrent redeliveries queue the event once; the trigger that queues a new
-- event's deliveries never meets this, as each event is new.
CREATE UNIQUE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, bot_id, event_id)
    WHERE state = 'pending';
