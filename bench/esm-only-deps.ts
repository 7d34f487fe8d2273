import Module from 'node:module';
import path from 'node:path';

/**
 * Lets the bench (run by tsx as CommonJS) load `fauxqs`, whose package exports only an `import`
 * condition, so `require('fauxqs')` from `sandbox/peers/sqs-peer.ts` fails to resolve. Node 20.19+
 * can `require` the ES module itself; only the resolution is missing. This maps the name to the
 * file, as jest's `moduleNameMapper` does for the tests (jest.config.js). Import it first.
 */
const ESM_ONLY: Record<string, string> = {
  fauxqs: path.resolve(__dirname, '../node_modules/fauxqs/dist/app.js'),
};

type Resolve = (request: string, ...rest: unknown[]) => string;
const loader = Module as unknown as { _resolveFilename: Resolve };
const resolve = loader._resolveFilename;
loader._resolveFilename = function (this: unknown, request, ...rest) {
  return resolve.call(this, ESM_ONLY[request] ?? request, ...rest);
};
