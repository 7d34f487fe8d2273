import { loadWorkerConfig } from '../../lib/config';
import {
  MAX_MODEL_CALLS_PER_EVENT,
  MAX_RECEIVES_WITHIN_BUDGET,
  MODEL_CALL_BUDGET,
  modelCallsPerEvent,
} from '../../lib/llm/model-call-budget';

const base = { SLACK_BOT_TOKEN: 'xoxb-1', OPENAI_API_KEY: 'sk-1', MOMENTO_API_KEY: 'm-1' };

describe('the model call budget per event', () => {
  it('keeps SDK retries × attempts per invocation × receives within MAX_MODEL_CALLS_PER_EVENT', () => {
    // Prepare
    const { maxReceiveCount } = loadWorkerConfig(base).queue;
    // Act
    const calls =
      (MODEL_CALL_BUDGET.sdkMaxRetries + 1) * MODEL_CALL_BUDGET.attemptsPerInvocation * maxReceiveCount;
    // Assess
    expect(calls).toBe(modelCallsPerEvent(maxReceiveCount));
    expect(calls).toBeLessThanOrEqual(MAX_MODEL_CALLS_PER_EVENT);
    expect(maxReceiveCount).toBeGreaterThanOrEqual(5);
  });

  it('allows exactly as many receives as fit in the budget', () => {
    // Assess
    expect(modelCallsPerEvent(MAX_RECEIVES_WITHIN_BUDGET)).toBeLessThanOrEqual(MAX_MODEL_CALLS_PER_EVENT);
    expect(modelCallsPerEvent(MAX_RECEIVES_WITHIN_BUDGET + 1)).toBeGreaterThan(MAX_MODEL_CALLS_PER_EVENT);
  });

  it('refuses a QUEUE_MAX_RECEIVE_COUNT beyond the budget, naming the variable', () => {
    // Act
    const act = () =>
      loadWorkerConfig({ ...base, QUEUE_MAX_RECEIVE_COUNT: String(MAX_RECEIVES_WITHIN_BUDGET + 1) });
    // Assess
    expect(act).toThrow(/QUEUE_MAX_RECEIVE_COUNT must be at most 5 \(MAX_MODEL_CALLS_PER_EVENT is 20\)/);
  });
});
