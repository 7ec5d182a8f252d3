import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import type { Test } from 'tap'
import { freePort } from '../../scripts/free-port.js'
import { type S3StorageOptions, s3Client } from '../../src/storage/s3-storage.js'

/** One request as s3rver received it: method, path with query, headers. */
export interface ReceivedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
}

export interface TestS3 {
  /** What S3Storage needs to reach the bucket (s3rver's fixed account S3RVER/S3RVER). */
  options: S3StorageOptions
  /** A client of our own for looking at the bucket from outside the storage. */
  client: S3Client
  /** Every request s3rver received so far, in order. */
  received(): Promise<ReceivedRequest[]>
  /** The object keys the bucket lists. */
  objectKeys(): Promise<string[]>
  /** Every file s3rver keeps for the bucket: objects, their metadata, and unfinished multipart parts. */
  files(): string[]
}

export const S3_BUCKET = 'kyc-documents'

/**
 * s3rver (test/helpers/s3rver-process.ts: in a child process, with AbortMultipartUpload answered as S3
 * does) on a free port over a temporary folder, with a fresh bucket; stopped and removed at the end of the test.
 */
export async function startS3rver(t: Test): Promise<TestS3> {
  const directory = mkdtempSync(path.join(tmpdir(), 'kyc-s3rver-'))
  const port = await freePort()
  const child: ChildProcess = fork(path.join(import.meta.dirname, 's3rver-process.ts'), [String(port), directory], {
    // Only tsx: not the test runner's loaders and flags.
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  t.teardown(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill()
      await exited
    }
    rmSync(directory, { recursive: true, force: true })
  })
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before it was ready`)))
  })
  const endpoint = `http://127.0.0.1:${port}`
  const options: S3StorageOptions = {
    bucket: S3_BUCKET,
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  }
  const client = s3Client(options)
  t.teardown(() => client.destroy())
  await client.send(new CreateBucketCommand({ Bucket: S3_BUCKET }))
  return {
    options,
    client,
    async received() {
      return (await fetch(`${endpoint}/__received`)).json() as Promise<ReceivedRequest[]>
    },
    async objectKeys() {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: S3_BUCKET }))
      return (listed.Contents ?? []).map((object) => object.Key ?? '').sort()
    },
    files() {
      const bucketDir = path.join(directory, S3_BUCKET)
      return readdirSync(bucketDir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(bucketDir, path.join(entry.parentPath, entry.name)))
        .sort()
    },
  }
}
