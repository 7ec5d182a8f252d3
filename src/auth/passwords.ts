import { hash, verify } from '@node-rs/argon2'

// Argon2id (Algorithm.Argon2id is a const enum, which isolated modules cannot import) with the
// OWASP-recommended minimum: 19 MiB, 2 iterations, 1 lane.
const ARGON2ID = 2
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS)
}

// Verified when no user matches, so an unknown address takes as long as a wrong password.
const UNKNOWN_USER_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Pb9KDqJ0KkXN0pmXuk0bqlwDhSqcBr1mZJh9dJ0eUc'

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  try {
    const ok = await verify(passwordHash ?? UNKNOWN_USER_HASH, password)
    return passwordHash !== null && ok
  } catch {
    return false
  }
}

export const MIN_PASSWORD_LENGTH = 12
