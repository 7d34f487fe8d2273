import { createHash } from 'node:crypto';

/**
 * SQS allows 1-128 characters for `MessageGroupId` and `MessageDeduplicationId`: alphanumerics
 * and punctuation !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
const MAX_LENGTH = 128;
const DISALLOWED = /[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/**
 * Makes a string safe for an SQS FIFO id: disallowed characters become `_`, and a value longer
 * than 128 characters is shortened to a prefix plus a SHA-256 digest so distinct inputs stay distinct.
 */
export function toSqsId(value: string): string {
  const clean = value.replace(DISALLOWED, '_');
  const fits = clean.length > 0 && clean.length <= MAX_LENGTH;
  if (fits && clean === value) return clean;
  // Sanitising can merge distinct inputs; a digest of the original keeps them apart.
  const hex = createHash('sha256').update(value).digest('hex');
  const digest = fits ? hex.slice(0, 16) : hex;
  return `${clean.slice(0, MAX_LENGTH - digest.length - 1)}~${digest}`;
}

/**
 * The FIFO group of a thread: records of one thread are answered in order, threads in parallel.
 * @example messageGroupId('T1', 'C1', '1700000000.000100') // 'T1:C1:1700000000.000100'
 */
export function messageGroupId(teamId: string, channel: string, threadTs: string): string {
  return toSqsId(`${teamId}:${channel}:${threadTs}`);
}
