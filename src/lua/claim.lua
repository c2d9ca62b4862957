
-- tickq_p1_claim: claim up to COUNT jobs for one consumer in strict priority
-- order. Due retries and delayed jobs are promoted first; then the streams
-- (keys, in the worker's order) are read one at a time and the batch comes
-- from the first non-empty one. Each claimed job's task_result says running.
-- args[10..]: consumer, count (results name the consumer's worker id, worker_of)
-- Returns {stream_index, then per job: entry, id, type, args, attempt,
--          max_retries, timeout_ms (as stored: 0 when not set, which the
--          worker resolves), enqueued_us}, or when nothing is ready
-- {0, next_due_ms (-1: none), retries_waiting, gates (1: a queue is paused,
-- a limit set or a job has an expiry: admit.lua), {the 1-based indexes of
-- the keys whose queue is paused}}; the caller then blocks in XREADGROUP on
-- the other streams until an entry arrives or the next retry is due, and
-- has the jobs that read takes admitted (tickq_p1_admit) when gates is 1.
-- With gates set (admit.lua) a paused queue's stream is not read, held jobs
-- are released for free slots first, and each job read passes admit_one.
local function promote(c, stream)
  local physical = physical_of(c, stream)
  for i, zkey in ipairs({ pkey(c, 'retry', physical), pkey(c, 'delayed', physical) }) do
    local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', c.now, 'LIMIT', 0, 200)
    for _, id in ipairs(due) do
      local h = redis.call('HMGET', job_key(c, id), 'state', 'expires_us', 'type')
      local state = h[1]
      if state == 'retrying' or state == 'queued' then
        if h[2] and tonumber(h[2]) <= c.now * 1000 then
          finish_cancelled(c, id, logical_of(physical), state, EXPIRED, h[3])
        else
          add_entry_from_record(c, stream, id)
          if state == 'retrying' then
            redis.call('HDEL', job_key(c, id), 'next_retry_at') -- it belonged to the wait that ended
            index_move(c, id, logical_of(physical), 'retrying', nil)
          end
        end
      elseif i == 1 then
        index_move(c, id, logical_of(physical), 'retrying', nil) -- its record went
      end
      redis.call('ZREM', zkey, id)
    end
  end
end

local function read_group(c, stream, consumer, want)
  local r = redis.pcall('XREADGROUP', 'GROUP', c.group, consumer, 'COUNT', want, 'STREAMS', stream, '>')
  if type(r) == 'table' and r.err then
    if not string.find(r.err, 'NOGROUP', 1, true) then error(r.err) end
    redis.call('XGROUP', 'CREATE', stream, c.group, '0', 'MKSTREAM')
    r = redis.call('XREADGROUP', 'GROUP', c.group, consumer, 'COUNT', want, 'STREAMS', stream, '>')
  end
  if not r then return nil end
  return r[1][2]
end

-- read_group through the gates: reads `stream` (unless its queue is
-- paused) until `want` jobs may run or it has no more, examining at most
-- 10 x want + 100 entries. Returns the entries that may run, each with its
-- job (job_of) as e.job, or nil.
local function read_gated(c, g, stream, consumer, want)
  local queue = logical_of(physical_of(c, stream))
  if g.paused[queue] then return nil end
  local worker, ok, seen = worker_of(consumer), {}, 0
  while #ok < want and seen < 10 * want + 100 do
    local entries = read_group(c, stream, consumer, want - #ok)
    if not entries or #entries == 0 then break end
    for _, e in ipairs(entries) do
      seen = seen + 1
      local j = job_of(e[2])
      if not j then
        redis.call('XACK', stream, c.group, e[1])
        redis.call('XDEL', stream, e[1])
      elseif admit_one(c, g, stream, queue, e[1], j, worker) then
        ok[#ok + 1] = { e[1], e[2], job = j }
      end
    end
  end
  if #ok == 0 then return nil end
  return ok
end

local function claim(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local consumer, want = args[10], tonumber(args[11])
  local g = gates_load(c)
  for _, stream in ipairs(keys) do promote(c, stream) end
  if g and #g.holding > 0 then release_held(c, g, keys) end

  local running_head = '{"status":"running","data":{"attempt":'
  local running_tail = ',"worker_id":' .. cjson.encode(worker_of(consumer)) .. '},"updated_at":"' .. c.now_iso .. '"}'
  for index, stream in ipairs(keys) do
    local entries
    if g then entries = read_gated(c, g, stream, consumer, want) else entries = read_group(c, stream, consumer, want) end
    if entries then
      local out, n = { index }, 1
      for _, e in ipairs(entries) do
        -- The entry's values in ENTRY_FIELDS's order: job, type, args,
        -- attempts, max_retries, timeout_ms, enqueued_us (read_gated
        -- checked them already; else is_job_entry does).
        local f = e[2]
        if not e.job and not is_job_entry(f) then
          redis.call('XACK', stream, c.group, e[1])
          redis.call('XDEL', stream, e[1])
        else
          -- (Most entries are a first attempt: no number conversion then.)
          local attempt = f[8] == '0' and '1' or tostring(tonumber(f[8]) + 1)
          redis.call('SET', result_key(f[2]), running_head .. attempt .. running_tail, 'EX', c.ttl)
          out[n + 1] = e[1]
          out[n + 2] = f[2]
          out[n + 3] = f[4]
          out[n + 4] = f[6]
          out[n + 5] = attempt
          out[n + 6] = f[10]
          out[n + 7] = f[12]
          out[n + 8] = f[14]
          n = n + 8
        end
      end
      if n > 1 then
        flush_counters(c)
        return out
      end
    end
  end

  local next_due, retrying = -1, 0
  for _, stream in ipairs(keys) do
    local physical = physical_of(c, stream)
    for _, zkey in ipairs({ pkey(c, 'retry', physical), pkey(c, 'delayed', physical) }) do
      local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
      if first[2] then
        local due = tonumber(first[2])
        if next_due < 0 or due < next_due then next_due = due end
      end
    end
    retrying = retrying + redis.call('ZCARD', pkey(c, 'retry', physical))
  end
  flush_counters(c)
  g = gates_load(c)
  local paused = {}
  for index, stream in ipairs(g and keys or {}) do
    if g.paused[logical_of(physical_of(c, stream))] then paused[#paused + 1] = index end
  end
  return { 0, next_due, retrying, g and 1 or 0, paused }
end
redis.register_function('tickq_p1_claim', claim)

-- tickq_p1_started: write the running result of jobs a worker claimed with a
-- blocking XREADGROUP (the idle path, which wakes exactly one worker per new
-- entry and claims it in the same round trip).
-- The worker sends it without waiting for the reply, so Redis may run it
-- late (a connection the worker gave up on, after it recorded the outcome
-- on another): only a job whose record still says queued (as a running
-- job's does) and whose entry is still pending for this consumer gets the
-- running result, never a finished or retrying one, nor one handed back to
-- its queue meanwhile (touch, release) or claimed by another name.
-- A worker whose last claim said gates were set calls tickq_p1_admit
-- instead; should a limit have been set while it was blocked, a job of that
-- type it took still takes its slot here (so the count stays true, if for
-- a moment above the limit).
-- args[10]: consumer; then per job: id, attempt.
-- Returns the number of results written.
local function started(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local head = '{"status":"running","data":{"attempt":'
  local tail = ',"worker_id":' .. cjson.encode(worker_of(args[10])) .. '},"updated_at":"' .. c.now_iso .. '"}'
  local n = 0
  for i = 11, #args, 2 do
    local h = redis.call('HMGET', job_key(c, args[i]), 'state', 'stream', 'entry', 'type')
    local p = h[1] == 'queued' and h[3] and h[3] ~= '' and
      redis.pcall('XPENDING', h[2], c.group, h[3], h[3], 1, args[10])
    if type(p) == 'table' and not p.err and #p > 0 then
      redis.call('SET', result_key(args[i]), head .. args[i + 1] .. tail, 'EX', c.ttl)
      if limits_of(c)[h[4]] then redis.call('ZADD', running_key(c, h[4]), c.now, args[i]) end
      n = n + 1
    end
  end
  return n
end
redis.register_function('tickq_p1_started', started)

-- tickq_p1_progress: a running job's progress (a handler reported it),
-- shown in its running result and its record (progress, progress_message).
-- Sent without waiting for the reply, as started: written only while the
-- job's record says queued and its entry is pending for this consumer.
-- args[10]: consumer, args[11]: id, args[12]: attempt, args[13]: fraction
-- (a JSON number), args[14]: message. Returns 1 when written, else 0.
local function progress(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local consumer, id = args[10], args[11]
  local jk = job_key(c, id)
  local h = redis.call('HMGET', jk, 'state', 'stream', 'entry')
  local p = h[1] == 'queued' and h[3] and h[3] ~= '' and
    redis.pcall('XPENDING', h[2], c.group, h[3], h[3], 1, consumer)
  if type(p) ~= 'table' or p.err or #p == 0 then return 0 end
  local fraction, attempt = tonumber(args[13]), tonumber(args[12])
  -- A number from 0 to 1 (not NaN), and an attempt count: else nothing.
  if not fraction or fraction ~= fraction or fraction < 0 or fraction > 1 or not attempt then return 0 end
  redis.call('HSET', jk, 'progress', args[13], 'progress_message', args[14])
  set_result(c, id, 'running', { attempt = attempt, worker_id = worker_of(consumer), progress = fraction,
    progress_message = args[14] })
  return 1
end
redis.register_function('tickq_p1_progress', progress)
