-- preconditions_hold is the ETag precondition of every conditional write, in one place: the
-- row whose version is version may be written when
--   check_version is false (no If-Match, or If-Match: *), or version is one of versions (the
--   versions that If-Match lists), and
--   version is none of except_versions (the versions that If-None-Match lists; empty without
--   it). If-None-Match: * refuses every existing row: check_version with no versions.
-- A write whose precondition fails changes nothing. A SQL function of one SELECT, IMMUTABLE,
-- not STRICT and with no SET clause, is inlined into the query that calls it: its plan holds
-- the expression and no call (internal/bots/plan_test.go).
CREATE FUNCTION preconditions_hold(version bigint, check_version boolean, versions bigint[], except_versions bigint[])
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (NOT check_version OR version = ANY (versions)) AND version <> ALL (except_versions)
$$;
