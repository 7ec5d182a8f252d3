import path from 'node:path'
import type { Config } from '../config.js'
import { type DocumentStorage, FileSystemStorage } from './document-storage.js'
import { S3Storage } from './s3-storage.js'

/** The document storage the configuration names (DOCUMENT_STORAGE). */
export function storageFromConfig(config: Config): DocumentStorage {
  const storage = config.documentStorage
  if (storage.kind === 'filesystem') return new FileSystemStorage(path.join(config.dataDir, 'documents'))
  return new S3Storage({
    bucket: storage.bucket,
    region: storage.region,
    endpoint: storage.endpoint,
    forcePathStyle: storage.forcePathStyle,
    serverSideEncryption: storage.serverSideEncryption,
    sseKmsKeyId: storage.sseKmsKeyId,
  })
}
