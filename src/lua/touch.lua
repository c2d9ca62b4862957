
-- tickq_p1_touch: renew a live worker's claims by resetting the idle time of
-- every entry its consumers hold, so tickq_p1_reclaim never mistakes a long
-- job for a dead worker.
-- keys: streams. args[10..]: consumer names.
-- Returns the number of entries renewed.
local function touch(keys, args)
  local c = context(args)
  local renewed = 0
  for _, stream in ipairs(keys) do
    for i = 10, #args do
      local pending = redis.pcall('XPENDING', stream, c.group, '-', '+', 100000, args[i])
      if type(pending) == 'table' and not pending.err and #pending > 0 then
        local ids = {}
        for _, p in ipairs(pending) do ids[#ids + 1] = p[1] end
        redis.call('XCLAIM', stream, c.group, args[i], 0, unpack(ids), 'JUSTID')
        renewed = renewed + #ids
      end
    end
  end
  return renewed
end
redis.register_function('tickq_p1_touch', touch)
