import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readBody, sendJson } from './listen';

/** A parameter as the peer stores it. */
export interface StoredParameter {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  value: string;
  version: number;
  lastModified: Date;
}

/** One recorded request: the `X-Amz-Target` operation and its JSON body. */
export interface SsmCall {
  operation: string;
  body: Record<string, unknown>;
}

/** A local AWS Systems Manager Parameter Store, see {@link startSsmPeer}. */
export interface SsmPeer {
  /** `http://127.0.0.1:PORT`: set as `AWS_ENDPOINT_URL_SSM` or the client's `endpoint`. */
  readonly endpoint: string;
  /** Every request so far, oldest first. */
  readonly calls: readonly SsmCall[];
  /** Creates or replaces a parameter (a new version), as `PutParameter` with `Overwrite` does. */
  put(name: string, value: string, type?: StoredParameter['type']): void;
  get(name: string): StoredParameter | undefined;
  remove(name: string): void;
  /**
   * Answers each later request only after `ms` milliseconds; `Infinity`: never (the connection
   * stays open, as an unreachable endpoint behind a load balancer does), until `answerAfter(0)`.
   */
  answerAfter(ms: number): void;
  /** Forgets every parameter and call, and answers at once again. */
  reset(): void;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/**
 * Starts a Parameter Store stand-in on a free loopback port, speaking the AWS JSON 1.1 protocol
 * the real `@aws-sdk/client-ssm` sends: `POST /`, `Content-Type: application/x-amz-json-1.1`,
 * the operation in `X-Amz-Target: AmazonSSM.<Operation>`, errors as HTTP 400 with
 * `{"__type": "<Code>", "message": …}` (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
 * Operations (https://docs.aws.amazon.com/systems-manager/latest/APIReference/):
 * `GetParameter`, `GetParameters` (unknown names in `InvalidParameters`, not an error),
 * `GetParametersByPath` and `PutParameter`. A SecureString read without `WithDecryption` comes
 * back as an opaque ciphertext, as KMS would leave it. Signatures are not checked.
 */
export async function startSsmPeer(options: { port?: number } = {}): Promise<SsmPeer> {
  const parameters = new Map<string, StoredParameter>();
  const calls: SsmCall[] = [];
  let delayMs = 0;
  // Requests held back by answerAfter(): each resumes when its wait ends or the delay is lifted.
  const held = new Set<() => void>();
  const hold = (ms: number) =>
    ms === 0
      ? Promise.resolve()
      : new Promise<void>((resume) => {
          const done = () => {
            clearTimeout(timer);
            held.delete(done);
            resume();
          };
          const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
          held.add(done);
        });

  const view = (p: StoredParameter, decrypt: boolean) => ({
    Name: p.name,
    Type: p.type,
    Value: p.type === 'SecureString' && !decrypt ? Buffer.from(`kms:${p.value}`).toString('base64') : p.value,
    Version: p.version,
    // JSON 1.1 timestamps are epoch seconds.
    LastModifiedDate: p.lastModified.getTime() / 1000,
    ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${p.name.startsWith('/') ? '' : '/'}${p.name}`,
    DataType: 'text',
  });
  const put = (name: string, value: string, type: StoredParameter['type'] = 'SecureString') => {
    const version = (parameters.get(name)?.version ?? 0) + 1;
    parameters.set(name, { name, type, value, version, lastModified: new Date() });
    return version;
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    GetParameter(body) {
      const p = parameters.get(String(body.Name));
      if (!p) throw new SsmError('ParameterNotFound', `Parameter ${String(body.Name)} not found.`);
      return { Parameter: view(p, body.WithDecryption === true) };
    },
    GetParameters(body) {
      const names = Array.isArray(body.Names) ? body.Names.map(String) : [];
      if (names.length === 0 || names.length > 10) {
        throw new SsmError('ValidationException', 'Names must have between 1 and 10 items.');
      }
      const found = names.filter((n) => parameters.has(n));
      return {
        // "The results for GetParameters requests are listed in alphabetical order."
        Parameters: found.sort().map((n) => view(parameters.get(n)!, body.WithDecryption === true)),
        InvalidParameters: names.filter((n) => !parameters.has(n)),
      };
    },
    GetParametersByPath(body) {
      const path = String(body.Path ?? '');
      const prefix = path.endsWith('/') ? path : `${path}/`;
      const matches = [...parameters.values()].filter(
        (p) =>
          p.name.startsWith(prefix) &&
          (body.Recursive === true || !p.name.slice(prefix.length).includes('/')),
      );
      const start = Number(body.NextToken ?? 0);
      const page = Math.min(Number(body.MaxResults ?? 10), 10);
      const slice = matches.slice(start, start + page);
      return {
        Parameters: slice.map((p) => view(p, body.WithDecryption === true)),
        ...(start + page < matches.length ? { NextToken: String(start + page) } : {}),
      };
    },
    PutParameter(body) {
      const name = String(body.Name ?? '');
      if (parameters.has(name) && body.Overwrite !== true) {
        throw new SsmError('ParameterAlreadyExists', 'The parameter already exists.');
      }
      const type = (body.Type as StoredParameter['type'] | undefined) ?? 'String';
      return { Version: put(name, String(body.Value ?? ''), type), Tier: 'Standard' };
    },
  };

  const server = await listen(async (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return sendError(res, new SsmError('SerializationException', 'body is not JSON'));
    }
    calls.push({ operation, body });
    await hold(delayMs);
    if (res.destroyed) return;
    const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
    if (!run) return sendError(res, new SsmError('UnknownOperationException', `unknown ${target}`));
    try {
      sendJson(res, 200, run(body), { 'Content-Type': 'application/x-amz-json-1.1' });
    } catch (error) {
      if (!(error instanceof SsmError)) throw error;
      sendError(res, error);
    }
  }, options.port);

  return {
    endpoint: server.origin,
    calls,
    put: (name, value, type) => void put(name, value, type),
    get: (name) => parameters.get(name),
    remove: (name) => void parameters.delete(name),
    answerAfter(ms) {
      delayMs = ms;
      if (ms === 0) for (const resume of [...held]) resume();
    },
    reset() {
      parameters.clear();
      calls.length = 0;
      delayMs = 0;
      for (const resume of [...held]) resume();
    },
    close() {
      for (const resume of [...held]) resume();
      return server.close();
    },
  };
}

class SsmError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendError(res: ServerResponse, error: SsmError): void {
  sendJson(
    res,
    400,
    { __type: error.code, message: error.message },
    { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': error.code },
  );
}
