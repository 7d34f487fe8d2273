import { type CacheClient, MomentoErrorCode } from '@gomomento/sdk';
import { StoreUnavailableError } from '../errors';

/** The part of every Momento response we inspect; error responses have `type: 'Error'`. */
interface MomentoResponse {
  type: string;
  errorCode?: () => MomentoErrorCode;
  message?: () => string;
  innerException?: () => unknown;
}

/** Control calls have a fixed 60 s deadline in the SDK; only an abort signal bounds them. */
const CREATE_CACHE_TIMEOUT_MS = 3_000;

/**
 * One named Momento cache. Runs data calls, creates the cache the first time Momento answers
 * `CACHE_NOT_FOUND_ERROR` (a fresh account or local peer has none), and turns error responses
 * into {@link StoreUnavailableError}, so callers only see results or one typed error.
 */
export class MomentoCache {
  constructor(
    readonly client: CacheClient,
    readonly name: string,
  ) {}

  /**
   * Runs `op` against the cache and returns its non-error response.
   * @throws {StoreUnavailableError} when Momento answers an error or cannot be reached.
   */
  async run<R extends MomentoResponse>(label: string, op: (cache: string) => Promise<R>): Promise<R> {
    let response = await op(this.name);
    if (response.type === 'Error' && response.errorCode?.() === MomentoErrorCode.CACHE_NOT_FOUND_ERROR) {
      const created = await this.client.createCache(this.name, {
        abortSignal: AbortSignal.timeout(CREATE_CACHE_TIMEOUT_MS),
      });
      // `AlreadyExists` (another worker won the race) is a success response, not an error.
      if (created.type === 'Error') throw unavailable(`createCache ${this.name}`, created);
      response = await op(this.name);
    }
    if (response.type === 'Error') throw unavailable(label, response);
    return response;
  }
}

function unavailable(label: string, response: MomentoResponse): StoreUnavailableError {
  const message = `Momento ${label} failed: ${response.errorCode?.()} ${response.message?.()}`;
  return new StoreUnavailableError(message, { cause: response.innerException?.() });
}
