import type { Logger } from '@aws-lambda-powertools/logger';
import { StoreUnavailableError } from '../errors';
import type { ReplyRecord } from '../reply/answer-reply';
import type { ClaimState, EventClaims } from '../store/event-claims';

/**
 * Keeps one event's claim up to date while it is answered: which messages the reply has, the final
 * answer once it exists, and when it is done. Every save writes the whole state, so a message
 * posted after the final answer was saved never erases it, and saves run one after another in the
 * order they were asked for, so the last one always holds the latest messages.
 * Momento is best effort here: a failed save is logged, and the reply's messages carry tags a
 * redelivery finds them by (lib/reply/slack-reply-api.ts).
 */
export class ClaimRecorder {
  readonly #claims: EventClaims;
  readonly #eventId: string;
  readonly #logger: Logger;
  #state: ClaimState;
  #saving: Promise<void> = Promise.resolve();

  constructor(claims: EventClaims, eventId: string, state: ClaimState, logger: Logger) {
    this.#claims = claims;
    this.#eventId = eventId;
    this.#logger = logger;
    const { handedBack: _, ...earlier } = state;
    this.#state = { ...earlier, status: 'answering', messageTs: [...earlier.messageTs] };
  }

  /**
   * The rollout guards let the event through. Saved with the next save (the reply's first message):
   * until then nothing was shown, and a redelivery may as well check again.
   */
  admitted(): void {
    this.#state = { ...this.#state, admitted: true };
  }

  /** The reply's messages changed (posted, started, deleted). */
  messagesChanged(record: ReplyRecord): Promise<void> {
    this.#state = {
      ...this.#state,
      messageTs: [...record.messageTs],
      path: record.path,
      streaming: [...(record.streaming ?? [])],
    };
    return this.#save();
  }

  /** The final text exists: saved before it is written, so a redelivery writes it without the model. */
  finalReady(final: NonNullable<ClaimState['final']>): Promise<void> {
    this.#state = { ...this.#state, final };
    return this.#save();
  }

  /**
   * This attempt hands the event back to the queue and writes nothing more: saved last, the state
   * holds every message of the reply (best effort, like every save).
   */
  handedBack(): Promise<void> {
    this.#state = { ...this.#state, handedBack: true };
    return this.#save().catch(() => undefined);
  }

  /** Nothing more will be written for this event. */
  done(): Promise<void> {
    this.#state = { ...this.#state, status: 'done' };
    return this.#save();
  }

  #save(): Promise<void> {
    const snapshot = structuredClone(this.#state);
    this.#saving = this.#saving.then(async () => {
      try {
        await this.#claims.save(this.#eventId, snapshot);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.#logger.warn('Momento unavailable; continuing without it (save claim)', { error });
      }
    });
    const saved = this.#saving;
    // A failure is the caller's; the chain goes on for the saves after it.
    this.#saving = saved.catch(() => undefined);
    return saved;
  }
}
