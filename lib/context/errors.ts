import { AppError } from '../errors';

/** Why an attached file was not read. */
export type AttachmentProblem =
  | 'foreign_host'
  | 'redirect_elsewhere'
  | 'http_status'
  | 'too_large'
  | 'timeout'
  | 'network';

/**
 * A file attached to a question could not be downloaded. Never fatal: the file is named in the
 * prompt as not read, and the problem is logged (without the URL's path, which names the file).
 */
export class AttachmentError extends AppError {
  readonly problem: AttachmentProblem;
  constructor(problem: AttachmentProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.problem = problem;
  }
}
