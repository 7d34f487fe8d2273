import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DistributionConfig } from '../config';
import type { InstallationStore, SingleUseMarks } from '../install/dynamodb-installations';
import { cachedDirectory, type InstallationDirectory } from '../install/installation-directory';
import { openInstallationStore } from '../install/open-installation-store';
import type { Logger } from '../logger';
import { oauthRoutes } from './oauth-routes';
import type { IngressDeps } from './receive-slack-request';

/**
 * The ingress's part of distribution mode: the installation look-up per event, uninstall events
 * and the install routes, over the DynamoDB store. The store (and with it `@aws-sdk/client-dynamodb`)
 * is built on first use, so the ingress's cold start loads nothing more until an event or an
 * install request needs it; @slack/oauth loads only on the install routes (lib/ingress/oauth-routes.ts).
 */
export function distributionIngress(
  config: DistributionConfig,
  logger: Logger,
  overrides: { dynamodb?: DynamoDBClient } = {},
): Required<Pick<IngressDeps, 'installations' | 'oauth'>> {
  let store: (InstallationStore & SingleUseMarks) | undefined;
  const built = () => {
    if (!store) store = openInstallationStore(config, overrides.dynamodb).store;
    return store;
  };
  const lazy = new Proxy({} as InstallationStore & SingleUseMarks, {
    get: (_target, name) => {
      const method = built()[name as keyof (InstallationStore & SingleUseMarks)];
      return typeof method === 'function' ? method.bind(store) : method;
    },
  });
  const installations: InstallationDirectory = cachedDirectory(lazy);
  return { installations, oauth: oauthRoutes({ config, store: lazy, logger }) };
}
