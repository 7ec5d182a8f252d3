import { createHash, randomBytes } from 'node:crypto'

/** 32 random bytes (256 bits), base64url: the secret of a portal link or of a portal session cookie. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** What is stored of a secret: its SHA-256, hex. A secret is never stored itself. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** Whether a value has the shape of a secret made by newSecret (43 base64url characters). */
export function isSecretShape(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value)
}
