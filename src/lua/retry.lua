
-- tickq_p1_retry: run a failed or dead job again (`tickq retry`), as its
-- next run: attempts 0, run + 1, the previous run's result and retry list
-- removed (the job history keeps them), no expiry (a run started by hand).
-- A dead job whose dead-letter entry is still there goes the dead-letter
-- way (dlq_retry.lua, requeue_dead: the record is rebuilt from the entry
-- and the entry deleted); a failed job, or a dead one whose entry the
-- dead-letter cap trimmed, is requeued from its record. Any other state is
-- refused and nothing changes.
-- args[10]: job id.
-- Returns {'requeued', run}, {'refused', state} (queued, running,
-- retrying, completed, cancelled) or {'missing'} (no record: never
-- enqueued, or its record expired).
local function retry(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local id = args[10]
  local jk = job_key(c, id)
  local h = redis.call('HMGET', jk, 'state', 'dead_entry', 'queue', 'run', 'priority', 'stream', 'entry', 'needed_by')
  local state = h[1]
  if not state then return { 'missing' } end
  if h[8] and FINAL[state] then
    return redis.error_reply('TICKQ_INVALID job ' .. id .. ' cannot run again yet: ' .. h[8] ..
      ' waiting job(s) depend on its result')
  end
  if state == 'dead' and h[2] and h[2] ~= '' and requeue_dead(c, h[2]) then
    flush_counters(c)
    return { 'requeued', run_of(redis.call('HGET', jk, 'run')) }
  end
  if state ~= 'failed' and state ~= 'dead' then
    if state == 'queued' and pending_consumer(h[6], h[7]) then state = 'running' end
    return { 'refused', state }
  end
  local r = redis.call('HMGET', jk, 'type', 'args', 'max_retries', 'timeout_ms', 'created_at')
  local run = run_of(h[4]) + 1
  local physical, stream = stream_of(c, h[3], h[5])
  index_move(c, id, h[3], state, nil)
  if h[2] and h[2] ~= '' then redis.call('XDEL', pkey(c, 'dead'), h[2]) end
  redis.call('DEL', jk, pkey(c, 'retries', id), result_key(id))
  redis.call('HSET', jk, 'id', id, 'type', r[1], 'args', r[2], 'queue', h[3], 'priority', h[5],
    'max_retries', r[3], 'timeout_ms', r[4], 'attempts', 0, 'created_at', r[5] or '',
    'enqueued_us', now_us(c), 'stream', stream, 'scheduled_for', '', 'run', run)
  add_entry_from_record(c, stream, id)
  register_queue(c, physical)
  count(c, h[3], 'reruns')
  flush_counters(c)
  return { 'requeued', run }
end
redis.register_function('tickq_p1_retry', retry)
