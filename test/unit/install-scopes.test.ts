import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { BOT_SCOPES } from '../../lib/install/installation';

describe('the install link’s scopes', () => {
  it('asks for exactly the bot scopes manifest.yml declares', () => {
    // Prepare
    const manifest = load(readFileSync(join(__dirname, '../../manifest.yml'), 'utf8')) as {
      oauth_config: { scopes: { bot: string[] } };
    };
    // Assess
    expect([...BOT_SCOPES].sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
  });
});
