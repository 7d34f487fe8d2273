import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { lazyParameterProvider } from '../../lib/secrets';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION } from '../../sandbox/peers/sqs-peer';
import type { SsmPeer } from '../../sandbox/peers/ssm-peer';

/**
 * The Powertools SSM provider the functions build (lib/secrets.ts, with its limits), its real
 * `@aws-sdk/client-ssm` pointed at the local peer.
 */
export function peerProvider(peer: SsmPeer): () => SSMProvider {
  return lazyParameterProvider({
    endpoint: peer.endpoint,
    region: LOCAL_AWS_REGION,
    credentials: LOCAL_AWS_CREDENTIALS,
  });
}
