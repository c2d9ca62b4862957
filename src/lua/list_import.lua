
-- tickq_p1_list_import: the users' existing protocol. Their clients
-- LPUSH '{"task_id": ..., "task_type": ..., "args": {...}}' onto a plain
-- list (default strategy_queue); this moves entries from the list's tail
-- (oldest first) into a native queue, atomically, so a task is never lost
-- between the two: task_id becomes the job id and from then on it has every
-- guarantee of a native job. The args text is kept byte for byte
-- (re-encoding would round numbers).
--
-- A task_id whose job has finished (completed, failed, dead, cancelled)
-- runs again, as that id's next run (add_job with replace): the users' old
-- worker ran whatever it popped. A task_id whose job is still waiting or
-- running is a duplicate: not run again, counted as list_duplicates and
-- reported to the caller, which logs it with both payloads.
--
-- An entry that cannot be used (not JSON, not an object, no usable
-- task_id, a bad task_type or args) is kept in the capped stream
-- <prefix>:rejected with the list's name, the error (a JSON parse error
-- names its line and column), the start of the entry and when; one with a
-- usable task_id also gets an error result at task_result:<task_id> (unless
-- that id is a job). Each counts as list_rejected in the target queue's
-- stats and is reported to the caller, which logs it.
-- keys[1]: the list
-- args[10..]: queue, priority, max_retries, timeout_ms (tickq passes 0:
--             the list's tasks carry none, so the worker's default
--             applies), max_payload, now_us, max_entries, [reply format: 2]
-- Returns, for reply format 2:
--   {moved, duplicates, left in list, reruns, then one array per event:
--    {'rejected', task_id or '', error, start of the entry, rejected stream id}
--    {'duplicate', task_id, state, start of the job's args, start of the entry}
--    {'rerun', task_id, run, state the run before ended in}}
-- and for callers from before format 2 (no argument):
--   {moved, duplicates, left in list, rejection...}, a rejection being
--   "<task_id or empty>\t<reason>\t<start of the entry>".

-- The rejected-entries stream keeps about this many entries (XADD MAXLEN ~),
-- each with at most REJECTED_ENTRY_MAX bytes of the entry; logs and replies
-- carry its first LOG_ENTRY_MAX bytes.
local REJECTED_CAP = 1000
local REJECTED_ENTRY_MAX = 4096
local LOG_ENTRY_MAX = 200

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

-- cjson names tokens by their C names; say what they are.
local JSON_TOKENS = {
  T_OBJ_BEGIN = "'{'", T_OBJ_END = "'}'", T_ARR_BEGIN = "'['", T_ARR_END = "']'",
  T_STRING = 'a string', T_NUMBER = 'a number', T_BOOLEAN = 'true or false', T_NULL = 'null',
  T_COLON = "':'", T_COMMA = "','", T_END = 'the end of the entry', T_WHITESPACE = 'whitespace',
  T_ERROR = 'an error', T_UNKNOWN = 'an unknown token',
}

-- A cjson decode error of text s as "invalid JSON at column C: <what>,
-- near <text>" ("line L, column C (character N)" when s has several
-- lines), and N, the 1-based byte position cjson reports ("... at
-- character N"; columns count bytes too).
local function json_error(s, msg)
  msg = tostring(msg)
  local what, pos = string.match(msg, '(%u[^:]-) at character (%d+)')
  if not pos then return 'invalid JSON: ' .. msg, nil end
  pos = tonumber(pos)
  what = string.gsub(what, 'T_[%u_]+', JSON_TOKENS)
  what = string.lower(string.sub(what, 1, 1)) .. string.sub(what, 2)
  local line, col = 1, pos
  for nl in string.gmatch(string.sub(s, 1, pos - 1), '()\n') do
    line, col = line + 1, pos - nl
  end
  local where = 'column ' .. col
  if string.find(s, '\n', 1, true) then
    where = 'line ' .. line .. ', column ' .. col .. ' (character ' .. pos .. ')'
  end
  local near = ''
  if pos <= #s then near = ', near ' .. cjson.encode(utf8_head(string.sub(s, pos), 20)) end
  return 'invalid JSON at ' .. where .. ': ' .. what .. near, pos
end

-- What kind of JSON value decoded text is, for "not an object" errors.
local function json_kind(v)
  if type(v) == 'table' then return (next(v) == nil or v[1] ~= nil) and 'an array' or 'an object' end
  if type(v) == 'string' then return 'a string' end
  if type(v) == 'number' then return 'a number' end
  if type(v) == 'boolean' then return 'a boolean' end
  return 'null'
end

-- Keys of a job's settings (tickq's enqueue fields, and the names RQ and
-- Celery give them): an entry carrying one expects it honoured, which the
-- list protocol cannot do, so it is refused. Any other extra key is the
-- producer's own (created_at, source ...) and is ignored, as the users'
-- old workers ignored it.
local SETTING_KEYS = { queue = true, priority = true, max_retries = true, retries = true, retry = true,
  timeout = true, job_timeout = true, timeout_ms = true, delay = true, delay_ms = true, expires = true, ttl = true,
  result_ttl = true, depends_on = true, after_any = true, replace = true, id = true, type = true }

-- Checks one entry. Returns the decoded task, or nil, the error, the task_id
-- when it is usable and the parse position (JSON errors only).
local function check_entry(raw)
  local ok, task = pcall(cjson.decode, raw)
  if not ok then
    local why, pos = json_error(raw, task)
    return nil, why, nil, pos
  end
  local first = skip_ws(raw, 1)
  if type(task) ~= 'table' or string.sub(raw, first, first) ~= '{' then
    return nil, 'entry is ' .. json_kind(task) .. ', not a JSON object {"task_id": ..., "task_type": ..., "args": {...}}'
  end
  if task.task_id == nil then
    return nil, 'task_id is missing: every entry needs "task_id", a string of 1-128 characters without spaces'
  end
  if not usable_id(task.task_id) then
    return nil, 'task_id must be a string of 1-128 characters without spaces (got ' ..
      (type(task.task_id) == 'string' and cjson.encode(utf8_head(task.task_id, 40)) or json_kind(task.task_id)) .. ')'
  end
  local id = task.task_id
  if type(task.task_type) ~= 'string' then
    return nil, 'task_type must be a string such as "backtest" or "screening"', id
  end
  if task.args ~= nil and type(task.args) ~= 'table' then
    return nil, 'args must be a JSON object', id
  end
  -- A setting would be dropped without a word (a "priority" or "timeout"
  -- the producer expects honoured): refused, named.
  local settings = {}
  for k in pairs(task) do
    if SETTING_KEYS[k] then settings[#settings + 1] = k end
  end
  if #settings > 0 then
    table.sort(settings)
    return nil, (#settings > 1 and 'keys ' or 'key ') .. cjson.encode(settings):sub(2, -2) ..
      ': an entry takes task_id, task_type and args, and cannot set a job\'s priority, queue, retries, timeout ' ..
      'or delay (tickq enqueue or POST /api/tasks can)', id
  end
  return task
end

-- Answers a rejected entry that has a usable task_id at task_result:<id>,
-- where its client polls. An id whose job is still waiting or running keeps
-- that job's result. A finished job's id records the rejection as its next
-- run, failed, so that the record and the result agree and the client never
-- reads the previous run's result as the answer to this push.
local function answer_rejected(c, id, why)
  local jk = job_key(c, id)
  local h = redis.call('HMGET', jk, 'state', 'run', 'queue', 'needed_by')
  if h[1] and not FINAL[h[1]] then return end
  if h[4] then return end -- its result is kept for jobs that depend on it (add_job refused the push)
  local err = 'invalid task: ' .. why
  if h[1] then
    index_move(c, id, h[3], h[1], 'failed')
    redis.call('DEL', pkey(c, 'retries', id))
    redis.call('HSET', jk, 'state', 'failed', 'run', run_of(h[2]) + 1, 'attempts', 0, 'error', err,
      'finished_at', c.now_iso)
    expire_job(c, id)
  end
  set_result(c, id, 'error', { error = err, completed_at = c.now_iso })
end

-- Keeps a rejected entry in <prefix>:rejected; returns its stream id.
local function keep_rejected(c, list, queue, id, why, pos, raw)
  local kept = utf8_head(raw, REJECTED_ENTRY_MAX)
  return redis.call('XADD', pkey(c, 'rejected'), 'MAXLEN', '~', REJECTED_CAP, '*',
    'at', c.now_iso, 'list', list, 'queue', queue, 'task_id', id or '', 'error', why,
    'position', pos and tostring(pos) or '', 'entry', kept, 'entry_bytes', #raw,
    'truncated', #kept < #raw and '1' or '0')
end

local function list_import(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local list, queue, priority = keys[1], args[10], args[11]
  local limit = tonumber(args[16]) or 100
  local detailed = args[17] == '2'
  local moved, duplicates, reruns, events, old_rejections = 0, 0, 0, {}, {}
  for _ = 1, limit do
    local raw = redis.call('RPOP', list)
    if not raw then break end
    local task, why, id, pos = check_entry(raw)
    if task then
      id = task.task_id
      local payload = task.args == nil and '{}' or member_text(raw, 'args')
      local reply
      if not payload then
        why = 'args could not be read'   -- never expected: cjson parsed them
      else
        reply, why = add_job(c, {
          id = id, type = task.task_type, args = payload, queue = queue, priority = priority,
          max_retries = args[12], timeout_ms = args[13], delay_ms = 0, max_payload = args[14],
          now_us = args[15], replace = true })
      end
      if reply and reply[1] == 1 then
        moved = moved + 1
        if reply[4] > 1 then
          reruns = reruns + 1
          events[#events + 1] = { 'rerun', id, reply[4], reply[5] }
        end
      elseif reply then
        duplicates = duplicates + 1
        count(c, queue, 'list_duplicates')
        local existing = redis.call('HGET', job_key(c, id), 'args') or ''
        events[#events + 1] = { 'duplicate', id, reply[3], utf8_head(existing, LOG_ENTRY_MAX),
          utf8_head(raw, LOG_ENTRY_MAX) }
      end
    end
    if why then
      count(c, queue, 'list_rejected')
      if id then answer_rejected(c, id, why) end
      local kept = keep_rejected(c, list, queue, id, why, pos, raw)
      local start = utf8_head(raw, LOG_ENTRY_MAX)
      events[#events + 1] = { 'rejected', id or '', why, start, kept }
      if not detailed then old_rejections[#old_rejections + 1] = (id or '') .. '\t' .. why .. '\t' .. start end
    end
  end
  if moved > 0 then count(c, queue, 'list_imported', moved) end
  flush_counters(c)
  local reply = { moved, duplicates, redis.call('LLEN', list) }
  if detailed then
    reply[4] = reruns
    for _, e in ipairs(events) do reply[#reply + 1] = e end
  else
    for _, r in ipairs(old_rejections) do reply[#reply + 1] = r end
  end
  return reply
end
redis.register_function('tickq_p1_list_import', list_import)
