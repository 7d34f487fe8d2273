import { BadInputError } from '../../lib/errors';
import { type AnswerJob, decodeAnswerJob, decodeJob, encodeJob } from '../../lib/queue/job';

const job: AnswerJob = {
  v: 1,
  eventId: 'Ev1',
  teamId: 'T1',
  channel: 'C1',
  threadTs: '1.1',
  ts: '1.1',
  user: 'U1',
  text: '日本語で説明して 🚀👩‍💻 "quotes" \\ done',
  isDm: false,
  receivedAt: 1,
};

describe('encodeJob / decodeJob', () => {
  it('writes only ASCII and restores the text exactly', () => {
    const body = encodeJob(job);
    expect(body).toMatch(/^[\x20-\x7e]*$/);
    expect(body).toContain('\\ud83d\\ude80'); // 🚀 as a surrogate pair escape
    expect(decodeJob(body)).toEqual(job);
  });

  it('reads a job with files, and one queued before jobs had them', () => {
    const file = {
      id: 'F1',
      name: 'a.png',
      mimetype: 'image/png',
      size: 3,
      urlPrivate: 'https://files.slack.com/a',
    };
    expect(decodeAnswerJob(encodeJob({ ...job, files: [file] })).files).toEqual([file]);
    expect(decodeAnswerJob(encodeJob(job)).files).toBeUndefined();
  });

  it('names the field that is wrong', () => {
    expect(() => decodeJob(JSON.stringify({ ...job, channel: 5 }))).toThrow(/channel/);
    expect(() => decodeJob('{')).toThrow(BadInputError);
    expect(() => decodeJob(JSON.stringify({ ...job, v: 2 }))).toThrow(/^v:/);
  });
});
