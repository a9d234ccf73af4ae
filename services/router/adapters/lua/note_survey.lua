-- ARGV: now, dedupe_key, contact_id, score (1-5). A post-contact survey teaches a
-- best_outcome queue how the agent who completed the contact did (learning.lua).
-- Returns noted | duplicate | unknown (no such contact, or never answered) | not_learning
local dedupe, cid, score = ARGV[2], ARGV[3], tonumber(ARGV[4])
local c = load_contact(cid)
if not c or (c.agent or '') == '' then return 'unknown' end
if not learning_of(c.queue) then return 'not_learning' end
if not first_time(dedupe) then return 'duplicate' end
learn(c.agent, c, score, nil)
return 'noted'
