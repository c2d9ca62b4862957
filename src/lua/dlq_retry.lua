
-- tickq_p1_dlq_retry: move dead-letter entries back to their queues as
-- fresh jobs (attempts 0, same id): the next run of that id (its run number
-- one above the record's, or the entry's when the record expired). Its
-- timeout_ms is the entry's as stored (0 stays 0: the worker's default).
-- args[10..]: dead-letter stream entry ids.
-- Returns the ids of the jobs requeued (an entry already gone is skipped; a
-- job enqueued again meanwhile under the same id only loses its entry).
local function dlq_retry(keys, args)
  local c = context(args)
  local requeued = {}
  local dead_key = pkey(c, 'dead')
  for i = 10, #args do
    local f = entry_fields(dead_key, args[i])
    if f then
      local id = f.job
      local jk = job_key(c, id)
      local h = redis.call('HMGET', jk, 'state', 'run')
      local state = h[1]
      if not state or state == 'dead' then
        local run = run_of(h[2] or f.run) + 1
        local physical, stream = stream_of(c, f.queue, f.priority)
        redis.call('DEL', jk, pkey(c, 'retries', id), result_key(id))
        redis.call('HSET', jk, 'id', id, 'type', f.type, 'args', f.args, 'queue', f.queue,
          'priority', f.priority, 'max_retries', f.max_retries, 'timeout_ms', f.timeout_ms,
          'attempts', 0, 'created_at', f.created_at, 'enqueued_us', string.format('%.0f', c.now * 1000),
          'stream', stream, 'run', run)
        add_entry_from_record(c, stream, id)
        redis.call('SADD', pkey(c, 'queues'), physical)
        requeued[#requeued + 1] = id
        count(c, f.queue, 'reruns')
      end
      redis.call('XDEL', dead_key, args[i])
    end
  end
  flush_counters(c)
  return requeued
end
redis.register_function('tickq_p1_dlq_retry', dlq_retry)
