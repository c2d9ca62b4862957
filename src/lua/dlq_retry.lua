
-- tickq_p1_dlq_retry: move dead-letter entries back to their queues as
-- fresh jobs (attempts 0, same id): the next run of that id (its run number
-- one above the record's, or the entry's when the record expired). Its
-- timeout_ms is the entry's as stored (0 stays 0: the worker's default).
-- args[10..]: dead-letter stream entry ids.
-- Returns the ids of the jobs requeued (an entry already gone is skipped; a
-- job enqueued again meanwhile under the same id only loses its entry; a
-- job whose result waiting jobs depend on is skipped, its entry kept).

-- Requeues the job of dead-letter entry `entry` as its next run and
-- deletes the entry (also retry.lua's way for a dead job: this file comes
-- before it in the library). Returns the job id, or nil when the entry is
-- gone or its id was enqueued again meanwhile (then only the entry goes).
local function requeue_dead(c, entry)
  local dead_key = pkey(c, 'dead')
  local f = entry_fields(dead_key, entry)
  if not f then return nil end
  local id, requeued = f.job, nil
  local jk = job_key(c, id)
  local h = redis.call('HMGET', jk, 'state', 'run', 'needed_by')
  local state = h[1]
  if h[3] then return nil end -- its result is kept for jobs that depend on it: not now, the entry stays
  if not state or state == 'dead' then
    index_move(c, id, f.queue, 'dead', nil)
    local run = run_of(h[2] or f.run) + 1
    local physical, stream = stream_of(c, f.queue, f.priority)
    redis.call('DEL', jk, pkey(c, 'retries', id), result_key(id))
    redis.call('HSET', jk, 'id', id, 'type', f.type, 'args', f.args, 'queue', f.queue,
      'priority', f.priority, 'max_retries', f.max_retries, 'timeout_ms', f.timeout_ms,
      'attempts', 0, 'created_at', f.created_at, 'enqueued_us', string.format('%.0f', c.now * 1000),
      'stream', stream, 'run', run)
    add_entry_from_record(c, stream, id)
    register_queue(c, physical)
    count(c, f.queue, 'reruns')
    requeued = id
  end
  redis.call('XDEL', dead_key, entry)
  return requeued
end

local function dlq_retry(keys, args)
  local c = context(args)
  local requeued = {}
  for i = 10, #args do
    local id = requeue_dead(c, args[i])
    if id then requeued[#requeued + 1] = id end
  end
  flush_counters(c)
  return requeued
end
redis.register_function('tickq_p1_dlq_retry', dlq_retry)
