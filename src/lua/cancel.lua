
-- tickq_p1_cancel: cancel a job. A waiting job (queued, delayed, held for
-- a slot of its type's limit, deferred or retrying) is removed and marked cancelled
-- at once. A running job is
-- flagged; the supervisor running it kills its process and settles it as
-- cancelled (tickq_p1_release), and a job whose worker died is settled by
-- tickq_p1_reclaim.
-- args[10]: job id
-- Returns {'cancelled'}, {'running', worker}, {'final', state} or {'missing'}.
local function cancel(keys, args)
  local c = context(args)
  local id = args[10]
  local jk = job_key(c, id)
  local h = redis.call('HMGET', jk, 'state', 'entry', 'stream', 'queue', 'type')
  local state = h[1]
  if not state then return { 'missing' } end
  if FINAL[state] then return { 'final', state } end
  local worker = state == 'queued' and pending_consumer(h[3], h[2])
  if worker then
    redis.call('HSET', jk, 'cancel_requested', '1')
    return { 'running', worker_of(worker) }
  end
  local physical = physical_of(c, h[3])
  redis.call('ZREM', pkey(c, 'retry', physical), id)
  redis.call('ZREM', pkey(c, 'delayed', physical), id)
  redis.call('ZREM', deferred_key(c, physical), id)
  if h[5] then redis.call('ZREM', held_key(c, h[5]), id) end
  if h[2] and h[2] ~= '' then redis.call('XDEL', h[3], h[2]) end
  finish_cancelled(c, id, h[4], state, CANCELLED, h[5])
  flush_counters(c)
  return { 'cancelled' }
end
redis.register_function('tickq_p1_cancel', cancel)
