/**
 * A local Momento peer: a real gRPC server speaking the protocol of `@gomomento/sdk`, for tests
 * and the offline sandbox. Point the SDK at it with
 * `CredentialProvider.forMomentoLocal({ hostname: peer.hostname, port: peer.port })`.
 *
 * Service and message definitions come from `@gomomento/generated-types` (the package the SDK
 * itself is built on), so the wire format is the SDK's own. Behaviour follows the SDK's
 * `dist/src/internal/cache-data-client.js` and `cache-control-client.js` (1.118): what each RPC
 * answers, and the gRPC status codes its `CacheServiceErrorMapper` turns into typed errors.
 * State lives in memory; expired items are dropped lazily when touched, so no timers run.
 */

import { cache_client as cache } from '@gomomento/generated-types/dist/cacheclient';
import { cache_client as ping } from '@gomomento/generated-types/dist/cacheping';
import { control_client as control } from '@gomomento/generated-types/dist/controlclient';
import {
  type handleUnaryCall,
  type Metadata,
  Server,
  ServerCredentials,
  type ServerWritableStream,
  type ServiceDefinition,
  type StatusObject,
  status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

/** A running peer. */
export interface MomentoPeer {
  /** The host the server listens on, e.g. `127.0.0.1`. */
  hostname: string;
  /** The bound port (the free one picked when started with port 0). */
  port: number;
  /** `hostname:port`. */
  endpoint: string;
  /** Stops the server at once (in-flight calls are cut) and releases its socket. Idempotent. */
  close(): Promise<void>;
  /** Stop answering: every call fails UNAVAILABLE until {@link MomentoPeer.resume}. */
  pause(): void;
  /** Answer calls again after {@link MomentoPeer.pause}; forgets pending {@link MomentoPeer.failNext} faults. */
  resume(): void;
  /** The next `times` calls of one RPC (`Set`, `Get`, `SetIf`, …) fail UNAVAILABLE; the others are answered. */
  failNext(rpc: string, times?: number): void;
  /** Number of calls per RPC name (`Get`, `CreateCache`, …), paused and unimplemented ones included. */
  calls: Map<string, number>;
  /**
   * Protobuf payload bytes of the answered unary calls: `in` (requests) and `out` (responses),
   * what Momento bills as data transfer (gRPC framing and headers not included).
   */
  bytes: { in: number; out: number };
}

/** Options for {@link startMomentoPeer}. */
export interface MomentoPeerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Host to listen on; default `127.0.0.1`. */
  hostname?: string;
  /** Caches that exist from the start. */
  caches?: string[];
  /** Where notable events go (unimplemented RPCs); default `console.warn`. */
  log?: (line: string) => void;
}

type Item =
  | { kind: 'scalar'; value: Uint8Array; expiresAt: number }
  | { kind: 'list'; values: Uint8Array[]; expiresAt: number };
type Items = Map<string, Item>;
type List = Extract<Item, { kind: 'list' }>;

/** A gRPC status a handler answers with; the SDK maps the code to its error types. */
class RpcError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
  }
}

const OPTION_NAMES = new Set(['port', 'hostname', 'caches', 'log']);

/**
 * Starts a Momento peer and resolves once it is listening.
 *
 * @example
 * const peer = await startMomentoPeer({ caches: ['bot'] });
 * const client = new CacheClient({
 *   configuration: Configurations.Laptop.v1().withClientTimeoutMillis(1000),
 *   credentialProvider: CredentialProvider.forMomentoLocal({ hostname: peer.hostname, port: peer.port }),
 *   defaultTtlSeconds: 60,
 * });
 * // … client.close(); await peer.close();
 */
export async function startMomentoPeer(options: MomentoPeerOptions = {}): Promise<MomentoPeer> {
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw new TypeError(`startMomentoPeer: unknown option "${name}"`);
  }
  const {
    port = 0,
    hostname = '127.0.0.1',
    caches = [],
    log = (line: string) => console.warn(line),
  } = options;
  const store = new Map<string, Items>(caches.map((name) => [name, new Map()]));
  const calls = new Map<string, number>();
  const bytes = { in: 0, out: 0 };
  const size = (message: unknown) =>
    (message as { serializeBinary?: () => Uint8Array })?.serializeBinary?.().length ?? 0;
  let paused = false;
  const faults = new Map<string, number>();

  /** Counts the call; answers UNAVAILABLE when paused, else `run`'s result or its RpcError. */
  const unary =
    <Req, Res>(name: string, run: (request: Req, metadata: Metadata) => Res): handleUnaryCall<Req, Res> =>
    (call, callback) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      if (paused) return callback({ code: status.UNAVAILABLE, details: 'momento-peer is paused' });
      const pending = faults.get(name) ?? 0;
      if (pending > 0) {
        faults.set(name, pending - 1);
        return callback({ code: status.UNAVAILABLE, details: `momento-peer: injected fault in ${name}` });
      }
      try {
        const response = run(call.request, call.metadata);
        bytes.in += size(call.request);
        bytes.out += size(response);
        callback(null, response);
      } catch (error) {
        if (error instanceof RpcError) return callback({ code: error.code, details: error.message });
        // A bug here must not crash the process that hosts the peer (a test run, the sandbox).
        log(`momento-peer: ${name} failed: ${String(error)}`);
        callback({ code: status.INTERNAL, details: `momento-peer failed in ${name}` });
      }
    };

  /** A data RPC: the SDK names the cache in the `cache` metadata header (`createMetadata`). */
  const data = <Req, Res>(name: string, run: (request: Req, items: Items, now: number) => Res) =>
    unary<Req, Res>(name, (request, metadata) => {
      const cacheName = String(metadata.get('cache')[0] ?? '');
      if (cacheName === '') throw new RpcError(status.INVALID_ARGUMENT, 'missing "cache" metadata header');
      const items = store.get(cacheName);
      // NOT_FOUND without an `err` trailer becomes CacheNotFoundError in CacheServiceErrorMapper.
      if (!items) throw new RpcError(status.NOT_FOUND, `Cache not found: ${cacheName}`);
      return run(request, items, Date.now());
    });

  /** A known RPC this peer does not model: logged, counted, answered UNIMPLEMENTED. */
  const unimplemented = (name: string, path: string, streaming: boolean): UntypedHandleCall => {
    const answer = (): Partial<StatusObject> => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      if (paused) return { code: status.UNAVAILABLE, details: 'momento-peer is paused' };
      log(`momento-peer: UNIMPLEMENTED ${path}`);
      return { code: status.UNIMPLEMENTED, details: `momento-peer does not implement ${path}` };
    };
    if (streaming) return (call: ServerWritableStream<unknown, unknown>) => call.emit('error', answer());
    return ((_call, callback) => callback(answer())) satisfies handleUnaryCall<unknown, unknown>;
  };

  /** Every method of `definition`: ours where written, else unimplemented. Misspelt names throw. */
  const implement = (definition: ServiceDefinition, handlers: UntypedServiceImplementation) => {
    const unknown = Object.keys(handlers).filter((name) => !(name in definition));
    if (unknown.length > 0) throw new TypeError(`momento-peer: no such RPC: ${unknown.join(', ')}`);
    return Object.fromEntries(
      Object.entries(definition).map(([name, method]) => [
        name,
        handlers[name] ?? unimplemented(name, method.path, method.responseStream),
      ]),
    );
  };

  const server = new Server();
  server.addService(
    control.UnimplementedScsControlService.definition,
    implement(control.UnimplementedScsControlService.definition, {
      CreateCache: unary('CreateCache', (request: control._CreateCacheRequest) => {
        // ALREADY_EXISTS is what `createCache` turns into CreateCache.AlreadyExists.
        if (store.has(request.cache_name)) {
          throw new RpcError(status.ALREADY_EXISTS, `Cache already exists: ${request.cache_name}`);
        }
        store.set(request.cache_name, new Map());
        return new control._CreateCacheResponse();
      }),
      DeleteCache: unary('DeleteCache', (request: control._DeleteCacheRequest) => {
        if (!store.delete(request.cache_name))
          throw new RpcError(status.NOT_FOUND, `Cache not found: ${request.cache_name}`);
        return new control._DeleteCacheResponse();
      }),
      FlushCache: unary('FlushCache', (request: control._FlushCacheRequest) => {
        const items = store.get(request.cache_name);
        if (!items) throw new RpcError(status.NOT_FOUND, `Cache not found: ${request.cache_name}`);
        items.clear();
        return new control._FlushCacheResponse();
      }),
      ListCaches: unary('ListCaches', () => {
        const names = [...store.keys()];
        return new control._ListCachesResponse({
          cache: names.map((name) => new control._Cache({ cache_name: name })),
        });
      }),
    }),
  );

  server.addService(
    cache.UnimplementedScsService.definition,
    implement(cache.UnimplementedScsService.definition, {
      Get: data('Get', (request: cache._GetRequest, items, now) => {
        const item = scalar(items, request.cache_key, now);
        if (!item) return new cache._GetResponse({ result: cache.ECacheResult.Miss });
        return new cache._GetResponse({ result: cache.ECacheResult.Hit, cache_body: item.value });
      }),
      Set: data('Set', (request: cache._SetRequest, items, now) => {
        write(items, request.cache_key, request.cache_body, request.ttl_milliseconds, now);
        return new cache._SetResponse({ result: cache.ECacheResult.Ok });
      }),
      // `setIfAbsent` and the deprecated `setIfNotExists` both send SetIf with `absent`, never the
      // SetIfNotExists RPC (cache-data-client.js), so that RPC is left unimplemented.
      SetIf: data('SetIf', (request: cache._SetIfRequest, items, now) => {
        const current = scalar(items, request.cache_key, now)?.value;
        const stored = conditionHolds(request, current);
        if (stored) write(items, request.cache_key, request.cache_body, request.ttl_milliseconds, now);
        return stored
          ? new cache._SetIfResponse({ stored: new cache._SetIfResponse._Stored() })
          : new cache._SetIfResponse({ not_stored: new cache._SetIfResponse._NotStored() });
      }),
      Delete: data('Delete', (request: cache._DeleteRequest, items) => {
        items.delete(keyOf(request.cache_key));
        return new cache._DeleteResponse();
      }),
      // The SDK's contract (AbstractCacheClient.increment): a missing item counts from 0; a value that
      // is not a base-10 integer fails with FAILED_PRECONDITION. Each increment sets the item's TTL.
      Increment: data('Increment', (request: cache._IncrementRequest, items, now) => {
        const text = new TextDecoder().decode(
          scalar(items, request.cache_key, now)?.value ?? new Uint8Array(),
        );
        if (text !== '' && !/^-?\d+$/.test(text)) {
          throw new RpcError(
            status.FAILED_PRECONDITION,
            'value is not the string representation of an integer',
          );
        }
        const value = Number(text) + request.amount;
        write(
          items,
          request.cache_key,
          new TextEncoder().encode(String(value)),
          request.ttl_milliseconds,
          now,
        );
        return new cache._IncrementResponse({ value });
      }),
      ListConcatenateBack: data(
        'ListConcatenateBack',
        (request: cache._ListConcatenateBackRequest, items, now) => {
          const list = extend(items, request, now, (values) => values.push(...request.values));
          truncate(list, request.truncate_front_to_size, 'front');
          return new cache._ListConcatenateBackResponse({ list_length: list.values.length });
        },
      ),
      ListConcatenateFront: data(
        'ListConcatenateFront',
        (request: cache._ListConcatenateFrontRequest, items, now) => {
          const list = extend(items, request, now, (values) => values.unshift(...request.values));
          truncate(list, request.truncate_back_to_size, 'back');
          return new cache._ListConcatenateFrontResponse({ list_length: list.values.length });
        },
      ),
      ListPushBack: data('ListPushBack', (request: cache._ListPushBackRequest, items, now) => {
        const list = extend(items, request, now, (values) => values.push(request.value));
        truncate(list, request.truncate_front_to_size, 'front');
        return new cache._ListPushBackResponse({ list_length: list.values.length });
      }),
      ListPushFront: data('ListPushFront', (request: cache._ListPushFrontRequest, items, now) => {
        const list = extend(items, request, now, (values) => values.unshift(request.value));
        truncate(list, request.truncate_back_to_size, 'back');
        return new cache._ListPushFrontResponse({ list_length: list.values.length });
      }),
      ListFetch: data('ListFetch', (request: cache._ListFetchRequest, items, now) => {
        const list = listOf(items, request.list_name, now);
        if (!list) return new cache._ListFetchResponse({ missing: new cache._ListFetchResponse._Missing() });
        const values = list.values.slice(...bounds(request));
        return new cache._ListFetchResponse({ found: new cache._ListFetchResponse._Found({ values }) });
      }),
      ListLength: data('ListLength', (request: cache._ListLengthRequest, items, now) => {
        const list = listOf(items, request.list_name, now);
        if (!list)
          return new cache._ListLengthResponse({ missing: new cache._ListLengthResponse._Missing() });
        return new cache._ListLengthResponse({
          found: new cache._ListLengthResponse._Found({ length: list.values.length }),
        });
      }),
      ListRemove: data('ListRemove', (request: cache._ListRemoveRequest, items, now) => {
        const list = listOf(items, request.list_name, now);
        if (!list)
          return new cache._ListRemoveResponse({ missing: new cache._ListRemoveResponse._Missing() });
        const value = Buffer.from(request.all_elements_with_value);
        list.values = list.values.filter((v) => !Buffer.from(v).equals(value));
        // Momento has no empty collections: removing the last element removes the list.
        if (list.values.length === 0) items.delete(keyOf(request.list_name));
        return new cache._ListRemoveResponse({ found: new cache._ListRemoveResponse._Found() });
      }),
      ListRetain: data('ListRetain', (request: cache._ListRetainRequest, items, now) => {
        const list = listOf(items, request.list_name, now);
        if (!list)
          return new cache._ListRetainResponse({ missing: new cache._ListRetainResponse._Missing() });
        list.values = list.values.slice(...bounds(request));
        if (request.refresh_ttl) list.expiresAt = now + request.ttl_milliseconds;
        // Momento has no empty collections: retaining nothing removes the list.
        if (list.values.length === 0) items.delete(keyOf(request.list_name));
        return new cache._ListRetainResponse({ found: new cache._ListRetainResponse._Found() });
      }),
    }),
  );

  // `CacheClient` never pings (only the SDK's internal PingClient does); served for health checks.
  server.addService(ping.UnimplementedPingService.definition, {
    Ping: unary('Ping', () => new ping._PingResponse()),
  });

  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${hostname}:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );

  let closed = false;
  return {
    hostname,
    port: boundPort,
    endpoint: `${hostname}:${boundPort}`,
    calls,
    bytes,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      faults.clear();
    },
    failNext: (rpc, times = 1) => {
      faults.set(rpc, (faults.get(rpc) ?? 0) + times);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      // forceShutdown cancels in-flight calls and destroys sessions, so no handle outlives close().
      server.forceShutdown();
    },
  };
}

const keyOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The live item under `key`, dropping it first if its TTL has run out. */
function live(items: Items, key: Uint8Array, now: number): Item | undefined {
  const item = items.get(keyOf(key));
  if (item && item.expiresAt <= now) items.delete(keyOf(key));
  return item && item.expiresAt > now ? item : undefined;
}

function scalar(items: Items, key: Uint8Array, now: number) {
  const item = live(items, key, now);
  if (item?.kind === 'list') throw new RpcError(status.FAILED_PRECONDITION, 'item is a list, not a scalar');
  return item;
}

function listOf(items: Items, key: Uint8Array, now: number): List | undefined {
  const item = live(items, key, now);
  if (item?.kind === 'scalar') throw new RpcError(status.FAILED_PRECONDITION, 'item is a scalar, not a list');
  return item;
}

function write(items: Items, key: Uint8Array, value: Uint8Array, ttlMilliseconds: number, now: number): void {
  items.set(keyOf(key), { kind: 'scalar', value, expiresAt: now + ttlMilliseconds });
}

/**
 * Adds to a list, creating it if missing. Collection TTL (sdk-core `CollectionTtl`): a new list
 * gets `ttl_milliseconds`; an existing one gets it again only when `refresh_ttl` is set.
 */
function extend(
  items: Items,
  request: { list_name: Uint8Array; ttl_milliseconds: number; refresh_ttl: boolean },
  now: number,
  add: (values: Uint8Array[]) => void,
): List {
  const expiresAt = now + request.ttl_milliseconds;
  let list = listOf(items, request.list_name, now);
  if (!list) {
    list = { kind: 'list', values: [], expiresAt };
    items.set(keyOf(request.list_name), list);
  } else if (request.refresh_ttl) {
    list.expiresAt = expiresAt;
  }
  add(list.values);
  return list;
}

/** Keeps at most `size` values, dropping from `end`; 0 (the proto default) means no limit. */
function truncate(list: List, size: number, end: 'front' | 'back'): void {
  if (size <= 0 || list.values.length <= size) return;
  list.values = end === 'front' ? list.values.slice(-size) : list.values.slice(0, size);
}

/** Slice bounds: inclusive start, exclusive end, negatives count from the end (as Array.slice). */
function bounds(request: {
  has_inclusive_start: boolean;
  inclusive_start: number;
  has_exclusive_end: boolean;
  exclusive_end: number;
}): [number, number | undefined] {
  return [
    request.has_inclusive_start ? request.inclusive_start : 0,
    request.has_exclusive_end ? request.exclusive_end : undefined,
  ];
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(b);

/** The SetIf conditions of the SDK's setIf* calls (cache-data-client.js), over the current value. */
function conditionHolds(request: cache._SetIfRequest, current: Uint8Array | undefined): boolean {
  switch (request.condition) {
    case 'absent':
      return current === undefined;
    case 'present':
      return current !== undefined;
    case 'equal':
      return sameBytes(current, request.equal.value_to_check);
    case 'not_equal':
      return !sameBytes(current, request.not_equal.value_to_check);
    case 'present_and_not_equal':
      return current !== undefined && !sameBytes(current, request.present_and_not_equal.value_to_check);
    case 'absent_or_equal':
      return current === undefined || sameBytes(current, request.absent_or_equal.value_to_check);
    default:
      throw new RpcError(status.INVALID_ARGUMENT, 'SetIf needs a condition');
  }
}
