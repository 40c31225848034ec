export { cachingFetch, cacheKey, type CachingFetchOptions, type ResponseObserver } from "./fetch.js";
export {
  MemoryHttpCache,
  DEFAULT_LIMITS,
  type CachedResponse,
  type HttpCacheStore,
  type MemoryCacheLimits,
} from "./store.js";
export { RedisHttpCache, DEFAULT_SHARED_LIMITS, type RedisCacheOptions } from "./redis.js";
