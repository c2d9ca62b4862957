
-- tickq_p1_finish: record the outcomes of a batch of attempts one consumer
-- ran from one stream (keys[1]). Only entries still pending for that
-- consumer count: one reclaimed meanwhile (the worker looked dead) or already
-- recorded by an earlier call is skipped, so a call repeated after a lost
-- reply changes nothing. Acked entries leave the stream (trim_acked).
-- keys[2] (optional): the history stream the attempts' rows go to
-- (flush_history); without it, history is off.
-- args[10]: consumer (recorded as its worker id, worker_of); then 7 per
-- outcome from args[11]:
--   entry, job id, kind (ok|transient|permanent|timeout|crash|cancel|shutdown:
--   a job the worker's shutdown interrupted goes back to its queue, its
--   attempt not charged|children: the job waits for the children its payload
--   lists, wait_for_children),
--   payload (the task_result JSON for ok, else the error text, optionally
--   followed by a NUL byte and a JSON object of details that go into the
--   error result's data: split_details),
--   attempt, started_us, finished_us
-- Returns {recorded, skipped, retried, dead, then the job's new state per
-- outcome in order ('' for a skipped one, 'missing' for one whose job
-- record is gone: a completed job's result is still written), then its run number per outcome
-- (0 for a skipped one), then, when keys[2] was given, the number of history
-- rows appended}. Callers from before runs existed read the states and
-- ignore what follows.
-- The attempt of job `f` (entry fields) asked to wait for children (kind
-- `children`; payload: {"policy": "fail" | "continue", "max_payload",
-- "children": [{"id", "type", "args" (JSON text), "queue", "priority",
-- "max_retries", "timeout_ms"}]}, checked by the worker as enqueue checks a
-- job): every child is checked again and enqueued, then the job waits for
-- them as a flow's parent (deferred, its deps the children, after_any for
-- `continue`), its attempt counted; once they have ended it is ready again
-- and runs its next attempt. Returns 'deferred', or nil and why the
-- children are refused (nothing written: the caller fails the attempt).
local function wait_for_children(c, stream, f, payload, worker, attempt, started_us, finished_us)
  local ok, spec = pcall(cjson.decode, payload)
  if not ok or type(spec) ~= 'table' or type(spec.children) ~= 'table' or #spec.children == 0 then
    return nil, 'the task asked to wait for children but gave none'
  end
  if #spec.children > MAX_DEPS then return nil, 'the task asked for more than ' .. MAX_DEPS .. ' children' end
  if type(spec.max_payload) ~= 'number' then return nil, 'the children payload has no max_payload' end
  local jobs, ids, seen = {}, {}, {}
  for i, ch in ipairs(spec.children) do
    local j = { id = ch.id, type = ch.type, args = ch.args, queue = ch.queue, priority = ch.priority,
      max_retries = tostring(ch.max_retries), timeout_ms = tostring(ch.timeout_ms), delay_ms = '0',
      max_payload = tostring(spec.max_payload), now_us = now_us(c) }
    local why = type(ch.args) ~= 'string' and 'args must be JSON text' or job_invalid(c, j)
    if why then return nil, 'child ' .. (i - 1) .. ': ' .. why end
    if seen[ch.id] or redis.call('EXISTS', job_key(c, ch.id)) == 1 then
      return nil, 'child ' .. (i - 1) .. ': job id ' .. ch.id .. ' exists already'
    end
    seen[ch.id] = true
    jobs[i], ids[i] = j, ch.id
  end
  for _, j in ipairs(jobs) do
    local r, why = add_job(c, j)
    if not r then error('a checked child was refused: ' .. why) end
  end
  local id = f.job
  local jk = job_key(c, id)
  if redis.call('HEXISTS', jk, 'deps') == 1 then deps_release(c, id) end -- the children of a wait before
  local after_any = spec.policy == 'continue'
  local fields = deps_link(c, id, { ids = ids, left = #ids }, after_any, true)
  -- It has started: an expiry no longer applies (it would cancel the job
  -- when its children are done).
  redis.call('HDEL', jk, 'progress', 'progress_message', 'after_any', 'expires_us')
  redis.call('ZREM', pkey(c, 'expiring'), id)
  -- waited_children: this run's deps are children it asked for (the task's
  -- next attempt reads them: job_children.c); a new run's record has none.
  redis.call('HSET', jk, 'state', 'deferred', 'entry', '', 'attempts', attempt, 'worker', worker,
    'started_us', started_us, 'finished_us', finished_us, 'waited_children', '1', unpack(fields))
  redis.call('ZADD', deferred_key(c, physical_of(c, stream)), c.now, id)
  slot_free(c, id, f.type)
  set_result(c, id, 'running', { attempt = tonumber(attempt), waiting_for_children = #ids, worker_id = worker })
  return 'deferred'
end

local function finish(keys, args)
  local c = context(args)
  local stream, consumer = keys[1], args[10]
  local worker = worker_of(consumer)
  local queue = logical_of(physical_of(c, stream))
  history_on(c, keys[2])
  local pending = {}
  local p = redis.pcall('XPENDING', stream, c.group, '-', '+', 100000, consumer)
  if type(p) == 'table' and not p.err then
    for _, e in ipairs(p) do pending[e[1]] = true end
  end
  local done, n = {}, 0
  local skipped, retried, dead = 0, 0, 0
  local out, runs = { 0, 0, 0, 0 }, {}
  for i = 11, #args, 7 do
    local entry, id, kind, payload = args[i], args[i + 1], args[i + 2], args[i + 3]
    if pending[entry] then
      pending[entry] = nil
      local jk = job_key(c, id)
      -- ok: one read of the record (its queue says it is still there).
      local h = kind == 'ok' and
        redis.call('HMGET', jk, 'queue', 'run', 'type', 'created_at', 'expires_us', 'needed_by', 'deps')
      if h and not h[1] then
        -- The record went while the job ran (deleted by hand, evicted):
        -- the result the client waits for is written, but no partial
        -- record (neither queue nor type) and no history row (its run and
        -- created_at are unknown), as fail_attempt does for a missing one.
        redis.call('SET', result_key(id), payload, 'EX', c.ttl)
        count(c, queue, 'completed')
        slot_free(c, id, nil)
        out[#out + 1] = 'missing'
        runs[#runs + 1] = 0
      elseif h then
        local attempt = args[i + 4]
        redis.call('HSET', jk, 'state', 'completed', 'attempts', attempt, 'worker', worker,
          'started_us', args[i + 5], 'finished_us', args[i + 6])
        local run = run_of(h[2])
        runs[#runs + 1] = run
        slot_free(c, id, h[3])
        if h[5] then redis.call('ZREM', pkey(c, 'expiring'), id) end
        history_job(c, id, run, h[4], attempt, 'completed', h[3], queue, worker, args[i + 5], args[i + 6])
        redis.call('EXPIRE', jk, c.ttl)
        if attempt ~= '1' then redis.call('EXPIRE', pkey(c, 'retries', id), c.ttl) end
        redis.call('SET', result_key(id), payload, 'EX', c.ttl)
        count(c, queue, 'completed')
        if h[6] or h[7] then job_ended(c, id, 'completed', { needed_by = h[6], deps = h[7] }) end
        out[#out + 1] = 'completed'
      else
        local f = job_fields(stream, entry)
        local state, run = '', 0
        if f and kind == 'shutdown' then
          state, run = requeue_unstarted(c, stream, f, worker)
        elseif f and kind == 'children' and redis.call('HGET', jk, 'cancel_requested') == '1' then
          -- Cancelled while it ran: it ends cancelled, no child is made.
          state, run = fail_attempt(c, stream, f, 'cancel', CANCELLED, worker, nil, args[i + 5], args[i + 6])
        elseif f and kind == 'children' and redis.call('HEXISTS', jk, 'queue') == 1 then
          local why
          state, why = wait_for_children(c, stream, f, payload, worker, args[i + 4], args[i + 5], args[i + 6])
          run = run_of(redis.call('HGET', jk, 'run'))
          if not state then
            redis.call('HSET', jk, 'started_us', args[i + 5], 'finished_us', args[i + 6])
            state, run = fail_attempt(c, stream, f, 'permanent', why, worker, nil, args[i + 5], args[i + 6])
          end
        elseif f and redis.call('HEXISTS', jk, 'queue') == 0 then
          -- The record went while the job ran: nothing is written to it
          -- (no partial record), as for `ok` above.
          state = 'missing'
        elseif f then
          redis.call('HSET', jk, 'started_us', args[i + 5], 'finished_us', args[i + 6])
          local err, details = split_details(payload)
          state, run = fail_attempt(c, stream, f, kind, err, worker, details, args[i + 5], args[i + 6])
          if state == 'retrying' then retried = retried + 1 elseif state == 'dead' then dead = dead + 1 end
        end
        out[#out + 1] = state
        runs[#runs + 1] = run
      end
      n = n + 1
      done[n] = entry
    else
      skipped = skipped + 1
      out[#out + 1] = ''
      runs[#runs + 1] = 0
    end
  end
  if n > 0 then
    redis.call('XACK', stream, c.group, unpack(done))
    trim_acked(c, stream, done, 1000)
  end
  flush_counters(c)
  local rows = flush_history(c)
  out[1], out[2], out[3], out[4] = n, skipped, retried, dead
  for _, run in ipairs(runs) do out[#out + 1] = run end
  if c.history then out[#out + 1] = rows end
  return out
end
redis.register_function('tickq_p1_finish', finish)
