-- Stores what one answer said: releases the bucket's probe if this request
-- held it, counts an invalid request, marks or clears good standing, and
-- writes the bucket's remaining and reset (the route moving to the bucket
-- Discord named). Every key written gets an expiry.
local p = ARGV[1]
local c = ARGV[2]
local anonymous = ARGV[3] == '1'
local r = ARGV[4]
local used = ARGV[5]
local probe = ARGV[6] == '1'
local nonce = ARGV[7]
local status = tonumber(ARGV[8])
local invalid = ARGV[9] == '1'
local success = ARGV[10] == '1'
local remaining = tonumber(ARGV[11])
local reset_after = tonumber(ARGV[12])
local learned = ARGV[13]
local window = tonumber(ARGV[14])
local idle = tonumber(ARGV[15])
local good_ms = tonumber(ARGV[16])
local margin = tonumber(ARGV[17])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

if probe then
  local probe_key = p .. 'probe:' .. c .. ':' .. used
  if redis.call('GET', probe_key) == nonce then
    redis.call('DEL', probe_key)
  end
end

if invalid then
  local slot_len = math.max(1, math.floor(window / 10))
  local current = string.format('%d', math.floor(now / slot_len))
  for _, key in ipairs({p .. 'invalid-all:' .. current, p .. 'invalid:' .. c .. ':' .. current}) do
    redis.call('INCR', key)
    redis.call('PEXPIRE', key, window + slot_len)
  end
end

if not anonymous then
  if success then
    redis.call('SET', p .. 'good:' .. c, '1', 'PX', good_ms)
  elseif status == 401 then
    redis.call('DEL', p .. 'good:' .. c)
  end
end

local bucket = used
if learned ~= '' then
  bucket = learned
  redis.call('SET', p .. 'route:' .. c .. ':' .. r, learned, 'PX', idle)
end
if remaining < 0 and reset_after < 0 then
  return 0
end

local key = p .. 'bucket:' .. c .. ':' .. bucket
local stored = redis.call('HMGET', key, 'remaining', 'reset_at')
local stored_remaining = tonumber(stored[1])
local stored_reset = tonumber(stored[2])
local reset_at = nil
if reset_after >= 0 then
  reset_at = now + reset_after + margin
end
-- Answers of one window may come back in any order, and this replica's
-- count of what is in flight is lower than Discord's: within a window
-- keep the lower remaining and the later reset; an answer of an older
-- window is stale; a newer window starts afresh. A 429 always wins.
local live = stored_reset ~= nil and stored_reset > now
local fresh = (not live) or status == 429
if not fresh and reset_at ~= nil then
  if reset_at > stored_reset + 250 then
    fresh = true
  elseif reset_at < stored_reset - 250 then
    return 0
  end
end
if fresh then
  if remaining >= 0 then
    redis.call('HSET', key, 'remaining', remaining)
  else
    redis.call('HDEL', key, 'remaining')
  end
  if reset_at ~= nil then
    redis.call('HSET', key, 'reset_at', reset_at)
  else
    redis.call('HDEL', key, 'reset_at')
  end
else
  if remaining >= 0 then
    if stored_remaining ~= nil then
      remaining = math.min(remaining, stored_remaining)
    end
    redis.call('HSET', key, 'remaining', remaining)
  end
  if reset_at ~= nil and reset_at > stored_reset then
    redis.call('HSET', key, 'reset_at', reset_at)
  end
end
local ttl = idle
if reset_at ~= nil then
  ttl = math.max(idle, math.ceil(reset_at - now) + 1000)
end
redis.call('PEXPIRE', key, ttl)
return 0
