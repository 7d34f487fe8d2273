import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TokenDecryptError } from './errors';

/** The secrets of one installation, encrypted together. */
export interface InstallationSecrets {
  botToken: string;
  refreshToken?: string | undefined;
}

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM under the application key `TOKEN_ENCRYPTION_KEY` (Node's crypto:
 * https://nodejs.org/api/crypto.html#class-cipher). Each value gets a random 96-bit IV; the
 * installation's key is the additional authenticated data, so a ciphertext copied onto another
 * installation's item does not decrypt. Layout: format byte · IV · tag · ciphertext.
 */
export function aesGcmTokenCipher(key: Buffer) {
  if (key.length !== 32) throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes');
  const aad = (boundTo: string) => Buffer.from(`slack-gpt-bot:installation:${boundTo}`, 'utf8');
  return {
    seal(secrets: InstallationSecrets, boundTo: string): Buffer {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(boundTo));
      const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), body]);
    },
    /** @throws {TokenDecryptError} */
    open(sealed: Uint8Array, boundTo: string): InstallationSecrets {
      const bytes = Buffer.from(sealed);
      if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT)
        throw new TokenDecryptError('not a sealed token of a known format');
      const iv = bytes.subarray(1, 1 + IV_BYTES);
      const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(aad(boundTo));
        decipher.setAuthTag(tag);
        const plain = Buffer.concat([
          decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]);
        const parsed = JSON.parse(plain.toString('utf8')) as InstallationSecrets;
        if (typeof parsed.botToken !== 'string') throw new Error('no bot token inside');
        return parsed;
      } catch (cause) {
        throw new TokenDecryptError('the stored token does not decrypt with TOKEN_ENCRYPTION_KEY', { cause });
      }
    },
  };
}

/** Encrypts and decrypts an installation's secrets: {@link aesGcmTokenCipher}. */
export type TokenCipher = ReturnType<typeof aesGcmTokenCipher>;
