-- bots_matching is the list's filter, in one place: the caller's live bots that have the
-- status, model and visibility asked for (null: any) and whose folded name or description
-- matches q_pattern (null: any). A SQL function of one SELECT, STABLE, is inlined into the
-- query that calls it, so each sort still walks its own index (internal/bots/plan_test.go).
CREATE FUNCTION bots_matching(caller uuid, want_status bot_status, want_model text, want_public boolean, q_pattern text)
RETURNS SETOF bots
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT * FROM bots
    WHERE owner_id = caller AND deleted_at IS NULL
      AND (want_status IS NULL OR status = want_status)
      AND (want_model IS NULL OR model = want_model)
      AND (want_public IS NULL OR is_public = want_public)
      AND (q_pattern IS NULL OR name_fold LIKE q_pattern OR description_fold LIKE q_pattern)
$$;
