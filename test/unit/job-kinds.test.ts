import { BadInputError } from '../../lib/errors';
import {
  type AnswerJob,
  decodeAnswerJob,
  decodeJob,
  encodeJob,
  type FeedbackJob,
  type PromptsJob,
} from '../../lib/queue/job';

const answer: AnswerJob = {
  v: 1,
  eventId: 'Ev1',
  teamId: 'T1',
  channel: 'C1',
  threadTs: '1700000000.000100',
  ts: '1700000000.000100',
  user: 'U1',
  text: 'hi',
  isDm: false,
  receivedAt: 1,
};

const prompts: PromptsJob = {
  v: 1,
  kind: 'prompts',
  eventId: 'Ev2',
  teamId: 'T1',
  channel: 'D1',
  user: 'U1',
  receivedAt: 2,
};

const feedback: FeedbackJob = {
  v: 1,
  kind: 'feedback',
  eventId: 'vote:T1:C1:1700000001.000100:U1:1700000002.000100',
  teamId: 'T1',
  channel: 'C1',
  messageTs: '1700000001.000100',
  user: 'U1',
  value: 'bad',
  receivedAt: 3,
};

describe('job kinds', () => {
  it('decodes a body without kind, as queued before kinds existed, as the same answer job', () => {
    // Act
    const job = decodeJob(JSON.stringify(answer));
    // Assess
    expect(job).toEqual(answer);
    expect(job.kind).toBeUndefined();
  });

  it('round-trips an answer job carrying the asking user’s team', () => {
    // Prepare
    const withTeam = { ...answer, userTeamId: 'T0OTHER' };
    // Act / Assess
    expect(decodeAnswerJob(encodeJob(withTeam))).toEqual(withTeam);
  });

  it('round-trips a prompts job, with and without a thread', () => {
    // Act / Assess
    expect(decodeJob(encodeJob(prompts))).toEqual(prompts);
    const inThread = { ...prompts, threadTs: '1729999327.187299' };
    expect(decodeJob(encodeJob(inThread))).toEqual(inThread);
  });

  it('names the missing field of a prompts job', () => {
    // Act
    const act = () => decodeJob(JSON.stringify({ ...prompts, channel: undefined }));
    // Assess
    expect(act).toThrow(BadInputError);
    expect(act).toThrow(/^channel:/);
  });

  it('refuses a prompts job where an answer job is required, naming kind', () => {
    // Act / Assess
    expect(() => decodeAnswerJob(encodeJob(prompts))).toThrow(/^kind:/);
  });

  it('round-trips a feedback job, and names a value that is not a vote', () => {
    // Act / Assess
    expect(decodeJob(encodeJob(feedback))).toEqual(feedback);
    expect(() => decodeJob(JSON.stringify({ ...feedback, value: 'meh' }))).toThrow(/^value:/);
    expect(() => decodeAnswerJob(encodeJob(feedback))).toThrow(/^kind: is feedback/);
  });
});
