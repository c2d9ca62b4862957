
-- The claim's gates (docs/protocol.md, "Queue controls"): whether a job a
-- worker's read took may run now. A claim (claim.lua) and a blocking read
-- (tickq_p1_admit, below) ask the same questions of each job:
--   expired  its expiry (<prefix>:expiring) has passed: it ends cancelled
--            with EXPIRED and never runs;
--   paused   its logical queue is in <prefix>:paused: it goes back to its
--            queue unstarted (a claim never reads a paused queue's stream);
--   limited  its type has a limit and every slot is taken: it is set aside
--            in <prefix>:held:<type> (its entry deleted, its record queued
--            with entry '') until a claim releases it for a free slot
--            (release_held); other types behind it are still claimed, so a
--            type at its limit never blocks the queue.
-- A job that may run and whose type is limited takes a slot: it joins
-- <prefix>:running:<type> (a set of job ids: taking or freeing a slot twice
-- is harmless). The slot is freed wherever the attempt ends or goes back
-- (common.lua: slot_free in fail_attempt, requeue_unstarted, finish,
-- finish_cancelled) and repaired by reclaim (reclaim.lua, repair_slots).
-- This file comes before claim.lua in the library (files follow
-- common.lua in name order), which uses these helpers.

-- The gates as one table, or nil when none is set (one EXISTS: the cost of
-- the checks on a Redis without pauses, limits or expiring jobs):
-- paused (logical queue -> true), limits (type -> slots), expiring (bool),
-- holding (types with held jobs), used (type -> slots taken, filled lazily).
local function gates_load(c)
  local paused_key, limits_key = pkey(c, 'paused'), pkey(c, 'limits')
  local expiring_key, holding_key = pkey(c, 'expiring'), pkey(c, 'holding')
  if redis.call('EXISTS', paused_key, limits_key, expiring_key, holding_key) == 0 then return nil end
  local g = { paused = {}, limits = limits_of(c), used = {},
    expiring = redis.call('EXISTS', expiring_key) == 1,
    holding = redis.call('SMEMBERS', holding_key) }
  for _, q in ipairs(redis.call('SMEMBERS', paused_key)) do g.paused[q] = true end
  return g
end

-- Sets aside the job of entry `entry` (fields f), delivered to this call's
-- consumer, until a slot of its type is free.
local function hold(c, stream, entry, f)
  redis.call('XACK', stream, c.group, entry)
  redis.call('XDEL', stream, entry)
  redis.call('HSET', job_key(c, f.job), 'entry', '')
  redis.call('ZADD', held_key(c, f.type), c.now, f.job)
  redis.call('SADD', pkey(c, 'holding'), f.type)
end

-- Whether the job of `entry` (fields f, pending for this call's consumer,
-- of logical queue `queue`) may run; when not, it has been settled as the
-- header says (expired, paused: requeue_unstarted as `worker`'s, limited).
-- Takes a slot for a job of a limited type that may run.
local function admit_one(c, g, stream, queue, entry, f, worker)
  if g.expiring then
    local at = redis.call('ZSCORE', pkey(c, 'expiring'), f.job)
    if at and tonumber(at) <= c.now then
      redis.call('XACK', stream, c.group, entry)
      redis.call('XDEL', stream, entry)
      finish_cancelled(c, f.job, queue, nil, EXPIRED, f.type)
      return false
    end
  end
  if g.paused[queue] then
    requeue_unstarted(c, stream, f, worker)
    redis.call('XACK', stream, c.group, entry)
    redis.call('XDEL', stream, entry)
    return false
  end
  local limit = g.limits[f.type]
  if limit then
    local rk = running_key(c, f.type)
    if not redis.call('ZSCORE', rk, f.job) then -- a job released for a slot has it already
      local used = g.used[f.type] or redis.call('ZCARD', rk)
      if used >= limit then
        g.used[f.type] = used
        hold(c, stream, entry, f)
        return false
      end
      g.used[f.type] = used + 1
    end
    redis.call('ZADD', rk, c.now, f.job)
  end
  return true
end

-- Puts held jobs back on their queues, oldest first, as far as their types
-- have free slots (a type whose limit was cleared: up to 100 a call), each
-- taking its slot at once so that no later claim releases another for it.
-- Only jobs of `streams` (the caller's: a worker that serves them releases
-- them) and of queues not paused; an expired one ends cancelled instead.
local function release_held(c, g, streams)
  local mine = {}
  for _, s in ipairs(streams) do mine[s] = true end
  for _, jtype in ipairs(g.holding) do
    local hk, limit = held_key(c, jtype), g.limits[jtype]
    local free = limit and limit - redis.call('ZCARD', running_key(c, jtype)) or 100
    for _, id in ipairs(free > 0 and redis.call('ZRANGE', hk, 0, 99) or {}) do
      if free <= 0 then break end
      local h = redis.call('HMGET', job_key(c, id), 'state', 'stream', 'queue', 'expires_us', 'entry')
      if h[1] ~= 'queued' or (h[5] and h[5] ~= '') then
        redis.call('ZREM', hk, id) -- ended, or back in a stream by another way: not held any more
      elseif mine[h[2]] and not g.paused[h[3]] then
        redis.call('ZREM', hk, id)
        if h[4] and tonumber(h[4]) <= c.now * 1000 then
          finish_cancelled(c, id, h[3], nil, EXPIRED)
        else
          add_entry_from_record(c, h[2], id)
          if limit then redis.call('ZADD', running_key(c, jtype), c.now, id) end
          free = free - 1
        end
      end
    end
    if redis.call('EXISTS', hk) == 0 then redis.call('SREM', pkey(c, 'holding'), jtype) end
  end
end

-- tickq_p1_admit: the gates for jobs a worker claimed with a blocking
-- XREADGROUP (the idle path), which no function saw: the worker calls it,
-- instead of sending tickq_p1_started, when its last claim said gates were
-- set. A job that may run gets its running result (as started writes it);
-- the others are settled (expired, paused, limited: above).
-- keys: the worker's streams. args[10]: consumer; then per job: the 1-based
-- index of its stream in keys, its entry, its id, its attempt.
-- Returns one integer per job, in order: 1 may run, 0 may not (settled, or
-- no longer pending for this consumer: nothing done).
local function admit(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local consumer = args[10]
  local worker = worker_of(consumer)
  local g = gates_load(c)
  local out = {}
  for i = 11, #args - 3, 4 do
    local stream, entry, id, attempt = keys[tonumber(args[i])], args[i + 1], args[i + 2], args[i + 3]
    local ok = 0
    local p = stream and redis.pcall('XPENDING', stream, c.group, entry, entry, 1, consumer)
    local f = type(p) == 'table' and not p.err and #p > 0 and job_fields(stream, entry)
    if f and f.job == id then
      if not g or admit_one(c, g, stream, logical_of(physical_of(c, stream)), entry, f, worker) then
        set_result(c, id, 'running', { attempt = tonumber(attempt), worker_id = worker })
        ok = 1
      end
    end
    out[#out + 1] = ok
  end
  flush_counters(c)
  return out
end
redis.register_function('tickq_p1_admit', admit)
