"""The Lua scripts of RedisTokenStore: every write that must be conditional runs as one script.

Redis runs a script atomically, so "check the fence, then write" cannot be interleaved with
another worker's write. Every key a script touches carries the component's hash tag, so the
scripts also run on Redis Cluster.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACQUIRE_LUA",
    "IMPORT_LUA",
    "INVALIDATE_LUA",
    "RELEASE_LUA",
    "RENEW_LUA",
    "WRITE_AUTHORIZER_LUA",
    "WRITE_COMPONENT_LUA",
]

ACQUIRE_LUA: Final = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return tonumber(redis.call('HGET', KEYS[2], ARGV[3]))
end
return 0
"""
"""Take the lock ``KEYS[1]`` for owner ``ARGV[1]`` with a lease of ``ARGV[2]`` ms; on success
bump and return the generation ``ARGV[3]`` of the hash ``KEYS[2]`` (0: not taken). Idempotent:
run again by the same owner (a re-run after a lost reply), it returns the current generation."""

RENEW_LUA: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
"""Extend the lease of ``KEYS[1]`` to ``ARGV[2]`` ms if owner ``ARGV[1]`` still holds it."""

RELEASE_LUA: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
"""Delete the lock ``KEYS[1]`` only if owner ``ARGV[1]`` still holds it."""

INVALIDATE_LUA: Final = """
if redis.call('HGET', KEYS[1], 'value') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
"""Compare-and-delete of an access-token hash (fields ``value``, ``expires_at``)."""

WRITE_COMPONENT_LUA: Final = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[2])
if ARGV[5] == '' then
  redis.call('HSET', KEYS[2], 'value', ARGV[3], 'expires_at', ARGV[4])
else
  redis.call('HSET', KEYS[2], 'value', ARGV[3], 'expires_at', ARGV[4], 'refresh_at', ARGV[5])
end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 1
"""
"""Fenced write of the component token.

KEYS: generations hash, token hash. ARGV: lock name, fence generation, value, expires_at,
refresh_at ('' for none), TTL in ms. Returns 1 when written, 0 when the fence no longer holds.
"""

WRITE_AUTHORIZER_LUA: Final = """
local op, name, gen, appid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if gen ~= '' and redis.call('HGET', KEYS[1], name) ~= gen then
  return 0
end
if ARGV[10] ~= '' then
  local seen = redis.call('GET', KEYS[5])
  if seen then
    if seen == ARGV[12] then
      return 1
    end
    return 0
  end
  local mark = redis.call('HGET', KEYS[4], appid)
  if mark and tonumber(mark) > tonumber(ARGV[10]) then
    return 0
  end
  redis.call('HSET', KEYS[4], appid, ARGV[10])
  redis.call('SET', KEYS[5], ARGV[12], 'EX', ARGV[11])
end
if gen == '' then
  redis.call('HINCRBY', KEYS[1], name, 1)
end
if op == 'delete' then
  redis.call('DEL', KEYS[2])
  redis.call('HDEL', KEYS[3], appid)
  return 1
end
redis.call('HSET', KEYS[3], appid, ARGV[5])
if op == 'tokens' then
  redis.call('DEL', KEYS[2])
  if ARGV[8] == '' then
    redis.call('HSET', KEYS[2], 'value', ARGV[6], 'expires_at', ARGV[7])
  else
    redis.call('HSET', KEYS[2], 'value', ARGV[6], 'expires_at', ARGV[7], 'refresh_at', ARGV[8])
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
end
return 1
"""
"""Every write of an authorizer's tokens: ``tokens`` (access + refresh), ``refresh``, ``delete``.

KEYS: generations hash, access-token hash, refresh-token hash, event-watermark hash, event key.
ARGV: op, lock name, fence generation ('' for an unfenced write, which bumps the generation),
authorizer appid, refresh token, access value, expires_at, refresh_at ('' for none), TTL in ms,
event CreateTime ('' for no event), seconds the event id is remembered, a nonce of this write.
Returns 1 when applied, 0 when the fence no longer holds, the event was applied already or is
older than the watermark. Idempotent: run again with the same nonce (a re-run after a lost
reply) it returns 1 without applying twice.
"""

IMPORT_LUA: Final = """
local written = 0
for i = 2, #ARGV, 2 do
  local appid = ARGV[i]
  local stored
  if ARGV[1] == '1' then
    redis.call('HSET', KEYS[1], appid, ARGV[i + 1])
    stored = true
  else
    stored = redis.call('HSETNX', KEYS[1], appid, ARGV[i + 1]) == 1
  end
  if stored then
    redis.call('HINCRBY', KEYS[2], 'authorizer:' .. appid, 1)
    written = written + 1
  end
end
return written
"""
"""Restore refresh tokens from a backup, one chunk.

KEYS: refresh-token hash, generations hash. ARGV: '1' to overwrite stored tokens ('0': keep
them, ``HSETNX``), then authorizer appid and refresh token pairs. Bumps the generation of every
authorizer written (like any write from outside a refresh). Returns how many were written.
Run again (a lost reply), it writes the same tokens again (with overwrite) or none.
"""
