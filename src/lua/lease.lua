
-- tickq_p1_lease: the scheduler's leadership lease. Several schedulers may
-- run; the one holding <prefix>:scheduler:lease fires schedules. The lease
-- expires unless renewed, so a dead holder is replaced within its TTL.
-- args[10..]: holder id, action (acquire | release), ttl_ms
-- acquire takes a free lease or renews one this holder has; release gives it
-- up if held. Returns {1, holder} when the caller holds the lease after the
-- call, else {0, current holder or ''}.
local function lease(keys, args)
  local c = context(args)
  local key = pkey(c, 'scheduler', 'lease')
  local holder, action, ttl = args[10], args[11], args[12]
  local current = redis.call('GET', key)
  if action == 'release' then
    if current == holder then redis.call('DEL', key) end
    return { 0, '' }
  end
  if current and current ~= holder then return { 0, current } end
  redis.call('SET', key, holder, 'PX', ttl)
  return { 1, holder }
end
redis.register_function('tickq_p1_lease', lease)
