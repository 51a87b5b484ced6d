-- Structure (issue 12): the reason a maintainer gives when rejecting a held report
-- (POST /api/v1/reports/:id/reject, body {"reason"?}) is kept on its run. It is the
-- maintainer's own words, never shown to the reporter (who gets the fixed refusal text).

ALTER TABLE runs ADD COLUMN review_note text;
