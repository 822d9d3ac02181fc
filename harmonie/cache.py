"""The shared cache in Redis (REDIS_URL): Django's RedisCache, each client built once.

Django's Redis client builds a new `redis.Redis` around its connection pool for every
cache operation, and building one fills its table of ~170 response callbacks: a fifth of
a millisecond each time, paid five to ten times per page (bench/load/profile.py, issue
16). A `redis.Redis` over a pool is safe to share between threads: one per pool here.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ClientOncePerPool(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ClientOncePerPool
