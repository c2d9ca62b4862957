
-- tickq_p1_list_import: the users' existing protocol. Their clients
-- LPUSH '{"task_id": ..., "task_type": ..., "args": {...}}' onto a plain
-- list (default strategy_queue); this moves entries from the list's tail
-- (oldest first) into a native queue, atomically, so a task is never lost
-- between the two: task_id becomes the job id (a task pushed twice runs
-- once) and from then on it has every guarantee of a native job. The args
-- text is kept byte for byte (re-encoding would round numbers).
--
-- A malformed entry that carries a usable task_id gets an error result at
-- task_result:<task_id>; one without is dropped and reported to the caller,
-- which logs it. Both count as list_rejected in the target queue's stats.
-- keys[1]: the list
-- args[10..]: queue, priority, max_retries, timeout_ms, max_payload,
--             now_us, max_entries
-- Returns {moved, duplicates, left in list, rejection...}; a rejection is
-- "<task_id or empty>\t<reason>\t<start of the entry>".

-- JSON scanning over text cjson has already accepted: positions of values.
local function skip_ws(s, i) return string.find(s, '[^ \t\r\n]', i) end

local function skip_string(s, i)
  local j = i + 1
  while true do
    local k = string.find(s, '["\\]', j)
    if not k then return nil end
    if string.byte(s, k) == 92 then j = k + 2 else return k + 1 end
  end
end

local function skip_value(s, i)
  local ch = string.sub(s, i, i)
  if ch == '"' then return skip_string(s, i) end
  if ch == '{' or ch == '[' then
    local depth, j = 0, i
    while true do
      local k = string.find(s, '["{}%[%]]', j)
      if not k then return nil end
      local b = string.sub(s, k, k)
      if b == '"' then
        j = skip_string(s, k)
        if not j then return nil end
      else
        depth = depth + ((b == '{' or b == '[') and 1 or -1)
        j = k + 1
        if depth == 0 then return j end
      end
    end
  end
  return string.find(s, '[,}%] \t\r\n]', i) or (#s + 1)
end

-- The text of the top-level member `key` of JSON object text s (the last
-- one when repeated, as cjson decodes it), or nil.
local function member_text(s, key)
  local i = skip_ws(s, 1)
  if not i or string.sub(s, i, i) ~= '{' then return nil end
  i = skip_ws(s, i + 1)
  local found
  while i and string.sub(s, i, i) == '"' do
    local kend = skip_string(s, i)
    local name = cjson.decode(string.sub(s, i, kend - 1))
    i = skip_ws(s, skip_ws(s, kend) + 1)
    local vend = skip_value(s, i)
    if name == key then found = string.sub(s, i, vend - 1) end
    i = skip_ws(s, vend)
    if i and string.sub(s, i, i) == ',' then i = skip_ws(s, i + 1) else break end
  end
  return found
end

local function usable_id(id)
  return type(id) == 'string' and id ~= '' and #id <= 128 and not string.find(id, '[%c ]')
end

local function list_import(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local list, queue, priority = keys[1], args[10], args[11]
  local limit = tonumber(args[16]) or 100
  local moved, duplicates, rejected = 0, 0, {}
  for _ = 1, limit do
    local raw = redis.call('RPOP', list)
    if not raw then break end
    local ok, task = pcall(cjson.decode, raw)
    local first = skip_ws(raw, 1)
    local id, why
    if not ok or type(task) ~= 'table' or not first or string.sub(raw, first, first) ~= '{' then
      why = 'entry is not a JSON object'
    elseif not usable_id(task.task_id) then
      why = 'task_id must be a string of 1-128 characters without spaces'
    else
      id = task.task_id
      if type(task.task_type) ~= 'string' then
        why = 'task_type must be a string such as "backtest" or "screening"'
      elseif task.args ~= nil and type(task.args) ~= 'table' then
        why = 'args must be a JSON object'
      else
        local payload = task.args == nil and '{}' or member_text(raw, 'args')
        local reply
        if not payload then
          why = 'args could not be read'   -- never expected: cjson parsed them
        else
          reply, why = add_job(c, {
            id = id, type = task.task_type, args = payload, queue = queue, priority = priority,
            max_retries = args[12], timeout_ms = args[13], delay_ms = 0, max_payload = args[14],
            now_us = args[15] })
          if reply then
            if reply[1] == 1 then moved = moved + 1 else duplicates = duplicates + 1 end
          end
        end
      end
    end
    if why then
      count(c, queue, 'list_rejected')
      if id and redis.call('EXISTS', job_key(c, id)) == 0 then
        set_result(c, id, 'error', { error = 'invalid task: ' .. why, completed_at = c.now_iso })
      end
      rejected[#rejected + 1] = (id or '') .. '\t' .. why .. '\t' .. string.sub(raw, 1, 200)
    end
  end
  if moved > 0 then count(c, queue, 'list_imported', moved) end
  flush_counters(c)
  local reply = { moved, duplicates, redis.call('LLEN', list) }
  for _, r in ipairs(rejected) do reply[#reply + 1] = r end
  return reply
end
redis.register_function('tickq_p1_list_import', list_import)
