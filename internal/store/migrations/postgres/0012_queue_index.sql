-- Alliance schema, version 12: an index of the analyst queue (items routed,
-- not assessed), in the order the queue is read, so that a queue page costs
-- the page and not the backlog. Items leave it when assessed.

CREATE INDEX items_analyst_queue ON items (route_org, created_at, id)
    WHERE status = 'routed' AND takedown_status = '';
