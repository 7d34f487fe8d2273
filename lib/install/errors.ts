import { AppError } from '../errors';

/** DynamoDB (the installation store) could not be reached or refused the request. Retryable. */
export class InstallationStoreError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A stored token could not be decrypted: another key, or a ciphertext moved to another item. */
export class TokenDecryptError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Why an install's `state` was refused. Logged; the browser gets a plain page. */
export type StateFailure =
  | 'missing'
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'from_the_future'
  | 'reused';

/** The `state` of an OAuth redirect is not one we issued, is too old, or was used already. */
export class InstallStateError extends AppError {
  readonly reason: StateFailure;
  constructor(reason: StateFailure) {
    super(`install state refused: ${reason}`);
    this.reason = reason;
  }
}
