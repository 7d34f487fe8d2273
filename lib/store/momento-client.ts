import {
  CacheClient,
  Configurations,
  CredentialProvider,
  DefaultMomentoLoggerFactory,
  DefaultMomentoLoggerLevel,
} from '@gomomento/sdk';
import type { WorkerConfig } from '../config';

/**
 * Data calls give up after this long: history is a nicety, and the answer must not wait on it.
 * (`Configurations.Lambda` defaults to 1.1 s; a local peer answers in milliseconds.)
 */
const CLIENT_TIMEOUT_MS = 1_000;

/**
 * Builds the Momento cache client: the real service with `MOMENTO_API_KEY`, or a local
 * Momento-compatible server with `MOMENTO_LOCAL_ENDPOINT` (insecure, no token), as the sandbox runs.
 * Errors are returned as response objects (`throwOnErrors: false`, the SDK's default) and sorted by
 * the adapters.
 */
export function createMomentoClient(config: WorkerConfig['momento']): CacheClient {
  const credentialProvider = config.localEndpoint
    ? CredentialProvider.forMomentoLocal(config.localEndpoint)
    : config.endpoint
      ? CredentialProvider.fromApiKeyV2({ apiKey: config.apiKey!, endpoint: config.endpoint })
      : // Legacy (v1) keys and disposable tokens carry their endpoint inside the key.
        CredentialProvider.fromString({ apiKey: config.apiKey! });
  return new CacheClient({
    // The SDK logs reconnects at INFO through console.log; our own logger reports what matters.
    configuration: Configurations.Lambda.latest(
      new DefaultMomentoLoggerFactory(DefaultMomentoLoggerLevel.WARN),
    ).withClientTimeoutMillis(CLIENT_TIMEOUT_MS),
    credentialProvider,
    defaultTtlSeconds: config.ttlSeconds,
  });
}
