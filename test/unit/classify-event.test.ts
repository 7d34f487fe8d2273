import { BadInputError } from '../../lib/errors';
import { classifySlackEvent } from '../../lib/slack/classify-event';
import { BOT_USER, botMessage, dm, edit, envelope, mention } from '../support/slack-events';

describe('classifySlackEvent', () => {
  it('answers url_verification with its challenge', () => {
    expect(classifySlackEvent({ type: 'url_verification', challenge: 'abc', token: 't' })).toEqual({
      kind: 'challenge',
      challenge: 'abc',
    });
  });

  it('turns a channel mention into a job for its thread', () => {
    // Prepare
    const body = mention({ thread_ts: '1699999999.000100', text: `<@${BOT_USER}> hi` });
    // Act
    const decision = classifySlackEvent(body, { now: 42 });
    // Assess
    expect(decision).toEqual({
      kind: 'answer',
      job: {
        v: 1,
        eventId: body.event_id,
        teamId: 'T0LOCAL',
        userTeamId: 'T0LOCAL',
        channel: 'C0GENERAL',
        threadTs: '1699999999.000100',
        ts: (body.event as { ts: string }).ts,
        user: 'U0ASKER',
        text: `<@${BOT_USER}> hi`,
        isDm: false,
        botUserId: BOT_USER,
        receivedAt: 42,
      },
    });
  });

  it('starts a new thread at the message itself when it is not in one', () => {
    const body = mention();
    const decision = classifySlackEvent(body);
    expect(decision.kind === 'answer' && decision.job.threadTs).toBe((body.event as { ts: string }).ts);
  });

  it('answers a DM', () => {
    const decision = classifySlackEvent(dm());
    expect(decision.kind === 'answer' && decision.job.isDm).toBe(true);
  });

  it.each(['file_share', 'thread_broadcast'])(
    'answers a DM with subtype %s (a person still wrote it)',
    (subtype) => {
      expect(classifySlackEvent(dm({ subtype }))).toMatchObject({ kind: 'answer' });
    },
  );

  it('carries the files of a mention and of a DM file_share, with what the worker needs', () => {
    // Prepare
    const file = {
      id: 'F1',
      name: 'shot.png',
      title: 'Shot',
      mimetype: 'image/png',
      size: 10,
      url_private: 'https://files.slack.com/files-pri/T1-F1/shot.png',
      thumb_64: 'x',
    };
    const lean = { id: 'F2', file_access: 'check_file_info' };
    // Act
    const fromMention = classifySlackEvent(mention({ files: [file, lean] }));
    const fromDm = classifySlackEvent(dm({ subtype: 'file_share', files: [file] }));
    // Assess
    const expected = {
      id: 'F1',
      name: 'shot.png',
      mimetype: 'image/png',
      size: 10,
      urlPrivate: file.url_private,
    };
    expect(fromMention.kind === 'answer' && fromMention.job.files).toEqual([
      expected,
      { id: 'F2', name: 'F2', mimetype: '', size: 0 },
    ]);
    expect(fromDm.kind === 'answer' && fromDm.job.files).toEqual([expected]);
  });

  it('keeps the Enterprise Grid id', () => {
    const decision = classifySlackEvent(mention({}), {});
    const grid = classifySlackEvent({ ...mention(), enterprise_id: 'E0GRID' });
    expect(decision.kind === 'answer' && decision.job.enterpriseId).toBeUndefined();
    expect(grid.kind === 'answer' && grid.job.enterpriseId).toBe('E0GRID');
  });

  it.each([
    ['a bot message', botMessage(), 'from a bot'],
    ['a message with bot_id and no subtype', dm({ bot_id: 'B1' }), 'from a bot'],
    ['an edit', edit(), 'subtype message_changed'],
    ['a deletion', dm({ subtype: 'message_deleted' }), 'subtype message_deleted'],
    ['the bot’s own message', dm({ user: BOT_USER }), 'own message'],
    ['a channel message without a mention', dm({ channel_type: 'channel' }), 'event type message'],
    ['a reaction', envelope({ type: 'reaction_added', user: 'U1' }), 'event type reaction_added'],
  ])('ignores %s', (_name, body, reason) => {
    expect(classifySlackEvent(body)).toMatchObject({ kind: 'ignore', reason });
  });

  it('uses the configured bot user when Slack sends no authorizations', () => {
    const body = { ...dm({ user: 'UCONFIGURED' }), authorizations: undefined };
    expect(classifySlackEvent(body, { botUserId: 'UCONFIGURED' })).toMatchObject({ reason: 'own message' });
  });

  it('ignores other envelope types such as app_rate_limited', () => {
    expect(classifySlackEvent({ type: 'app_rate_limited', minute_rate_limited: 1 })).toMatchObject({
      kind: 'ignore',
    });
  });

  it.each([
    ['body', 'not an object'],
    ['type', { challenge: 'x' }],
    ['challenge', { type: 'url_verification' }],
    ['event_id', { ...mention(), event_id: undefined }],
    ['event', { ...mention(), event: 'nope' }],
    ['event.channel', mention({ channel: undefined })],
  ])('names the field %s when the shape is wrong', (field, body) => {
    expect(() => classifySlackEvent(body)).toThrow(BadInputError);
    try {
      classifySlackEvent(body);
    } catch (error) {
      expect((error as BadInputError).field).toBe(field);
    }
  });
});
