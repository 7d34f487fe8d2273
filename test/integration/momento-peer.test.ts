/**
 * The Momento peer, driven by the real `@gomomento/sdk` CacheClient over gRPC.
 * Response classes and error codes are the SDK's (sdk-core `messages/responses`, `MomentoErrorCode`).
 */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { cache_client as ping } from '@gomomento/generated-types/dist/cacheping';
import {
  CacheClient,
  CacheDictionaryFetch,
  CacheGet,
  CacheIncrement,
  CacheListConcatenateBack,
  type CacheListConcatenateFront,
  CacheListFetch,
  type CacheListLength,
  type CacheListPushBack,
  CacheListRetain,
  CacheSet,
  CacheSetIfAbsent,
  CacheSetIfEqual,
  CacheSetIfNotEqual,
  CacheSetIfPresent,
  CollectionTtl,
  Configurations,
  CreateCache,
  CredentialProvider,
  DefaultMomentoLoggerFactory,
  DefaultMomentoLoggerLevel,
  DeleteCache,
  ListCaches,
  MomentoErrorCode,
} from '@gomomento/sdk';
import { credentials } from '@grpc/grpc-js';
import { type MomentoPeer, startMomentoPeer } from '../../sandbox/peers/momento-peer';

const CACHE = 'bot';

/** A CacheClient against `port`, quiet below ERROR; `timeoutMs` is the data-call deadline. */
function clientFor(port: number, timeoutMs = 2000): CacheClient {
  const loggerFactory = new DefaultMomentoLoggerFactory(DefaultMomentoLoggerLevel.ERROR);
  return new CacheClient({
    configuration: Configurations.Laptop.v1(loggerFactory).withClientTimeoutMillis(timeoutMs),
    credentialProvider: CredentialProvider.forMomentoLocal({ hostname: '127.0.0.1', port }),
    defaultTtlSeconds: 60,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `act` and returns its result with the wall-clock milliseconds it took. */
async function timed<T>(act: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await act();
  return { result, ms: performance.now() - started };
}

describe('momento peer', () => {
  let peer: MomentoPeer;
  let client: CacheClient;
  let logged: string[];

  beforeEach(async () => {
    logged = [];
    peer = await startMomentoPeer({ caches: [CACHE], log: (line) => logged.push(line) });
    client = clientFor(peer.port);
  });

  afterEach(async () => {
    client.close();
    await peer.close();
  });

  it('creates a cache once and answers AlreadyExists the second time', async () => {
    // Act
    const first = await client.createCache('fresh');
    const second = await client.createCache('fresh');
    const listed = await client.listCaches();

    // Assess
    expect(first).toBeInstanceOf(CreateCache.Success);
    expect(second).toBeInstanceOf(CreateCache.AlreadyExists);
    expect(listed).toBeInstanceOf(ListCaches.Success);
    const names = (listed as ListCaches.Success).getCaches().map((info) => info.getName());
    expect(names.sort()).toEqual([CACHE, 'fresh']);
    expect(peer.calls.get('CreateCache')).toBe(2);
  });

  it('returns a value that was set, and misses a key never set', async () => {
    // Prepare
    const set = await client.set(CACHE, 'greeting', 'hello');

    // Act
    const hit = await client.get(CACHE, 'greeting');
    const miss = await client.get(CACHE, 'nobody');

    // Assess
    expect(set).toBeInstanceOf(CacheSet.Success);
    expect(hit).toBeInstanceOf(CacheGet.Hit);
    expect((hit as CacheGet.Hit).valueString()).toBe('hello');
    expect(miss).toBeInstanceOf(CacheGet.Miss);
  });

  it('forgets an item once its TTL has passed', async () => {
    // Prepare: the SDK only takes whole seconds for item TTLs (validateTtlSeconds), so 1 s is the shortest.
    await client.set(CACHE, 'short', 'lived', { ttl: 1 });
    const before = await client.get(CACHE, 'short');

    // Act
    await sleep(1100);
    const after = await client.get(CACHE, 'short');

    // Assess
    expect(before).toBeInstanceOf(CacheGet.Hit);
    expect(after).toBeInstanceOf(CacheGet.Miss);
  });

  it('stores with setIfAbsent only while the key is absent', async () => {
    // Act
    const first = await client.setIfAbsent(CACHE, 'lock', 'first');
    const second = await client.setIfAbsent(CACHE, 'lock', 'second');
    const kept = await client.get(CACHE, 'lock');

    // Assess
    expect(first).toBeInstanceOf(CacheSetIfAbsent.Stored);
    expect(second).toBeInstanceOf(CacheSetIfAbsent.NotStored);
    expect((kept as CacheGet.Hit).valueString()).toBe('first');
  });

  it('increments from zero, and refuses to increment a value that is not an integer', async () => {
    // Prepare
    await client.set(CACHE, 'word', 'ten');

    // Act
    const first = await client.increment(CACHE, 'budget');
    const second = await client.increment(CACHE, 'budget', 5);
    const refused = await client.increment(CACHE, 'word');

    // Assess
    expect((first as CacheIncrement.Success).value()).toBe(1);
    expect((second as CacheIncrement.Success).value()).toBe(6);
    expect(refused).toBeInstanceOf(CacheIncrement.Error);
    expect((refused as CacheIncrement.Error).errorCode()).toBe(MomentoErrorCode.FAILED_PRECONDITION_ERROR);
  });

  it('applies the other SetIf conditions to the current value', async () => {
    // Prepare
    await client.set(CACHE, 'mode', 'on');

    // Act
    const presentOnMissing = await client.setIfPresent(CACHE, 'ghost', 'x');
    const equalMatches = await client.setIfEqual(CACHE, 'mode', 'off', 'on');
    const notEqualRefuses = await client.setIfNotEqual(CACHE, 'mode', 'x', 'off');
    const now = await client.get(CACHE, 'mode');

    // Assess
    expect(presentOnMissing).toBeInstanceOf(CacheSetIfPresent.NotStored);
    expect(equalMatches).toBeInstanceOf(CacheSetIfEqual.Stored);
    expect(notEqualRefuses).toBeInstanceOf(CacheSetIfNotEqual.NotStored);
    expect((now as CacheGet.Hit).valueString()).toBe('off');
  });

  it('deletes an item, then the cache, after which the cache is unknown', async () => {
    // Prepare
    await client.set(CACHE, 'k', 'v');

    // Act
    await client.delete(CACHE, 'k');
    const afterDelete = await client.get(CACHE, 'k');
    const dropped = await client.deleteCache(CACHE);
    const droppedAgain = await client.deleteCache(CACHE);
    const afterDrop = await client.set(CACHE, 'k', 'v');

    // Assess
    expect(afterDelete).toBeInstanceOf(CacheGet.Miss);
    expect(dropped).toBeInstanceOf(DeleteCache.Success);
    expect((droppedAgain as DeleteCache.Error).errorCode()).toBe(MomentoErrorCode.CACHE_NOT_FOUND_ERROR);
    expect((afterDrop as CacheSet.Error).errorCode()).toBe(MomentoErrorCode.CACHE_NOT_FOUND_ERROR);
  });

  it('keeps the newest values of a list within truncateFrontToSize, and slices on fetch', async () => {
    // Prepare
    await client.listConcatenateBack(CACHE, 'turns', ['a', 'b', 'c']);

    // Act
    const appended = await client.listConcatenateBack(CACHE, 'turns', ['d', 'e'], { truncateFrontToSize: 4 });
    const all = await client.listFetch(CACHE, 'turns');
    const middle = await client.listFetch(CACHE, 'turns', { startIndex: 1, endIndex: -1 });
    const length = await client.listLength(CACHE, 'turns');
    const absent = await client.listFetch(CACHE, 'never');

    // Assess
    expect((appended as CacheListConcatenateBack.Success).listLength()).toBe(4);
    expect((all as CacheListFetch.Hit).valueList()).toEqual(['b', 'c', 'd', 'e']);
    expect((middle as CacheListFetch.Hit).valueList()).toEqual(['c', 'd']);
    expect((length as CacheListLength.Hit).length()).toBe(4);
    expect(absent).toBeInstanceOf(CacheListFetch.Miss);
  });

  it('pushes to the back, prepends to the front and retains a slice of a list', async () => {
    // Prepare
    await client.listConcatenateBack(CACHE, 'l', ['b', 'c']);

    // Act
    const pushed = await client.listPushBack(CACHE, 'l', 'd', { truncateFrontToSize: 3 });
    const prepended = await client.listConcatenateFront(CACHE, 'l', ['a']);
    const retained = await client.listRetain(CACHE, 'l', { startIndex: 1, endIndex: 3 });
    const fetched = await client.listFetch(CACHE, 'l');

    // Assess
    expect((pushed as CacheListPushBack.Success).listLength()).toBe(3);
    expect((prepended as CacheListConcatenateFront.Success).listLength()).toBe(4);
    expect(retained).toBeInstanceOf(CacheListRetain.Success);
    expect((fetched as CacheListFetch.Hit).valueList()).toEqual(['b', 'c']);
  });

  it('expires a list after its collection TTL, which a write refreshes unless told not to', async () => {
    // Prepare: both lists live 1 s (CollectionTtl takes whole seconds too); at 500 ms one write
    // refreshes the TTL and one does not.
    const ttl = CollectionTtl.of(1);
    await client.listConcatenateBack(CACHE, 'refreshed', ['1'], { ttl });
    await client.listConcatenateBack(CACHE, 'fixed', ['1'], { ttl });
    await sleep(500);
    await client.listConcatenateBack(CACHE, 'refreshed', ['2'], { ttl });
    await client.listConcatenateBack(CACHE, 'fixed', ['2'], { ttl: ttl.withNoRefreshTtlOnUpdates() });

    // Act: at 1.2 s the unrefreshed list is 200 ms past its TTL, the refreshed one 300 ms short of it.
    await sleep(700);
    const refreshed = await client.listFetch(CACHE, 'refreshed');
    const fixed = await client.listFetch(CACHE, 'fixed');

    // Assess
    expect((refreshed as CacheListFetch.Hit).valueList()).toEqual(['1', '2']);
    expect(fixed).toBeInstanceOf(CacheListFetch.Miss);
  });

  it('answers a data call to an unknown cache with the SDK CacheNotFound error', async () => {
    // Act
    const result = await client.get('no-such-cache', 'key');

    // Assess
    expect(result).toBeInstanceOf(CacheGet.Error);
    expect((result as CacheGet.Error).errorCode()).toBe(MomentoErrorCode.CACHE_NOT_FOUND_ERROR);
  });

  it('fails every call fast with SERVER_UNAVAILABLE while paused, and serves again after resume', async () => {
    // Prepare
    await client.set(CACHE, 'k', 'v');
    peer.pause();

    // Act
    const paused = await timed(() => client.get(CACHE, 'k'));
    const pausedList = await client.listConcatenateBack(CACHE, 'l', ['x']);
    peer.resume();
    const resumed = await client.get(CACHE, 'k');

    // Assess: Laptop.v1 retries idempotent RPCs (Get) 3 times on UNAVAILABLE, not list writes
    // (FixedCountRetryStrategy + DefaultEligibilityStrategy): the peer sees 1 + 3 paused Gets and
    // the resumed one, but a single concat.
    expect(paused.result).toBeInstanceOf(CacheGet.Error);
    expect((paused.result as CacheGet.Error).errorCode()).toBe(MomentoErrorCode.SERVER_UNAVAILABLE);
    expect(paused.ms).toBeLessThan(500);
    expect(pausedList).toBeInstanceOf(CacheListConcatenateBack.Error);
    expect(peer.calls.get('Get')).toBe(5);
    expect(peer.calls.get('ListConcatenateBack')).toBe(1);
    expect((resumed as CacheGet.Hit).valueString()).toBe('v');
  });

  it('fails fast with SERVER_UNAVAILABLE once the peer is gone (connection refused)', async () => {
    // Prepare: a connected client of its own with a short timeout. Closing a client whose channel
    // has failed makes the SDK open a fresh channel and close the old one only after
    // 2 × clientTimeoutMillis (IdleGrpcClientWrapper.recreateClient), a timer jest would wait for.
    const own = clientFor(peer.port, 400);
    const before = await own.get(CACHE, 'k');
    await peer.close();

    // Act
    const { result, ms } = await timed(() => own.get(CACHE, 'k'));
    own.close();
    await sleep(850);

    // Assess
    expect(before).toBeInstanceOf(CacheGet.Miss);
    expect((result as CacheGet.Error).errorCode()).toBe(MomentoErrorCode.SERVER_UNAVAILABLE);
    expect(ms).toBeLessThan(500);
  });

  it('logs an RPC it does not implement by name and answers it as a bad request', async () => {
    // Act
    const result = await client.dictionaryFetch(CACHE, 'prefs');

    // Assess
    expect(result).toBeInstanceOf(CacheDictionaryFetch.Error);
    expect((result as CacheDictionaryFetch.Error).errorCode()).toBe(MomentoErrorCode.BAD_REQUEST_ERROR);
    expect(logged).toEqual(['momento-peer: UNIMPLEMENTED /cache_client.Scs/DictionaryFetch']);
    expect(peer.calls.get('DictionaryFetch')).toBe(1);
  });

  it('answers the Ping service for health checks', async () => {
    // Prepare
    const pinger = new ping.PingClient(peer.endpoint, credentials.createInsecure());

    // Act
    const answered = new Promise((resolve, reject) =>
      pinger.Ping(new ping._PingRequest(), (error, response) => (error ? reject(error) : resolve(response))),
    );

    // Assess
    await expect(answered).resolves.toBeInstanceOf(ping._PingResponse);
    expect(peer.calls.get('Ping')).toBe(1);
    pinger.close();
  });

  it('refuses an unknown option instead of ignoring it', async () => {
    // Act
    const started = startMomentoPeer({ prot: 1234 } as never);

    // Assess
    await expect(started).rejects.toThrow('unknown option "prot"');
  });
});

describe('a Momento endpoint that accepts connections but never answers', () => {
  let sockets: Socket[];
  const silent = createServer((socket) => sockets.push(socket));
  let port: number;

  beforeAll(async () => {
    sockets = [];
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('bounds a data call by withClientTimeoutMillis and reports TIMEOUT_ERROR', async () => {
    // Prepare
    const client = clientFor(port, 300);

    // Act
    const { result, ms } = await timed(() => client.get(CACHE, 'k'));
    client.close();

    // Assess
    expect((result as CacheGet.Error).errorCode()).toBe(MomentoErrorCode.TIMEOUT_ERROR);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1500);
  });

  it('bounds a control call only by an abortSignal (its own deadline is a fixed 60 s)', async () => {
    // Prepare
    const client = clientFor(port, 300);

    // Act
    const { result, ms } = await timed(() =>
      client.createCache(CACHE, { abortSignal: AbortSignal.timeout(300) }),
    );
    client.close();

    // Assess
    expect(result).toBeInstanceOf(CreateCache.Error);
    expect((result as CreateCache.Error).errorCode()).toBe(MomentoErrorCode.CANCELLED_ERROR);
    expect(ms).toBeLessThan(1500);
  });
});
