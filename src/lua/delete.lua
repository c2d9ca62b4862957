
-- tickq_p1_delete: delete a finished job (`tickq delete`, the dashboard's
-- Delete button): its record, result, retry list, dependency list and
-- dependents set, its state index entry and, for a dead job, its
-- dead-letter entry, in one call. The counters keep it (they count what
-- happened) and so does the job history database. A job that has not
-- finished is refused (cancel it first), and so is a finished job whose
-- result waiting jobs depend on (`needed_by`): deleting it would fail them.
-- args[10]: job id.
-- Returns {'deleted', state}, {'refused', state} (queued, running,
-- retrying, deferred), {'needed', n} or {'missing'}.
local function delete(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local id = args[10]
  local jk = job_key(c, id)
  local h = redis.call('HMGET', jk, 'state', 'queue', 'dead_entry', 'needed_by', 'stream', 'entry')
  local state = h[1]
  if not state then return { 'missing' } end
  if not FINAL[state] then
    if state == 'queued' and pending_consumer(h[5], h[6]) then state = 'running' end
    return { 'refused', state }
  end
  if h[4] and tonumber(h[4]) > 0 then return { 'needed', tonumber(h[4]) } end
  index_move(c, id, h[2], state, nil)
  if h[3] and h[3] ~= '' then redis.call('XDEL', pkey(c, 'dead'), h[3]) end
  redis.call('DEL', jk, pkey(c, 'retries', id), result_key(id), deps_key(c, id), dependents_key(c, id))
  return { 'deleted', state }
end
redis.register_function('tickq_p1_delete', delete)
