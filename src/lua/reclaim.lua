
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
-- Slots of limited types (admit.lua) that no job holds any more go: each
-- one older than min idle (taken, or last found held, that long ago) is
-- checked against its job, up to 100 per type and call, and kept (its time
-- renewed) only while the job's record says queued and its entry is still
-- in its stream, pending (running) or ready (released for the slot), and
-- then not in a paused queue. Every path that ends an attempt frees its
-- slot; this catches what none of them saw (a record or stream deleted by
-- hand, a job settled by an older library), so a slot never leaks for
-- longer than the claim timeout and a heartbeat.
local function repair_slots(c, min_idle)
  local paused
  for jtype in pairs(limits_of(c)) do
    local rk = running_key(c, jtype)
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', rk, '-inf', c.now - min_idle, 'LIMIT', 0, 100)) do
      local h = redis.call('HMGET', job_key(c, id), 'state', 'stream', 'entry', 'queue')
      local holds = h[1] == 'queued' and h[3] and h[3] ~= '' and #redis.call('XRANGE', h[2], h[3], h[3]) > 0
      if holds and not pending_consumer(h[2], h[3]) then
        paused = paused or redis.call('SMEMBERS', pkey(c, 'paused'))
        for _, q in ipairs(paused) do
          if q == h[4] then holds = false end
        end
      end
      if holds then redis.call('ZADD', rk, 'XX', c.now, id) else redis.call('ZREM', rk, id) end
    end
  end
end

-- Members of <prefix>:expiring whose run is over (record gone, or a final
-- state) go, up to 100 a call among those whose expiry passed min idle ago:
-- every path that ends a run removes its member, so this only catches
-- records deleted by hand or runs an older library ended; without it such
-- a member would keep every claim on the gated path for good.
local function repair_expiring(c, min_idle)
  local key = pkey(c, 'expiring')
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', c.now - min_idle, 'LIMIT', 0, 100)) do
    local state = redis.call('HGET', job_key(c, id), 'state')
    if not state or FINAL[state] then redis.call('ZREM', key, id) end
  end
end

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
  repair_slots(c, min_idle)
  repair_expiring(c, min_idle)
  flush_counters(c)
  local rows = flush_history(c)
  out[1], out[2] = reclaimed, removed
  if #runs > 0 or c.history then out[#out + 1] = runs end
  if c.history then out[#out + 1] = rows end
  return out
end
redis.register_function('tickq_p1_reclaim', reclaim)
