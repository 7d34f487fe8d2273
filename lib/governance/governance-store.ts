/** The bookkeeping the rollout guards keep: first-time marks and counters, both expiring. */
export interface GovernanceStore {
  /**
   * Marks `key` for `ttlSeconds`; true only for the call that created the mark.
   * @throws {StoreUnavailableError}
   */
  markOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Adds `amount` (negative takes away); returns the new value. @throws {StoreUnavailableError} */
  add(key: string, amount: number, ttlSeconds: number): Promise<number>;
}
