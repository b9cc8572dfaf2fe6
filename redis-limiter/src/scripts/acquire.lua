-- Decides whether one request may go out, atomically, on Redis's clock.
-- Reads, then either answers a wait or refusal having changed nothing, or
-- takes the global slot and the bucket (a unit of `remaining`, or the probe
-- of a bucket whose state is unknown) together.
--
-- Answers: {0, probe, bucket} go; {1, ms} wait (bucket reset or global
-- window); {2, ms} another request probes the bucket (its lock's time to
-- live); {3, reason, retry_ms, total, own} refused for invalid requests;
-- {4} the shared secret is not the one this replica hashes with.
local p = ARGV[1]
local c = ARGV[2]
local anonymous = ARGV[3] == '1'
local r = ARGV[4]
local secret = ARGV[5]
local nonce = ARGV[6]
local per_second = tonumber(ARGV[7])
local limit = tonumber(ARGV[8])
local per_credential = tonumber(ARGV[9])
local reserve = tonumber(ARGV[10])
local reserve_share = tonumber(ARGV[11])
local window = tonumber(ARGV[12])
local idle = tonumber(ARGV[13])
local probe_ms = tonumber(ARGV[14])
local secret_ttl = tonumber(ARGV[15])
local global_window = tonumber(ARGV[16])

if secret ~= '' then
  if redis.call('GET', p .. 'secret') ~= secret then
    return {4}
  end
  redis.call('PEXPIRE', p .. 'secret', secret_ttl)
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

-- Invalid requests: ten slots of a tenth of the window each.
local slots = 10
local slot_len = math.max(1, math.floor(window / slots))
local current = math.floor(now / slot_len)
local function counts(base)
  local keys = {}
  for age = 0, slots - 1 do
    keys[#keys + 1] = base .. string.format('%d', current - age)
  end
  local values = redis.call('MGET', unpack(keys))
  local by_age = {}
  local total = 0
  for i = 1, slots do
    local value = tonumber(values[i]) or 0
    by_age[i] = value
    total = total + value
  end
  return total, by_age
end
-- How long until the count falls below `line` as its oldest slots leave.
local function until_below(total, by_age, line)
  if total < line then
    return 0
  end
  for age = slots - 1, 0, -1 do
    total = total - by_age[age + 1]
    if total < line then
      return (current - age + slots) * slot_len - now
    end
  end
  return window
end

local total, all = counts(p .. 'invalid-all:')
local trusted = anonymous or redis.call('EXISTS', p .. 'good:' .. c) == 1
local reserved = math.max(limit - reserve, 0)
local near_ban = total >= reserved
if total >= limit or (near_ban and not trusted) then
  local line = reserved
  local reason = 2
  if trusted then
    line = limit
    reason = 1
  end
  return {3, reason, math.ceil(until_below(total, all, line)), total, 0}
end
local own, mine = counts(p .. 'invalid:' .. c .. ':')
local over_own = own >= per_credential
local over_share = near_ban and own >= reserve_share
if over_own or over_share then
  local retry = until_below(own, mine, per_credential)
  if near_ban then
    retry = math.max(retry, math.min(until_below(own, mine, reserve_share), until_below(total, all, reserved)))
  end
  local reason = 4
  if over_own then
    reason = 3
  end
  return {3, reason, math.ceil(retry), total, own}
end

-- The bucket: the one Discord named for this route, else the route's own.
local route_key = p .. 'route:' .. c .. ':' .. r
local bucket = redis.call('GET', route_key)
if not bucket then
  bucket = 'r' .. r
end
local bucket_key = p .. 'bucket:' .. c .. ':' .. bucket
local state = redis.call('HMGET', bucket_key, 'remaining', 'reset_at')
local remaining = tonumber(state[1])
local reset_at = tonumber(state[2])
if reset_at and now >= reset_at then
  remaining = nil
end
if remaining ~= nil and remaining <= 0 then
  if reset_at then
    return {1, math.max(1, math.ceil(reset_at - now))}
  end
  remaining = nil
end
local probe_key = p .. 'probe:' .. c .. ':' .. bucket
if remaining == nil then
  local ttl = redis.call('PTTL', probe_key)
  if ttl > 0 then
    return {2, ttl}
  elseif ttl == -1 then
    return {2, probe_ms}
  end
end

-- Discord's global limit per credential: a log of the last second (and a
-- margin, for the requests' different times on the way to Discord).
local global_key = p .. 'global:' .. c
redis.call('ZREMRANGEBYSCORE', global_key, '-inf', now - global_window)
if redis.call('ZCARD', global_key) >= per_second then
  local oldest = redis.call('ZRANGE', global_key, 0, 0, 'WITHSCORES')
  return {1, math.max(1, math.ceil(tonumber(oldest[2]) + global_window - now))}
end

local probe = 0
if remaining == nil then
  redis.call('SET', probe_key, nonce, 'PX', probe_ms)
  probe = 1
else
  redis.call('HINCRBY', bucket_key, 'remaining', -1)
end
redis.call('ZADD', global_key, now, nonce)
redis.call('PEXPIRE', global_key, global_window + 1000)
redis.call('PEXPIRE', route_key, idle)
return {0, probe, bucket}
