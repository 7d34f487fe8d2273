import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION } from '../../sandbox/peers/sqs-peer';
import type { SsmPeer } from '../../sandbox/peers/ssm-peer';

/** A Powertools SSM provider whose real `@aws-sdk/client-ssm` talks to the local peer. */
export function peerProvider(peer: SsmPeer): () => SSMProvider {
  const provider = new SSMProvider({
    clientConfig: { endpoint: peer.endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_AWS_CREDENTIALS },
  });
  return () => provider;
}
