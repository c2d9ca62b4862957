
-- tickq_p1_reclaim: take back jobs from dead workers. Entries idle in the
-- group's pending list for longer than the claim timeout belong to a worker
-- that stopped renewing its claims (live supervisors renew them with
-- tickq_p1_touch); each counts as a crashed attempt of the worker that
-- held it (worker_of its consumer; the reclaimer when the owner is unknown). Consumers with nothing
-- pending that have been idle as long are deleted, so the group does not
-- grow with every restart. An entry that is not a job (job_of) is acked
-- and deleted.
-- keys: streams. args[10..]: reclaimer consumer name, min idle ms, error
-- text, and optionally the history stream the rows go to (flush_history)
-- Returns {jobs reclaimed, consumers removed, then per job: id, type, queue,
-- new state, attempts, error, then (when a job was reclaimed) one array of
-- the jobs' run numbers} (one trailing element, so a supervisor from before
-- runs existed, which counts six elements per job, reads the same jobs);
-- when a history stream was given (only callers from after the stream give
-- one), the array always, then the number of history rows appended (two
-- trailing elements: the same jobs for every reader; the caller can tell a
-- library from before the stream, which writes no rows).
local function reclaim(keys, args)
  local c = context(args)
  local reclaimer, min_idle, err = args[10], tonumber(args[11]), args[12]
  history_on(c, args[13])
  local reclaimed, removed = 0, 0
  local out, runs = { 0, 0 }, {}
  for _, stream in ipairs(keys) do
    -- The owners first: XAUTOCLAIM makes the entries the reclaimer's.
    local owners = {}
    local p = redis.pcall('XPENDING', stream, c.group, 'IDLE', min_idle, '-', '+', 100)
    if type(p) == 'table' and not p.err then
      for _, e in ipairs(p) do owners[e[1]] = e[2] end
    end
    local r = redis.pcall('XAUTOCLAIM', stream, c.group, reclaimer, min_idle, '0-0', 'COUNT', 100)
    if type(r) == 'table' and not r.err then
      for _, e in ipairs(r[2]) do
        if type(e) == 'table' and type(e[2]) == 'table' then
          local f = job_of(e[2])
          if f then
            local owner = owners[e[1]]
            local state, run = fail_attempt(c, stream, f, 'crash', err, owner and worker_of(owner) or reclaimer)
            runs[#runs + 1] = run
            local h = redis.call('HMGET', job_key(c, f.job), 'queue', 'attempts')
            local n = #out
            out[n + 1], out[n + 2], out[n + 3] = f.job, f.type, h[1] or ''
            out[n + 4], out[n + 5], out[n + 6] = state, tonumber(h[2]) or 0, err
            reclaimed = reclaimed + 1
          end
          redis.call('XACK', stream, c.group, e[1])
          redis.call('XDEL', stream, e[1])
        end
      end
      local consumers = redis.pcall('XINFO', 'CONSUMERS', stream, c.group)
      if type(consumers) == 'table' and not consumers.err then
        for _, cs in ipairs(consumers) do
          if tonumber(field_of(cs, 'pending')) == 0 and tonumber(field_of(cs, 'idle')) > min_idle then
            redis.call('XGROUP', 'DELCONSUMER', stream, c.group, field_of(cs, 'name'))
            removed = removed + 1
          end
        end
      end
    end
  end
  flush_counters(c)
  local rows = flush_history(c)
  out[1], out[2] = reclaimed, removed
  if #runs > 0 or c.history then out[#out + 1] = runs end
  if c.history then out[#out + 1] = rows end
  return out
end
redis.register_function('tickq_p1_reclaim', reclaim)
