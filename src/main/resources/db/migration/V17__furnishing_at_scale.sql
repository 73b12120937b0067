-- Furnishing at national scale (issue 17).
--
-- 1. The foreign key tradelines.member_id -> members checked every inserted row with its own
--    SELECT ... FOR KEY SHARE on members (about 30 us of the ~50 us a row cost). A chunk of a batch
--    has one member, so furnishing.FurnishingService takes that same lock once per chunk
--    (MEMBER: SELECT 1 FROM members WHERE id = $1 FOR KEY SHARE, held to the commit; no member
--    row, no line applied). The other half of the foreign key, that a member with tradelines cannot
--    be deleted or renamed, is this trigger on members: a DELETE or an UPDATE of id waits for the
--    chunks holding the member's row, then sees their committed tradelines and is refused with the
--    foreign key's own SQLSTATE (23503). Member isolation does not rest on the foreign key (every
--    statement names the authenticated member_id); what changes is only where the existence check
--    runs. tradelines is written only by FurnishingService (and the demo seeder and tests, as the
--    owner, for existing members).
ALTER TABLE tradelines DROP CONSTRAINT tradelines_member_id_fkey;

CREATE FUNCTION members_keep_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id)
     AND EXISTS (SELECT 1 FROM tradelines WHERE member_id = OLD.id) THEN
    RAISE EXCEPTION 'member % has tradelines', OLD.id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER members_keep_referenced BEFORE DELETE OR UPDATE OF id ON members
  FOR EACH ROW EXECUTE FUNCTION members_keep_referenced();

-- 2. V15's notification triggers ran a PL/pgSQL call for every furnished row, though only a row that
--    turns negative (or whose sequence someone tries to set) needs it. The same functions, fired only
--    then: for every other row the function would have left the sequence as it was (NULL on insert,
--    OLD's on update), which is exactly what not firing does. Nothing else changes.
DROP TRIGGER tradelines_negative_seq ON tradelines;
CREATE TRIGGER tradelines_negative_seq BEFORE INSERT ON tradelines FOR EACH ROW
  WHEN (NEW.status IN ('DEFAULTED', 'WRITTEN_OFF') OR NEW.negative_seq IS NOT NULL)
  EXECUTE FUNCTION notifications_tradeline_turn();
CREATE TRIGGER tradelines_negative_seq_update BEFORE UPDATE ON tradelines FOR EACH ROW
  WHEN (NEW.status IN ('DEFAULTED', 'WRITTEN_OFF') OR NEW.negative_seq IS DISTINCT FROM OLD.negative_seq)
  EXECUTE FUNCTION notifications_tradeline_turn();
DROP TRIGGER repayments_late_seq ON repayments;
CREATE TRIGGER repayments_late_seq BEFORE INSERT ON repayments FOR EACH ROW
  WHEN (NEW.days_past_due > 0 OR NEW.late_seq IS NOT NULL)
  EXECUTE FUNCTION notifications_repayment_turn();
CREATE TRIGGER repayments_late_seq_update BEFORE UPDATE ON repayments FOR EACH ROW
  WHEN (NEW.days_past_due > 0 OR NEW.late_seq IS DISTINCT FROM OLD.late_seq)
  EXECUTE FUNCTION notifications_repayment_turn();
