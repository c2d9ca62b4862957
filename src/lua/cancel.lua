
-- tickq_p1_cancel: cancel a job. A waiting job (queued, delayed, held for
-- a slot of its type's limit, deferred or retrying) is removed and marked
-- cancelled at once. A running job is flagged; the supervisor running it
-- kills its process and settles it as cancelled (tickq_p1_release), and a
-- job whose worker died is settled by tickq_p1_reclaim. A flow's parent
-- (its record's `flow`) cancelled while it waits cancels its children (its
-- dependencies) too, waiting or running, and theirs, in the same call:
-- the parent first, so that it ends cancelled rather than failed by them.
-- args[10]: job id
-- Returns {'cancelled'}, {'running', worker}, {'final', state} or
-- {'missing'}; for a flow's parent, one more element: how many of its
-- children (at any depth) were cancelled or flagged.

-- Cancels job `id`; returns the reply's first elements.
local function cancel_one(c, id)
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
  return { 'cancelled' }
end

-- Cancels the children of flow parent `id` (already cancelled), and
-- theirs; returns how many were cancelled or flagged.
local function cancel_children(c, id)
  local n = 0
  local todo = { id }
  while #todo > 0 do
    local parent = table.remove(todo)
    for _, child in ipairs(redis.call('LRANGE', deps_key(c, parent), 0, -1)) do
      local r = cancel_one(c, child)
      if r[1] == 'cancelled' or r[1] == 'running' then n = n + 1 end
      if r[1] == 'cancelled' and redis.call('HGET', job_key(c, child), 'flow') == '1' then
        todo[#todo + 1] = child
      end
    end
  end
  return n
end

local function cancel(keys, args)
  local c = context(args)
  local id = args[10]
  local flow = redis.call('HGET', job_key(c, id), 'flow') == '1'
  local out = cancel_one(c, id)
  if flow and out[1] == 'cancelled' then out[#out + 1] = cancel_children(c, id) end
  flush_counters(c)
  return out
end
redis.register_function('tickq_p1_cancel', cancel)
