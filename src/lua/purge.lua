
-- tickq_p1_purge: empty a logical queue (`tickq purge`), all three
-- priorities: every job waiting in it (ready in its streams, delayed,
-- retrying, held for a slot of its type's limit, deferred) ends cancelled with the
-- error PURGED and its result written, so that clients polling it stop.
-- Running jobs are left to finish (a retry one of them schedules later is
-- not purged). At most `max` jobs a call, each call atomic: the caller
-- calls again while `more` says so (a huge queue never blocks Redis for
-- long). Jobs enqueued while the calls go on may be purged too.
-- args[10]: queue (logical), args[11]: 'count' or 'purge', args[12]: max
-- jobs this call (purge).
-- Returns for 'count' {ready, delayed, retrying, held, running, deferred} (what a
-- purge would cancel, and the running jobs it leaves: nothing changes),
-- for 'purge' {cancelled, more (1: the call stopped at max)}.
local PRIORITIES = { 'high', 'normal', 'low' }
-- The consumer a purge reads a stream's waiting entries as, in the workers'
-- group (so the group's lag stays known: deleting unread entries would hide
-- it); it holds nothing after a call and is deleted.
local PURGER = 'tickq-purge'

-- Our group's view of a stream: its ready count (lag, else length minus
-- pending, as `tickq stats` reads it), pending count and last delivered id.
local function group_view(c, stream)
  local groups = redis.pcall('XINFO', 'GROUPS', stream)
  local length = redis.call('XLEN', stream)
  if type(groups) ~= 'table' or groups.err then return length, 0, nil end
  for _, g in ipairs(groups) do
    if field_of(g, 'name') == c.group then
      local pending, lag = tonumber(field_of(g, 'pending')), field_of(g, 'lag')
      return type(lag) == 'number' and lag or length - pending, pending, field_of(g, 'last-delivered-id')
    end
  end
  return length, 0, nil
end

-- The held jobs of `queue`, up to `max`, as {type, id} pairs.
local function held_of(c, queue, max)
  local out = {}
  for _, jtype in ipairs(redis.call('SMEMBERS', pkey(c, 'holding'))) do
    local hk, from = held_key(c, jtype), 0
    while #out < max do
      local ids = redis.call('ZRANGE', hk, from, from + 499)
      if #ids == 0 then break end
      for _, id in ipairs(ids) do
        if #out < max and redis.call('HGET', job_key(c, id), 'queue') == queue then out[#out + 1] = { jtype, id } end
      end
      from = from + #ids
    end
  end
  return out
end

local function purge_count(c, queue)
  local ready, delayed, retrying, running, deferred = 0, 0, 0, 0, 0
  for _, p in ipairs(PRIORITIES) do
    local physical, stream = stream_of(c, queue, p)
    local r, pending = group_view(c, stream)
    ready, running = ready + r, running + pending
    delayed = delayed + redis.call('ZCARD', pkey(c, 'delayed', physical))
    retrying = retrying + redis.call('ZCARD', pkey(c, 'retry', physical))
    deferred = deferred + redis.call('ZCARD', deferred_key(c, physical))
  end
  return { ready, delayed, retrying, #held_of(c, queue, math.huge), running, deferred }
end

-- Cancels job `id` if its record still says `state` (a zset member whose
-- record moved on, or went, is only dropped by the caller). Returns 1 or 0.
local function purge_job(c, id, state, queue)
  local h = redis.call('HMGET', job_key(c, id), 'state', 'type')
  if h[1] ~= state then return 0 end
  finish_cancelled(c, id, queue, state, PURGED, h[2])
  return 1
end

local function purge(keys, args)
  local c = context(args)
  local queue, action, max = args[10], args[11], tonumber(args[12]) or 1000
  if action == 'count' then return purge_count(c, queue) end
  c.purging = queue -- its deferred jobs whose dependency it cancels are purged too (job_ended), counted in c.purged
  local done = 0
  for _, p in ipairs(PRIORITIES) do
    local physical, stream = stream_of(c, queue, p)
    if redis.call('EXISTS', stream) == 1 then
      local _, _, last = group_view(c, stream)
      if not last then redis.call('XGROUP', 'CREATE', stream, c.group, '0') end
      while done < max do
        local r = redis.call('XREADGROUP', 'GROUP', c.group, PURGER, 'COUNT', max - done, 'STREAMS', stream, '>')
        local es = r and r[1][2] or {}
        if #es == 0 then break end
        for _, e in ipairs(es) do
          local j = job_of(e[2])
          -- A job's current entry only (a stale copy is just dropped).
          if j and redis.call('HGET', job_key(c, j.job), 'entry') == e[1] then
            done = done + purge_job(c, j.job, 'queued', queue)
          end
          redis.call('XACK', stream, c.group, e[1])
          redis.call('XDEL', stream, e[1])
        end
      end
      redis.call('XGROUP', 'DELCONSUMER', stream, c.group, PURGER)
    end
    for _, z in ipairs({ { 'delayed', 'queued' }, { 'retry', 'retrying' }, { 'deferred', 'deferred' } }) do
      local zkey = pkey(c, z[1], physical)
      while done < max do
        local ids = redis.call('ZRANGE', zkey, 0, max - done - 1)
        if #ids == 0 then break end
        for _, id in ipairs(ids) do
          done = done + purge_job(c, id, z[2], queue)
          redis.call('ZREM', zkey, id)
        end
      end
    end
  end
  if done < max then
    for _, held in ipairs(held_of(c, queue, max - done)) do
      redis.call('ZREM', held_key(c, held[1]), held[2])
      done = done + purge_job(c, held[2], 'queued', queue)
    end
  end
  flush_counters(c)
  return { done + (c.purged or 0), done >= max and 1 or 0 }
end
redis.register_function('tickq_p1_purge', purge)
