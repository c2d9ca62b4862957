
-- tickq_p1_limit: per-type concurrency limits across every worker
-- (`tickq limit`; admit.lua enforces them in the claim).
-- args[10]: 'set' or 'clear'; args[11]: the task type; for set args[12]:
-- the number of slots (0 to 1000000; 0 holds every job of the type). (The
-- limits are read with plain commands, queue_controls.c: a read must work
-- when Redis is out of memory and refuses every function that may write.)
-- A new limit (none before) counts the jobs of the type running now, from
-- the consumer groups' pending entries of every queue, so the limit holds
-- from the first claim after it; changing a limit keeps the count. Clearing
-- one deletes the count; its held jobs go back to their queues as claims
-- release them (admit.lua, release_held).
-- Returns for 'set' {'set', previous (-1: none), running}, for 'clear'
-- {'cleared', previous (-1: none), held}; an invalid action, type or number
-- is the error TICKQ_INVALID.
local MAX_SLOTS = 1000000

-- The ids of the jobs of type `jtype` pending in any consumer group of any
-- queue stream ever used.
local function running_now(c, jtype)
  local ids = {}
  for _, physical in ipairs(redis.call('SMEMBERS', pkey(c, 'queues'))) do
    local stream = c.queue_prefix .. physical
    local groups = redis.pcall('XINFO', 'GROUPS', stream)
    for _, g in ipairs(type(groups) == 'table' and not groups.err and groups or {}) do
      for _, p in ipairs(redis.call('XPENDING', stream, field_of(g, 'name'), '-', '+', 100000)) do
        local f = job_fields(stream, p[1])
        if f and f.type == jtype then ids[#ids + 1] = f.job end
      end
    end
  end
  return ids
end

local function limit(keys, args)
  local c = context(args)
  local action, jtype = args[10], args[11]
  local key = pkey(c, 'limits')
  if action ~= 'set' and action ~= 'clear' then
    return redis.error_reply('TICKQ_INVALID action must be set or clear, not ' .. tostring(action))
  end
  if type(jtype) ~= 'string' or #jtype > 64 or not string.match(jtype, '^[%w_.-]+$') then
    return redis.error_reply('TICKQ_INVALID task type must be 1-64 characters from A-Z a-z 0-9 _ - .')
  end
  local previous = tonumber(redis.call('HGET', key, jtype)) or -1
  local rk = running_key(c, jtype)
  if action == 'clear' then
    redis.call('HDEL', key, jtype)
    redis.call('DEL', rk)
    return { 'cleared', previous, redis.call('ZCARD', held_key(c, jtype)) }
  end
  local slots = tonumber(args[12])
  if not slots or slots < 0 or slots > MAX_SLOTS or slots % 1 ~= 0 then
    return redis.error_reply('TICKQ_INVALID the limit must be an integer from 0 to ' .. MAX_SLOTS .. ', not ' ..
      tostring(args[12]))
  end
  if previous < 0 then
    redis.call('DEL', rk)
    for _, id in ipairs(running_now(c, jtype)) do redis.call('ZADD', rk, c.now, id) end
  end
  redis.call('HSET', key, jtype, slots)
  return { 'set', previous, redis.call('ZCARD', rk) }
end
redis.register_function('tickq_p1_limit', limit)
