
-- tickq_p1_touch: renew a live worker's claims by resetting the idle time of
-- every entry its consumers hold, so tickq_p1_reclaim never mistakes a long
-- job for a dead worker. A consumer named with a generation ("<worker
-- id>#<generation>", consumer_parts) is the child's current name: entries
-- pending for an older generation of the same worker belong to no one (a
-- claim the child gave up on, run late by Redis) and go back to their
-- queues at once, their attempt not charged (a job whose cancel was
-- requested meanwhile ends cancelled instead), and those consumers are
-- deleted; never a newer generation than the one given.
-- keys: streams, then optionally the history stream the rows of those
-- cancels go to (flush_history; recognised by its name, <prefix>:history:*,
-- so a library from before it takes it for a stream that has no group).
-- args[10..]: consumer names.
-- Returns {renewed, released, the ids of the jobs released, then one array
-- of the ids of the jobs cancelled, then, when a history stream was given,
-- the number of history rows appended} (a supervisor from before
-- generations ignores the reply).
local function touch(keys, args)
  local c = context(args)
  local streams = keys
  local hist = pkey(c, 'history', '')
  if #keys > 0 and string.sub(keys[#keys], 1, #hist) == hist then
    history_on(c, keys[#keys])
    streams = { unpack(keys, 1, #keys - 1) }
  end
  local renewed, released, jobs, cancelled = 0, 0, {}, {}
  local current = {}
  for i = 10, #args do
    local id, gen = consumer_parts(args[i])
    if gen then current[id] = gen end
  end
  for _, stream in ipairs(streams) do
    for i = 10, #args do
      local pending = redis.pcall('XPENDING', stream, c.group, '-', '+', 100000, args[i])
      if type(pending) == 'table' and not pending.err and #pending > 0 then
        local ids = {}
        for _, p in ipairs(pending) do ids[#ids + 1] = p[1] end
        redis.call('XCLAIM', stream, c.group, args[i], 0, unpack(ids), 'JUSTID')
        renewed = renewed + #ids
      end
    end
    if next(current) then
      released = released + release_consumers(c, stream, older_generations(c, stream, current), jobs, cancelled)
    end
  end
  flush_counters(c)
  local rows = flush_history(c)
  local out = { renewed, released }
  for _, id in ipairs(jobs) do out[#out + 1] = id end
  out[#out + 1] = cancelled
  if c.history then out[#out + 1] = rows end
  return out
end
redis.register_function('tickq_p1_touch', touch)
