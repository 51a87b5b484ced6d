-- A hold can be re-opened after it was settled: a follow-up from review (issue 18) runs the
-- agent again for the same run, under a hold of its own. What a hold has used is the run's
-- ledger rows since the hold was (re)opened, so the first run's spend does not eat into a
-- follow-up's allowance or reserve. Existing holds were opened when they were created.
ALTER TABLE spend_holds ADD COLUMN opened_at timestamptz;
UPDATE spend_holds SET opened_at = created_at;
ALTER TABLE spend_holds ALTER COLUMN opened_at SET NOT NULL;
ALTER TABLE spend_holds ALTER COLUMN opened_at SET DEFAULT now();
