import { loadWorkerConfig } from '../../lib/config';
import {
  MAX_MODEL_CALLS_PER_EVENT,
  MAX_RECEIVES_WITHIN_BUDGET,
  MODEL_CALL_BUDGET,
  modelCallsPerEvent,
} from '../../lib/llm/model-call-budget';

const base = { SLACK_BOT_TOKEN: 'xoxb-1', OPENAI_API_KEY: 'sk-1', MOMENTO_API_KEY: 'm-1' };

describe('the model call budget per event', () => {
  it('keeps SDK retries × (tool rounds + retries) per invocation × receives within MAX_MODEL_CALLS_PER_EVENT', () => {
    // Prepare
    const config = loadWorkerConfig(base);
    const { maxReceiveCount } = config.queue;
    // Act
    const calls =
      (MODEL_CALL_BUDGET.sdkMaxRetries + 1) *
      (config.tools.maxSteps + MODEL_CALL_BUDGET.attemptsPerInvocation - 1) *
      maxReceiveCount;
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
    expect(act).toThrow(/QUEUE_MAX_RECEIVE_COUNT must be at most 5 \(MAX_MODEL_CALLS_PER_EVENT is 50\)/);
  });

  it('refuses an AGENT_MAX_STEPS that would break the cap with the queue’s receives, naming it', () => {
    // Act
    const act = () => loadWorkerConfig({ ...base, AGENT_MAX_STEPS: '6' });
    // Assess: 2 × (6 + 1) × 5 = 70 > 50
    expect(act).toThrow(/AGENT_MAX_STEPS with QUEUE_MAX_RECEIVE_COUNT 5 makes 70 model requests per event/);
    expect(() =>
      loadWorkerConfig({ ...base, AGENT_MAX_STEPS: '6', QUEUE_MAX_RECEIVE_COUNT: '3' }),
    ).not.toThrow();
  });
});
