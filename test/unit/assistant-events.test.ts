import { BadInputError } from '../../lib/errors';
import { classifySlackEvent } from '../../lib/slack/classify-event';
import { envelope, mention, TEAM } from '../support/slack-events';

/** The assistant / agent surface events, and the asking user's team on answer jobs. */

const threadStarted = (assistantThread: Record<string, unknown> = {}) =>
  envelope({
    type: 'assistant_thread_started',
    assistant_thread: {
      user_id: 'U0ASKER',
      context: { channel_id: 'C0GENERAL', team_id: TEAM, enterprise_id: 'E0LOCAL' },
      channel_id: 'D0DIRECT',
      thread_ts: '1729999327.187299',
      ...assistantThread,
    },
    event_ts: '1715873754.429808',
  });

const homeOpened = (tab: string | undefined) =>
  envelope({
    type: 'app_home_opened',
    user: 'U0ASKER',
    channel: 'D0DIRECT',
    tab,
    event_ts: '1515449522.000016',
  });

describe('classifySlackEvent: suggested prompts', () => {
  it('turns assistant_thread_started into a prompts job for that thread', () => {
    // Act
    const decision = classifySlackEvent(threadStarted(), { now: 42 });
    // Assess
    expect(decision).toEqual({
      kind: 'prompts',
      job: {
        v: 1,
        kind: 'prompts',
        eventId: expect.any(String),
        teamId: TEAM,
        channel: 'D0DIRECT',
        threadTs: '1729999327.187299',
        user: 'U0ASKER',
        receivedAt: 42,
      },
    });
  });

  it('turns app_home_opened on the Messages tab (agent view) into a prompts job without a thread', () => {
    // Act
    const decision = classifySlackEvent(homeOpened('messages'));
    // Assess
    expect(decision.kind).toBe('prompts');
    const job = decision.kind === 'prompts' ? decision.job : undefined;
    expect(job).toMatchObject({ channel: 'D0DIRECT', user: 'U0ASKER' });
    expect(job).not.toHaveProperty('threadTs');
  });

  it.each([['home'], [undefined]])('ignores app_home_opened on tab %s', (tab) => {
    // Act
    const decision = classifySlackEvent(homeOpened(tab));
    // Assess
    expect(decision).toMatchObject({ kind: 'ignore', reason: `app_home_opened tab ${tab ?? 'none'}` });
  });

  it('acknowledges and ignores assistant_thread_context_changed', () => {
    // Prepare
    const body = threadStarted();
    (body.event as Record<string, unknown>).type = 'assistant_thread_context_changed';
    // Act
    const decision = classifySlackEvent(body);
    // Assess
    expect(decision).toMatchObject({ kind: 'ignore', reason: 'assistant thread context changed' });
  });

  it('names the missing field of a malformed assistant_thread_started', () => {
    // Act
    const act = () => classifySlackEvent(threadStarted({ channel_id: undefined }));
    // Assess
    expect(act).toThrow(BadInputError);
    expect(act).toThrow(/^event\.assistant_thread\.channel_id/);
  });
});

describe('classifySlackEvent: the asking user’s team', () => {
  it.each([
    ['user_team, in a shared channel', { user_team: 'T0OTHER', team: 'T0MIDDLE' }, 'T0OTHER'],
    ['team when user_team is absent', { team: 'T0MIDDLE' }, 'T0MIDDLE'],
    ['the envelope team_id when the event says neither', {}, TEAM],
  ])('takes %s', (_what, fields, expected) => {
    // Act
    const decision = classifySlackEvent(mention(fields));
    // Assess
    expect(decision.kind === 'answer' && decision.job.userTeamId).toBe(expected);
  });
});
