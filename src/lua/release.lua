
-- tickq_p1_release: settle everything a worker process left pending when it
-- stopped (exited, crashed, was killed at a timeout, on a cancel or at the
-- end of a shutdown grace period). The entry it was running gets `kind`;
-- every other entry it had claimed but not started goes back to its queue
-- unchanged. A consumer named with a generation ("<worker id>#<generation>",
-- consumer_parts) is the process's last name: entries of older generations
-- of the same worker go back to their queues too (claims it gave up on, run
-- late by Redis), and every one of these consumers is deleted once it holds
-- nothing. Outcomes name the worker id. An entry that is not a job
-- (job_of) is acked and deleted. keys: the streams it consumed.
-- args[10..]: consumer, current entry ('' if none), kind, error text, and
-- optionally when the current job started (epoch µs, '' unknown) and the
-- history stream the rows go to (flush_history; absent or '': history off)
-- Returns {requeued, new state of the current job ('' if it was not pending),
-- and for the current job: id, type, queue, attempts, then its run number
-- only when it is above 1} (a supervisor from before runs existed expects
-- exactly six elements: it reads every first run as before, and misses only
-- the history and log line of a re-run it settles); when a history stream
-- was given (only callers from after the stream give one), always the run
-- number (0 when no job was current) and then the number of history rows
-- appended: eight elements, so the caller can tell a library from before
-- the stream, which writes no rows.
local function release(keys, args)
  local c = context(args)
  local consumer, current, kind, err = args[10], args[11], args[12], args[13]
  local worker, gen = consumer_parts(consumer)
  local started = args[14] ~= '' and args[14] or nil
  history_on(c, args[15])
  local requeued, outcome = 0, ''
  local cur, cur_run = { '', '', '', 0 }, 0
  for _, stream in ipairs(keys) do
    local pending = redis.pcall('XPENDING', stream, c.group, '-', '+', 100000, consumer)
    if type(pending) == 'table' and not pending.err then
      for _, p in ipairs(pending) do
        local entry = p[1]
        local f = job_fields(stream, entry)
        if f then
          local state, run
          if entry == current and kind ~= 'shutdown' then
            state, run = fail_attempt(c, stream, f, kind, err, worker, nil, started)
          else
            state, run = requeue_unstarted(c, stream, f, worker)
            if entry ~= current then requeued = requeued + 1 end
          end
          if entry == current then
            outcome = state
            local h = redis.call('HMGET', job_key(c, f.job), 'queue', 'attempts')
            cur = { f.job, f.type, h[1] or '', tonumber(h[2]) or 0 }
            cur_run = run
          end
        end
        redis.call('XACK', stream, c.group, entry)
        redis.call('XDEL', stream, entry)
      end
      if #pending > 0 then trim_acked(c, stream, {}, 1000) end
    end
    if gen then
      local names = older_generations(c, stream, { [worker] = gen })
      names[#names + 1] = consumer
      local n, nc = release_consumers(c, stream, names)
      requeued = requeued + n + nc
    end
  end
  flush_counters(c)
  local rows = flush_history(c)
  if c.history then return { requeued, outcome, cur[1], cur[2], cur[3], cur[4], cur_run, rows } end
  if cur_run > 1 then return { requeued, outcome, cur[1], cur[2], cur[3], cur[4], cur_run } end
  return { requeued, outcome, cur[1], cur[2], cur[3], cur[4] }
end
redis.register_function('tickq_p1_release', release)
